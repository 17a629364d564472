// From what the client typed to the user name passdbs see: auth_default_realm,
// auth_username_translation, auth_username_chars, auth_username_format, and master
// logins ("user*master" with auth_master_user_separator).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loft::auth {

struct UsernameSettings {
    // Dovecot's default; empty allows every character.
    std::string chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@";
    std::string translation;  // pairs of characters, "#@/@": '#' and '/' become '@'
    std::string format = "%Lu";
    std::string default_realm;
    std::string master_user_separator;  // e.g. "*"; empty: no master logins this way
};

struct LoginName {
    std::string user;         // the user to log in as, normalized
    std::string master_user;  // who authenticates (normalized), empty for normal logins
};

// Longest login name accepted, before any processing.
constexpr size_t max_login_name = 512;

// Applies the settings in Dovecot's order: split off the master user, add the default
// realm when there is no '@', translate, check the characters, apply the format. nullopt
// with error in Dovecot's words ("Username character disallowed by auth_username_chars:
// 0x2f (username: a/b)") when the name is refused.
std::optional<LoginName> normalize_login(std::string_view login, const UsernameSettings& settings,
                                         std::string& error);
// The same for one name without master-user splitting (also used for SASL authzids).
std::optional<std::string> normalize_username(std::string_view name, const UsernameSettings& settings,
                                              std::string& error);

}  // namespace loft::auth
