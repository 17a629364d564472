// IP networks for login_trusted_networks and the passdb allow_nets field, and the
// "secured connection" rule that disable_plaintext_auth depends on.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::auth {

// An address as 16 bytes; IPv4 (and IPv4-mapped IPv6) as ::ffff:a.b.c.d so both
// spellings of one address compare equal.
struct IpAddress {
    std::array<uint8_t, 16> bytes{};
    bool operator==(const IpAddress&) const = default;
};
std::optional<IpAddress> parse_ip(std::string_view text);

struct IpNetwork {
    IpAddress address;
    unsigned prefix_bits;  // over the 128-bit form
    bool contains(const IpAddress& ip) const;
};
// "10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "::1".
std::optional<IpNetwork> parse_network(std::string_view text);
// A list separated by spaces and/or commas; nullopt if any element is invalid.
std::optional<std::vector<IpNetwork>> parse_network_list(std::string_view text);

// Dovecot's rule: TLS, a client in login_trusted_networks, or the same address at both
// ends (a local client) make a connection secured.
bool connection_is_secured(bool tls, std::string_view remote_ip, std::string_view local_ip,
                           const std::vector<IpNetwork>& trusted_networks);

// The allow_nets passdb field: the login must come from one of the networks ("local"
// stands for connections without an IP, e.g. over a UNIX socket). On refusal, error says
// why in Dovecot's words.
bool allow_nets_permits(std::string_view allow_nets, std::string_view remote_ip, std::string& error);

}  // namespace loft::auth
