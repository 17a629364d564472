// Allocation of new UIDVALIDITY values through dovecot-uidvalidity and its empty
// companion "dovecot-uidvalidity.<hex>", the same files and steps Dovecot uses, so both
// never hand out the same value for one user.
#pragma once

#include <cstdint>
#include <string>

namespace loft::storage::maildir {

inline constexpr const char* uidvalidity_file_name = "dovecot-uidvalidity";

// dir is the list's control root (the Maildir root unless CONTROL= is set).
uint32_t next_uidvalidity(const std::string& dir);

}  // namespace loft::storage::maildir
