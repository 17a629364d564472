#include "imap/protocol/arg_values.h"

#include "imap/protocol/syntax.h"
#include "lib/strings.h"

#include <algorithm>
#include <array>

namespace loft::imap::protocol {

namespace {

constexpr size_t kMaxKeywordLength = 50;

struct SystemFlagName {
    SystemFlag flag;
    std::string_view name;
};
constexpr std::array<SystemFlagName, 6> kSystemFlags{{
    {kFlagAnswered, "\\Answered"},
    {kFlagFlagged, "\\Flagged"},
    {kFlagDeleted, "\\Deleted"},
    {kFlagSeen, "\\Seen"},
    {kFlagDraft, "\\Draft"},
    {kFlagRecent, "\\Recent"},
}};

void add_flag(FlagSet& flags, std::string_view flag)
{
    if (!flag.empty() && flag[0] == '\\') {
        for (const auto& known : kSystemFlags) {
            if (known.flag != kFlagRecent && iequals(flag, known.name)) {
                flags.system |= known.flag;
                return;
            }
        }
        throw CommandError("Invalid system flag " + to_upper(flag));
    }
    // Keyword syntax is checked by keyword_error(): Dovecot answers NO, not BAD.
    // Keywords compare case-insensitively in Dovecot.
    for (const auto& existing : flags.keywords)
        if (iequals(existing, flag))
            return;
    flags.keywords.emplace_back(flag);
}

}  // namespace

std::string astring(const Arg& arg)
{
    if (arg.is_list() || arg.streamed)
        throw CommandError("Invalid arguments");
    if (arg.literal8)
        throw CommandError("literal8 not allowed here");
    return arg.value;
}

std::string string_value(const Arg& arg)
{
    if (!arg.is_string())
        throw CommandError("Invalid arguments");
    return astring(arg);
}

std::optional<std::string> nstring(const Arg& arg)
{
    if (arg.is_nil())
        return std::nullopt;
    return string_value(arg);
}

std::string_view atom(const Arg& arg)
{
    if (!arg.is_atom())
        throw CommandError("Invalid arguments");
    return arg.value;
}

std::string canonical_mailbox_name(std::string_view name, char separator)
{
    if (name.size() < 5 || !iequals(name.substr(0, 5), "INBOX"))
        return std::string(name);
    if (name.size() == 5 || (separator != '\0' && name[5] == separator))
        return "INBOX" + std::string(name.substr(5));
    return std::string(name);
}

std::string mailbox_name(const Arg& arg, char separator)
{
    return canonical_mailbox_name(astring(arg), separator);
}

std::optional<uint32_t> parse_number(std::string_view text)
{
    auto value = parse_uint(text);
    if (!value || *value > UINT32_MAX)
        return std::nullopt;
    return uint32_t(*value);
}

std::optional<uint32_t> parse_nz_number(std::string_view text)
{
    auto value = parse_number(text);
    if (!value || *value == 0)
        return std::nullopt;
    return value;
}

std::optional<uint64_t> parse_mod_sequence(std::string_view text, bool allow_zero)
{
    auto value = parse_uint(text);
    if (!value || *value > uint64_t(INT64_MAX) || (*value == 0 && !allow_zero))
        return std::nullopt;
    return value;
}

std::optional<std::string> keyword_error(std::string_view keyword)
{
    if (!is_atom(keyword))
        return "Invalid characters in keyword";
    if (keyword.size() > kMaxKeywordLength)
        return "Keyword length too long";
    return std::nullopt;
}

bool is_valid_keyword(std::string_view keyword)
{
    return !keyword_error(keyword);
}

FlagSet parse_flags(const ArgList& args)
{
    if (args.size() == 1 && args[0].is_list())
        return parse_flag_list(args[0]);
    FlagSet flags;
    for (const Arg& arg : args) {
        if (!arg.is_atom())
            throw CommandError("Flags list contains non-atoms");
        add_flag(flags, arg.value);
    }
    return flags;
}

FlagSet parse_flag_list(const Arg& list)
{
    if (!list.is_list())
        throw CommandError("Flags list contains non-atoms");
    FlagSet flags;
    for (const Arg& arg : list.children) {
        if (!arg.is_atom())
            throw CommandError("Flags list contains non-atoms");
        add_flag(flags, arg.value);
    }
    return flags;
}

std::string_view system_flag_name(SystemFlag flag)
{
    for (const auto& known : kSystemFlags)
        if (known.flag == flag)
            return known.name;
    return {};
}

}  // namespace loft::imap::protocol
