// SMTP DATA transparency (RFC 5321 4.5.2): removes dot-stuffing and finds the
// terminating "CRLF.CRLF", on input that arrives in arbitrary pieces and lines of any length.
#pragma once

#include <string>
#include <string_view>

namespace loft::lmtp {

class DotDecoder {
public:
    // Appends the decoded part of chunk to out; returns how many bytes of chunk were
    // consumed (less than its size only when the end marker was found, then the rest
    // belongs to the next command).
    size_t feed(std::string_view chunk, std::string& out);
    bool finished() const { return state_ == State::Done; }

private:
    // LineStart: at the beginning of a line. Dot: saw "." at line start. DotCr: saw ".\r".
    // Cr: saw "\r" inside a line.
    enum class State { LineStart, Middle, Cr, Dot, DotCr, Done };
    State state_ = State::LineStart;
};

}  // namespace loft::lmtp
