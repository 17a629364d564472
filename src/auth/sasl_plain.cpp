#include "auth/sasl_plain.h"

namespace loft::auth {

std::optional<PlainCredentials> parse_sasl_plain(std::string_view decoded)
{
    if (decoded.size() > max_sasl_plain_size)
        return std::nullopt;
    size_t first = decoded.find('\0');
    if (first == std::string_view::npos)
        return std::nullopt;
    size_t second = decoded.find('\0', first + 1);
    if (second == std::string_view::npos)
        return std::nullopt;
    std::string_view authzid = decoded.substr(0, first);
    std::string_view authcid = decoded.substr(first + 1, second - first - 1);
    std::string_view password = decoded.substr(second + 1);
    if (authcid.empty() || password.empty() || password.find('\0') != std::string_view::npos)
        return std::nullopt;
    return PlainCredentials{std::string(authzid), std::string(authcid), std::string(password)};
}

}  // namespace loft::auth
