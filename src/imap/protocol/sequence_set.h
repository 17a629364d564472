// IMAP sequence sets ("1:3,5,7:*", "$"): parsing, resolving "*" against the
// current highest number, and compressing numbers back into the shortest form.
#pragma once

#include "imap/protocol/arg.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loft::imap::protocol {

struct NumberRange {
    uint32_t first = 0;
    uint32_t last = 0;  // first <= last

    bool operator==(const NumberRange&) const = default;
};

class SequenceSet {
public:
    // Parses a sequence-set; throws CommandError("Invalid messageset", or for UID
    // commands "Invalid uidset": Dovecot's texts) on syntax errors, zero, numbers
    // above 2^32-1, or more than 100000 ranges.
    static SequenceSet parse(std::string_view text, bool uids = false);
    static SequenceSet from_ranges(std::vector<NumberRange> ranges);

    // "$": the saved SEARCHRES result; the caller substitutes it.
    bool is_saved_result() const { return saved_result_; }
    bool uses_star() const;

    // Sorted, merged ranges with "*" replaced by `star` (the message count or the
    // highest UID). A range like "5:*" with star 3 means 3:5, as RFC 3501 says.
    // With star == 0 (empty mailbox) "*" ranges resolve to nothing below 1.
    std::vector<NumberRange> resolve(uint32_t star) const;
    bool contains(uint32_t number, uint32_t star) const;
    // Highest number written explicitly (not "*"): for "Invalid messageset"
    // checks of message sequence numbers beyond the message count.
    uint32_t max_explicit() const;

    // Back to text, as written (with "*" where it was).
    std::string to_string() const;

private:
    struct Bound {
        uint32_t value = 0;
        bool star = false;
    };
    struct Range {
        Bound first;
        Bound last;
    };
    std::vector<Range> ranges_;
    bool saved_result_ = false;
};

// The sequence-set argument of FETCH/STORE/COPY...: an atom ("Invalid arguments"
// for a string or list, as Dovecot answers).
SequenceSet sequence_set_arg(const Arg& arg, bool uids = false);

// Sorted, duplicate-free, merged ranges of the given numbers.
std::vector<NumberRange> make_ranges(std::vector<uint32_t> numbers);
// "1:3,5" for {1,2,3,5}; numbers need not be sorted. Empty input gives "".
std::string format_sequence_set(std::vector<uint32_t> numbers);
// Ranges as given (not re-sorted), for responses that keep an order (COPYUID).
std::string format_ranges(const std::vector<NumberRange>& ranges);

}  // namespace loft::imap::protocol
