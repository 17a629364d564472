#include "auth/network.h"

#include "lib/strings.h"

#include <arpa/inet.h>

#include <cstring>

namespace loft::auth {

std::optional<IpAddress> parse_ip(std::string_view text)
{
    if (text.empty() || text.size() > 64)
        return std::nullopt;
    std::string copy(text);
    // "[::1]" as some configs and protocols write IPv6 addresses.
    if (copy.front() == '[' && copy.back() == ']')
        copy = copy.substr(1, copy.size() - 2);
    IpAddress ip;
    in_addr v4{};
    if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
        ip.bytes[10] = ip.bytes[11] = 0xff;
        std::memcpy(&ip.bytes[12], &v4, 4);
        return ip;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, copy.c_str(), &v6) == 1) {
        std::memcpy(ip.bytes.data(), &v6, 16);
        return ip;
    }
    return std::nullopt;
}

bool IpNetwork::contains(const IpAddress& ip) const
{
    unsigned bits = prefix_bits;
    for (size_t i = 0; i < 16 && bits > 0; i++) {
        unsigned take = bits >= 8 ? 8 : bits;
        uint8_t mask = static_cast<uint8_t>(0xff << (8 - take));
        if ((ip.bytes[i] & mask) != (address.bytes[i] & mask))
            return false;
        bits -= take;
    }
    return true;
}

std::optional<IpNetwork> parse_network(std::string_view text)
{
    std::string_view address_text = text;
    std::optional<uint64_t> prefix;
    size_t slash = text.find('/');
    if (slash != std::string_view::npos) {
        address_text = text.substr(0, slash);
        prefix = parse_uint(text.substr(slash + 1));
        if (!prefix)
            return std::nullopt;
    }
    std::optional<IpAddress> address = parse_ip(address_text);
    if (!address)
        return std::nullopt;
    bool v4 = address_text.find(':') == std::string_view::npos;
    unsigned max_bits = v4 ? 32 : 128;
    unsigned bits = prefix ? static_cast<unsigned>(std::min<uint64_t>(*prefix, 1000)) : max_bits;
    if (bits > max_bits)
        return std::nullopt;
    return IpNetwork{*address, v4 ? bits + 96 : bits};
}

std::optional<std::vector<IpNetwork>> parse_network_list(std::string_view text)
{
    std::string spaced(text);
    for (char& c : spaced) {
        if (c == ',')
            c = ' ';
    }
    std::vector<IpNetwork> networks;
    for (const std::string& word : split_words(spaced)) {
        auto network = parse_network(word);
        if (!network)
            return std::nullopt;
        networks.push_back(*network);
    }
    return networks;
}

bool connection_is_secured(bool tls, std::string_view remote_ip, std::string_view local_ip,
                           const std::vector<IpNetwork>& trusted_networks)
{
    if (tls)
        return true;
    std::optional<IpAddress> remote = parse_ip(remote_ip);
    if (!remote)
        return false;
    if (auto local = parse_ip(local_ip); local && *local == *remote)
        return true;
    for (const IpNetwork& network : trusted_networks) {
        if (network.contains(*remote))
            return true;
    }
    return false;
}

bool allow_nets_permits(std::string_view allow_nets, std::string_view remote_ip, std::string& error)
{
    std::string spaced(allow_nets);
    for (char& c : spaced) {
        if (c == ',')
            c = ' ';
    }
    std::optional<IpAddress> remote = parse_ip(remote_ip);
    for (const std::string& word : split_words(spaced)) {
        if (word == "local") {
            if (remote_ip.empty())
                return true;
            continue;
        }
        auto network = parse_network(word);
        if (!network) {
            error = "allow_nets: Invalid network '" + word + "'";
            return false;
        }
        if (remote && network->contains(*remote))
            return true;
    }
    error = remote_ip.empty() ? "allow_nets check failed: Remote IP not known and 'local' missing"
                              : "allow_nets check failed: IP not in allowed networks";
    return false;
}

}  // namespace loft::auth
