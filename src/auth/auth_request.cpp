#include "auth/auth_request.h"

#include "auth/errors.h"
#include "config/var_expand.h"
#include "lib/strings.h"

namespace loft::auth {

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
    return expand_auth_variables(text, request, nullptr);
}

std::string expand_auth_variables(std::string_view text, const AuthRequest& request,
                                  std::function<std::string(std::string_view)> escape)
{
    // The one % implementation (src/config/var_expand.h), with the auth request's variables.
    config::VarTable vars;
    vars.set('u', "user", request.user);
    vars.set('n', "username", std::string(username_part(request.user)));
    vars.set('d', "domain", std::string(domain_part(request.user)));
    vars.set('s', "service", request.service);
    vars.set('l', "lip", request.local_ip);
    vars.set('r', "rip", request.remote_ip);
    vars.set('h', "home", request.home);
    if (escape)
        vars.set_escape(std::move(escape));
    try {
        return config::expand(text, vars);
    } catch (const config::VarExpandError& error) {
        throw AuthError(error.what());
    }
}

}  // namespace loft::auth
