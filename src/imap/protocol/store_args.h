// STORE arguments: [(UNCHANGEDSINCE n)] (+|-)FLAGS[.SILENT] flags.
#pragma once

#include "imap/protocol/arg.h"
#include "imap/protocol/arg_values.h"

#include <cstdint>
#include <optional>

namespace loft::imap::protocol {

struct StoreRequest {
    enum class Mode { Replace, Add, Remove };
    Mode mode = Mode::Replace;
    bool silent = false;
    FlagSet flags;
    std::optional<uint64_t> unchanged_since;  // CONDSTORE
};

// Parses what follows the sequence set (args[first...]).
StoreRequest parse_store(const ArgList& args, size_t first = 1);

}  // namespace loft::imap::protocol
