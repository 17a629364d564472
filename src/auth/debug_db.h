// auth_debug for one passdb or userdb: Dovecot's "Performing passdb lookup" and
// "Finished passdb lookup" lines (and the userdb ones) around every look-up.
#pragma once

#include "auth/passdb.h"
#include "auth/userdb_wrapper.h"
#include "lib/log.h"

#include <memory>

namespace loft::auth {

class DebugPassdb final : public Passdb {
public:
    DebugPassdb(std::unique_ptr<Passdb> inner, const Logger& log) : inner_(std::move(inner)), log_(log) {}
    std::string_view driver() const override { return inner_->driver(); }
    PassdbReply verify_plain(const AuthRequest& request, std::string_view password) override;
    PassdbReply lookup_credentials(const AuthRequest& request, std::string_view scheme) override;
    // The same lines around a look-up made in loft-auth-worker.
    Task<PassdbReply> verify_plain_async(const AuthRequest& request, std::string password) override;
    Task<PassdbReply> lookup_credentials_async(const AuthRequest& request, std::string scheme) override;
    bool looks_up_locally() const override { return inner_->looks_up_locally(); }

protected:
    std::optional<PassdbEntry> lookup(const AuthRequest&) override { return std::nullopt; }  // never called

private:
    std::unique_ptr<Passdb> inner_;
    const Logger& log_;
};

class DebugUserdb final : public UserdbWrapper {
public:
    DebugUserdb(std::unique_ptr<Userdb> inner, const Logger& log) : UserdbWrapper(std::move(inner)), log_(log) {}
    UserdbReply lookup(const AuthRequest& request) override;
    Task<UserdbReply> lookup_async(const AuthRequest& request) override;

private:
    const Logger& log_;
};

}  // namespace loft::auth
