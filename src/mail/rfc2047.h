// Decoding of header text for display and search: RFC 2047 encoded words and RFC 2231
// parameter values, converted to UTF-8 the way Dovecot's header decoder does.
#pragma once

#include <string>
#include <string_view>

namespace loft::mail {

// Decodes =?charset?B|Q?text?= words (whitespace between adjacent words is dropped) and
// returns UTF-8; raw 8-bit text is taken as UTF-8 with invalid bytes replaced.
std::string decode_header_text(std::string_view value);

// Decodes an RFC 2231 extended value "charset'language'%XX..." to UTF-8.
std::string decode_rfc2231_value(std::string_view value);

}  // namespace loft::mail
