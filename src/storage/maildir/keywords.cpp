#include "storage/maildir/keywords.h"

#include "lib/strings.h"

namespace loft::storage::maildir {

bool is_valid_keyword(std::string_view name)
{
    if (name.empty() || name.size() > max_keyword_length)
        return false;
    for (unsigned char c : name) {
        if (c <= 0x20 || c >= 0x7f || c == '(' || c == ')' || c == '{' || c == '%' || c == '*' || c == '"' ||
            c == '\\' || c == ']')
            return false;
    }
    return true;
}

KeywordTable KeywordTable::parse(std::string_view content)
{
    KeywordTable table;
    for (const auto& line : split(content, '\n')) {
        size_t space = line.find(' ');
        if (space == std::string::npos)
            continue;
        auto index = parse_uint(std::string_view(line).substr(0, space));
        std::string name = line.substr(space + 1);
        // Dovecot ignores lines it cannot use; so do we, rather than losing the folder.
        if (!index || *index >= max_keyword_letters || !is_valid_keyword(name))
            continue;
        table.names_[*index] = std::move(name);
    }
    return table;
}

std::string KeywordTable::format() const
{
    std::string text;
    for (size_t i = 0; i < names_.size(); i++)
        if (!names_[i].empty())
            text += std::to_string(i) + " " + names_[i] + "\n";
    return text;
}

std::optional<char> KeywordTable::letter_of(std::string_view name) const
{
    for (size_t i = 0; i < names_.size(); i++)
        if (!names_[i].empty() && iequals(names_[i], name))
            return static_cast<char>('a' + i);
    return std::nullopt;
}

const std::string& KeywordTable::name_of(char letter) const
{
    static const std::string none;
    if (letter < 'a' || letter > 'z')
        return none;
    return names_[static_cast<size_t>(letter - 'a')];
}

std::optional<char> KeywordTable::add(std::string_view name)
{
    if (auto letter = letter_of(name))
        return letter;
    for (size_t i = 0; i < names_.size(); i++) {
        if (names_[i].empty()) {
            names_[i] = std::string(name);
            return static_cast<char>('a' + i);
        }
    }
    return std::nullopt;
}

bool KeywordTable::empty() const
{
    for (const auto& name : names_)
        if (!name.empty())
            return false;
    return true;
}

}  // namespace loft::storage::maildir
