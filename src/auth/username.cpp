#include "auth/username.h"

#include "auth/auth_request.h"

#include <cstdio>

namespace loft::auth {

namespace {

// Names are echoed into logs: keep that part short and printable.
std::string sanitize_for_log(std::string_view text)
{
    std::string out;
    for (char c : text.substr(0, 128))
        out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
    if (text.size() > 128)
        out += "...";
    return out;
}

}  // namespace

std::optional<std::string> normalize_username(std::string_view name, const UsernameSettings& settings,
                                              std::string& error)
{
    if (name.size() > max_login_name) {
        error = "Username too long";
        return std::nullopt;
    }
    std::string user(name);
    if (!settings.default_realm.empty() && user.find('@') == std::string::npos)
        user += "@" + settings.default_realm;
    for (char& c : user) {
        for (size_t i = 0; i + 1 < settings.translation.size(); i += 2) {
            if (settings.translation[i] == c) {
                c = settings.translation[i + 1];
                break;
            }
        }
        if (!settings.chars.empty() && (c == '\0' || settings.chars.find(c) == std::string::npos)) {
            char hex[8];
            std::snprintf(hex, sizeof(hex), "0x%02x", static_cast<unsigned char>(c));
            error = std::string("Username character disallowed by auth_username_chars: ") + hex +
                    " (username: " + sanitize_for_log(name) + ")";
            return std::nullopt;
        }
    }
    if (user.find('\0') != std::string::npos) {
        error = "Username contains NUL";
        return std::nullopt;
    }
    if (!settings.format.empty()) {
        AuthRequest request;
        request.user = user;
        try {
            user = expand_auth_variables(settings.format, request);
        } catch (const std::exception& e) {
            error = std::string("auth_username_format: ") + e.what();
            return std::nullopt;
        }
    }
    if (user.empty()) {
        error = "Empty username";
        return std::nullopt;
    }
    return user;
}

std::optional<LoginName> normalize_login(std::string_view login, const UsernameSettings& settings,
                                         std::string& error)
{
    LoginName result;
    std::string_view user = login;
    if (!settings.master_user_separator.empty()) {
        size_t at = login.find(settings.master_user_separator);
        if (at != std::string_view::npos) {
            user = login.substr(0, at);
            auto master = normalize_username(login.substr(at + settings.master_user_separator.size()),
                                             settings, error);
            if (!master)
                return std::nullopt;
            result.master_user = *master;
        }
    }
    auto normalized = normalize_username(user, settings, error);
    if (!normalized)
        return std::nullopt;
    result.user = *normalized;
    return result;
}

}  // namespace loft::auth
