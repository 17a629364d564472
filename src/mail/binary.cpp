#include "mail/binary.h"

#include "lib/strings.h"
#include "mail/header_lines.h"
#include "mail/message.h"
#include "mail/rfc822_tokens.h"
#include "mail/transfer_encoding.h"

#include <algorithm>
#include <map>
#include <optional>
#include <strings.h>

namespace loft::mail {

namespace {

constexpr const char* kCteName = "Content-Transfer-Encoding";

// The encoding named in a part's header, read the way Dovecot's binary code does: the
// last field wins, and a folded value counts as unknown.
TransferEncoding part_encoding(std::string_view message, size_t pos)
{
    TransferEncoding encoding = TransferEncoding::SevenOrEightBit;
    while (pos < message.size()) {
        HeaderLine line = read_header_line(message, pos);
        if (line.kind != HeaderLine::Kind::Field)
            break;
        pos = line.end;
        if (strcasecmp(c_string(line.name).c_str(), kCteName) != 0)
            continue;
        if (line.full_value.find('\n') != std::string::npos) {
            encoding = TransferEncoding::Unknown;
            continue;
        }
        Rfc822Reader reader(line.full_value);
        reader.skip_lwsp();
        std::string token;
        if (reader.read_mime_token(token) == 1) {
            reader.skip_lwsp();
            if (reader.peek() != ';') {
                encoding = TransferEncoding::Unknown;
                continue;
            }
        }
        const char* name = token.c_str();
        if (strcasecmp(name, "7bit") == 0 || strcasecmp(name, "8bit") == 0)
            encoding = TransferEncoding::SevenOrEightBit;
        else if (strcasecmp(name, "binary") == 0)
            encoding = TransferEncoding::Binary;
        else if (strcasecmp(name, "quoted-printable") == 0)
            encoding = TransferEncoding::QuotedPrintable;
        else if (strcasecmp(name, "base64") == 0)
            encoding = TransferEncoding::Base64;
        else
            encoding = TransferEncoding::Unknown;
    }
    return encoding;
}

// Strict base64 as Dovecot's stream decoder: blanks anywhere, correct padding, nothing
// but blanks after it, no incomplete final group.
bool decode_base64_strict(std::string_view input, std::string& out)
{
    uint32_t bits = 0;
    int group = 0;
    size_t i = 0;
    auto is_blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    for (; i < input.size(); i++) {
        char c = input[i];
        int value = base64_digit_value(c);
        if (value < 0) {
            if (is_blank(c))
                continue;
            break;
        }
        switch (group) {
        case 0:
            bits = static_cast<uint32_t>(value);
            group = 1;
            break;
        case 1:
            out.push_back(static_cast<char>(((bits << 2) | (static_cast<uint32_t>(value) >> 4)) & 0xFF));
            bits = static_cast<uint32_t>(value);
            group = 2;
            break;
        case 2:
            out.push_back(static_cast<char>(((bits << 4) & 0xFF) | (static_cast<uint32_t>(value) >> 2)));
            bits = static_cast<uint32_t>(value);
            group = 3;
            break;
        default:
            out.push_back(static_cast<char>(((bits << 6) & 0xC0) | static_cast<uint32_t>(value)));
            group = 0;
            break;
        }
    }
    if (i == input.size())
        return group == 0;
    // Padding: "==" after two characters of a group, "=" after three.
    if (group < 2 || input[i] != '=')
        return false;
    i++;
    if (group == 2) {
        while (i < input.size() && is_blank(input[i]))
            i++;
        if (i == input.size() || input[i] != '=')
            return false;
        i++;
    }
    while (i < input.size() && is_blank(input[i]))
        i++;
    return i == input.size();
}

// Strict quoted-printable as Dovecot's stream decoder; line ends become CRLF.
bool decode_qp_strict(std::string_view input, std::string& out)
{
    constexpr size_t kMaxWhitespace = 76;
    size_t i = 0;
    while (i < input.size()) {
        char c = input[i];
        if (c == ' ' || c == '\t') {
            size_t start = i;
            while (i < input.size() && (input[i] == ' ' || input[i] == '\t'))
                i++;
            if (i == input.size())
                return true;  // trailing blanks at the end are dropped
            if (input[i] == '\n' || (input[i] == '\r' && i + 1 < input.size() && input[i + 1] == '\n'))
                continue;  // trailing blanks before a line end are dropped
            if (input[i] == '\r')
                return false;  // CR not followed by LF
            if (i - start > kMaxWhitespace)
                return false;
            out.append(input.substr(start, i - start));
            continue;
        }
        if (c == '\n') {
            out += "\r\n";
            i++;
            continue;
        }
        if (c == '\r') {
            if (i + 1 < input.size() && input[i + 1] == '\n') {
                out += "\r\n";
                i += 2;
                continue;
            }
            return false;
        }
        if (c != '=') {
            out.push_back(c);
            i++;
            continue;
        }
        // '=': two hex digits, or a soft line break (blanks allowed before it).
        auto hex = [](char h) {
            return (h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F');
        };
        if (i + 1 < input.size() && hex(input[i + 1])) {
            if (i + 2 >= input.size() || !hex(input[i + 2]))
                return false;
            out.push_back(static_cast<char>(std::stoi(std::string(input.substr(i + 1, 2)), nullptr, 16)));
            i += 3;
            continue;
        }
        size_t j = i + 1;
        while (j < input.size() && (input[j] == ' ' || input[j] == '\t'))
            j++;
        if (j == input.size())
            return false;  // '=' (and blanks) at the very end
        if (input[j] == '\n') {
            i = j + 1;
            continue;
        }
        if (input[j] == '\r' && j + 1 < input.size() && input[j + 1] == '\n') {
            i = j + 2;
            continue;
        }
        return false;
    }
    return true;
}

class BinaryBuilder {
public:
    explicit BinaryBuilder(std::string_view message) : message_(message) {}

    void add_part(const MessagePart& part, bool include_header)
    {
        TransferEncoding encoding = part_encoding(message_, part.physical_pos);
        if (encoding == TransferEncoding::Unknown)
            throw BinaryDecodeError(BinaryDecodeError::Kind::UnknownTransferEncoding,
                                    "Unknown Content-Transfer-Encoding.");
        bool converted = encoding == TransferEncoding::QuotedPrintable ||
                         encoding == TransferEncoding::Base64;
        size_t header_end = part.physical_pos + part.header_size.physical_size;
        size_t part_end = header_end + part.body_size.physical_size;
        if (include_header) {
            if (converted) {
                if (copy_start_ != 0)
                    copy_to(part.physical_pos);
                size_t before = out_.size();
                append_binary_header(part.physical_pos);
                converted_parts_[&part].header_size = out_.size() - before;
            } else {
                copy_to(header_end);
            }
        }
        copy_start_ = header_end;
        if (!part.children.empty()) {
            for (const auto& child : part.children)
                add_part(*child, true);
            copy_to(part_end);
            copy_start_ = part_end;
            return;
        }
        if (part.body_size.physical_size == 0) {
            copy_start_ = part_end;
            return;
        }
        std::string_view body = message_.substr(header_end, part_end - header_end);
        size_t before = out_.size();
        bool ok = true;
        switch (encoding) {
        case TransferEncoding::SevenOrEightBit:
        case TransferEncoding::Binary: {
            CrlfConverter converter;
            converter.convert_into(body, out_);
            break;
        }
        case TransferEncoding::QuotedPrintable:
            ok = decode_qp_strict(body, out_);
            break;
        case TransferEncoding::Base64:
            ok = decode_base64_strict(body, out_);
            break;
        case TransferEncoding::Unknown:
            break;
        }
        if (!ok)
            throw BinaryDecodeError(BinaryDecodeError::Kind::InvalidData, "Invalid data in MIME part");
        if (converted) {
            body_converted_ = true;
            converted_parts_[&part].body_size = out_.size() - before;
        }
        copy_start_ = part_end;
    }

    // Sizes of the blocks a part got when its encoding was undone.
    struct ConvertedPart {
        std::optional<uint64_t> header_size;
        uint64_t body_size = 0;
    };

    std::string take() { return std::move(out_); }
    bool body_converted() const { return body_converted_; }
    const std::map<const MessagePart*, ConvertedPart>& converted_parts() const
    {
        return converted_parts_;
    }

private:
    // Raw bytes since the last block, in CRLF form (each block converts on its own).
    void copy_to(size_t end)
    {
        if (end <= copy_start_)
            return;
        CrlfConverter converter;
        converter.convert_into(message_.substr(copy_start_, end - copy_start_), out_);
    }

    // The header without Content-Transfer-Encoding, which is re-added as "binary".
    void append_binary_header(size_t pos)
    {
        while (pos < message_.size()) {
            HeaderLine line = read_header_line(message_, pos);
            if (line.kind == HeaderLine::Kind::EndOfHeader) {
                out_ += "Content-Transfer-Encoding: binary\r\n\r\n";
                return;
            }
            pos = line.end;
            if (strcasecmp(c_string(line.name).c_str(), kCteName) == 0)
                continue;
            size_t start = line.start;
            while (start < line.end) {
                size_t lf = message_.find('\n', start);
                if (lf == std::string_view::npos || lf >= line.end) {
                    out_.append(message_.substr(start, line.end - start));
                    break;
                }
                size_t content_end = lf > start && message_[lf - 1] == '\r' ? lf - 1 : lf;
                out_.append(message_.substr(start, content_end - start));
                out_ += "\r\n";
                start = lf + 1;
            }
        }
    }

    std::string_view message_;
    std::string out_;
    size_t copy_start_ = 0;
    bool body_converted_ = false;
    std::map<const MessagePart*, ConvertedPart> converted_parts_;
};

// The part a BINARY section decodes, or nullptr when it does not exist.
const MessagePart* binary_target(const MessagePart& root, const FetchSection& section)
{
    const MessagePart* part = &root;
    if (!section.part_number.empty()) {
        part = find_part(root, section.part_number);
        if (part == nullptr)
            return nullptr;
        if (section.kind == FetchSection::Kind::Text) {
            if (!part->has(kPartMessageRfc822) || part->children.empty())
                return nullptr;
            part = part->children.front().get();
        }
    }
    return part;
}

bool is_binary_kind(FetchSection::Kind kind)
{
    return kind == FetchSection::Kind::Full || kind == FetchSection::Kind::PartBody ||
           kind == FetchSection::Kind::Text;
}

}  // namespace

BinarySection fetch_binary_section(std::string_view message, const MessagePart& root,
                                   const FetchSection& section)
{
    BinarySection result;
    if (!is_binary_kind(section.kind)) {
        result.data = fetch_section(message, root, section);
        return result;
    }
    const MessagePart* part = binary_target(root, section);
    if (part == nullptr)
        return result;
    bool include_header = section.kind == FetchSection::Kind::Full;
    BinaryBuilder builder(message);
    builder.add_part(*part, include_header);
    result.data = builder.take();
    if (!builder.body_converted()) {
        // Nothing was decoded: Dovecot sends the original bytes instead, cut to the
        // length of what it built (so a dropped Content-Transfer-Encoding line shows).
        size_t start = part->physical_pos + (include_header ? 0 : part->header_size.physical_size);
        CrlfConverter converter;
        std::string original = converter.convert(message.substr(start));
        original.resize(std::min(original.size(), result.data.size()));
        result.data = std::move(original);
    }
    result.literal8 = builder.body_converted() || result.data.find('\0') != std::string::npos;
    return result;
}

std::string fetch_binary(std::string_view message, const MessagePart& root,
                         const FetchSection& section, const Partial& partial)
{
    std::string data = fetch_binary_section(message, root, section).data;
    if (partial.offset >= data.size())
        return std::string();
    return data.substr(partial.offset, partial.size);
}

uint64_t fetch_binary_size(std::string_view message, const MessagePart& root,
                           const FetchSection& section)
{
    if (!is_binary_kind(section.kind))
        return fetch_section(message, root, section).size();
    const MessagePart* part = binary_target(root, section);
    if (part == nullptr)
        return 0;
    // Dovecot decodes the whole message once and derives every part's size from the
    // sizes of the converted blocks, so an error anywhere fails every BINARY.SIZE.
    BinaryBuilder builder(message);
    builder.add_part(root, true);
    uint64_t size = part->header_size.virtual_size + part->body_size.virtual_size;
    uint64_t end = part->physical_pos + size;
    std::optional<uint64_t> part_header_size;
    for (const auto& [converted, sizes] : builder.converted_parts()) {
        if (converted->physical_pos < part->physical_pos || converted->physical_pos >= end)
            continue;
        uint64_t header_size = sizes.header_size.value_or(converted->header_size.virtual_size);
        if (converted->physical_pos == part->physical_pos)
            part_header_size = header_size;
        size -= converted->header_size.virtual_size + converted->body_size.virtual_size;
        size += header_size + sizes.body_size;
    }
    if (section.kind != FetchSection::Kind::Full)
        size -= part_header_size.value_or(part->header_size.virtual_size);
    return size;
}

}  // namespace loft::mail
