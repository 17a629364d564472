// IMAP SORT (RFC 5256, DISPLAYFROM/DISPLAYTO from RFC 5957) ordering with Dovecot's
// sort keys: first address mailbox, decoded display name, base subject, sent date.
#pragma once

#include "storage/search/search.h"

#include <string>
#include <vector>

namespace loft::storage::search {

enum class SortKey { Arrival, Cc, Date, From, Size, Subject, To, DisplayFrom, DisplayTo };

struct SortCriterion {
    SortKey key = SortKey::Arrival;
    bool reverse = false;
};

// Criteria atoms as the client sent them ("REVERSE", "DATE", ...), case-insensitive.
// Throws SearchError on an unknown key, a dangling REVERSE or an empty list.
std::vector<SortCriterion> parse_sort_criteria(const std::vector<std::string>& atoms);

// Orders the given sequence numbers; ties fall back to ascending sequence number.
std::vector<uint32_t> sort_messages(MessageSet& messages, const std::vector<SortCriterion>& criteria,
                                    std::vector<uint32_t> sequences);

// The sent date SORT DATE and THREAD use: the Date: header, or INTERNALDATE without one.
int64_t sort_date(MessageView& message);

}  // namespace loft::storage::search
