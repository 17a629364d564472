#include "mail/message_cache.h"

#include "mail/imap_structure.h"
#include "mail/message.h"

namespace loft::mail {

namespace {

constexpr std::string_view kMagic = "LFTM1";
// A record never holds more parts or depth than the parser allows; anything bigger is corrupt.
constexpr unsigned int kMaxParts = 100000;
constexpr unsigned int kMaxDepth = 1000;

void put_varint(std::string& out, uint64_t value)
{
    while (value >= 0x80) {
        out.push_back(static_cast<char>((value & 0x7F) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}

void put_string(std::string& out, std::string_view text)
{
    put_varint(out, text.size());
    out.append(text);
}

void put_size(std::string& out, const MessageSize& size)
{
    put_varint(out, size.physical_size);
    put_varint(out, size.virtual_size);
    put_varint(out, size.lines);
}

void put_part(std::string& out, const MessagePart& part)
{
    put_varint(out, part.physical_pos);
    put_varint(out, part.flags);
    put_size(out, part.header_size);
    put_size(out, part.body_size);
    put_varint(out, part.children.size());
    for (const auto& child : part.children)
        put_part(out, *child);
}

class Reader {
public:
    explicit Reader(std::string_view data) : data_(data) {}

    uint64_t varint()
    {
        uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos_ >= data_.size())
                throw CacheRecordError("message cache record is truncated");
            auto byte = static_cast<unsigned char>(data_[pos_++]);
            value |= static_cast<uint64_t>(byte & 0x7F) << shift;
            if ((byte & 0x80) == 0)
                return value;
        }
        throw CacheRecordError("message cache record has an overlong number");
    }

    std::string string()
    {
        uint64_t size = varint();
        if (size > data_.size() - pos_)
            throw CacheRecordError("message cache record string runs past the end");
        std::string text(data_.substr(pos_, size));
        pos_ += size;
        return text;
    }

    std::string_view bytes(size_t size)
    {
        if (size > data_.size() - pos_)
            throw CacheRecordError("message cache record is truncated");
        std::string_view text = data_.substr(pos_, size);
        pos_ += size;
        return text;
    }

    MessageSize size()
    {
        MessageSize size;
        size.physical_size = varint();
        size.virtual_size = varint();
        size.lines = varint();
        return size;
    }

    std::unique_ptr<MessagePart> part(MessagePart* parent, unsigned int depth)
    {
        if (depth > kMaxDepth)
            throw CacheRecordError("message cache record nests too deeply");
        if (++parts_ > kMaxParts)
            throw CacheRecordError("message cache record has too many parts");
        auto part = std::make_unique<MessagePart>();
        part->parent = parent;
        part->physical_pos = varint();
        part->flags = static_cast<uint32_t>(varint());
        part->header_size = size();
        part->body_size = size();
        uint64_t children = varint();
        if (children > kMaxParts)
            throw CacheRecordError("message cache record has too many parts");
        for (uint64_t i = 0; i < children; i++)
            part->children.push_back(this->part(part.get(), depth + 1));
        return part;
    }

    bool at_end() const { return pos_ == data_.size(); }

private:
    std::string_view data_;
    size_t pos_ = 0;
    unsigned int parts_ = 0;
};

}  // namespace

MessageCacheRecord build_cache_record(std::string_view message, const MimeLimits& limits)
{
    MessageCacheRecord record;
    record.parts = parse_mime(message, limits);
    record.rfc822_size = crlf_size(message);
    record.envelope = imap_envelope(parse_envelope(message, limits));
    record.body = imap_bodystructure(*record.parts, false);
    record.bodystructure = imap_bodystructure(*record.parts, true);
    return record;
}

std::string serialize_cache_record(const MessageCacheRecord& record)
{
    std::string out(kMagic);
    put_varint(out, record.rfc822_size);
    put_string(out, record.envelope);
    put_string(out, record.body);
    put_string(out, record.bodystructure);
    if (record.parts)
        put_part(out, *record.parts);
    return out;
}

MessageCacheRecord deserialize_cache_record(std::string_view data)
{
    Reader reader(data);
    if (reader.bytes(kMagic.size()) != kMagic)
        throw CacheRecordError("not a message cache record of this version");
    MessageCacheRecord record;
    record.rfc822_size = reader.varint();
    record.envelope = reader.string();
    record.body = reader.string();
    record.bodystructure = reader.string();
    record.parts = reader.part(nullptr, 0);
    if (!reader.at_end())
        throw CacheRecordError("message cache record has trailing bytes");
    return record;
}

}  // namespace loft::mail
