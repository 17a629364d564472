// The system's user databases: passdb/userdb "passwd" (getpwnam) and passdb "shadow"
// (getspnam, which needs root to read /etc/shadow).
#pragma once

#include "auth/passdb.h"

namespace loft::auth {

class PasswdPassdb final : public Passdb {
public:
    std::string_view driver() const override { return "passwd"; }

protected:
    std::optional<PassdbEntry> lookup(const AuthRequest& request) override;
};

// uid, gid and home of the system user.
class PasswdUserdb final : public Userdb {
public:
    std::string_view driver() const override { return "passwd"; }
    UserdbReply lookup(const AuthRequest& request) override;
};

class ShadowPassdb final : public Passdb {
public:
    std::string_view driver() const override { return "shadow"; }
    // As Dovecot: a locked or empty password field ("*", "!...", "") disables the user
    // (a failed login, not a temporary failure).
    PassdbReply verify_plain(const AuthRequest& request, std::string_view password) override;

protected:
    std::optional<PassdbEntry> lookup(const AuthRequest& request) override;
};

struct SystemUser {
    std::string name, password, home, shell;
    uint32_t uid, gid;
};
// nullopt: no such user. Throws AuthError when the look-up itself fails.
std::optional<SystemUser> find_system_user(std::string_view name);

}  // namespace loft::auth
