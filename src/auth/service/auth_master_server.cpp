#include "auth/service/auth_master_server.h"

#include "auth/username.h"
#include "lib/privilege.h"
#include "lib/strings.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace loft::auth::service {

namespace {

constexpr unsigned kMaxConnections = 1000;
constexpr auto kIdleTimeout = std::chrono::seconds(60 * 10);
constexpr size_t kListFlushBytes = 64u << 10;

std::optional<uid_t> peer_uid_gid(int fd, gid_t& gid)
{
    ucred credentials{};
    socklen_t size = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0)
        return std::nullopt;
    gid = credentials.gid;
    return credentials.uid;
}

// Dovecot answers with numeric uid/gid even when the userdb names a user or group.
void numeric_ids(FieldMap& fields)
{
    if (auto uid = fields.find("uid"); uid != fields.end() && !parse_uint(uid->second)) {
        if (auto identity = lookup_user(uid->second))
            uid->second = std::to_string(identity->uid);
    }
    if (auto gid = fields.find("gid"); gid != fields.end() && !parse_uint(gid->second)) {
        if (struct group* entry = getgrnam(gid->second.c_str()))
            gid->second = std::to_string(entry->gr_gid);
    }
}

const char* socket_name(AuthMasterSocket kind) { return kind == AuthMasterSocket::Userdb ? "userdb" : "master"; }

}  // namespace

AuthMasterServer::AuthMasterServer(event_base* base, Authenticator& authenticator, const Logger& log)
    : base_(base), authenticator_(authenticator), log_(log)
{
}

void AuthMasterServer::listen(int listen_fd, const std::string& path, AuthMasterSocket kind)
{
    auto socket = std::make_unique<SocketInfo>();
    socket->path = path;
    socket->kind = kind;
    struct stat info;
    if (stat(path.c_str(), &info) == 0) {
        socket->world_access = (info.st_mode & 0777) == 0666;
        socket->owner = info.st_uid;
        socket->group = info.st_gid;
    } else {
        // Cannot tell who may connect: restrict like a 0666 socket owned by nobody we know.
        log_.warning("auth " + std::string(socket_name(kind)) + " socket " + path + ": stat failed, restricting it");
        socket->world_access = true;
        socket->owner = static_cast<uid_t>(-1);
        socket->group = static_cast<gid_t>(-1);
    }
    const SocketInfo* info_ptr = socket.get();
    sockets_.push_back(std::move(socket));
    acceptors_.push_back(std::make_unique<Acceptor>(
        base_, listen_fd, [this, info_ptr](UniqueFd fd) { serve(std::move(fd), *info_ptr); }));
}

void AuthMasterServer::serve(UniqueFd connection, const SocketInfo& socket)
{
    if (open_connections_ >= kMaxConnections) {
        log_.warning("auth-" + std::string(socket_name(socket.kind)) + ": too many connections, refusing one");
        return;
    }
    std::optional<uid_t> restricted;
    if (socket.world_access) {
        gid_t peer_gid = 0;
        auto peer_uid = peer_uid_gid(connection.get(), peer_gid);
        if (!peer_uid) {
            log_.error("userdb connection: Failed to get peer's credentials");
            return;
        }
        if (*peer_uid != socket.owner && peer_gid != socket.group)
            restricted = *peer_uid;
    }
    auto stream = std::make_shared<AsyncStream>(base_, std::move(connection));
    stream->set_idle_timeout(kIdleTimeout);
    ++open_connections_;
    spawn(run_connection(stream, socket, restricted), [this](std::exception_ptr error) {
        --open_connections_;
        if (!error)
            return;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& failure) {
            log_.error(std::string("auth-master connection: ") + failure.what());
        }
    });
}

Task<void> AuthMasterServer::run_connection(std::shared_ptr<AsyncStream> stream, SocketInfo socket,
                                            std::optional<uid_t> restricted)
{
    stream->write(format_master_handshake(static_cast<uint64_t>(getpid())));
    bool version_seen = false;
    while (!stream->closed()) {
        auto line = co_await stream->read_line(max_auth_master_line);
        if (line.status == AsyncStream::LineStatus::Closed)
            break;
        if (line.status == AsyncStream::LineStatus::TooLong) {
            log_.error("BUG: Master sent us more than " + std::to_string(max_auth_master_line) + " bytes");
            break;
        }
        std::string error;
        auto parsed = parse_auth_master_line(line.text, error);
        if (!version_seen) {
            if (!parsed || parsed->kind != AuthMasterLine::Kind::Version || parsed->major != auth_master_major) {
                log_.error("Master not compatible with this server (mixed old and new binaries?)");
                break;
            }
            version_seen = true;
            continue;
        }
        if (!parsed) {
            log_.error("BUG: " + error);
            break;
        }
        bool keep = true;
        switch (parsed->kind) {
        case AuthMasterLine::Kind::User:
            keep = co_await handle_user(stream, *parsed, socket, restricted);
            break;
        case AuthMasterLine::Kind::Pass:
            keep = co_await handle_pass(stream, *parsed, socket, restricted);
            break;
        case AuthMasterLine::Kind::List:
            co_await handle_list(stream, *parsed, socket, restricted);
            break;
        case AuthMasterLine::Kind::CacheFlush:
            if (socket.kind == AuthMasterSocket::Master) {
                size_t flushed = authenticator_.flush_cache();
                stream->write("OK\t" + std::to_string(parsed->id) + "\t" + std::to_string(flushed) + "\n");
                break;
            }
            [[fallthrough]];
        default:
            log_.error("BUG: Unknown command in " + std::string(socket_name(socket.kind)) +
                       " socket: " + parsed->command.substr(0, 80));
            keep = false;
        }
        if (!keep)
            break;
    }
    co_await stream->drain();
    stream->close();
}

