// IMAP ENVELOPE, BODY and BODYSTRUCTURE strings, byte-identical to Dovecot 2.3's.
#pragma once

#include "mail/mime_parser.h"

#include <string>
#include <string_view>

namespace loft::mail {

// The parenthesised ENVELOPE list, e.g. ("date" "subject" ((...)) ... "<id>").
std::string imap_envelope(const Envelope& envelope);
std::string imap_envelope(std::string_view message);

// The parenthesised BODYSTRUCTURE (extended) or BODY (extended = false) of a parsed part.
std::string imap_bodystructure(const MessagePart& part, bool extended = true);

}  // namespace loft::mail
