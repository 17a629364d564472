// dovecot-keywords: the per-folder table mapping keyword names to the file-name letters
// a..z. Lookups are case-insensitive as in Dovecot's index.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace loft::storage::maildir {

inline constexpr const char* keywords_file_name = "dovecot-keywords";
inline constexpr size_t max_keyword_letters = 26;
inline constexpr size_t max_keyword_length = 1024;

class KeywordTable {
public:
    static KeywordTable parse(std::string_view content);
    std::string format() const;  // "<index> <name>\n" lines

    std::optional<char> letter_of(std::string_view name) const;
    // The name, or empty if the letter has no entry.
    const std::string& name_of(char letter) const;
    // Existing letter or a newly allocated one; nullopt when all 26 are taken.
    std::optional<char> add(std::string_view name);
    bool empty() const;

private:
    std::array<std::string, max_keyword_letters> names_;
};

// IMAP flag-keyword syntax (atom chars, no '\'), bounded in length.
bool is_valid_keyword(std::string_view name);

}  // namespace loft::storage::maildir
