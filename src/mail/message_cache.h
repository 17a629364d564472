// A compact, versioned record of everything FETCH needs from a parsed message (the IMAP
// strings and the part geometry), so a storage cache can answer repeat FETCHes without
// parsing the message again. Sections and BINARY still read the message bytes.
#pragma once

#include "mail/mime_parser.h"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace loft::mail {

class CacheRecordError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct MessageCacheRecord {
    uint64_t rfc822_size = 0;
    std::string envelope;
    std::string body;
    std::string bodystructure;
    // Geometry and flags only; PartData is not kept (the strings above carry it).
    std::unique_ptr<MessagePart> parts;
};

// Parses the message once and fills every field.
MessageCacheRecord build_cache_record(std::string_view message, const MimeLimits& limits = MimeLimits());

std::string serialize_cache_record(const MessageCacheRecord& record);
// Throws CacheRecordError on a truncated, corrupt or foreign record (callers re-parse).
MessageCacheRecord deserialize_cache_record(std::string_view data);

}  // namespace loft::mail
