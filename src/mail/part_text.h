// The text of one MIME part as a reader sees it: Content-Transfer-Encoding undone
// leniently and the part's charset converted to UTF-8 (for SEARCH BODY/TEXT and previews).
#pragma once

#include "mail/mime_parser.h"

#include <string>
#include <string_view>

namespace loft::mail {

// Body of a leaf part (empty for multiparts and message/rfc822, whose children carry
// the text). Broken encodings give what could be decoded; invalid bytes become U+FFFD.
std::string decoded_part_text(std::string_view message, const MessagePart& part);

// Every leaf part's decoded text, in part order.
void for_each_part_text(std::string_view message, const MessagePart& root,
                        void (*callback)(const MessagePart& part, const std::string& text, void* context),
                        void* context);

}  // namespace loft::mail
