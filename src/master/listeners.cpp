#include "master/listeners.h"

#include "lib/privilege.h"
#include "lib/strings.h"
#include "lib/system_error.h"

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace loft::master {

namespace {

UniqueFd bind_inet(const std::string& address, uint16_t port, std::string& description)
{
    sockaddr_storage storage{};
    socklen_t length;
    int family;
    std::string host = address == "*" ? "0.0.0.0" : address;
    if (host == "::" || host == "[::]")
        host = "::";
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        family = AF_INET;
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        length = sizeof(sockaddr_in);
        description = host + ":" + std::to_string(port);
    } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        family = AF_INET6;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        length = sizeof(sockaddr_in6);
        description = "[" + host + "]:" + std::to_string(port);
    } else {
        throw std::runtime_error("invalid listen address '" + address + "' (host names are not supported)");
    }
    UniqueFd fd(socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd)
        throw_errno("socket for " + description);
    int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (family == AF_INET6)
        setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0)
        throw_errno("bind(" + description + ")");
    if (listen(fd.get(), 128) != 0)
        throw_errno("listen(" + description + ")");
    return fd;
}

UniqueFd bind_unix(const std::string& path, mode_t mode, const std::string& user, const std::string& group)
{
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof(address.sun_path))
        throw std::runtime_error("socket path too long: " + path);
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd)
        throw_errno("socket for " + path);
    unlink(path.c_str());  // a stale socket from an earlier run
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
        throw_errno("bind(" + path + ")");
    if (chmod(path.c_str(), mode) != 0)
        throw_errno("chmod " + path);
    if (running_as_root() && (!user.empty() || !group.empty())) {
        uid_t uid = static_cast<uid_t>(-1);
        gid_t gid = static_cast<gid_t>(-1);
        if (!user.empty()) {
            auto identity = lookup_user(user);
            if (!identity)
                throw std::runtime_error("unix_listener " + path + ": unknown user " + user);
            uid = identity->uid;
        }
        if (!group.empty()) {
            struct group* entry = getgrnam(group.c_str());
            if (!entry)
                throw std::runtime_error("unix_listener " + path + ": unknown group " + group);
            gid = entry->gr_gid;
        }
        if (chown(path.c_str(), uid, gid) != 0)
            throw_errno("chown " + path);
    }
    if (listen(fd.get(), 128) != 0)
        throw_errno("listen(" + path + ")");
    return fd;
}

}  // namespace

bool is_auth_client_socket(const std::string& path)
{
    std::string name = path.substr(path.rfind('/') + 1);
    std::string suffix = name.substr(name.rfind('-') + 1);
    for (const char* other : {"login", "master", "userdb", "token", "tokenlogin"}) {
        if (suffix == other)
            return false;
    }
    return true;
}

std::vector<Listener> bind_listeners(const config::Section& service, const std::string& listen,
                                     const std::string& base_dir, const Logger& log,
                                     const std::function<bool(const std::string&)>& want_unix)
{
    std::vector<Listener> bound;
    for (const config::Section* inet : service.sections("inet_listener")) {
        auto port = parse_uint(inet->get_or("port", "0"));
        if (!port || *port > 65535)
            throw std::runtime_error(inet->location().file + ":" + std::to_string(inet->location().line) +
                                     ": invalid port for inet_listener " + inet->name());
        if (*port == 0)
            continue;
        std::string addresses = inet->get_or("address", "");
        if (addresses.empty())
            addresses = listen;
        for (std::string address : split(addresses, ',')) {
            address = std::string(trim(address));
            if (address.empty())
                continue;
            Listener listener;
            listener.name = inet->name();
            listener.ssl = inet->get_or("ssl", "no") == "yes";
            try {
                listener.fd = bind_inet(address, static_cast<uint16_t>(*port), listener.description);
            } catch (const std::system_error& error) {
                // Dovecot's default "*, ::" must not fail on a host without IPv6.
                if (address == "::" && error.code().value() == EAFNOSUPPORT) {
                    log.warning("IPv6 not available, not listening on [::]:" + std::to_string(*port));
                    continue;
                }
                throw;
            }
            bound.push_back(std::move(listener));
        }
    }
    for (const config::Section* local : service.sections("unix_listener")) {
        std::string path = local->get_or("path", local->name());
        if (path.empty())
            continue;
        if (path[0] != '/')
            path = base_dir + "/" + path;
        if (want_unix && !want_unix(path))
            continue;
        auto mode = std::stoul(local->get_or("mode", "0600"), nullptr, 8);
        Listener listener;
        listener.name = local->name();
        listener.description = path;
        listener.fd = bind_unix(path, static_cast<mode_t>(mode), local->get_or("user", ""), local->get_or("group", ""));
        bound.push_back(std::move(listener));
    }
    return bound;
}

}  // namespace loft::master
