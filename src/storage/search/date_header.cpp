#include "storage/search/date_header.h"

#include "imap/protocol/imap_date.h"
#include "lib/strings.h"

#include <array>
#include <cctype>
#include <string>
#include <vector>

namespace loft::storage::search {
namespace {

// Tokens of a date: words, numbers and the punctuation that matters; comments dropped.
std::vector<std::string> tokenize(std::string_view text)
{
    std::vector<std::string> tokens;
    int comment_depth = 0;
    std::string current;
    auto flush = [&] {
        if (!current.empty())
            tokens.push_back(std::move(current));
        current.clear();
    };
    for (char c : text) {
        if (tokens.size() > 32)
            break;
        if (c == '(') {
            flush();
            ++comment_depth;
        } else if (c == ')' && comment_depth > 0) {
            --comment_depth;
        } else if (comment_depth > 0) {
            continue;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') {
            flush();
        } else if (c == ':') {
            flush();
            tokens.emplace_back(":");
        } else if ((c == '+' || c == '-') && current.empty()) {
            current += c;
        } else {
            current += c;
        }
    }
    flush();
    return tokens;
}

bool all_digits(const std::string& s, size_t from = 0)
{
    if (s.size() <= from)
        return false;
    for (size_t i = from; i < s.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(s[i])))
            return false;
    return true;
}

int month_number(const std::string& name)
{
    static constexpr std::array<const char*, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                            "jul", "aug", "sep", "oct", "nov", "dec"};
    if (name.size() < 3)
        return 0;
    std::string prefix = to_lower(name.substr(0, 3));
    for (size_t i = 0; i < kMonths.size(); ++i)
        if (prefix == kMonths[i] && name.size() == 3)
            return static_cast<int>(i) + 1;
    return 0;
}

int zone_minutes(const std::string& zone)
{
    if ((zone[0] == '+' || zone[0] == '-') && zone.size() == 5 && all_digits(zone, 1)) {
        int hours = (zone[1] - '0') * 10 + (zone[2] - '0');
        int minutes = (zone[3] - '0') * 10 + (zone[4] - '0');
        int total = hours * 60 + minutes;
        return zone[0] == '-' ? -total : total;
    }
    struct Named {
        const char* name;
        int minutes;
    };
    static constexpr std::array<Named, 10> kZones = {{{"UT", 0}, {"GMT", 0}, {"EST", -300}, {"EDT", -240},
                                                      {"CST", -360}, {"CDT", -300}, {"MST", -420},
                                                      {"MDT", -360}, {"PST", -480}, {"PDT", -420}}};
    std::string upper = to_upper(zone);
    for (const auto& named : kZones)
        if (upper == named.name)
            return named.minutes;
    return 0;
}

}  // namespace

std::optional<SentDate> parse_date_header(std::string_view value)
{
    std::vector<std::string> tokens = tokenize(value);
    size_t i = 0;
    if (i < tokens.size() && !all_digits(tokens[i]))
        ++i;  // day of week
    if (i + 2 >= tokens.size() || !all_digits(tokens[i]) || tokens[i].size() > 2)
        return std::nullopt;
    int day = std::stoi(tokens[i++]);
    int month = month_number(tokens[i++]);
    if (month == 0 || !all_digits(tokens[i]) || tokens[i].size() > 4)
        return std::nullopt;
    int year = std::stoi(tokens[i]);
    if (tokens[i].size() <= 2)
        year += year < 70 ? 2000 : 1900;
    else if (tokens[i].size() == 3)
        year += 1900;
    ++i;
    auto two_digits = [&](int& out, int max) {
        if (i >= tokens.size() || !all_digits(tokens[i]) || tokens[i].size() > 2)
            return false;
        out = std::stoi(tokens[i++]);
        return out <= max;
    };
    int hour = 0, minute = 0, second = 0;
    if (!two_digits(hour, 23) || i >= tokens.size() || tokens[i++] != ":" || !two_digits(minute, 59))
        return std::nullopt;
    if (i < tokens.size() && tokens[i] == ":") {
        ++i;
        if (!two_digits(second, 60))
            return std::nullopt;
    }
    if (day < 1 || day > 31)
        return std::nullopt;
    SentDate result;
    if (i < tokens.size())
        result.tz_offset_minutes = zone_minutes(tokens[i]);
    imap::protocol::Date date{year, month, day};
    result.utc_seconds = imap::protocol::date_to_utc_seconds(date) + hour * 3600 + minute * 60 + second -
                         static_cast<int64_t>(result.tz_offset_minutes) * 60;
    return result;
}

}  // namespace loft::storage::search
