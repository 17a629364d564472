#include "imap/protocol/syntax.h"

#include <algorithm>

namespace loft::imap::protocol {

namespace {

bool is_ctl_or_8bit(char c)
{
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte >= 0x7f;
}

}  // namespace

bool is_atom_char(char c)
{
    if (is_ctl_or_8bit(c))
        return false;
    switch (c) {
    case '(': case ')': case '{': case ' ': case '%': case '*': case '"': case '\\': case ']':
        return false;
    default:
        return true;
    }
}

bool is_astring_char(char c)
{
    return c == ']' || is_atom_char(c);
}

bool is_lenient_atom_char(char c)
{
    if (is_ctl_or_8bit(c))
        return false;
    switch (c) {
    case '(': case ')': case '{': case ' ': case '"':
        return false;
    default:
        return true;
    }
}

bool is_valid_tag(std::string_view tag)
{
    return !tag.empty() &&
           std::all_of(tag.begin(), tag.end(), [](char c) { return c != '+' && is_atom_char(c); });
}

bool is_atom(std::string_view text)
{
    return !text.empty() && std::all_of(text.begin(), text.end(), is_atom_char);
}

}  // namespace loft::imap::protocol
