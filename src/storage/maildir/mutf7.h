// Modified UTF-7 (RFC 3501 section 5.1.3), the encoding of mailbox names on the wire
// and in Maildir++ directory names and the subscriptions file.
#pragma once

#include <string>
#include <string_view>

namespace loft::storage {

// Throws StorageError(BadName) on invalid UTF-8.
std::string utf8_to_mutf7(std::string_view utf8);
// Throws StorageError(BadName) on malformed modified UTF-7.
std::string mutf7_to_utf8(std::string_view mutf7);
bool is_valid_mutf7(std::string_view text);

}  // namespace loft::storage
