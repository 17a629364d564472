// IMAP string output as Dovecot writes it: quoted when possible, literal for 8-bit,
// CR/LF or many escapes, and the whitespace-collapsing form used for names and subjects.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loft::mail {

void imap_append_string(std::string& out, std::string_view value);
void imap_append_nstring(std::string& out, const std::optional<std::string>& value);
// Like nstring, but line breaks are removed first (a space replaces one that is not
// followed by whitespace).
void imap_append_nstring_nolf(std::string& out, const std::optional<std::string>& value);
// Collapses runs of whitespace, trims both ends and turns NUL into 0x80; any change
// (or 8-bit, quotes, backslashes) makes it a literal.
void imap_append_string_for_humans(std::string& out, std::string_view value);

}  // namespace loft::mail
