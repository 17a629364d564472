// Base64 and hex, as password hashes and SASL exchanges carry binary data in text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loft::auth {

// Standard alphabet (RFC 4648 section 4) with '=' padding.
std::string base64_encode(std::string_view data);
// Accepts the standard alphabet with or without the final '=' padding, as passdbs hold
// both. Rejects anything else: other characters, whitespace, '=' before the end, a
// length that cannot come from an encoder, input longer than max_input.
std::optional<std::string> base64_decode(std::string_view text, size_t max_input = 1 << 20);

// Lower-case hex, as doveadm pw prints it.
std::string hex_encode(std::string_view data);
// Either case; nullopt for odd length or a non-hex character.
std::optional<std::string> hex_decode(std::string_view text);

}  // namespace loft::auth
