// Content-Transfer-Encoding decoders (base64, quoted-printable and the RFC 2047 "Q"
// form), tolerant of the damage found in real mail.
#pragma once

#include <string>
#include <string_view>

namespace loft::mail {

enum class TransferEncoding { SevenOrEightBit, Binary, QuotedPrintable, Base64, Unknown };

// Parses a Content-Transfer-Encoding value; an empty value means 7bit.
TransferEncoding parse_transfer_encoding(std::string_view value);

// Skips whitespace and line breaks; stops at padding or the first invalid character.
// Returns false when invalid data was met (what was decoded so far is kept).
bool decode_base64(std::string_view input, std::string& out);

// RFC 2047 "Q": '_' is a space, =XX a byte; other '=' are kept as they are.
bool decode_q(std::string_view input, std::string& out);

// RFC 2045 quoted-printable body: soft line breaks removed, trailing blanks before a
// line end dropped, invalid '=' sequences kept as they are.
bool decode_quoted_printable(std::string_view input, std::string& out);

}  // namespace loft::mail
