// Thrift framed transport on a libevent buffer: 4-byte big-endian length + message,
// with a hard size limit, and access to the call's seqid in the binary protocol.
#pragma once

#include <event2/buffer.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace loft::rpc {

// Deliberate limits: message bodies travel in chunks of kChunkSize, so no frame
// ever needs to be near the cap; anything larger is a broken or hostile peer.
inline constexpr uint32_t kMaxFrameSize = 4u * 1024 * 1024;
inline constexpr uint32_t kChunkSize = 256u * 1024;

class FrameError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Removes one complete frame from input, if there is one. Throws FrameError on an
// oversized or empty frame.
std::optional<std::string> take_frame(evbuffer* input);
void append_frame(evbuffer* output, const uint8_t* data, uint32_t size);

// The seqid of a strict binary-protocol message header, or nullopt if the header is
// malformed. set_seqid rewrites it in place.
std::optional<int32_t> read_seqid(const uint8_t* message, size_t size);
bool write_seqid(uint8_t* message, size_t size, int32_t seqid);

}  // namespace loft::rpc
