// Conversion of text in a MIME charset to UTF-8 (glibc iconv), with invalid input
// replaced by U+FFFD rather than failing, as a mail reader must.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loft::mail {

// True for the names Dovecot treats as already UTF-8 (us-ascii, ascii, utf-8, utf8).
bool charset_is_utf8(std::string_view charset);

// Keeps valid UTF-8 sequences and replaces each invalid byte with U+FFFD.
std::string sanitize_utf8(std::string_view text);

// nullopt when the charset is unknown to iconv. Invalid byte sequences become U+FFFD.
std::optional<std::string> convert_to_utf8(std::string_view charset, std::string_view text);

}  // namespace loft::mail
