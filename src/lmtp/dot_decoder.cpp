#include "lmtp/dot_decoder.h"

namespace loft::lmtp {

size_t DotDecoder::feed(std::string_view chunk, std::string& out)
{
    size_t i = 0;
    for (; i < chunk.size() && state_ != State::Done; i++) {
        char c = chunk[i];
        switch (state_) {
        case State::LineStart:
            if (c == '.') {
                state_ = State::Dot;
                break;
            }
            [[fallthrough]];
        case State::Middle:
            out += c;
            state_ = c == '\r' ? State::Cr : (c == '\n' ? State::LineStart : State::Middle);
            break;
        case State::Cr:
            out += c;
            state_ = c == '\n' ? State::LineStart : (c == '\r' ? State::Cr : State::Middle);
            break;
        case State::Dot:
            if (c == '\r') {
                state_ = State::DotCr;
            } else if (c == '\n') {
                state_ = State::Done;  // bare LF after the dot: be lenient, as Dovecot is
            } else {
                out += c;  // the stuffed dot is dropped
                state_ = State::Middle;
            }
            break;
        case State::DotCr:
            if (c == '\n') {
                state_ = State::Done;
            } else {
                out += '\r';
                out += c;
                state_ = c == '\r' ? State::Cr : State::Middle;
            }
            break;
        case State::Done:
            break;
        }
    }
    return i;
}

}  // namespace loft::lmtp