Task<bool> AuthMasterServer::handle_user(std::shared_ptr<AsyncStream> stream, AuthMasterLine line,
                                         SocketInfo socket, std::optional<uid_t> restricted)
{
    AuthRequest request = auth_request_from(line);
    if (request.service.empty()) {
        log_.error("BUG: Master sent USER request without service");
        co_return false;
    }
    std::string error;
    auto name = normalize_username(line.user, authenticator_.username_settings(), error);
    if (!name) {
        log_.info("userdb(" + line.user + "): " + error);
        stream->write(format_master_notfound(line.id));
        co_return true;
    }
    request.user = *name;
    UserdbChainResult result;
    try {
        result = co_await authenticator_.userdbs().lookup_async(request);
    } catch (const std::exception& failure) {
        result.status = UserdbStatus::InternalFailure;
        result.errors.push_back(failure.what());
    }
    if (result.status == UserdbStatus::UserUnknown) {
        stream->write(format_master_notfound(line.id));
        co_return true;
    }
    if (result.status != UserdbStatus::Ok) {
        log_.error("userdb(" + *name + "): " + (result.errors.empty() ? std::string("lookup failed") : result.errors.back()));
        stream->write(format_master_fail(line.id));
        co_return true;
    }
    FieldMap fields = std::move(result.fields);
    std::string user = *name;
    if (auto renamed = fields.find("user"); renamed != fields.end()) {
        user = renamed->second;
        fields.erase(renamed);
    }
    numeric_ids(fields);
    if (restricted) {
        auto uid = fields.find("uid");
        std::string reason;
        if (uid == fields.end())
            reason = "userdb reply doesn't contain uid";
        else if (uid->second != std::to_string(*restricted))
            reason = "userdb uid (" + uid->second + ") doesn't match peer uid (" + std::to_string(*restricted) + ")";
        if (!reason.empty()) {
            log_.error("userdb(" + user + "): client doesn't have lookup permissions for this user: " + reason +
                       " (to bypass this check, set: service auth { unix_listener " + socket.path +
                       " { mode=0777 } })");
            stream->write(format_master_fail(line.id));
            co_return true;
        }
    }
    stream->write(format_master_user(line.id, user, fields));
    co_return true;
}

Task<bool> AuthMasterServer::handle_pass(std::shared_ptr<AsyncStream> stream, AuthMasterLine line,
                                         SocketInfo socket, std::optional<uid_t> restricted)
{
    AuthRequest request = auth_request_from(line);
    if (request.service.empty()) {
        log_.error("BUG: Master sent PASS request without service");
        co_return false;
    }
    std::string error;
    auto name = normalize_username(line.user, authenticator_.username_settings(), error);
    if (!name) {
        log_.info("passdb(" + line.user + "): " + error);
        stream->write(format_master_notfound(line.id));
        co_return true;
    }
    if (restricted) {
        log_.error("passdb(" + *name + "): Auth client doesn't have permissions to do a PASS lookup: " + socket.path +
                   " mode=0666, but not owned by UID " + std::to_string(*restricted));
        stream->write(format_master_fail(line.id));
        co_return true;
    }
    request.user = *name;
    PassdbChainResult result;
    try {
        std::string exists_only;
        result = co_await authenticator_.passdbs().lookup_credentials_async(request, exists_only);
    } catch (const std::exception& failure) {
        result.status = PassdbStatus::InternalFailure;
        log_.error("passdb(" + *name + "): " + failure.what());
    }
    switch (result.status) {
    case PassdbStatus::Ok: {
        std::string user = *name;
        FieldMap fields;
        for (const auto& [key, value] : result.fields) {
            if (key == "user")
                user = value;
            else if (!key.starts_with("userdb_"))  // those belong to the userdb reply
                fields[key] = value;
        }
        stream->write(format_master_pass(line.id, user, fields));
        break;
    }
    case PassdbStatus::UserUnknown:
    case PassdbStatus::UserDisabled:
        stream->write(format_master_notfound(line.id));
        break;
    case PassdbStatus::SchemeNotAvailable:
        stream->write(format_master_fail(line.id, "Configured passdbs don't support credentials lookups"));
        break;
    default:
        stream->write(format_master_fail(line.id));
    }
    co_return true;
}

Task<void> AuthMasterServer::handle_list(std::shared_ptr<AsyncStream> stream, const AuthMasterLine& line,
                                         const SocketInfo& socket, std::optional<uid_t> restricted)
{
    if (restricted) {
        log_.error("Auth client doesn't have permissions to list users: " + socket.path +
                   " mode=0666, but not owned by UID " + std::to_string(*restricted));
        stream->write(format_master_done(line.id, true));
        co_return;
    }
    AuthRequest request = auth_request_from(line);
    std::vector<std::string> users;
    std::string error;
    UserdbChain::IterateStatus status;
    try {
        status = authenticator_.userdbs().iterate(
            request, [&](const std::string& user) { users.push_back(user); }, error);
    } catch (const std::exception& failure) {
        status = UserdbChain::IterateStatus::Failed;
        error = failure.what();
    }
    if (status != UserdbChain::IterateStatus::Done)
        log_.error(error);
    for (const std::string& user : users) {
        stream->write(format_master_list(line.id, user));
        if (stream->output_pending() >= kListFlushBytes)
            co_await stream->drain();
        if (stream->closed())
            co_return;
    }
    stream->write(format_master_done(line.id, status != UserdbChain::IterateStatus::Done));
}

}  // namespace loft::auth::service
