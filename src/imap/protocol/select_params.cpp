#include "imap/protocol/select_params.h"

#include "imap/protocol/arg_values.h"
#include "lib/strings.h"

#include <charconv>

namespace loft::imap::protocol {

namespace {

template <typename Number>
std::optional<Number> plain_number(const Arg& arg)
{
    if (!arg.is_atom() || arg.value.empty())
        return std::nullopt;
    Number value = 0;
    const char* end = arg.value.data() + arg.value.size();
    auto [ptr, error] = std::from_chars(arg.value.data(), end, value);
    if (error != std::errc() || ptr != end)
        return std::nullopt;
    return value;
}

// A sequence-set without "*", as sorted merged ranges; nullopt when invalid.
std::optional<std::vector<NumberRange>> set_without_star(const Arg& arg)
{
    if (!arg.is_atom())
        return std::nullopt;
    try {
        SequenceSet set = SequenceSet::parse(arg.value);
        if (set.uses_star() || set.is_saved_result())
            return std::nullopt;
        return set.resolve(0);
    } catch (const CommandError&) {
        return std::nullopt;
    }
}

// The n-th number (0-based) of a set of sorted ranges.
std::optional<uint32_t> nth_of(const std::vector<NumberRange>& ranges, uint64_t n)
{
    for (const NumberRange& range : ranges) {
        uint64_t size = uint64_t(range.last) - range.first + 1;
        if (n < size)
            return static_cast<uint32_t>(range.first + n);
        n -= size;
    }
    return std::nullopt;
}

// Pairs the client's sequence numbers with its UIDs: for each UID range, its first
// and last UID with their sequence numbers. Both sets must have the same size.
void sample_known_set(QresyncParams& params, const std::vector<NumberRange>& seqs,
                      const std::vector<NumberRange>& uids)
{
    uint64_t n = 0;
    for (const NumberRange& range : uids) {
        auto seq = nth_of(seqs, n++);
        if (!seq)
            throw CommandError("Invalid QRESYNC sets");
        params.sample_uids.push_back(range.first);
        params.sample_seqs.push_back(*seq);
        uint64_t span = uint64_t(range.last) - range.first;
        if (span > 0) {
            n += span - 1;
            seq = nth_of(seqs, n++);
            if (!seq)
                throw CommandError("Invalid QRESYNC sets");
            params.sample_uids.push_back(range.last);
            params.sample_seqs.push_back(*seq);
        }
    }
    if (nth_of(seqs, n))
        throw CommandError("Invalid QRESYNC sets");
}

QresyncParams parse_qresync(const ArgList& options, size_t& index, bool enabled)
{
    if (!enabled)
        throw CommandError("QRESYNC not enabled");
    if (index >= options.size() || !options[index].is_list())
        throw CommandError("QRESYNC parameters missing");
    const ArgList& args = options[index++].children;
    QresyncParams params;
    auto uidvalidity = args.size() > 0 ? plain_number<uint32_t>(args[0]) : std::nullopt;
    auto modseq = args.size() > 1 ? plain_number<uint64_t>(args[1]) : std::nullopt;
    if (!uidvalidity || !modseq)
        throw CommandError("Invalid QRESYNC parameters");
    params.uidvalidity = *uidvalidity;
    params.modseq = *modseq;
    size_t next = 2;
    if (next < args.size() && args[next].is_atom()) {
        auto known = set_without_star(args[next]);
        if (!known)
            throw CommandError("Invalid QRESYNC known-uids");
        params.known_uids = std::move(*known);
        next++;
    }
    if (next < args.size() && args[next].is_list()) {
        const ArgList& match = args[next].children;
        auto seqs = match.size() > 0 ? set_without_star(match[0]) : std::nullopt;
        if (!seqs)
            throw CommandError("Invalid QRESYNC known-sequence-set");
        auto uids = match.size() > 1 ? set_without_star(match[1]) : std::nullopt;
        if (!uids)
            throw CommandError("Invalid QRESYNC known-uid-set");
        sample_known_set(params, *seqs, *uids);
        if (match.size() > 2)
            throw CommandError("Too many parameters to QRESYNC known set");
        next++;
    }
    if (next != args.size())
        throw CommandError("Invalid QRESYNC parameters");
    return params;
}

}  // namespace

SelectParams parse_select_params(const Arg& list, bool qresync_enabled)
{
    if (!list.is_list())
        throw CommandError("Invalid arguments");
    SelectParams params;
    const ArgList& options = list.children;
    size_t index = 0;
    while (index < options.size()) {
        if (!options[index].is_atom())
            throw CommandError("SELECT options contain non-atoms");
        std::string name = to_upper(options[index].value);
        index++;
        if (name == "CONDSTORE")
            params.condstore = true;
        else if (name == "QRESYNC")
            params.qresync = parse_qresync(options, index, qresync_enabled);
        else
            throw CommandError("Unknown FETCH modifier");  // sic: Dovecot's text
    }
    return params;
}

}  // namespace loft::imap::protocol
