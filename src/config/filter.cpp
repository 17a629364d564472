#include "config/filter.h"

#include <arpa/inet.h>

#include <cstring>

#include "lib/strings.h"

namespace loft::config {

std::optional<IpNet> IpNet::parse(std::string_view text)
{
    IpNet net;
    std::string host(text);
    std::optional<uint64_t> bits;
    auto slash = host.find('/');
    if (slash != std::string::npos) {
        bits = loft::parse_uint(std::string_view(host).substr(slash + 1));
        if (!bits)
            return std::nullopt;
        host.resize(slash);
    }
    if (inet_pton(AF_INET, host.c_str(), net.addr.data()) == 1) {
        net.v6 = false;
    } else if (inet_pton(AF_INET6, host.c_str(), net.addr.data()) == 1) {
        net.v6 = true;
    } else {
        return std::nullopt;
    }
    unsigned max_bits = net.v6 ? 128 : 32;
    if (bits && *bits > max_bits)
        return std::nullopt;
    net.bits = bits ? static_cast<unsigned>(*bits) : max_bits;
    return net;
}

bool IpNet::contains(const IpNet& ip) const
{
    if (bits == 0)
        return true;
    IpNet mine = *this, theirs = ip;
    // An IPv4-mapped IPv6 address matches an IPv4 network, as in Dovecot.
    auto unmap = [](IpNet& n) {
        static constexpr uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (n.v6 && std::memcmp(n.addr.data(), prefix, 12) == 0) {
            std::memmove(n.addr.data(), n.addr.data() + 12, 4);
            n.v6 = false;
        }
    };
    unmap(theirs);
    if (mine.v6 != theirs.v6)
        return false;
    unsigned full = bits / 8, rest = bits % 8;
    if (std::memcmp(mine.addr.data(), theirs.addr.data(), full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (mine.addr[full] & mask) == (theirs.addr[full] & mask);
}

bool FilterMask::operator==(const FilterMask& o) const
{
    auto same_net = [](bool given_a, const IpNet& a, bool given_b, const IpNet& b) {
        if (given_a != given_b)
            return false;
        return !given_a || (a.bits == b.bits && a.v6 == b.v6 && a.addr == b.addr);
    };
    return protocol == o.protocol && same_net(has_local, local, o.has_local, o.local) &&
           same_net(has_remote, remote, o.has_remote, o.remote) && iequals(local_name, o.local_name);
}

namespace {

// Dovecot's config_filter_match_service().
bool protocol_matches(const std::optional<std::string>& mask, const std::string& protocol)
{
    if (!mask)
        return true;
    if (protocol.empty())
        return false;
    if (!mask->empty() && (*mask)[0] == '!')
        return protocol != std::string_view(*mask).substr(1);
    return protocol == *mask;
}

}  // namespace

bool match_dns_wildcard(std::string_view name, std::string_view pattern)
{
    if (pattern.starts_with("*.")) {
        auto dot = name.find('.');
        if (dot == std::string_view::npos)
            return false;
        return iequals(name.substr(dot + 1), pattern.substr(2));
    }
    return iequals(name, pattern);
}

bool FilterMask::matches(const Filter& f) const
{
    if (!protocol_matches(protocol, f.protocol))
        return false;
    if (!local_name.empty()) {
        if (f.local_name.empty())
            return false;
        bool any = false;
        for (const auto& name : split_words(local_name))
            any = any || match_dns_wildcard(f.local_name, name);
        if (!any)
            return false;
    }
    if (remote.bits != 0) {
        auto ip = IpNet::parse(f.remote_ip);
        if (f.remote_ip.empty() || !ip || !remote.contains(*ip))
            return false;
    }
    if (local.bits != 0) {
        auto ip = IpNet::parse(f.local_ip);
        if (f.local_ip.empty() || !ip || !local.contains(*ip))
            return false;
    }
    return true;
}

bool mask_matches_mask(const FilterMask& mask, const FilterMask& filter)
{
    if (mask.protocol && !filter.protocol)
        return false;
    if (mask.protocol && !protocol_matches(mask.protocol, *filter.protocol))
        return false;
    if (!mask.local_name.empty()) {
        if (filter.local_name.empty())
            return false;
        bool any = false;
        for (const auto& name : split_words(mask.local_name))
            any = any || match_dns_wildcard(filter.local_name, name);
        if (!any)
            return false;
    }
    if (mask.remote.bits != 0 && (filter.remote.bits == 0 || !mask.remote.contains(filter.remote)))
        return false;
    if (mask.local.bits != 0 && (filter.local.bits == 0 || !mask.local.contains(filter.local)))
        return false;
    return true;
}

bool is_filter_superset(const FilterMask& sup, const FilterMask& filter)
{
    if (sup.local.bits > filter.local.bits || sup.remote.bits > filter.remote.bits)
        return false;
    if (!sup.local_name.empty() && filter.local_name.empty())
        return false;
    if (sup.protocol && !filter.protocol)
        return false;
    return true;
}

int compare_specificity(const FilterMask& a, const FilterMask& b)
{
    if (!a.local_name.empty() != !b.local_name.empty())
        return a.local_name.empty() ? 1 : -1;
    if (a.local.bits != b.local.bits)
        return a.local.bits > b.local.bits ? -1 : 1;
    if (a.remote.bits != b.remote.bits)
        return a.remote.bits > b.remote.bits ? -1 : 1;
    if (a.protocol.has_value() != b.protocol.has_value())
        return a.protocol ? -1 : 1;
    return 0;
}

}  // namespace loft::config
