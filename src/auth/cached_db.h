// Dovecot's auth cache in front of one passdb or userdb: answers kept under the driver's
// cache key (the % variables its lookups depend on) for auth_cache_ttl, unknown users
// for auth_cache_negative_ttl, with Dovecot's "cache hit"/"cache miss" debug lines.
#pragma once

#include "auth/auth_cache.h"
#include "auth/passdb.h"
#include "auth/userdb_wrapper.h"
#include "lib/log.h"

#include <memory>
#include <optional>
#include <string>

namespace loft::auth {

// The key template Dovecot derives from a query or format: each distinct % variable in
// it, tab separated ("SELECT .. '%n' AND '%d'" -> "%n\t%d").
std::string cache_key_template(std::string_view text);

// The cache key template Dovecot gives a driver by default ("%u" for passwd/shadow, the
// query's variables for sql), nullopt for drivers it does not cache (passwd-file, static,
// checkpassword, pam without cache_key).
std::optional<std::string> default_passdb_cache_key(std::string_view driver, std::string_view args);
std::optional<std::string> default_userdb_cache_key(std::string_view driver, std::string_view args);

// "driver(user,rip,<session>): " for debug lines about a request.
std::string db_log_prefix(std::string_view driver, const AuthRequest& request);

class CachedPassdb final : public Passdb {
public:
    // id tells this passdb's entries apart from other passdbs' in the shared cache.
    // log may be null; debug lines go to it when set.
    CachedPassdb(std::unique_ptr<Passdb> inner, std::shared_ptr<AuthCache> cache, std::string key_template,
                 std::string id, const Logger* log, bool debug_passwords);
    std::string_view driver() const override { return inner_->driver(); }

    // A cached entry that no longer matches the password is looked up again (the
    // password may have changed), as Dovecot does for entries from a successful login.
    PassdbReply verify_plain(const AuthRequest& request, std::string_view password) override;
    // Around a passdb served by loft-auth-worker, which returns no stored password: a
    // successful login caches a salted hash of the password it used, as Dovecot does for
    // pam; credentials that entry cannot give come from the passdb again.
    Task<PassdbReply> verify_plain_async(const AuthRequest& request, std::string password) override;
    Task<PassdbReply> lookup_credentials_async(const AuthRequest& request, std::string scheme) override;
    bool looks_up_locally() const override { return inner_->looks_up_locally(); }

protected:
    std::optional<PassdbEntry> lookup(const AuthRequest& request) override;

private:
    std::string key_for(const AuthRequest& request) const;
    // The cached answer (inner nullopt: an unknown user) with its debug line, or nullopt
    // for a miss (its debug line logged too).
    std::optional<std::optional<PassdbEntry>> cached(const AuthRequest& request, const std::string& key);
    void store(const std::string& key, const std::optional<PassdbEntry>& entry);

    std::unique_ptr<Passdb> inner_;
    std::shared_ptr<AuthCache> cache_;
    std::string key_template_, id_;
    const Logger* log_;
    bool debug_passwords_;
    bool last_from_cache_ = false;
};

class CachedUserdb final : public UserdbWrapper {
public:
    CachedUserdb(std::unique_ptr<Userdb> inner, std::shared_ptr<AuthCache> cache, std::string key_template,
                 std::string id, const Logger* log);
    UserdbReply lookup(const AuthRequest& request) override;
    Task<UserdbReply> lookup_async(const AuthRequest& request) override;

private:
    std::string key_for(const AuthRequest& request) const;
    // The cached reply with its debug line, or nullopt for a miss (logged too).
    std::optional<UserdbReply> cached(const AuthRequest& request, const std::string& key);
    void store(const std::string& key, const UserdbReply& reply);
    std::shared_ptr<AuthCache> cache_;
    std::string key_template_, id_;
    const Logger* log_;
};

}  // namespace loft::auth
