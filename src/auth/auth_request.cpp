#include "auth/auth_request.h"

#include "auth/errors.h"
#include "lib/strings.h"

namespace loft::auth {

namespace {

std::string variable_value(std::string_view name, const AuthRequest& request)
{
    if (name == "u" || name == "user")
        return request.user;
    if (name == "n" || name == "username")
        return std::string(username_part(request.user));
    if (name == "d" || name == "domain")
        return std::string(domain_part(request.user));
    if (name == "s" || name == "service")
        return request.service;
    if (name == "l" || name == "lip")
        return request.local_ip;
    if (name == "r" || name == "rip")
        return request.remote_ip;
    if (name == "h" || name == "home")
        return request.home;
    throw AuthError("Unknown variable '%" + std::string(name) + "'");
}

}  // namespace

std::string_view username_part(std::string_view user)
{
    return user.substr(0, user.find('@'));
}

std::string_view domain_part(std::string_view user)
{
    size_t at = user.find('@');
    return at == std::string_view::npos ? std::string_view{} : user.substr(at + 1);
}

std::string expand_auth_variables(std::string_view text, const AuthRequest& request)
{
    std::string out;
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (++i >= text.size())
            throw AuthError("'%' at the end of '" + std::string(text) + "'");
        if (text[i] == '%') {
            out += '%';
            continue;
        }
        char modifier = 0;
        if (text[i] == 'L' || text[i] == 'U') {
            modifier = text[i];
            if (++i >= text.size())
                throw AuthError("'%" + std::string(1, modifier) + "' at the end of '" + std::string(text) + "'");
        }
        std::string_view name;
        if (text[i] == '{') {
            size_t close = text.find('}', i);
            if (close == std::string_view::npos)
                throw AuthError("Unterminated '%{' in '" + std::string(text) + "'");
            name = text.substr(i + 1, close - i - 1);
            i = close;
        } else {
            name = text.substr(i, 1);
        }
        std::string value = variable_value(name, request);
        out += modifier == 'L' ? to_lower(value) : modifier == 'U' ? to_upper(value) : value;
    }
    return out;
}

}  // namespace loft::auth
