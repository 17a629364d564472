#include "imap/list_match.h"

#include "lib/strings.h"

#include <vector>

namespace loft::imap {

std::string list_pattern(std::string_view reference, std::string_view mailbox, char separator)
{
    if (reference.empty() || (!mailbox.empty() && mailbox.front() == separator))
        return std::string(mailbox);
    // RFC 3501: the reference is prefixed as is (clients include the separator).
    (void)separator;
    return std::string(reference) + std::string(mailbox);
}

namespace {
constexpr size_t kMaxMatchInput = 4096;

// Dynamic programming over (pattern position, name position): linear in the
// product of the lengths whatever the wildcards, so no pattern can make it explode.
bool match_from(std::string_view pattern, std::string_view name, char separator)
{
    if (pattern.size() > kMaxMatchInput || name.size() > kMaxMatchInput)
        return false;
    const size_t columns = name.size() + 1;
    // row[j]: does pattern[i..] match name[j..]; computed from the last pattern char back.
    std::vector<char> next(columns, 0), row(columns, 0);
    next[name.size()] = 1;
    for (size_t i = pattern.size(); i-- > 0;) {
        char c = pattern[i];
        if (c == '*' || c == '%') {
            row[name.size()] = next[name.size()];
            for (size_t j = name.size(); j-- > 0;) {
                bool may_consume = c == '*' || name[j] != separator;
                row[j] = next[j] || (may_consume && row[j + 1]);
            }
        } else {
            row[name.size()] = 0;
            for (size_t j = 0; j < name.size(); j++)
                row[j] = name[j] == c && next[j + 1];
        }
        std::swap(row, next);
    }
    return next[0] != 0;
}
}  // namespace

bool list_matches(std::string_view pattern, std::string_view name, char separator)
{
    // INBOX (and its children's INBOX prefix) compares case-insensitively.
    if (starts_with_nocase(name, "INBOX") && (name.size() == 5 || name[5] == separator) &&
        pattern.size() >= 5 && starts_with_nocase(pattern, "INBOX")) {
        std::string normalized_pattern = "INBOX" + std::string(pattern.substr(5));
        std::string normalized_name = "INBOX" + std::string(name.substr(5));
        return match_from(normalized_pattern, normalized_name, separator);
    }
    return match_from(pattern, name, separator);
}

}  // namespace loft::imap
