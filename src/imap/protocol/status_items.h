// STATUS data item lists: "(MESSAGES UIDNEXT ...)" -> the set of items asked for.
#pragma once

#include "imap/protocol/arg.h"

#include <cstdint>

namespace loft::imap::protocol {

enum StatusItem : uint16_t {
    kStatusMessages = 1 << 0,
    kStatusRecent = 1 << 1,
    kStatusUidNext = 1 << 2,
    kStatusUidValidity = 1 << 3,
    kStatusUnseen = 1 << 4,
    kStatusHighestModSeq = 1 << 5,
    kStatusSize = 1 << 6,      // SIZE (RFC 8438)
    kStatusXSize = 1 << 7,     // X-SIZE (Dovecot)
    kStatusXGuid = 1 << 8,     // X-GUID (Dovecot)
};

// Bit set of StatusItem; the response lists them in this enum's order, which is
// the order Dovecot uses. Throws CommandError: "Status list contains non-atoms",
// "Empty status list", "Invalid status item FOO", "Invalid arguments" (no list).
uint16_t parse_status_items(const Arg& list);

}  // namespace loft::imap::protocol
