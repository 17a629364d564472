// Dovecot's auth-client socket in loft-auth, for SASL clients such as Postfix
// (smtpd_sasl_type = dovecot): the handshake, then AUTH/CONT requests run through the
// SASL mechanisms and the passdbs. Passdb-only: no grants, no userdb.
#pragma once

#include "auth/service/authenticator.h"
#include "lib/acceptor.h"
#include "lib/log.h"
#include "lib/stream.h"
#include "lib/task.h"

#include <event2/event.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace loft::auth::service {

struct AuthClientSettings {
    std::vector<std::string> mechanisms;  // auth_mechanisms, upper case
    bool disable_plaintext_auth = true;
    std::chrono::milliseconds failure_delay{2000};
    std::string hostname = "localhost";  // for CRAM-MD5/DIGEST-MD5 challenges
    std::vector<std::string> realms;
};

class AuthClientServer {
public:
    AuthClientServer(event_base* base, Authenticator& authenticator, AuthClientSettings settings, const Logger& log);
    AuthClientServer(const AuthClientServer&) = delete;
    AuthClientServer& operator=(const AuthClientServer&) = delete;

    // Starts accepting on an inherited listening socket (the fd stays loftd's to close).
    void listen(int listen_fd);
    // Serves one already accepted connection until it closes.
    void serve(UniqueFd connection);

private:
    Task<void> run_connection(std::shared_ptr<AsyncStream> stream, unsigned connection_id);

    event_base* base_;
    Authenticator& authenticator_;
    AuthClientSettings settings_;
    const Logger& log_;
    std::vector<std::unique_ptr<Acceptor>> acceptors_;
    unsigned next_connection_id_ = 1;
    unsigned open_connections_ = 0;
};

}  // namespace loft::auth::service
