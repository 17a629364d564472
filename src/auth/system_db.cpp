#include "auth/system_db.h"

#include "auth/errors.h"

#include <pwd.h>
#include <shadow.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace loft::auth {

namespace {

// System user names are short; anything longer is not a system user.
constexpr size_t max_system_name = 256;
constexpr size_t max_lookup_buffer = 1 << 20;

bool plausible_name(std::string_view name)
{
    return !name.empty() && name.size() <= max_system_name && name.find('\0') == std::string_view::npos;
}

}  // namespace

std::optional<SystemUser> find_system_user(std::string_view name)
{
    if (!plausible_name(name))
        return std::nullopt;
    std::string key(name);
    std::vector<char> buffer(16384);
    while (true) {
        passwd entry{};
        passwd* found = nullptr;
        int error = getpwnam_r(key.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (error == ERANGE && buffer.size() < max_lookup_buffer) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        // ENOENT and friends are what some NSS modules say for "no such user".
        if (error == 0 || error == ENOENT || error == ESRCH || error == EBADF || error == EPERM) {
            if (!found)
                return std::nullopt;
            return SystemUser{found->pw_name, found->pw_passwd ? found->pw_passwd : "",
                              found->pw_dir ? found->pw_dir : "", found->pw_shell ? found->pw_shell : "",
                              static_cast<uint32_t>(found->pw_uid), static_cast<uint32_t>(found->pw_gid)};
        }
        throw AuthError("getpwnam_r(" + key + ") failed: " + std::strerror(error));
    }
}

std::optional<PassdbEntry> PasswdPassdb::lookup(const AuthRequest& request)
{
    std::optional<SystemUser> user = find_system_user(request.user);
    if (!user)
        return std::nullopt;
    return PassdbEntry{user->password, {}};
}

UserdbReply PasswdUserdb::lookup(const AuthRequest& request)
{
    UserdbReply reply;
    try {
        std::optional<SystemUser> user = find_system_user(request.user);
        if (!user) {
            reply.status = UserdbStatus::UserUnknown;
            reply.error = "unknown user";
            return reply;
        }
        reply.fields["uid"] = std::to_string(user->uid);
        reply.fields["gid"] = std::to_string(user->gid);
        reply.fields["home"] = user->home;
        reply.status = UserdbStatus::Ok;
    } catch (const std::exception& e) {
        reply.status = UserdbStatus::InternalFailure;
        reply.error = e.what();
    }
    return reply;
}

PassdbReply ShadowPassdb::verify_plain(const AuthRequest& request, std::string_view password)
{
    std::optional<PassdbEntry> entry;
    try {
        entry = lookup(request);
    } catch (const std::exception&) {
        // The generic path reports it.
    }
    if (entry && (entry->password.empty() || entry->password[0] == '*' || entry->password[0] == '!')) {
        PassdbReply reply;
        reply.status = PassdbStatus::UserDisabled;
        reply.error = "invalid password field '" + entry->password + "'";
        return reply;
    }
    return Passdb::verify_plain(request, password);
}

std::optional<PassdbEntry> ShadowPassdb::lookup(const AuthRequest& request)
{
    if (!plausible_name(request.user))
        return std::nullopt;
    std::string key(request.user);
    std::vector<char> buffer(16384);
    while (true) {
        spwd entry{};
        spwd* found = nullptr;
        errno = 0;
        int error = getspnam_r(key.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (error == ERANGE && buffer.size() < max_lookup_buffer) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (found)
            return PassdbEntry{found->sp_pwdp ? found->sp_pwdp : "", {}};
        if (error == 0 || error == ENOENT)
            return std::nullopt;
        if (error == EACCES)
            throw AuthError("shadow: no permission to read /etc/shadow (the auth worker needs root)");
        throw AuthError("getspnam_r(" + key + ") failed: " + std::strerror(error));
    }
}

}  // namespace loft::auth
