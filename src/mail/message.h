// Basic shape of a stored RFC 5322 message: where the header ends, the IMAP (CRLF) view
// of LF-only stored bytes, and the list of unfolded header fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace loft::mail {

// Raised when a message exceeds one of the parser limits; the text names the limit.
class MessageLimitError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Byte offsets of a stored (LF) message: header block incl. the blank separator line, body.
struct MessageLayout {
    uint64_t header_size = 0;
    uint64_t body_offset = 0;
    uint64_t body_size = 0;
};

// The header ends at the first empty line ("\n" or "\r\n"), which belongs to the header.
// A message without an empty line is all header and has an empty body, as in Dovecot.
MessageLayout find_header_end(std::string_view message);

// The IMAP (CRLF) form of stored bytes: bare LF -> CRLF, existing CRLF kept, lone CR kept.
// Streaming: a CR at the end of one chunk pairs with an LF at the start of the next.
class CrlfConverter {
public:
    std::string convert(std::string_view chunk);
    void convert_into(std::string_view chunk, std::string& out);

private:
    bool last_was_cr_ = false;
};

// Size of the CRLF form; equals Dovecot's W= and the IMAP RFC822.SIZE.
uint64_t crlf_size(std::string_view message);

struct HeaderField {
    std::string name;   // as written, without trailing blanks before ':'
    std::string value;  // unfolded (line breaks removed, the folding blanks kept),
                        // leading blanks after ':' dropped
};

struct HeaderLimits {
    size_t max_fields = 10000;
    size_t max_total_size = 8 * 1024 * 1024;
};

// Splits a header block (as found by find_header_end, the blank line optional) into fields.
// A line without ':' becomes a field with an empty name and the whole line as value, the way
// Dovecot treats it. Throws MessageLimitError when the block breaks the limits.
std::vector<HeaderField> parse_header(std::string_view header_block,
                                      const HeaderLimits& limits = HeaderLimits());

}  // namespace loft::mail
