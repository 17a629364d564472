#include "auth/prefetch_db.h"

namespace loft::auth {

UserdbReply PrefetchUserdb::lookup(const AuthRequest& request)
{
    UserdbReply reply;
    for (const auto& [key, value] : request.passdb_fields) {
        if (key.starts_with("userdb_") && key.size() > 7)
            reply.fields[key.substr(7)] = value;
    }
    if (reply.fields.empty()) {
        reply.status = UserdbStatus::UserUnknown;
        reply.error = "userdb lookup not possible with only prefetch";
        return reply;
    }
    reply.status = UserdbStatus::Ok;
    return reply;
}

}  // namespace loft::auth
