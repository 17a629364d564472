// IMAP dates: "dd-Mon-yyyy" (SEARCH) and date-time "dd-Mon-yyyy hh:mm:ss +zzzz"
// (APPEND, INTERNALDATE), parsed into calendar values / UTC seconds and formatted back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loft::imap::protocol {

struct Date {
    int year = 0;
    int month = 0;  // 1..12
    int day = 0;    // 1..31; "30-Feb" is accepted like Dovecot and counts as 1/2 March

    bool operator==(const Date&) const = default;
};

struct DateTime {
    int64_t utc_seconds = 0;     // seconds since the epoch
    int tz_offset_minutes = 0;   // the zone it was written in, e.g. +0100 -> 60

    bool operator==(const DateTime&) const = default;
};

// "1-Feb-2024" or "01-Feb-2024"; month names case-insensitive; nullopt if invalid.
std::optional<Date> parse_date(std::string_view text);
// "01-Feb-2024 10:00:00 +0100" (day may also be " 1" or "1").
std::optional<DateTime> parse_date_time(std::string_view text);

std::string format_date(const Date& date);  // "01-Feb-2024"
// INTERNALDATE form: "30-Nov-2026 03:17:31 +0000", shown in the given zone.
std::string format_date_time(int64_t utc_seconds, int tz_offset_minutes = 0);
std::string format_date_time(const DateTime& value);

// Midnight UTC of a date, in seconds since the epoch (for SEARCH comparisons the
// caller shifts by its own zone).
int64_t date_to_utc_seconds(const Date& date);
Date utc_seconds_to_date(int64_t utc_seconds);

}  // namespace loft::imap::protocol
