#include "mail/section.h"

#include "mail/header_lines.h"
#include "mail/message.h"
#include "mail/rfc822_tokens.h"

#include <algorithm>
#include <cstdint>
#include <strings.h>

namespace loft::mail {

namespace {

// Header lists longer than this are refused rather than matched line by line.
constexpr size_t kMaxHeaderFieldNames = 1000;

std::string upper(std::string_view text)
{
    std::string out(text);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
    }
    return out;
}

bool is_atom_char(char c)
{
    unsigned char u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '(' && c != ')' && c != '{' && c != '"' && c != '\\' &&
           c != '%' && c != '*' && c != ']';
}

// "(Name1 Name2 "quoted")" -> names; nullopt when malformed or empty.
std::optional<std::vector<std::string>> parse_field_list(std::string_view text)
{
    if (!text.empty() && text.front() == ' ')
        text.remove_prefix(1);
    if (text.size() < 2 || text.front() != '(' || text.back() != ')')
        return std::nullopt;
    text = text.substr(1, text.size() - 2);
    std::vector<std::string> names;
    size_t i = 0;
    while (i < text.size()) {
        if (text[i] == ' ') {
            i++;
            continue;
        }
        std::string name;
        if (text[i] == '"') {
            i++;
            bool closed = false;
            while (i < text.size()) {
                char c = text[i++];
                if (c == '\\' && i < text.size()) {
                    name += text[i++];
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    name += c;
                }
            }
            if (!closed)
                return std::nullopt;
        } else {
            size_t start = i;
            while (i < text.size() && text[i] != ' ') {
                if (!is_atom_char(text[i]))
                    return std::nullopt;
                i++;
            }
            name.assign(text.substr(start, i - start));
        }
        if (names.size() >= kMaxHeaderFieldNames)
            return std::nullopt;
        names.push_back(upper(name));
    }
    if (names.empty())
        return std::nullopt;
    std::sort(names.begin(), names.end());
    return names;
}

bool field_wanted(const std::vector<std::string>& names, const std::string& raw_name)
{
    std::string name = c_string(raw_name);
    return std::any_of(names.begin(), names.end(), [&](const std::string& wanted) {
        return strcasecmp(wanted.c_str(), name.c_str()) == 0;
    });
}

// Header fields from pos until the end of the header (or of the message), keeping or
// dropping the named ones, as Dovecot's header filter stream does for a part's header.
std::string filter_header(std::string_view message, size_t pos,
                          const std::vector<std::string>& names, bool exclude)
{
    std::string out;
    while (pos < message.size()) {
        HeaderLine line = read_header_line(message, pos);
        if (line.kind == HeaderLine::Kind::EndOfHeader) {
            out += "\n";
            break;
        }
        pos = line.end;
        if (field_wanted(names, line.name) != exclude)
            out.append(message.substr(line.start, line.end - line.start));
    }
    return out;
}

// The top-level BODY[HEADER.FIELDS (...)] as Dovecot returns it from its cache, which is
// where it comes from on every fetch but the very first: each line loses one CR before its
// LF, a last line without newline gets one, and a blank line always ends the block.
std::string cached_header_fields(std::string_view message, const std::vector<std::string>& names)
{
    std::string out;
    size_t pos = 0;
    while (pos < message.size()) {
        HeaderLine line = read_header_line(message, pos);
        if (line.kind != HeaderLine::Kind::Field)
            break;
        pos = line.end;
        if (!field_wanted(names, line.name))
            continue;
        size_t start = line.start;
        while (start < line.end) {
            size_t lf = message.find('\n', start);
            if (lf == std::string_view::npos || lf >= line.end) {
                out.append(message.substr(start, line.end - start));
                break;
            }
            size_t content_end = lf > start && message[lf - 1] == '\r' ? lf - 1 : lf;
            out.append(message.substr(start, content_end - start));
            out += '\n';
            start = lf + 1;
        }
    }
    out += '\n';
    return out;
}

std::string imap_view(std::string_view stored, const Partial& partial)
{
    CrlfConverter converter;
    std::string view = converter.convert(stored);
    for (char& c : view) {
        if (c == '\0')
            c = '\x80';  // IMAP literals must not contain NULs
    }
    if (partial.offset >= view.size())
        return std::string();
    return view.substr(partial.offset, partial.size);
}

}  // namespace

