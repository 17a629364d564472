#include "imap/protocol/imap_date.h"

#include "lib/strings.h"

#include <array>
#include <cstdio>

namespace loft::imap::protocol {

namespace {

constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = unsigned(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + int64_t(doe) - 719468;
}

Date civil_from_days(int64_t z)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = unsigned(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t y = int64_t(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return Date{int(y + (m <= 2)), int(m), int(d)};
}

std::optional<int> digits(std::string_view text, size_t count)
{
    if (text.size() != count)
        return std::nullopt;
    int value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}

// "d-Mon-yyyy" with a 1- or 2-digit day.
std::optional<Date> parse_date_parts(std::string_view day_text, std::string_view rest)
{
    if (day_text.empty() || day_text.size() > 2 || rest.size() != 9 || rest[0] != '-' || rest[4] != '-')
        return std::nullopt;
    auto day = digits(day_text, day_text.size());
    auto year = digits(rest.substr(5), 4);
    if (!day || !year)
        return std::nullopt;
    int month = 0;
    for (size_t i = 0; i < kMonths.size(); ++i)
        if (iequals(rest.substr(1, 3), kMonths[i]))
            month = int(i) + 1;
    // Dovecot lets mktime() normalise "30-Feb" instead of rejecting it; so do we.
    if (month == 0 || *day < 1 || *day > 31)
        return std::nullopt;
    return Date{*year, month, *day};
}

}  // namespace

std::optional<Date> parse_date(std::string_view text)
{
    size_t dash = text.find('-');
    if (dash == std::string_view::npos)
        return std::nullopt;
    return parse_date_parts(text.substr(0, dash), text.substr(dash));
}

std::optional<DateTime> parse_date_time(std::string_view text)
{
    // date-day-fixed "-" date-month "-" date-year SP time SP zone
    if (!text.empty() && text[0] == ' ')
        text.remove_prefix(1);
    size_t dash = text.find('-');
    if (dash == std::string_view::npos || dash > 2 || text.size() != dash + 9 + 1 + 8 + 1 + 5)
        return std::nullopt;
    auto date = parse_date_parts(text.substr(0, dash), text.substr(dash, 9));
    std::string_view time = text.substr(dash + 10, 8);
    std::string_view zone = text.substr(dash + 19, 5);
    if (!date || text[dash + 9] != ' ' || text[dash + 18] != ' ' || time[2] != ':' || time[5] != ':')
        return std::nullopt;
    auto hour = digits(time.substr(0, 2), 2);
    auto minute = digits(time.substr(3, 2), 2);
    auto second = digits(time.substr(6, 2), 2);
    auto zone_hours = digits(zone.substr(1, 2), 2);
    auto zone_minutes = digits(zone.substr(3, 2), 2);
    if (!hour || !minute || !second || !zone_hours || !zone_minutes || *hour > 23 || *minute > 59 ||
        *second > 60 || *zone_minutes > 59 || (zone[0] != '+' && zone[0] != '-'))
        return std::nullopt;
    int offset = *zone_hours * 60 + *zone_minutes;
    if (zone[0] == '-')
        offset = -offset;
    int64_t local = date_to_utc_seconds(*date) + *hour * 3600 + *minute * 60 + *second;
    return DateTime{local - int64_t(offset) * 60, offset};
}

std::string format_date(const Date& date)
{
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%02d-%s-%04d", date.day, kMonths[size_t(date.month - 1)].data(), date.year);
    return buffer;
}

std::string format_date_time(int64_t utc_seconds, int tz_offset_minutes)
{
    int64_t local = utc_seconds + int64_t(tz_offset_minutes) * 60;
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t seconds_of_day = local - days * 86400;
    Date date = civil_from_days(days);
    int offset = tz_offset_minutes < 0 ? -tz_offset_minutes : tz_offset_minutes;
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%02d-%s-%04d %02d:%02d:%02d %c%02d%02d", date.day,
                  kMonths[size_t(date.month - 1)].data(), date.year, int(seconds_of_day / 3600),
                  int(seconds_of_day / 60 % 60), int(seconds_of_day % 60), tz_offset_minutes < 0 ? '-' : '+',
                  offset / 60, offset % 60);
    return buffer;
}

std::string format_date_time(const DateTime& value)
{
    return format_date_time(value.utc_seconds, value.tz_offset_minutes);
}

int64_t date_to_utc_seconds(const Date& date)
{
    return days_from_civil(date.year, unsigned(date.month), unsigned(date.day)) * 86400;
}

Date utc_seconds_to_date(int64_t utc_seconds)
{
    int64_t days = utc_seconds >= 0 ? utc_seconds / 86400 : -((-utc_seconds + 86399) / 86400);
    return civil_from_days(days);
}

}  // namespace loft::imap::protocol
