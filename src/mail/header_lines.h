// Splits a header block into logical fields (a line plus its continuation lines) and
// records each field's exact byte range, the way Dovecot's header parser sees them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace loft::mail {

struct HeaderLine {
    enum class Kind { Field, EndOfHeader, EndOfInput };
    Kind kind = Kind::EndOfInput;
    std::string name;        // "" for a line without ':' or with an overlong name
    std::string full_value;  // first line's value without leading blanks, continuation
                             // lines appended after "\n", CRs before LFs dropped
    size_t start = 0;        // byte range of the field in the message, newline included
    size_t end = 0;
    unsigned int last_newline_size = 0;  // 0 (end of input), 1 (LF) or 2 (CRLF)
};

// Reads one field starting at pos (a line start) of message.
HeaderLine read_header_line(std::string_view message, size_t pos);

}  // namespace loft::mail
