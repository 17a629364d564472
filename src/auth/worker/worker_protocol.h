// The messages between loft-auth and loft-auth-worker: one look-up of a blocking passdb
// or userdb (named by its place in dovecot.conf) and its answer, in length-prefixed frames.
#pragma once

#include "auth/auth_request.h"
#include "auth/passdb.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace loft::auth::worker {

class WorkerProtocolError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A frame is a 4-byte big-endian length and that many bytes; no frame is larger.
inline constexpr size_t kMaxWorkerFrame = 256 * 1024;
inline constexpr size_t kMaxWorkerFields = 1024;

enum class WorkerOp : uint8_t { PassdbVerify = 1, PassdbCredentials = 2, UserdbLookup = 3 };

struct WorkerRequest {
    uint64_t id = 0;
    WorkerOp op = WorkerOp::PassdbVerify;
    uint32_t db_index = 0;  // the n-th passdb { } or userdb { } section, from 0
    AuthRequest request;
    std::string secret;     // the password (PassdbVerify) or the scheme (PassdbCredentials)
};

struct WorkerReply {
    uint64_t id = 0;
    int status = 0;  // PassdbStatus or UserdbStatus, by the request's op
    std::string error;
    std::string credentials;
    FieldMap fields;
    bool worker_exits = false;  // the worker ends after this reply (PAM max_requests)
};

// Encode return the whole frame, length prefix included. Decode take the frame's body
// and throw WorkerProtocolError for anything malformed or over the limits.
std::string encode_request(const WorkerRequest& request);
WorkerRequest decode_request(std::string_view body);
std::string encode_reply(const WorkerReply& reply);
WorkerReply decode_reply(std::string_view body);

// The body length a frame header announces; throws when it is over kMaxWorkerFrame.
size_t frame_length(std::string_view header);
inline constexpr size_t kFrameHeader = 4;

// The status of a reply as the passdb/userdb enum, rejecting values out of range.
PassdbStatus passdb_status_of(const WorkerReply& reply);
UserdbStatus userdb_status_of(const WorkerReply& reply);

}  // namespace loft::auth::worker
