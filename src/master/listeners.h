// Binding the sockets a service's config asks for (inet_listener, unix_listener), in
// loftd, before any child exists, so workers never need the privilege to bind.
#pragma once

#include "config/config.h"
#include "lib/log.h"
#include "lib/unique_fd.h"

#include <functional>
#include <string>
#include <vector>

namespace loft::master {

struct Listener {
    std::string name;         // inet_listener/unix_listener name, e.g. "imap", "imaps", "lmtp"
    std::string description;  // "127.0.0.1:10143" or a socket path
    bool ssl = false;
    UniqueFd fd;
};

// Binds every listener of one service section. Listeners with port 0 or an empty
// path are disabled, as in Dovecot. Throws with the address on a bind failure.
// want_unix, when given, picks the unix_listeners to bind by their full path.
std::vector<Listener> bind_listeners(const config::Section& service, const std::string& listen,
                                     const std::string& base_dir, const Logger& log,
                                     const std::function<bool(const std::string&)>& want_unix = nullptr);

// Whether a service auth unix_listener speaks the auth-client protocol (Postfix's SASL),
// decided by its path as Dovecot does: names ending in -login, -master, -userdb, -token or
// -tokenlogin serve other protocols, anything else (auth-client, private/auth) is a client socket.
bool is_auth_client_socket(const std::string& path);

}  // namespace loft::master