std::optional<FetchSection> parse_section(std::string_view text)
{
    FetchSection section;
    size_t i = 0;
    bool expect_digit = true;
    for (; i < text.size(); i++) {
        char c = text[i];
        if (c >= '0' && c <= '9')
            expect_digit = false;
        else if (!expect_digit && c == '.')
            expect_digit = true;
        else
            break;
    }
    std::string_view rest;
    if (i == 0) {
        rest = text;
    } else if (i == text.size()) {
        if (text[i - 1] == '.')
            return std::nullopt;
        section.part_number.assign(text);
    } else {
        if (text[i - 1] != '.')
            return std::nullopt;
        section.part_number.assign(text.substr(0, i - 1));
        rest = text.substr(i);
    }
    if (rest.empty()) {
        section.kind = section.part_number.empty() ? FetchSection::Kind::Full
                                                   : FetchSection::Kind::PartBody;
        return section;
    }
    std::string keyword = upper(rest);
    if (keyword == "MIME") {
        if (section.part_number.empty())
            return std::nullopt;
        section.kind = FetchSection::Kind::Mime;
    } else if (keyword == "TEXT") {
        section.kind = FetchSection::Kind::Text;
    } else if (keyword == "HEADER") {
        section.kind = FetchSection::Kind::Header;
    } else if (keyword.compare(0, 17, "HEADER.FIELDS.NOT") == 0) {
        auto names = parse_field_list(rest.substr(17));
        if (!names)
            return std::nullopt;
        section.kind = FetchSection::Kind::HeaderFieldsNot;
        section.fields = std::move(*names);
    } else if (keyword.compare(0, 13, "HEADER.FIELDS") == 0) {
        auto names = parse_field_list(rest.substr(13));
        if (!names)
            return std::nullopt;
        section.kind = FetchSection::Kind::HeaderFields;
        section.fields = std::move(*names);
    } else {
        return std::nullopt;
    }
    return section;
}

const MessagePart* find_part(const MessagePart& root, std::string_view path)
{
    const MessagePart* part = &root;
    size_t i = 0;
    while (i < path.size() && path[i] >= '0' && path[i] <= '9' && part != nullptr) {
        uint64_t number = 0;
        while (i < path.size() && path[i] != '.') {
            number = std::min<uint64_t>(number * 10 + static_cast<uint64_t>(path[i] - '0'),
                                        UINT32_MAX);
            i++;
        }
        if (i < path.size())
            i++;  // '.'
        bool more = i < path.size();
        if (part->has(kPartMultipart)) {
            if (number == 0)
                number = 1;  // Dovecot's loop treats 0 like 1
            part = number <= part->children.size() ? part->children[number - 1].get() : nullptr;
        } else if (number != 1) {
            part = nullptr;
        } else if (more && !part->has(kPartMessageRfc822)) {
            part = nullptr;
        }
        // Going deeper into a message/rfc822 means into the message it contains.
        if (part != nullptr && part->has(kPartMessageRfc822) && more && path[i] >= '0' &&
            path[i] <= '9')
            part = part->children.empty() ? nullptr : part->children.front().get();
    }
    return part;
}

