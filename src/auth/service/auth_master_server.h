// Dovecot's auth-userdb (and auth-master) sockets in loft-auth: USER, PASS and LIST
// requests answered from the userdb and passdb chains, for dovecot-lda, doveadm
// -o auth_socket_path=..., Postfix/Exim lookups and other local tools.
#pragma once

#include "auth/auth_master_protocol.h"
#include "auth/service/authenticator.h"
#include "lib/acceptor.h"
#include "lib/log.h"
#include "lib/stream.h"
#include "lib/task.h"

#include <sys/types.h>

#include <event2/event.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace loft::auth::service {

class AuthMasterServer {
public:
    AuthMasterServer(event_base* base, Authenticator& authenticator, const Logger& log);
    AuthMasterServer(const AuthMasterServer&) = delete;
    AuthMasterServer& operator=(const AuthMasterServer&) = delete;

    // Starts accepting on an inherited listening socket bound at path (the fd stays
    // loftd's to close). As in Dovecot, a socket with mode 0666 serves peers other than
    // its owner (uid or gid) only USER look-ups whose uid is the peer's own.
    void listen(int listen_fd, const std::string& path, AuthMasterSocket kind);

private:
    struct SocketInfo {
        std::string path;
        AuthMasterSocket kind;
        bool world_access = false;  // mode exactly 0666
        uid_t owner = 0;
        gid_t group = 0;
    };
    void serve(UniqueFd connection, const SocketInfo& socket);
    Task<void> run_connection(std::shared_ptr<AsyncStream> stream, SocketInfo socket, std::optional<uid_t> restricted);
    // Each returns false when the connection must be closed (a client bug, as Dovecot).
    Task<bool> handle_user(std::shared_ptr<AsyncStream> stream, AuthMasterLine line, SocketInfo socket,
                           std::optional<uid_t> restricted);
    Task<bool> handle_pass(std::shared_ptr<AsyncStream> stream, AuthMasterLine line, SocketInfo socket,
                           std::optional<uid_t> restricted);
    Task<void> handle_list(std::shared_ptr<AsyncStream> stream, const AuthMasterLine& line, const SocketInfo& socket,
                           std::optional<uid_t> restricted);

    event_base* base_;
    Authenticator& authenticator_;
    const Logger& log_;
    std::vector<std::unique_ptr<Acceptor>> acceptors_;
    std::vector<std::unique_ptr<SocketInfo>> sockets_;
    unsigned open_connections_ = 0;
};

}  // namespace loft::auth::service
