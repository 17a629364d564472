// passdb and userdb "static": the same fields for every user, from the args
// ("uid=vmail gid=vmail home=/var/vmail/%d/%n", "password=%u nopassword" ...).
#pragma once

#include "auth/passdb.h"

namespace loft::auth {

// "key=value key2 key3=..." -> fields; a bare word maps to "".
FieldMap parse_static_args(std::string_view args);

class StaticPassdb final : public Passdb {
public:
    explicit StaticPassdb(std::string_view args);
    std::string_view driver() const override { return "static"; }

protected:
    std::optional<PassdbEntry> lookup(const AuthRequest& request) override;

private:
    FieldMap fields_;
    std::string password_;
};

class StaticUserdb final : public Userdb {
public:
    explicit StaticUserdb(std::string_view args);
    std::string_view driver() const override { return "static"; }
    UserdbReply lookup(const AuthRequest& request) override;
    // Without allow_all_users=yes, Dovecot confirms the user exists with a passdb
    // look-up when no password was checked (LMTP, doveadm): the caller must do that.
    bool allow_all_users() const { return allow_all_users_; }

private:
    FieldMap fields_;
    bool allow_all_users_ = false;
};

}  // namespace loft::auth
