// The state of one loft-storage process: the users it may serve, their sessions
// (each opened with a grant signed by loft-auth), and the Thrift handler per connection.
#pragma once

#include "auth/session_grant.h"
#include "config/config.h"
#include "mail/binary.h"
#include "mail/mime_parser.h"
#include "lib/event_loop.h"
#include "lib/log.h"
#include "rpc/gen-cpp/Storage.h"
#include "rpc/server.h"
#include "storage/daemon/user_storage.h"

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace loft::storage::daemon {

struct DaemonIdentity {
    std::optional<std::string> user;  // per-user daemon: serves only this user
    std::optional<uid_t> uid;         // serves only grants for this uid
};

// Input limits for what one connection may hold open.
inline constexpr size_t kMaxSessionsPerConnection = 256;
inline constexpr size_t kMaxViewsPerSession = 64;
inline constexpr size_t kMaxAppendsPerSession = 64;  // MULTIAPPEND holds one per message
inline constexpr int32_t kMaxWaitMs = 30 * 60 * 1000;
inline constexpr uint64_t kMaxCachedMessage = 64ull * 1024 * 1024;

class StorageDaemon {
public:
    StorageDaemon(event_base* base, const Logger& log, const config::Config& config, std::string secret,
                  DaemonIdentity identity);

    std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor_for(rpc::FrameServer::ConnectionId connection);
    void connection_closed(rpc::FrameServer::ConnectionId connection);
    size_t session_count() const { return sessions_.size(); }

    struct Append {
        std::string mailbox;
        std::shared_ptr<OpenMailbox> target;
        std::optional<Mailbox::Append> writer;
    };
    struct PendingWait {
        std::unique_ptr<Timer> deadline;
        std::unique_ptr<Timer> poll;
        std::function<void(ViewDelta)> answer;  // replies with these changes
    };
    // The last message a session read, parsed, so fetching its sections in chunks
    // (or several sections of it) reads and parses it once.
    struct CachedMessage {
        int64_t view = 0;
        uint32_t uid = 0;
        std::string bytes;
        std::unique_ptr<mail::MessagePart> root;
        // The last BINARY[section] decoded from it, so its chunks decode once.
        std::optional<std::string> binary_section;
        mail::BinarySection binary;
    };
    struct Session {
        rpc::FrameServer::ConnectionId connection = 0;
        auth::SessionGrant grant;
        UserStorage* user = nullptr;
        int64_t next_id = 1;
        std::map<int64_t, std::unique_ptr<View>> views;
        std::map<int64_t, std::unique_ptr<PendingWait>> waits;
        std::map<int64_t, Append> appends;
        CachedMessage cache;
    };

    // Opens a session for a verified grant; throws rpc::StorageError.
    int64_t open_session(rpc::FrameServer::ConnectionId connection, const std::string& token);
    void close_session(rpc::FrameServer::ConnectionId connection, int64_t session);
    // The session, if it belongs to this connection and may do what scope says.
    Session& session(rpc::FrameServer::ConnectionId connection, int64_t id, bool needs_mailbox_access = true);
    View& view(Session& session, int64_t view);
    event_base* base() const { return base_; }
    const config::Settings& settings() const { return settings_; }
    const Logger& log() const { return log_; }

private:
    UserStorage& user_storage(const auth::SessionGrant& grant);
    char hierarchy_separator(const std::string& location) const;
    std::optional<QuotaLimits> quota_limits() const;

    event_base* base_;
    Logger log_;
    config::Settings settings_;
    std::string secret_;
    DaemonIdentity identity_;
    std::map<std::string, std::unique_ptr<UserStorage>> users_;
    std::map<int64_t, Session> sessions_;
    int64_t next_session_ = 1;
};

}  // namespace loft::storage::daemon
