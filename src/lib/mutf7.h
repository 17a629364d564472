// Modified UTF-7 (RFC 3501 5.1.3) for mailbox names: converting from and to UTF-8,
// with the strict validation Dovecot applies ("Mailbox name is not valid mUTF-7").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loft {

// nullopt for what Dovecot 2.3 rejects: 8-bit bytes or controls, unterminated
// "&...", bad base64, printable ASCII or NUL encoded, two adjacent encoded runs,
// a partial UTF-16 unit, unpaired surrogates. (Non-zero padding bits are accepted,
// as Dovecot does.)
std::optional<std::string> mutf7_to_utf8(std::string_view mutf7);
bool is_valid_mutf7(std::string_view mutf7);
// nullopt when the input is not valid UTF-8 (or contains NUL / surrogates).
std::optional<std::string> utf8_to_mutf7(std::string_view utf8);

// Dovecot's NO text for a name that fails is_valid_mutf7().
inline constexpr std::string_view kInvalidMutf7Text = "Mailbox name is not valid mUTF-7";

}  // namespace loft
