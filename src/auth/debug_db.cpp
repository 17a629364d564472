#include "auth/debug_db.h"

#include "auth/cached_db.h"

namespace loft::auth {

namespace {

// Dovecot's pair of lines around one look-up.
template <typename Reply, typename Lookup>
Reply around(const Logger& log, std::string_view driver, const AuthRequest& request, const char* db, Lookup lookup)
{
    std::string prefix = db_log_prefix(driver, request);
    log.debug(prefix + "Performing " + db + " lookup");
    Reply reply = lookup();
    log.debug(prefix + "Finished " + db + " lookup");
    return reply;
}

}  // namespace

PassdbReply DebugPassdb::verify_plain(const AuthRequest& request, std::string_view password)
{
    return around<PassdbReply>(log_, driver(), request, "passdb",
                               [&] { return inner_->verify_plain(request, password); });
}

PassdbReply DebugPassdb::lookup_credentials(const AuthRequest& request, std::string_view scheme)
{
    return around<PassdbReply>(log_, driver(), request, "passdb",
                               [&] { return inner_->lookup_credentials(request, scheme); });
}

UserdbReply DebugUserdb::lookup(const AuthRequest& request)
{
    return around<UserdbReply>(log_, driver(), request, "userdb", [&] { return inner_->lookup(request); });
}

Task<PassdbReply> DebugPassdb::verify_plain_async(const AuthRequest& request, std::string password)
{
    std::string prefix = db_log_prefix(driver(), request);
    log_.debug(prefix + "Performing passdb lookup");
    PassdbReply reply = co_await inner_->verify_plain_async(request, std::move(password));
    log_.debug(prefix + "Finished passdb lookup");
    co_return reply;
}

Task<PassdbReply> DebugPassdb::lookup_credentials_async(const AuthRequest& request, std::string scheme)
{
    std::string prefix = db_log_prefix(driver(), request);
    log_.debug(prefix + "Performing passdb lookup");
    PassdbReply reply = co_await inner_->lookup_credentials_async(request, std::move(scheme));
    log_.debug(prefix + "Finished passdb lookup");
    co_return reply;
}

Task<UserdbReply> DebugUserdb::lookup_async(const AuthRequest& request)
{
    std::string prefix = db_log_prefix(driver(), request);
    log_.debug(prefix + "Performing userdb lookup");
    UserdbReply reply = co_await inner_->lookup_async(request);
    log_.debug(prefix + "Finished userdb lookup");
    co_return reply;
}

}  // namespace loft::auth
