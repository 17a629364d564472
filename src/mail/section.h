// BODY[section]<partial> addressing: parsing the section text and producing the exact
// bytes Dovecot 2.3 returns for it (CRLF view, NULs as 0x80).
#pragma once

#include "mail/mime_parser.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::mail {

struct FetchSection {
    enum class Kind {
        Full,             // BODY[]
        Mime,             // BODY[1.MIME]
        PartBody,         // BODY[1]
        Header,           // BODY[HEADER], BODY[1.HEADER]
        HeaderFields,     // BODY[HEADER.FIELDS (A B)]
        HeaderFieldsNot,  // BODY[HEADER.FIELDS.NOT (A B)]
        Text,             // BODY[TEXT], BODY[1.TEXT]
    };
    std::string part_number;  // "" for the whole message, else e.g. "1.2"
    Kind kind = Kind::Full;
    std::vector<std::string> fields;  // upper-cased field names
};

// Parses the text between the brackets. nullopt when it is not a valid section.
std::optional<FetchSection> parse_section(std::string_view text);

struct Partial {
    uint64_t offset = 0;
    uint64_t size = std::numeric_limits<uint64_t>::max();
};

// The part a section number addresses (nullptr when there is none), following
// Dovecot's rules for non-multipart parts and message/rfc822.
const MessagePart* find_part(const MessagePart& root, std::string_view part_number);

// The bytes of BODY[section]<partial>; an empty string when the part does not exist.
std::string fetch_section(std::string_view message, const MessagePart& root,
                          const FetchSection& section, const Partial& partial = Partial());

}  // namespace loft::mail
