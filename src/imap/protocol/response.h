// Formatting of IMAP response pieces: strings as quoted or literal the way Dovecot
// chooses, nstring/astring, flag lists and status lines.
#pragma once

#include "imap/protocol/arg_values.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loft::imap::protocol {

// "quoted" unless the text has CR, LF, NUL or 8-bit bytes, or more than four
// characters needing escapes: then a literal "{n}\r\n..." (Dovecot's rule).
std::string string_text(std::string_view text);
// NIL for nullopt, else string_text().
std::string nstring_text(const std::optional<std::string>& text);
std::string nstring_text(std::string_view text, bool is_nil);
// A bare atom when possible (not empty, not "NIL"), else string_text().
std::string astring_text(std::string_view text);
// Always "quoted": CR, LF and 8-bit bytes are dropped (they are not allowed there).
std::string quoted_text(std::string_view text);
// "{n}\r\n" announcing n bytes of literal data; "~{n}\r\n" for literal8.
std::string literal_prefix(uint64_t size, bool literal8 = false);

// "(\Answered \Seen $Forwarded)"; system flags in Dovecot's order, \Recent
// included when its bit is set.
std::string flag_list_text(const FlagSet& flags);

// "TAG STATUS [CODE] text\r\n" with tag "*" for untagged; code may be empty.
std::string status_line(std::string_view tag, std::string_view status, std::string_view code,
                         std::string_view text);

}  // namespace loft::imap::protocol
