// The passdb and userdb interfaces every driver implements, and Dovecot's generic passdb
// behaviour on top of a driver's look-up (password check, credentials, nopassword).
#pragma once

#include "auth/auth_request.h"
#include "lib/task.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace loft::auth {

enum class PassdbStatus {
    Ok,
    UserUnknown,
    PasswordMismatch,
    SchemeNotAvailable,  // the mechanism needs credentials this passdb cannot give
    UserDisabled,        // found in a deny=yes passdb
    InternalFailure,     // broken setup or backend: tempfail, never "wrong password"
};

struct PassdbReply {
    PassdbStatus status = PassdbStatus::InternalFailure;
    FieldMap fields;          // extra fields (userdb_* included, for prefetch), % expanded
    std::string credentials;  // lookup_credentials() with a scheme: the raw credentials
    std::string error;        // Dovecot's wording, for "passdb-driver(user,rip): <error>"
};

// What a look-up style driver found: the stored password as written (with or without
// {SCHEME}) and its extra fields.
struct PassdbEntry {
    std::string password;
    FieldMap fields;
};

class Passdb {
public:
    virtual ~Passdb() = default;
    virtual std::string_view driver() const = 0;

    // Plaintext mechanisms (PLAIN, LOGIN): is this the user's password?
    virtual PassdbReply verify_plain(const AuthRequest& request, std::string_view password);
    // Challenge-response mechanisms: the user's credentials in scheme (e.g. "CRAM-MD5").
    // With an empty scheme, only whether the user exists and its fields (EXTERNAL,
    // master user look-ups, userdb prefetch).
    virtual PassdbReply lookup_credentials(const AuthRequest& request, std::string_view scheme);
    // What the chain awaits. Drivers that answer at once keep these defaults (the methods
    // above); loft-auth's stand-ins for blocking drivers ask a loft-auth-worker instead.
    virtual Task<PassdbReply> verify_plain_async(const AuthRequest& request, std::string password);
    virtual Task<PassdbReply> lookup_credentials_async(const AuthRequest& request, std::string scheme);
    // false for stand-ins whose look-ups only the *_async forms really make (a
    // loft-auth-worker's); wrappers such as the auth cache then await them too.
    virtual bool looks_up_locally() const { return true; }

protected:
    friend class CachedPassdb;  // the auth cache asks the driver it wraps
    // nullopt: unknown user. Throws AuthError for an internal failure.
    virtual std::optional<PassdbEntry> lookup(const AuthRequest& request) = 0;
    // verify_plain() and lookup_credentials() on an entry already found (nullopt: unknown user).
    PassdbReply verify_entry(const AuthRequest& request, const std::optional<PassdbEntry>& entry,
                             std::string_view password) const;
    PassdbReply credentials_of_entry(const AuthRequest& request, const std::optional<PassdbEntry>& entry,
                                     std::string_view scheme) const;
    // Scheme of stored passwords without a {SCHEME} prefix (the scheme= arg).
    std::string default_scheme_ = "CRYPT";
};

enum class UserdbStatus { Ok, UserUnknown, InternalFailure };

struct UserdbReply {
    UserdbStatus status = UserdbStatus::InternalFailure;
    FieldMap fields;  // uid, gid, home, mail, quota_rule, ... (% expanded)
    std::string error;
};

class Userdb {
public:
    virtual ~Userdb() = default;
    virtual std::string_view driver() const = 0;
    virtual UserdbReply lookup(const AuthRequest& request) = 0;
    // What the chain awaits; the default is lookup() (see Passdb::verify_plain_async).
    virtual Task<UserdbReply> lookup_async(const AuthRequest& request);
    // User listing (doveadm user '*', the auth-userdb LIST request), for drivers that can.
    virtual bool can_iterate() const { return false; }
    // Calls each_user for every user name. Throws AuthError when the listing fails.
    virtual void iterate(const AuthRequest& request, const std::function<void(const std::string&)>& each_user);
};

// Drivers by the names dovecot.conf uses ("passwd-file", "static", "passwd", "shadow",
// "pam", "sql", "checkpassword") with their args string. Throws AuthError for an unknown driver or bad args.
std::unique_ptr<Passdb> make_passdb(std::string_view driver, std::string_view args);
std::unique_ptr<Userdb> make_userdb(std::string_view driver, std::string_view args);

// True for the boolean spellings Dovecot accepts in fields and args ("", "yes", "y", "1").
bool field_is_true(const FieldMap& fields, const std::string& key);

}  // namespace loft::auth
