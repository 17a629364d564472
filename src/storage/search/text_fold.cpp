#include "storage/search/text_fold.h"

#include "mail/charset.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace loft::storage::search {
namespace {

struct CasemapEntry {
    char32_t code;
    uint32_t start;
    uint32_t count;
};

#include "storage/search/casemap_table.inc"

constexpr uint32_t kHangulFirst = 0xAC00, kHangulLast = 0xD7A3;

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

// Appends c in Dovecot's i;unicode-casemap form: simple titlecase, then the canonical
// decomposition (Hangul syllables algorithmically).
void append_folded(std::string& out, uint32_t c)
{
    if (c >= kHangulFirst && c <= kHangulLast) {
        uint32_t index = c - kHangulFirst;
        append_utf8(out, 0x1100 + index / (21 * 28));
        append_utf8(out, 0x1161 + (index % (21 * 28)) / 28);
        if (index % 28 != 0)
            append_utf8(out, 0x11A7 + index % 28);
        return;
    }
    const auto* end = std::end(kCasemapEntries);
    const auto* found = std::lower_bound(std::begin(kCasemapEntries), end, c,
                                         [](const CasemapEntry& e, uint32_t code) { return e.code < code; });
    if (found == end || found->code != c) {
        append_utf8(out, c);
        return;
    }
    for (uint32_t i = 0; i < found->count; i++)
        append_utf8(out, kCasemapPool[found->start + i]);
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
        append_folded(out, c);
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
