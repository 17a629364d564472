// SASL PLAIN (RFC 4616): splitting the client's message into its three parts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loft::auth {

struct PlainCredentials {
    std::string authzid;  // empty: log in as authcid
    std::string authcid;
    std::string password;
};

// Bound on the decoded message; RFC 4616 allows 255 octets per part.
constexpr size_t max_sasl_plain_size = 4096;

// decoded: the base64-decoded initial response, "authzid\0authcid\0passwd". nullopt for
// anything else: a missing or extra NUL, an empty authcid or password, oversized input.
std::optional<PlainCredentials> parse_sasl_plain(std::string_view decoded);

}  // namespace loft::auth
