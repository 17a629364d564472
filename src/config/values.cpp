#include "config/values.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "lib/strings.h"

namespace loft::config {
namespace {

[[noreturn]] void bad(const std::string& message) { throw std::invalid_argument(message); }

// Leading decimal digits; nullopt if there are none or they overflow 64 bits.
std::optional<uint64_t> leading_number(std::string_view text, size_t& used)
{
    uint64_t n = 0;
    used = 0;
    while (used < text.size() && text[used] >= '0' && text[used] <= '9') {
        unsigned digit = text[used] - '0';
        if (n > (std::numeric_limits<uint64_t>::max() - digit) / 10)
            return std::nullopt;
        n = n * 10 + digit;
        used++;
    }
    if (used == 0)
        return std::nullopt;
    return n;
}

// True if unit is a (case-insensitive) prefix of one of the full names, as Dovecot
// accepts "s", "sec", "secs" and "seconds".
bool unit_matches(std::string_view unit, std::initializer_list<std::string_view> names)
{
    for (auto name : names) {
        if (unit.size() <= name.size() && iequals(unit, name.substr(0, unit.size())))
            return true;
    }
    return false;
}

}  // namespace

bool parse_bool(std::string_view text)
{
    if (iequals(text, "yes") || iequals(text, "y") || text == "1")
        return true;
    if (iequals(text, "no"))
        return false;
    bad("Invalid boolean value: " + std::string(text) + " (use yes or no)");
}

// Dovecot's str_num_error(): why text is not a number it can store.
std::string number_error(std::string_view text)
{
    bool negative = !text.empty() && text[0] == '-';
    std::string_view digits = negative ? text.substr(1) : text;
    bool numeric = !digits.empty() &&
                   std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!numeric)
        return "Not a valid number";
    return negative ? "Number too small" : "Number too large";
}

uint64_t parse_uint(std::string_view text)
{
    auto n = loft::parse_uint(text);
    if (!n || *n > std::numeric_limits<uint32_t>::max())
        bad("Invalid number " + std::string(text) + ": " + number_error(text));
    return *n;
}

uint64_t parse_octal(std::string_view text)
{
    if (text.empty() || text[0] != '0')
        return parse_uint(text);
    uint64_t n = 0;
    for (char c : text) {
        if (c < '0' || c > '7' || n > (std::numeric_limits<uint32_t>::max() >> 3))
            bad("Invalid number: " + std::string(text));
        n = n * 8 + (c - '0');
    }
    return n;
}

uint64_t parse_size(std::string_view text)
{
    size_t used = 0;
    auto num = leading_number(text, used);
    if (!num)
        bad("Invalid size: " + std::string(text));
    std::string_view rest = text.substr(used);
    while (!rest.empty() && rest[0] == ' ')
        rest.remove_prefix(1);
    uint64_t multiply = 1;
    if (!rest.empty()) {
        switch (std::toupper(static_cast<unsigned char>(rest[0]))) {
        case 'B': multiply = 1; rest.remove_prefix(1); break;
        case 'K': multiply = 1024; rest.remove_prefix(1); break;
        case 'M': multiply = 1024ULL * 1024; rest.remove_prefix(1); break;
        case 'G': multiply = 1024ULL * 1024 * 1024; rest.remove_prefix(1); break;
        case 'T': multiply = 1024ULL * 1024 * 1024 * 1024; rest.remove_prefix(1); break;
        default: break;
        }
    }
    if (multiply > 1) {  // "k", "ki", "kiB"
        if (!rest.empty() && std::toupper(static_cast<unsigned char>(rest[0])) == 'I')
            rest.remove_prefix(1);
        if (!rest.empty() && std::toupper(static_cast<unsigned char>(rest[0])) == 'B')
            rest.remove_prefix(1);
    }
    if (!rest.empty())
        bad("Invalid size: " + std::string(text));
    if (*num > std::numeric_limits<uint64_t>::max() / multiply)
        bad("Size is too large: " + std::string(text));
    return *num * multiply;
}

