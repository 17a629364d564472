// Binding the sockets a service's config asks for (inet_listener, unix_listener), in
// loftd, before any child exists, so workers never need the privilege to bind.
#pragma once

#include "config/config.h"
#include "lib/log.h"
#include "lib/unique_fd.h"

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
std::vector<Listener> bind_listeners(const config::Section& service, const std::string& listen,
                                     const std::string& base_dir, const Logger& log);

}  // namespace loft::master
