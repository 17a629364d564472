// Modified UTF-7 (RFC 3501 5.1.3) for mailbox names: converting from and to UTF-8,
// with the strict validation Dovecot applies ("Mailbox name is not valid mUTF-7").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loft::imap::protocol {

// nullopt for anything that is not the one canonical mUTF-7 spelling: 8-bit bytes,
// unterminated "&...", bad base64, printable ASCII encoded, two adjacent encoded
// runs, non-zero padding bits, unpaired surrogates.
std::optional<std::string> mutf7_to_utf8(std::string_view mutf7);
bool is_valid_mutf7(std::string_view mutf7);
// nullopt when the input is not valid UTF-8 (or contains NUL / surrogates).
std::optional<std::string> utf8_to_mutf7(std::string_view utf8);

}  // namespace loft::imap::protocol
