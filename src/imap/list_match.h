// LIST patterns (RFC 3501 6.3.8): "*" matches anything, "%" anything but the
// hierarchy separator; INBOX matches case-insensitively.
#pragma once

#include <string>
#include <string_view>

namespace loft::imap {

// The pattern LIST actually uses for a reference and a mailbox argument.
std::string list_pattern(std::string_view reference, std::string_view mailbox, char separator);
bool list_matches(std::string_view pattern, std::string_view name, char separator);

}  // namespace loft::imap
