// FETCH attribute lists: macros (ALL/FAST/FULL), simple items and BODY[section]<o.n>
// / BINARY[...] with their response names, plus the CHANGEDSINCE/VANISHED modifiers.
#pragma once

#include "imap/protocol/arg.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loft::imap::protocol {

// section-spec of BODY[...] / BINARY[...].
struct Section {
    enum class Kind { Full, Header, HeaderFields, HeaderFieldsNot, Text, Mime };
    std::vector<uint32_t> part;         // "1.2" -> {1, 2}; empty = the whole message
    Kind kind = Kind::Full;
    std::vector<std::string> fields;    // HEADER.FIELDS(.NOT), upper-cased

    // The text between the brackets as Dovecot echoes it: "1.2.HEADER.FIELDS (FROM TO)".
    std::string to_string() const;
};

struct FetchAttribute {
    enum class Kind {
        Uid, Flags, InternalDate, Rfc822Size, Rfc822, Rfc822Header, Rfc822Text,
        Envelope, Body /* BODY: non-extensible structure */, BodyStructure,
        BodySection, BinarySection, BinarySize, ModSeq, SaveDate, EmailId, ThreadId,
        Snippet, Preview,
    };
    Kind kind = Kind::Uid;
    Section section;                   // BodySection, BinarySection, BinarySize
    bool peek = false;                 // .PEEK: does not set \Seen
    std::optional<uint64_t> partial_offset;
    std::optional<uint64_t> partial_length;
    bool lazy = false;                 // SNIPPET/PREVIEW (LAZY)

    // Whether fetching it sets \Seen (BODY[...] without PEEK, RFC822, RFC822.TEXT, BINARY[...]).
    bool sets_seen() const;
    // The item name in the FETCH response: "BODY[HEADER.FIELDS (FROM)]<0>", "RFC822.SIZE".
    std::string response_name() const;
};

struct FetchRequest {
    std::vector<FetchAttribute> attributes;
    std::optional<uint64_t> changed_since;  // (CHANGEDSINCE n)
    bool vanished = false;                  // (VANISHED), UID FETCH with QRESYNC only
};

// Parses what follows the sequence set: one attribute or macro, or a list, then an
// optional modifier list. Throws CommandError with Dovecot's texts.
FetchRequest parse_fetch(const ArgList& args, size_t first = 1);
// Just the section text between the brackets (for tests and URLAUTH-like users).
Section parse_section(std::string_view text);

}  // namespace loft::imap::protocol
