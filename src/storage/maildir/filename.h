// Maildir file names as Dovecot writes them: "<base>[:2,<flags>]" where the base is
// "<secs>.M<usecs>P<pid>.<host>,S=<size>,W=<vsize>" and flags are ASCII-sorted letters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loft::storage::maildir {

struct MaildirFilename {
    std::string base;                    // everything before ':'
    std::optional<uint64_t> size;        // S= from the base
    std::optional<uint64_t> vsize;       // W= from the base
    bool has_info = false;               // ":2," present
    uint32_t system_flags = 0;           // SystemFlag bits from D F R S T
    std::string keyword_letters;         // a..z, sorted, unique
    std::string unknown_flag_chars;      // e.g. 'P' (passed): kept as they were
};

MaildirFilename parse_maildir_filename(std::string_view name);

// Just the flags of a name, without allocating: what opening a big folder needs.
struct MaildirInfoFlags {
    uint32_t system_flags = 0;
    uint32_t keyword_mask = 0;  // bit i: keyword letter 'a' + i
};
MaildirInfoFlags parse_maildir_flags(std::string_view name);
// The base name (up to the info separator ':').
std::string_view maildir_base_name(std::string_view name);

// ":2,<letters>" with system flags, keyword letters and kept unknown letters in ASCII order.
std::string format_maildir_info(uint32_t system_flags, std::string_view keyword_letters,
                                std::string_view unknown_flag_chars = {});

// Dovecot's ordering for assigning UIDs to new files: by leading seconds, then by
// ".M<usecs>", then by base name.
int maildir_filename_sort_cmp(std::string_view a, std::string_view b);

}  // namespace loft::storage::maildir
