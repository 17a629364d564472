#include "storage/search/text_fold.h"

#include "mail/charset.h"

#include <cstdint>

namespace loft::storage::search {
namespace {

uint32_t upper_code_point(uint32_t c)
{
    if (c >= 'a' && c <= 'z')
        return c - 32;
    if (c < 0x80)
        return c;
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7))
        return c - 32;
    if (c == 0xFF)
        return 0x178;
    if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149) {
        // Latin Extended-A pairs upper/lower on even/odd (shifted in 0x139..0x148, 0x179..0x17E).
        bool shifted = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        bool lower = shifted ? (c % 2 == 0) : (c % 2 == 1);
        return lower ? c - 1 : c;
    }
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2)
        return c - 32;
    if (c == 0x3C2)
        return 0x3A3;
    if (c >= 0x430 && c <= 0x44F)
        return c - 32;
    if (c >= 0x450 && c <= 0x45F)
        return c - 80;
    return c;
}

void append_utf8(std::string& out, uint32_t c)
{
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

}  // namespace

std::string fold_case(std::string_view utf8)
{
    bool ascii = true;
    for (unsigned char c : utf8)
        if (c >= 0x80) {
            ascii = false;
            break;
        }
    std::string out;
    out.reserve(utf8.size());
    if (ascii) {
        for (char c : utf8)
            out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
        return out;
    }
    std::string clean = mail::sanitize_utf8(utf8);
    for (size_t i = 0; i < clean.size();) {
        unsigned char b = static_cast<unsigned char>(clean[i]);
        uint32_t c = b;
        size_t len = 1;
        if (b >= 0xF0) {
            c = b & 0x07;
            len = 4;
        } else if (b >= 0xE0) {
            c = b & 0x0F;
            len = 3;
        } else if (b >= 0xC0) {
            c = b & 0x1F;
            len = 2;
        }
        for (size_t k = 1; k < len && i + k < clean.size(); ++k)
            c = (c << 6) | (static_cast<unsigned char>(clean[i + k]) & 0x3F);
        append_utf8(out, upper_code_point(c));
        i += len;
    }
    return out;
}

bool contains_folded(std::string_view haystack, std::string_view folded_needle)
{
    if (folded_needle.empty())
        return true;
    return fold_case(haystack).find(folded_needle) != std::string::npos;
}

}  // namespace loft::storage::search
