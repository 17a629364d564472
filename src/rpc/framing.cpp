#include "rpc/framing.h"

#include <arpa/inet.h>

#include <cstring>

namespace loft::rpc {

std::optional<std::string> take_frame(evbuffer* input)
{
    if (evbuffer_get_length(input) < 4)
        return std::nullopt;
    uint32_t length_be;
    evbuffer_copyout(input, &length_be, 4);
    uint32_t length = ntohl(length_be);
    if (length == 0 || length > kMaxFrameSize)
        throw FrameError("RPC frame of " + std::to_string(length) + " bytes rejected");
    if (evbuffer_get_length(input) < 4 + static_cast<size_t>(length))
        return std::nullopt;
    evbuffer_drain(input, 4);
    std::string frame(length, '\0');
    evbuffer_remove(input, frame.data(), length);
    return frame;
}

void append_frame(evbuffer* output, const uint8_t* data, uint32_t size)
{
    uint32_t length_be = htonl(size);
    evbuffer_add(output, &length_be, 4);
    evbuffer_add(output, data, size);
}

namespace {
// Strict binary protocol: version|type (4), name length (4), name, seqid (4).
std::optional<size_t> seqid_offset(const uint8_t* message, size_t size)
{
    if (size < 12)
        return std::nullopt;
    uint32_t version;
    std::memcpy(&version, message, 4);
    if ((ntohl(version) & 0xffff0000u) != 0x80010000u)
        return std::nullopt;
    uint32_t name_length_be;
    std::memcpy(&name_length_be, message + 4, 4);
    size_t name_length = ntohl(name_length_be);
    if (name_length > size || 8 + name_length + 4 > size)
        return std::nullopt;
    return 8 + name_length;
}
}  // namespace

std::optional<int32_t> read_seqid(const uint8_t* message, size_t size)
{
    auto offset = seqid_offset(message, size);
    if (!offset)
        return std::nullopt;
    uint32_t seqid_be;
    std::memcpy(&seqid_be, message + *offset, 4);
    return static_cast<int32_t>(ntohl(seqid_be));
}

bool write_seqid(uint8_t* message, size_t size, int32_t seqid)
{
    auto offset = seqid_offset(message, size);
    if (!offset)
        return false;
    uint32_t seqid_be = htonl(static_cast<uint32_t>(seqid));
    std::memcpy(message + *offset, &seqid_be, 4);
    return true;
}

}  // namespace loft::rpc
