// Modified UTF-7 for the storage layer (Maildir++ directory names, the subscriptions
// file, names over RPC): lib/mutf7.h with invalid names as StorageError(BadName).
#pragma once

#include <string>
#include <string_view>

namespace loft::storage {

std::string utf8_to_mutf7(std::string_view utf8);
std::string mutf7_to_utf8(std::string_view mutf7);
bool is_valid_mutf7(std::string_view text);

}  // namespace loft::storage
