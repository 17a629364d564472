// RFC 5322 address lists parsed the way Dovecot does for IMAP ENVELOPE, including
// groups and its placeholders for broken input (MISSING_MAILBOX, SYNTAX_ERROR, ...).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::mail {

// One ENVELOPE address. A group is a start entry (mailbox = group name, no domain)
// followed by its members and an end entry with every field empty.
struct Address {
    std::optional<std::string> name;
    std::optional<std::string> route;
    std::optional<std::string> mailbox;
    std::optional<std::string> domain;
    bool invalid_syntax = false;
};

// Parses an unfolded or folded header value. Never fails: broken parts become
// placeholder addresses. max_addresses bounds the work on hostile input.
std::vector<Address> parse_address_list(std::string_view value, size_t max_addresses = 10000);

}  // namespace loft::mail
