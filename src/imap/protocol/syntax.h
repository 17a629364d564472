// Character classes of the IMAP grammar (RFC 3501 section 9), shared by the parser
// and the response formatter.
#pragma once

#include <string_view>

namespace loft::imap::protocol {

// ATOM-CHAR: any CHAR except atom-specials ( ) { SP CTL % * " \ ]
bool is_atom_char(char c);
// ASTRING-CHAR: ATOM-CHAR or "]"
bool is_astring_char(char c);
// What the reader accepts inside an atom argument, like Dovecot: ATOM-CHAR plus
// the list wildcards, "\" (flags), "]" and "*" (sequence sets); not 8-bit.
bool is_lenient_atom_char(char c);
// tag: 1*<any ASTRING-CHAR except "+">, minus "]" as Dovecot does.
bool is_valid_tag(std::string_view tag);
bool is_atom(std::string_view text);

}  // namespace loft::imap::protocol
