#include "pop3/pop3_format.h"

#include "config/var_expand.h"
#include "lib/strings.h"

#include <limits>
#include <map>
#include <stdexcept>

namespace loft::pop3 {

namespace {

constexpr size_t kMaxLoginCommandName = 8;

// Dovecot's str_parse_uint/str_parse_uoff: digits, refusing an overflow of `limit`.
std::optional<uint64_t> leading_number(std::string_view text, size_t& digits, uint64_t limit)
{
    uint64_t value = 0;
    digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
        uint64_t digit = static_cast<uint64_t>(text[digits] - '0');
        if (value > (limit - digit) / 10)
            return std::nullopt;
        value = value * 10 + digit;
        digits++;
    }
    return value;
}

NumberArg parse_number(std::string_view args, bool then_space, uint64_t limit, const std::string& invalid,
                       const std::string& too_large, const std::string& noise)
{
    NumberArg result;
    std::string text(args);
    if (args.empty() || args[0] < '0' || args[0] > '9') {
        result.error = invalid + text;
        return result;
    }
    size_t digits = 0;
    auto value = leading_number(args, digits, limit);
    if (!value) {
        // As Dovecot's str_parse_uint: the text after the whole run of digits.
        while (digits < args.size() && args[digits] >= '0' && args[digits] <= '9')
            digits++;
        result.error = too_large + std::string(args.substr(digits));
        return result;
    }
    std::string_view rest = args.substr(digits);
    if (then_space ? (rest.empty() || rest[0] != ' ') : !rest.empty()) {
        result.error = noise + std::string(rest);
        return result;
    }
    while (!rest.empty() && rest[0] == ' ')
        rest.remove_prefix(1);
    result.ok = true;
    result.value = *value;
    result.rest = std::string(rest);
    return result;
}

}  // namespace

CommandLine parse_command(std::string_view line)
{
    CommandLine command;
    size_t space = line.find(' ');
    command.name = to_upper(line.substr(0, space));
    if (space != std::string_view::npos) {
        std::string_view args = line.substr(space + 1);
        while (!args.empty() && args[0] == ' ')
            args.remove_prefix(1);
        command.args = std::string(args);
    }
    return command;
}

