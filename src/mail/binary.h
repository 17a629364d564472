// BINARY[section] (RFC 3516): the section with its Content-Transfer-Encoding undone,
// assembled exactly as Dovecot 2.3 does (converted headers say "binary").
#pragma once

#include "mail/mime_parser.h"
#include "mail/section.h"

#include <stdexcept>
#include <string>
#include <string_view>

namespace loft::mail {

// Dovecot answers NO for these: [UNKNOWN-CTE] or invalid encoded data.
class BinaryDecodeError : public std::runtime_error {
public:
    enum class Kind { UnknownTransferEncoding, InvalidData };
    BinaryDecodeError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

// Supports BINARY[] (Full), BINARY[n] (PartBody) and BINARY[TEXT]/[n.TEXT] (Text).
// A missing part gives an empty string. Throws BinaryDecodeError.
std::string fetch_binary(std::string_view message, const MessagePart& root,
                         const FetchSection& section, const Partial& partial = Partial());

// The whole BINARY[section] and whether Dovecot sends it as a literal8 (~{n}): when a part
// in it was decoded from quoted-printable/base64, or it contains a NUL.
struct BinarySection {
    std::string data;
    bool literal8 = false;
};
BinarySection fetch_binary_section(std::string_view message, const MessagePart& root,
                                   const FetchSection& section);

// BINARY.SIZE[section], computed as Dovecot does (which may differ from the length of
// BINARY[section] for odd messages). Throws BinaryDecodeError.
uint64_t fetch_binary_size(std::string_view message, const MessagePart& root,
                           const FetchSection& section);

}  // namespace loft::mail
