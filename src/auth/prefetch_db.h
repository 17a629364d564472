// userdb "prefetch": the userdb_* fields the passdb already returned (sql, passwd-file,
// checkpassword), so a login needs no second look-up.
#pragma once

#include "auth/passdb.h"

namespace loft::auth {

// Without prefetched fields (no password was checked: LMTP, doveadm user, auth-userdb
// USER) it answers "unknown user", so the chain goes on to the next userdb as in Dovecot.
class PrefetchUserdb final : public Userdb {
public:
    std::string_view driver() const override { return "prefetch"; }
    UserdbReply lookup(const AuthRequest& request) override;
};

}  // namespace loft::auth
