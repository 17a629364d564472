// ESEARCH RETURN options (RFC 4731, ESORT RFC 5267, SEARCHRES RFC 5182, and the parts of
// CONTEXT=SEARCH Dovecot 2.3 accepts) and the ESEARCH reply, with Dovecot's choices.
#pragma once

#include "imap/protocol/arg.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loft::imap::protocol {

struct SearchReturn {
    bool esearch = false;  // RETURN (...) was given: answer with ESEARCH
    bool min = false, max = false, all = false, count = false, save = false;
    bool update = false, relevancy = false, partial = false;
    uint32_t partial_first = 0, partial_last = 0;  // 1-based positions, first <= last

    // MIN and/or MAX without ALL, COUNT or PARTIAL: only those messages take part in
    // SAVE, MODSEQ and RELEVANCY (RFC 5182 section 2.1, as Dovecot 2.3 does it).
    bool min_max_only() const { return (min || max) && !all && !count && !partial; }
    // RETURN (SAVE) alone: no untagged reply at all.
    bool save_only() const { return save && !min && !max && !all && !count && !partial && !update && !relevancy; }
};

// Parses "RETURN (options)" at args[pos] when it is there, moving pos past it; "RETURN"
// not followed by a list is left alone (the search parser calls it an unknown key).
// Throws CommandError with Dovecot's texts ("Unknown SEARCH return option",
// "PARTIAL conflicts with ALL" ...). An empty list means ALL.
SearchReturn parse_search_return(const ArgList& args, size_t& pos);

// What a search found, in result order (ascending for SEARCH, sort order for SORT):
// sequence numbers or UIDs, with each message's UID and, when the program had a
// MODSEQ key, its modseq.
struct SearchFound {
    std::vector<uint32_t> ids;
    std::vector<uint32_t> uids;
    std::vector<uint64_t> modseqs;  // empty unless MODSEQ was searched
};

// The messages SAVE stores as "$" (their UIDs, ascending, no duplicates).
std::vector<uint32_t> saved_result(const SearchReturn& options, const SearchFound& found);

// The "* ESEARCH ..." line without CRLF: options in Dovecot's order (MIN MAX ALL
// RELEVANCY PARTIAL COUNT MODSEQ), sets compressed only where numbers ascend by one
// (a SORT result keeps its order). Empty for RETURN (SAVE) alone.
std::string format_esearch(const std::string& tag, bool uid, const SearchReturn& options, const SearchFound& found);

// The highest modseq among the messages that take part (0 when not searched).
uint64_t result_modseq(const SearchReturn& options, const SearchFound& found);

// "5,4,2:3,1": numbers in the order given, runs ascending by one written as ranges.
std::string format_ordered_set(const std::vector<uint32_t>& numbers);

}  // namespace loft::imap::protocol