CommandLine parse_login_command(std::string_view line)
{
    CommandLine command;
    size_t i = 0;
    for (; i < line.size(); i++) {
        char c = line[i];
        if (c == '\r')
            continue;
        if (c == ' ' || c == '\0' || i >= kMaxLoginCommandName)
            break;
        command.name += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    if (i < line.size() && line[i] == ' ')
        i++;
    command.args = std::string(line.substr(std::min(i, line.size())));
    return command;
}

NumberArg parse_message_number(std::string_view args, bool then_space)
{
    return parse_number(args, then_space, std::numeric_limits<uint32_t>::max(), "-ERR Invalid message number: ",
                        "-ERR Message number too large: ", "-ERR Noise after message number: ");
}

NumberArg parse_size(std::string_view args, bool then_space)
{
    return parse_number(args, then_space, std::numeric_limits<uint64_t>::max(), "-ERR Invalid size: ",
                        "-ERR Size too large: ", "-ERR Noise after size: ");
}

Workarounds parse_workarounds(std::string_view setting)
{
    Workarounds workarounds;
    for (const std::string& name : split_words(setting)) {
        if (name == "outlook-no-nuls")
            workarounds.outlook_no_nuls = true;
        else if (name == "oe-ns-eoh")
            workarounds.oe_ns_eoh = true;
        else
            throw std::runtime_error("pop3_client_workarounds: Unknown workaround: " + name);
    }
    return workarounds;
}

BodyTransform::BodyTransform(std::optional<uint64_t> body_lines, Workarounds workarounds)
    : workarounds_(workarounds)
{
    // The header/body separator counts as the first body line.
    if (body_lines)
        remaining_ = *body_lines == std::numeric_limits<uint64_t>::max() ? *body_lines : *body_lines + 1;
}

bool BodyTransform::feed(std::string_view data, std::string& out)
{
    out.reserve(out.size() + data.size() + data.size() / 32);
    for (size_t i = 0; i < data.size() && wants_more(); i++) {
        char c = data[i];
        // As Dovecot: the body starts at a line end that follows a line end (or at
        // a message that starts with one).
        if ((c == '\r' || c == '\n') && !in_body_ && (last_ == '\n' || last_ == '\0'))
            in_body_ = true;
        if (c == '\n') {
            if (last_ != '\r')
                out += '\r';
            out += '\n';
            last_ = '\n';
            if (in_body_ && remaining_)
                --*remaining_;
            continue;
        }
        if (c == '.' && last_ == '\n') {
            out += '.';
        } else if (c == '\0' && workarounds_.outlook_no_nuls) {
            out += '\x80';
            last_ = '\x80';
            continue;
        }
        out += c;
        last_ = c;
        // A NUL sent as is must not look like the start of the message.
        if (c == '\0')
            last_ = '\x01';
    }
    return wants_more();
}

void BodyTransform::finish(std::string& out)
{
    if (last_ != '\n')
        out += "\r\n";
    if (!in_body_ && workarounds_.oe_ns_eoh)
        out += "\r\n";
}

std::string make_uidl(const std::string& format, const UidlInputs& inputs)
{
    if (!inputs.backend_uidl.empty())
        return inputs.backend_uidl;
    config::VarTable vars;
    vars.set('v', "uidvalidity", std::to_string(inputs.uidvalidity));
    vars.set('u', "uid", std::to_string(inputs.uid));
    vars.set('m', "md5", inputs.header_md5);
    vars.set('f', "filename", inputs.file_name);
    vars.set('g', "guid", inputs.guid);
    return config::expand(format, vars);
}

bool uidl_format_needs_md5(const std::string& format)
{
    for (size_t i = 0; i + 1 < format.size(); i++) {
        if (format[i] != '%')
            continue;
        size_t key = i + 1;
        while (key < format.size() && (std::string_view("-0123456789.LUEXRHNMDT").find(format[key]) !=
                                       std::string_view::npos))
            key++;
        if (key < format.size() && (format[key] == 'm' || format.compare(key, 5, "{md5}") == 0))
            return true;
        i = key;
    }
    return false;
}

void rename_duplicate_uidls(std::vector<std::string>& uidls)
{
    std::map<std::string, unsigned> seen;  // uidl -> how many times it was taken
    for (std::string& uidl : uidls) {
        auto found = seen.find(uidl);
        while (found != seen.end()) {
            unsigned counter = ++found->second;
            uidl += "-" + std::to_string(counter);
            found = seen.find(uidl);
        }
        seen[uidl] = 1;
    }
}

std::string logout_text(const std::string& format, const SessionCounters& counters, const std::string& user)
{
    config::VarTable vars;
    auto number = [](uint64_t value) { return std::to_string(value); };
    vars.set('p', "top_bytes", number(counters.top_bytes));
    vars.set('t', "top_count", number(counters.top_count));
    vars.set('b', "retr_bytes", number(counters.retr_bytes));
    vars.set('r', "retr_count", number(counters.retr_count));
    vars.set('d', "deleted_count", number(counters.deleted_count));
    vars.set('m', "message_count", number(counters.message_count));
    vars.set('s', "message_bytes", number(counters.message_bytes));
    vars.set('i', "input", number(counters.input_bytes));
    vars.set('o', "output", number(counters.output_bytes));
    vars.set('u', "uidl_change", "");
    vars.set('\0', "deleted_bytes", number(counters.deleted_bytes));
    vars.set('\0', "user", user);
    std::string::size_type at = user.find('@');
    vars.set('n', "username", user.substr(0, at));
    vars.set('\0', "domain", at == std::string::npos ? "" : user.substr(at + 1));
    try {
        return config::expand(format, vars);
    } catch (const config::VarExpandError&) {
        return format;
    }
}

}  // namespace loft::pop3