uint64_t parse_time_ms(std::string_view text, bool milliseconds_allowed)
{
    size_t used = 0;
    auto num = leading_number(text, used);
    if (!num)
        bad("Invalid time interval: " + std::string(text));
    std::string_view unit = text.substr(used);
    while (!unit.empty() && unit[0] == ' ')
        unit.remove_prefix(1);
    if (unit.empty() && *num != 0)
        bad("Time interval '" + std::string(text) + "' is missing units (add e.g. 's' for seconds)");
    uint64_t seconds_multiply = 1;
    bool ok = unit.empty();
    bool in_ms = false;
    if (!unit.empty()) {
        switch (std::toupper(static_cast<unsigned char>(unit[0]))) {
        case 'S':
            ok = unit_matches(unit, {"secs", "seconds"});
            break;
        case 'M':
            seconds_multiply = 60;
            ok = unit_matches(unit, {"mins", "minutes"});
            if (!ok && unit_matches(unit, {"msecs", "mseconds", "millisecs", "milliseconds"})) {
                if (!milliseconds_allowed && *num % 1000 != 0)
                    bad("Milliseconds not supported for this setting: " + std::string(text));
                in_ms = true;
                ok = true;
            }
            break;
        case 'H': seconds_multiply = 3600; ok = unit_matches(unit, {"hours"}); break;
        case 'D': seconds_multiply = 86400; ok = unit_matches(unit, {"days"}); break;
        case 'W': seconds_multiply = 604800; ok = unit_matches(unit, {"weeks"}); break;
        default: break;
        }
    }
    if (!ok)
        bad("Invalid time interval: " + std::string(text));
    // Dovecot stores seconds (or ms) in 32 bits.
    const uint64_t limit = std::numeric_limits<uint32_t>::max();
    if (in_ms) {
        uint64_t stored = milliseconds_allowed ? *num : *num / 1000;
        if (stored > limit)
            bad("Time interval is too large: " + std::string(text));
        return milliseconds_allowed ? *num : stored * 1000;
    }
    uint64_t multiply = seconds_multiply * (milliseconds_allowed ? 1000 : 1);
    if (*num > limit / multiply)
        bad("Time interval is too large: " + std::string(text));
    return *num * seconds_multiply * 1000;
}

uint16_t parse_port(std::string_view text)
{
    auto n = loft::parse_uint(text);
    if (!n || *n > 65535)
        bad("Invalid port number " + std::string(text));
    return static_cast<uint16_t>(*n);
}

void check_enum(std::string_view text, std::string_view allowed)
{
    for (const auto& value : split(allowed, ':')) {
        if (value == text)
            return;
    }
    bad("Invalid value: " + std::string(text));
}

std::string format_size(uint64_t bytes)
{
    static constexpr char suffixes[] = {'B', 'k', 'M', 'G', 'T'};
    if (bytes == 0)
        return "0";
    size_t i = 0;
    while (i + 1 < sizeof(suffixes) && bytes % 1024 == 0) {
        bytes /= 1024;
        i++;
    }
    return std::to_string(bytes) + " " + suffixes[i];
}

std::string format_time_ms(uint64_t ms, bool milliseconds)
{
    if (milliseconds && ms % 1000 != 0)
        return std::to_string(ms) + " ms";
    uint64_t n = ms / 1000;
    if (n == 0)
        return "0";
    const char* suffix = "secs";
    if (n % 60 == 0) {
        n /= 60;
        suffix = "mins";
        if (n % 60 == 0) {
            n /= 60;
            suffix = "hours";
            if (n % 24 == 0) {
                n /= 24;
                suffix = "days";
                if (n % 7 == 0) {
                    n /= 7;
                    suffix = "weeks";
                }
            }
        }
    }
    return std::to_string(n) + " " + suffix;
}

std::string normalize_value(const SettingDef& def, std::string_view text)
{
    switch (def.type) {
    case SettingType::Bool: return parse_bool(text) ? "yes" : "no";
    case SettingType::Uint: return std::to_string(parse_uint(text));
    case SettingType::UintOct: {
        uint64_t n = parse_octal(text);
        char buf[32];
        snprintf(buf, sizeof(buf), "0%llo", static_cast<unsigned long long>(n));
        return buf;
    }
    case SettingType::Time: return format_time_ms(parse_time_ms(text, false), false);
    case SettingType::TimeMsecs: return format_time_ms(parse_time_ms(text, true), true);
    case SettingType::Size: return format_size(parse_size(text));
    case SettingType::Port: return std::to_string(parse_port(text));
    case SettingType::Enum: check_enum(text, def.enum_values); return std::string(text);
    case SettingType::String: return std::string(text);
    }
    return std::string(text);
}

}  // namespace loft::config
