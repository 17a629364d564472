// SELECT/EXAMINE parameters of RFC 7162: (CONDSTORE) and
// (QRESYNC (uidvalidity modseq [known-uids [(seq-set uid-set)]])), with Dovecot's errors.
#pragma once

#include "imap/protocol/arg.h"
#include "imap/protocol/sequence_set.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loft::imap::protocol {

struct QresyncParams {
    uint32_t uidvalidity = 0;
    uint64_t modseq = 0;
    // known-uids; all UIDs when the client gave none.
    std::vector<NumberRange> known_uids{{1, 0xFFFFFFFFu}};
    // The sequence-match data reduced the way Dovecot uses it: the sequence number
    // of the first and last UID of every known-uid range (sample_seqs[i] is the
    // client's sequence number of sample_uids[i]).
    std::vector<uint32_t> sample_seqs;
    std::vector<uint32_t> sample_uids;
};

struct SelectParams {
    bool condstore = false;
    std::optional<QresyncParams> qresync;
};

// Parses the optional parameter list of SELECT/EXAMINE. QRESYNC is refused unless
// the client enabled it. Throws CommandError with Dovecot's texts.
SelectParams parse_select_params(const Arg& list, bool qresync_enabled);

}  // namespace loft::imap::protocol
