// MIME structure of a stored message: the part tree with sizes, line counts and the
// Content-* and envelope data that BODYSTRUCTURE needs, parsed exactly as Dovecot 2.3 does.
#pragma once

#include "mail/address.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::mail {

enum PartFlag : uint32_t {
    kPartMultipart = 0x01,
    kPartMultipartDigest = 0x02,
    kPartMessageRfc822 = 0x04,
    kPartText = 0x08,
    kPartHasNuls = 0x20,
    kPartIsMime = 0x40,
    kPartOverflow = 0x80,  // a nesting or part-count limit stopped parsing inside it
};

struct MessageSize {
    uint64_t physical_size = 0;  // bytes as stored
    uint64_t virtual_size = 0;   // bytes in the CRLF view
    uint64_t lines = 0;
};

struct MimeParam {
    std::string name;
    std::string value;
};

// The ENVELOPE fields, raw (not decoded): strings keep their line breaks; address
// lists of repeated headers are merged. An empty list is written as NIL.
struct Envelope {
    std::optional<std::string> date, subject;
    std::vector<Address> from, sender, reply_to, to, cc, bcc;
    std::optional<std::string> in_reply_to, message_id;
};

struct PartData {
    std::optional<std::string> content_type, content_subtype;
    std::vector<MimeParam> content_type_params;
    std::optional<std::string> content_transfer_encoding;
    std::optional<std::string> content_id, content_description;
    std::optional<std::string> content_disposition;
    std::vector<MimeParam> content_disposition_params;
    std::optional<std::string> content_md5;
    std::optional<std::vector<std::string>> content_language;
    std::optional<std::string> content_location;
    // Only for the child of a message/rfc822 part (and the root, see parse_envelope).
    std::unique_ptr<Envelope> envelope;
};

struct MessagePart {
    MessagePart* parent = nullptr;
    uint64_t physical_pos = 0;
    MessageSize header_size;
    MessageSize body_size;  // for multiparts and message/rfc822 this includes the children
    uint32_t flags = 0;
    PartData data;
    std::vector<std::unique_ptr<MessagePart>> children;

    bool has(PartFlag flag) const { return (flags & flag) != 0; }
};

struct MimeLimits {
    unsigned int max_nested_parts = 100;  // Dovecot's defaults, so output matches
    unsigned int max_total_parts = 10000;
    size_t max_addresses_per_header = 10000;
    // Content-* and envelope fields kept per part for BODYSTRUCTURE/ENVELOPE; later ones
    // are ignored once this many bytes are held (far beyond real mail).
    size_t max_kept_header_bytes = 8 * 1024 * 1024;
};

// Parses the whole stored message. Never fails on bad MIME (that is the point of the
// Dovecot rules); limits stop the descent instead of failing.
std::unique_ptr<MessagePart> parse_mime(std::string_view message,
                                        const MimeLimits& limits = MimeLimits());

// ENVELOPE data of the top-level header only.
Envelope parse_envelope(std::string_view message, const MimeLimits& limits = MimeLimits());

}  // namespace loft::mail
