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

// The literal size of BODY[section]<partial>, without building the data.
uint64_t section_size(std::string_view message, const MessagePart& root,
                      const FetchSection& section, const Partial& partial = Partial());

// Sends BODY[section]<partial> to sink in pieces of at most chunk_size bytes, so a large
// message is never copied whole; the pieces concatenate to fetch_section()'s result.
template <typename Sink>
void stream_section(std::string_view message, const MessagePart& root, const FetchSection& section,
                    const Partial& partial, size_t chunk_size, Sink&& sink);

namespace detail {
// The stored byte range a plain section covers, or nullopt when the section needs
// building (header field lists) or the part is missing (empty result).
struct StoredRange {
    size_t begin = 0;
    size_t end = 0;
};
enum class SectionShape { Stored, Built, Missing };
SectionShape section_shape(const MessagePart& root, const FetchSection& section, StoredRange& range);
// Converts stored[...] to the CRLF view piece by piece, keeping virtual offsets
// [skip, skip + limit) and handing them to emit (NULs already turned into 0x80).
void stream_crlf_range(std::string_view stored, uint64_t skip, uint64_t limit, size_t chunk_size,
                       void (*emit)(std::string_view piece, void* context), void* context);
}  // namespace detail

template <typename Sink>
void stream_section(std::string_view message, const MessagePart& root, const FetchSection& section,
                    const Partial& partial, size_t chunk_size, Sink&& sink)
{
    if (chunk_size == 0)
        chunk_size = 1;
    detail::StoredRange range;
    switch (detail::section_shape(root, section, range)) {
    case detail::SectionShape::Missing:
        return;
    case detail::SectionShape::Built: {
        std::string data = fetch_section(message, root, section, partial);
        for (size_t pos = 0; pos < data.size(); pos += chunk_size)
            sink(std::string_view(data).substr(pos, chunk_size));
        return;
    }
    case detail::SectionShape::Stored:
        detail::stream_crlf_range(
            message.substr(range.begin, range.end - range.begin), partial.offset, partial.size,
            chunk_size,
            [](std::string_view piece, void* context) { (*static_cast<Sink*>(context))(piece); },
            &sink);
        return;
    }
}

}  // namespace loft::mail
