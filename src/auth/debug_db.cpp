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

}  // namespace loft::auth