namespace detail {

SectionShape section_shape(const MessagePart& root, const FetchSection& section, StoredRange& range)
{
    using Kind = FetchSection::Kind;
    const MessagePart* part = &root;
    if (!section.part_number.empty()) {
        part = find_part(root, section.part_number);
        if (part == nullptr)
            return SectionShape::Missing;
        if (section.kind != Kind::Mime && section.kind != Kind::Full && section.kind != Kind::PartBody) {
            if (!part->has(kPartMessageRfc822) || part->children.empty())
                return SectionShape::Missing;
            part = part->children.front().get();
        }
    }
    size_t start = part->physical_pos;
    size_t header_end = start + part->header_size.physical_size;
    size_t body_end = header_end + part->body_size.physical_size;
    switch (section.kind) {
    case Kind::Full:
        if (section.part_number.empty()) {
            range = {0, SIZE_MAX};
            return SectionShape::Stored;
        }
        [[fallthrough]];
    case Kind::PartBody:
    case Kind::Text:
        range = {header_end, body_end};
        return SectionShape::Stored;
    case Kind::Mime:
    case Kind::Header:
        range = {start, header_end};
        return SectionShape::Stored;
    case Kind::HeaderFields:
    case Kind::HeaderFieldsNot:
        return SectionShape::Built;
    }
    return SectionShape::Missing;
}

void stream_crlf_range(std::string_view stored, uint64_t skip, uint64_t limit, size_t chunk_size,
                       void (*emit)(std::string_view piece, void* context), void* context)
{
    CrlfConverter converter;
    uint64_t position = 0;  // in the CRLF view
    std::string piece;
    for (size_t pos = 0; pos < stored.size() && limit > 0; pos += chunk_size) {
        piece.clear();
        converter.convert_into(stored.substr(pos, chunk_size), piece);
        uint64_t piece_start = position;
        position += piece.size();
        if (position <= skip)
            continue;
        size_t from = piece_start < skip ? static_cast<size_t>(skip - piece_start) : 0;
        size_t count = static_cast<size_t>(std::min<uint64_t>(piece.size() - from, limit));
        limit -= count;
        std::string_view out = std::string_view(piece).substr(from, count);
        for (size_t i = 0; i < out.size(); i += chunk_size) {
            std::string_view part = out.substr(i, chunk_size);
            if (part.find('\0') == std::string_view::npos) {
                emit(part, context);
            } else {
                std::string clean(part);
                for (char& c : clean) {
                    if (c == '\0')
                        c = '\x80';
                }
                emit(clean, context);
            }
        }
    }
}

}  // namespace detail

uint64_t section_size(std::string_view message, const MessagePart& root,
                      const FetchSection& section, const Partial& partial)
{
    detail::StoredRange range;
    uint64_t size = 0;
    switch (detail::section_shape(root, section, range)) {
    case detail::SectionShape::Missing:
        return 0;
    case detail::SectionShape::Built:
        return fetch_section(message, root, section, partial).size();
    case detail::SectionShape::Stored:
        size = crlf_size(message.substr(range.begin, range.end - range.begin));
        break;
    }
    if (partial.offset >= size)
        return 0;
    return std::min(size - partial.offset, partial.size);
}

std::string fetch_section(std::string_view message, const MessagePart& root,
                          const FetchSection& section, const Partial& partial)
{
    detail::StoredRange range;
    switch (detail::section_shape(root, section, range)) {
    case detail::SectionShape::Missing:
        return std::string();
    case detail::SectionShape::Stored:
        return imap_view(message.substr(range.begin, range.end - range.begin), partial);
    case detail::SectionShape::Built:
        break;
    }
    // Header field lists: the top level comes from Dovecot's cache form, a part's header
    // (inside message/rfc822) from its header filter.
    bool top_level = section.part_number.empty();
    const MessagePart* part = top_level ? &root : find_part(root, section.part_number)->children.front().get();
    bool exclude = section.kind == FetchSection::Kind::HeaderFieldsNot;
    if (top_level && !exclude)
        return imap_view(cached_header_fields(message, section.fields), partial);
    return imap_view(filter_header(message, part->physical_pos, section.fields, exclude), partial);
}

}  // namespace loft::mail
