// One authentication attempt as passdbs and userdbs see it, and the % variables of
// Dovecot's auth settings (username_format, passwd-file paths, static args) it expands.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace loft::auth {

struct AuthRequest {
    std::string user;     // after auth_username_format and friends
    std::string service;  // "imap", "pop3", "smtp", "lmtp", ...
    std::string local_ip, remote_ip;
    std::string home;     // known once a userdb answered, for %h
    bool secured = false; // TLS, or local == remote address
    std::string session;  // the login's session id, for log lines
    std::string mechanism; // SASL mechanism in use ("PLAIN"); empty for look-ups without one
    // The passdb's fields once a password was checked, for userdb prefetch (its userdb_*).
    std::map<std::string, std::string> passdb_fields;
};

// Expands %u %n %d %s %l %r %h %% and the long forms %{user} %{username} %{domain}
// %{service} %{lip} %{rip} %{home}, with Dovecot's L (lower) and U (upper) modifiers
// (%Lu, %{lower:user} is not supported). Throws AuthError for an unknown variable.
std::string expand_auth_variables(std::string_view text, const AuthRequest& request);
// The same, with escape applied to every expanded value (SQL queries: quote doubling).
std::string expand_auth_variables(std::string_view text, const AuthRequest& request,
                                  std::function<std::string(std::string_view)> escape);

// "user@domain" -> "user" and "domain" (the split is at the first '@', as Dovecot's %n/%d).
std::string_view username_part(std::string_view user);
std::string_view domain_part(std::string_view user);

// Fields are kept as key -> value, in key order; a field given twice keeps the last value.
using FieldMap = std::map<std::string, std::string>;

}  // namespace loft::auth
