#include "imap/protocol/sequence_set.h"

#include "imap/protocol/arg.h"

#include <algorithm>

namespace loft::imap::protocol {

namespace {

constexpr size_t kMaxRanges = 100000;


void append_range(std::string& out, uint32_t first, uint32_t last)
{
    if (!out.empty())
        out.push_back(',');
    out += std::to_string(first);
    if (last != first)
        out += ":" + std::to_string(last);
}

}  // namespace

SequenceSet SequenceSet::parse(std::string_view text, bool uids)
{
    auto invalid = [uids] { throw CommandError(uids ? "Invalid uidset" : "Invalid messageset"); };
    SequenceSet set;
    if (text == "$") {
        set.saved_result_ = true;
        return set;
    }
    size_t pos = 0;
    auto read_bound = [&]() {
        Bound bound;
        if (pos < text.size() && text[pos] == '*') {
            bound.star = true;
            ++pos;
            return bound;
        }
        size_t start = pos;
        uint64_t value = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            value = value * 10 + uint64_t(text[pos] - '0');
            if (value > UINT32_MAX)
                invalid();
            ++pos;
        }
        if (pos == start || value == 0)
            invalid();
        bound.value = uint32_t(value);
        return bound;
    };
    for (;;) {
        Range range;
        range.first = read_bound();
        range.last = range.first;
        if (pos < text.size() && text[pos] == ':') {
            ++pos;
            range.last = read_bound();
        }
        if (set.ranges_.size() >= kMaxRanges)
            invalid();
        set.ranges_.push_back(range);
        if (pos == text.size())
            break;
        if (text[pos] != ',')
            invalid();
        ++pos;
    }
    return set;
}

SequenceSet SequenceSet::from_ranges(std::vector<NumberRange> ranges)
{
    SequenceSet set;
    for (const auto& range : ranges)
        set.ranges_.push_back(Range{{range.first, false}, {range.last, false}});
    return set;
}

bool SequenceSet::uses_star() const
{
    return std::any_of(ranges_.begin(), ranges_.end(),
                       [](const Range& r) { return r.first.star || r.last.star; });
}

std::vector<NumberRange> SequenceSet::resolve(uint32_t star) const
{
    std::vector<NumberRange> ranges;
    ranges.reserve(ranges_.size());
    for (const Range& range : ranges_) {
        uint32_t a = range.first.star ? star : range.first.value;
        uint32_t b = range.last.star ? star : range.last.value;
        if (a > b)
            std::swap(a, b);
        if (b == 0)
            continue;  // "*" in an empty mailbox
        ranges.push_back(NumberRange{std::max<uint32_t>(a, 1), b});
    }
    std::sort(ranges.begin(), ranges.end(),
              [](const NumberRange& x, const NumberRange& y) { return x.first < y.first; });
    std::vector<NumberRange> merged;
    for (const auto& range : ranges) {
        if (!merged.empty() && uint64_t(range.first) <= uint64_t(merged.back().last) + 1)
            merged.back().last = std::max(merged.back().last, range.last);
        else
            merged.push_back(range);
    }
    return merged;
}

bool SequenceSet::contains(uint32_t number, uint32_t star) const
{
    for (const Range& range : ranges_) {
        uint32_t a = range.first.star ? star : range.first.value;
        uint32_t b = range.last.star ? star : range.last.value;
        if (a > b)
            std::swap(a, b);
        if (number >= a && number <= b && number != 0)
            return true;
    }
    return false;
}

uint32_t SequenceSet::max_explicit() const
{
    uint32_t highest = 0;
    for (const Range& range : ranges_) {
        if (!range.first.star)
            highest = std::max(highest, range.first.value);
        if (!range.last.star)
            highest = std::max(highest, range.last.value);
    }
    return highest;
}

std::string SequenceSet::to_string() const
{
    if (saved_result_)
        return "$";
    std::string out;
    auto bound_text = [](const Bound& bound) { return bound.star ? std::string("*") : std::to_string(bound.value); };
    for (const Range& range : ranges_) {
        if (!out.empty())
            out.push_back(',');
        out += bound_text(range.first);
        if (range.last.star != range.first.star || range.last.value != range.first.value)
            out += ":" + bound_text(range.last);
    }
    return out;
}

SequenceSet sequence_set_arg(const Arg& arg, bool uids)
{
    if (!arg.is_atom())
        throw CommandError("Invalid arguments");
    return SequenceSet::parse(arg.value, uids);
}

std::vector<NumberRange> make_ranges(std::vector<uint32_t> numbers)
{
    std::sort(numbers.begin(), numbers.end());
    numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
    std::vector<NumberRange> ranges;
    for (uint32_t n : numbers) {
        if (!ranges.empty() && ranges.back().last != UINT32_MAX && ranges.back().last + 1 == n)
            ranges.back().last = n;
        else
            ranges.push_back(NumberRange{n, n});
    }
    return ranges;
}

std::string format_sequence_set(std::vector<uint32_t> numbers)
{
    return format_ranges(make_ranges(std::move(numbers)));
}

std::string format_ranges(const std::vector<NumberRange>& ranges)
{
    std::string out;
    for (const auto& range : ranges)
        append_range(out, range.first, range.last);
    return out;
}

}  // namespace loft::imap::protocol
