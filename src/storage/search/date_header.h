// The RFC 5322 Date: header as SENT* searches and SORT DATE read it: UTC seconds plus
// the sender's zone, with the leniency of Dovecot's message_date_parse.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace loft::storage::search {

struct SentDate {
    int64_t utc_seconds = 0;
    int tz_offset_minutes = 0;
};

// "Mon, 2 Jan 2006 15:04:05 -0700" (weekday, seconds and comments optional; two-digit
// years; zone names UT/GMT/EST..., unknown zones count as +0000). nullopt if unparseable.
std::optional<SentDate> parse_date_header(std::string_view value);

}  // namespace loft::storage::search
