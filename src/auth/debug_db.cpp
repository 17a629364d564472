#include "auth/debug_db.h"

#include "auth/cached_db.h"

namespace loft::auth {

std::string_view passdb_status_name(PassdbStatus status)
{
    switch (status) {
    case PassdbStatus::Ok:
        return "ok";
    case PassdbStatus::UserUnknown:
        return "user_unknown";
    case PassdbStatus::PasswordMismatch:
        return "password_mismatch";
    case PassdbStatus::SchemeNotAvailable:
        return "scheme_not_available";
    case PassdbStatus::UserDisabled:
        return "user_disabled";
    case PassdbStatus::InternalFailure:
        return "internal_failure";
    }
    return "internal_failure";
}

PassdbReply DebugPassdb::verify_plain(const AuthRequest& request, std::string_view password)
{
    std::string prefix = db_log_prefix(driver(), request);
    log_.debug(prefix + "Performing passdb lookup");
    PassdbReply reply = inner_->verify_plain(request, password);
    log_.debug(prefix + "Finished passdb lookup (result=" + std::string(passdb_status_name(reply.status)) + ")");
    return reply;
}

PassdbReply DebugPassdb::lookup_credentials(const AuthRequest& request, std::string_view scheme)
{
    std::string prefix = db_log_prefix(driver(), request);
    log_.debug(prefix + "Performing passdb lookup");
    PassdbReply reply = inner_->lookup_credentials(request, scheme);
    log_.debug(prefix + "Finished passdb lookup (result=" + std::string(passdb_status_name(reply.status)) + ")");
    return reply;
}

UserdbReply DebugUserdb::lookup(const AuthRequest& request)
{
    std::string prefix = db_log_prefix(driver(), request);
    log_.debug(prefix + "Performing userdb lookup");
    UserdbReply reply = inner_->lookup(request);
    std::string_view result = reply.status == UserdbStatus::Ok            ? "ok"
                              : reply.status == UserdbStatus::UserUnknown ? "user_unknown"
                                                                          : "internal_failure";
    log_.debug(prefix + "Finished userdb lookup (result=" + std::string(result) + ")");
    return reply;
}

}  // namespace loft::auth
