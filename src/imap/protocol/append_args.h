// APPEND arguments after the mailbox name: per message [flag-list] [date-time]
// then a literal or CATENATE (...) (RFC 3501, MULTIAPPEND, CATENATE, BINARY).
#pragma once

#include "imap/protocol/arg.h"
#include "imap/protocol/arg_values.h"
#include "imap/protocol/imap_date.h"

#include <optional>
#include <string>
#include <vector>

namespace loft::imap::protocol {

struct CatenatePart {
    bool is_url = false;
    const Arg* value = nullptr;  // URL string, or the TEXT literal (maybe streamed)
};

struct AppendMessage {
    FlagSet flags;
    std::optional<DateTime> internal_date;
    const Arg* literal = nullptr;       // the message; nullptr with CATENATE
    std::vector<CatenatePart> catenate;
};

// Parses the message starting at args[pos] and moves pos past it. The Arg pointers
// point into `args`. Works on LiteralStart arguments too: start at pos 1 when
// arg_offset is 0 (args[0] is the mailbox), else at 0. Throws CommandError with Dovecot's texts ("Missing
// message size", "Invalid internal date", "Empty CATENATE list", "Invalid arguments").
AppendMessage parse_append_message(const ArgList& args, size_t& pos);
AppendMessage parse_append_message(ArgList&& args, size_t& pos) = delete;  // would dangle

// All messages of a complete APPEND command; args[0] is the mailbox.
std::vector<AppendMessage> parse_append(const ArgList& args);
std::vector<AppendMessage> parse_append(ArgList&& args) = delete;  // would dangle

}  // namespace loft::imap::protocol
