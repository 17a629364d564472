// Dovecot's connection filters (protocol, local, remote, local_name): parsing their
// arguments, matching a connection, and ordering them from most to least specific.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace loft::config {

struct IpNet {
    std::array<uint8_t, 16> addr{};
    bool v6 = false;
    unsigned bits = 0;  // 0: no network given

    // "10.0.0.0/8", "::1", "192.168.1.1"; nullopt if not an address (Dovecot would try
    // DNS for a host name; Loft does not resolve names while reading its config).
    static std::optional<IpNet> parse(std::string_view text);
    bool contains(const IpNet& ip) const;
};

struct FilterMask {
    // "imap" or "!imap"; unset for any. "protocol {" with no name sets it to "",
    // which (as in Dovecot) matches nothing.
    std::optional<std::string> protocol;
    std::string local_host, remote_host;  // as written
    IpNet local, remote;     // bits == 0 matches every address
    // A "local"/"remote" filter was written, even if its net is /0 (Dovecot keeps
    // such a filter apart from the global settings although it matches everything).
    bool has_local = false, has_remote = false;
    std::string local_name;  // "" any; may hold several space-separated names

    bool empty() const
    {
        return !protocol && !has_local && !has_remote && local_name.empty();
    }
    bool operator==(const FilterMask& other) const;
    bool matches(const Filter& filter) const;
};

// Whether mask applies to every connection that filter (another scope's mask) covers,
// as Dovecot checks when it merges filters.
bool mask_matches_mask(const FilterMask& mask, const FilterMask& filter);
// Dovecot's config_filter_is_superset(): sup is no narrower than filter in any part.
bool is_filter_superset(const FilterMask& sup, const FilterMask& filter);

// Dovecot's order: local_name first, then longer local nets, longer remote nets,
// then protocol; negative when a is more specific than b.
int compare_specificity(const FilterMask& a, const FilterMask& b);

// "*.example.com" matches "mail.example.com"; case-insensitive.
bool match_dns_wildcard(std::string_view name, std::string_view pattern);

}  // namespace loft::config
