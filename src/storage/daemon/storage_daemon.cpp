#include "storage/daemon/storage_daemon.h"

#include "config/var_expand.h"
#include "lib/strings.h"
#include "storage/daemon/storage_handler.h"
#include "storage/daemon/store_factory.h"
#include "storage/maildir/store.h"
#include "storage/storage_error.h"

#include <unistd.h>

namespace loft::storage::daemon {

namespace {
rpc::StorageError rpc_error(rpc::ErrorKind::type kind, const std::string& message)
{
    rpc::StorageError error;
    error.kind = kind;
    error.message = message;
    return error;
}

std::string domain_of(const std::string& user)
{
    auto at = user.find('@');
    return at == std::string::npos ? "" : user.substr(at + 1);
}
}  // namespace

StorageDaemon::StorageDaemon(event_base* base, const Logger& log, const config::Config& config, std::string secret,
                             DaemonIdentity identity)
    : base_(base), log_(log), settings_(config.resolve({})), secret_(std::move(secret)), identity_(std::move(identity))
{
}

std::shared_ptr<apache::thrift::async::TAsyncProcessor> StorageDaemon::processor_for(
    rpc::FrameServer::ConnectionId connection)
{
    return std::make_shared<rpc::StorageAsyncProcessor>(std::make_shared<StorageHandler>(*this, connection));
}

void StorageDaemon::connection_closed(rpc::FrameServer::ConnectionId connection)
{
    std::erase_if(sessions_, [&](const auto& entry) { return entry.second.connection == connection; });
}

int64_t StorageDaemon::open_session(rpc::FrameServer::ConnectionId connection, const std::string& token)
{
    auto grant = auth::verify_grant(token, secret_, time(nullptr));
    if (!grant)
        throw rpc_error(rpc::ErrorKind::DENIED, "invalid or expired grant");
    if (identity_.user && grant->user != *identity_.user)
        throw rpc_error(rpc::ErrorKind::DENIED, "this storage daemon does not serve " + grant->user);
    if (identity_.uid && grant->uid != *identity_.uid)
        throw rpc_error(rpc::ErrorKind::DENIED, "this storage daemon does not serve uid " + std::to_string(grant->uid));
    size_t on_connection = 0;
    for (const auto& [id, session] : sessions_)
        on_connection += session.connection == connection;
    if (on_connection >= kMaxSessionsPerConnection)
        throw rpc_error(rpc::ErrorKind::LIMIT, "too many sessions on one connection");
    Session session;
    session.connection = connection;
    session.user = &user_storage(*grant);
    session.grant = std::move(*grant);
    int64_t id = next_session_++;
    sessions_.emplace(id, std::move(session));
    return id;
}

void StorageDaemon::close_session(rpc::FrameServer::ConnectionId connection, int64_t id)
{
    auto found = sessions_.find(id);
    if (found != sessions_.end() && found->second.connection == connection)
        sessions_.erase(found);
}

StorageDaemon::Session& StorageDaemon::session(rpc::FrameServer::ConnectionId connection, int64_t id,
                                               bool needs_mailbox_access)
{
    auto found = sessions_.find(id);
    if (found == sessions_.end() || found->second.connection != connection)
        throw rpc_error(rpc::ErrorKind::NO_SESSION, "no such session");
    // A delivery grant (LMTP) may append, never read or change existing mail.
    if (needs_mailbox_access && found->second.grant.scope != "imap")
        throw rpc_error(rpc::ErrorKind::DENIED, "the session's grant does not allow mailbox access");
    return found->second;
}

View& StorageDaemon::view(Session& session, int64_t view)
{
    auto found = session.views.find(view);
    if (found == session.views.end())
        throw rpc_error(rpc::ErrorKind::INVALID, "no such mailbox view");
    return *found->second;
}

char StorageDaemon::hierarchy_separator(const std::string& location) const
{
    for (const config::Section* ns : settings_.sections("namespace")) {
        if (ns->get_or("inbox", "no") == "yes") {
            std::string separator = ns->get_or("separator", "");
            if (!separator.empty())
                return separator[0];
        }
    }
    return default_separator(location);
}

std::optional<QuotaLimits> StorageDaemon::quota_limits() const
{
    // Only the Maildir++ backend keeps maildirsize; other backends (count, dict) do not.
    std::vector<std::string> plugins = settings_.get_list("mail_plugins");
    if (std::find(plugins.begin(), plugins.end(), "quota") == plugins.end())
        return std::nullopt;
    std::string backend = settings_.plugin("quota").value_or("");
    if (backend.compare(0, 7, "maildir") != 0)
        return std::nullopt;
    try {
        return MaildirStore::parse_quota_rule(settings_.plugin("quota_rule").value_or(""));
    } catch (const std::exception&) {
        return QuotaLimits{};
    }
}

UserStorage& StorageDaemon::user_storage(const auth::SessionGrant& grant)
{
    auto found = users_.find(grant.user);
    if (found != users_.end())
        return *found->second;
    std::string location = grant.mail_location.empty() ? settings_.get("mail_location") : grant.mail_location;
    if (location.empty())
        throw rpc_error(rpc::ErrorKind::INTERNAL, "mail_location is not set");
    config::VarTable vars;
    vars.set('u', "user", grant.user);
    vars.set('n', "username", grant.user.substr(0, grant.user.find('@')));
    vars.set('d', "domain", domain_of(grant.user));
    vars.set('h', "home", grant.home);
    std::string expanded;
    try {
        expanded = config::expand(location, vars);
    } catch (const std::exception& error) {
        throw rpc_error(rpc::ErrorKind::INTERNAL, std::string("mail_location: ") + error.what());
    }
    std::unique_ptr<UserStorage> storage;
    try {
        storage = std::make_unique<UserStorage>(
            grant.user, make_store(expanded, grant.home, hierarchy_separator(expanded), settings_));
    } catch (const StorageError& error) {
        throw rpc_error(rpc::ErrorKind::INTERNAL, std::string("mail_location: ") + error.what());
    }
    storage->store().set_quota(quota_limits());
    auto& result = *storage;
    users_.emplace(grant.user, std::move(storage));
    return result;
}

}  // namespace loft::storage::daemon
