#include "storage/maildir/mutf7.h"

#include "storage/storage_error.h"

#include <cstdint>
#include <vector>

namespace loft::storage {

namespace {

constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == ',') return 63;
    return -1;
}

[[noreturn]] void bad(std::string_view what, std::string_view name)
{
    throw StorageError(StorageError::Kind::BadName, std::string(what) + ": " + std::string(name));
}

// Decodes one UTF-8 code point at text[i], advancing i.
uint32_t next_code_point(std::string_view text, size_t& i)
{
    auto c = static_cast<unsigned char>(text[i]);
    int extra;
    uint32_t cp;
    if (c < 0x80) { cp = c; extra = 0; }
    else if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; extra = 1; }
    else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; extra = 2; }
    else if ((c & 0xF8) == 0xF0) { cp = c & 0x07; extra = 3; }
    else bad("Invalid UTF-8 in mailbox name", text);
    if (i + static_cast<size_t>(extra) >= text.size())
        bad("Truncated UTF-8 in mailbox name", text);
    for (int k = 1; k <= extra; k++) {
        auto cc = static_cast<unsigned char>(text[i + static_cast<size_t>(k)]);
        if ((cc & 0xC0) != 0x80)
            bad("Invalid UTF-8 in mailbox name", text);
        cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t min_for_len[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        bad("Invalid UTF-8 in mailbox name", text);
    i += static_cast<size_t>(extra) + 1;
    return cp;
}

void append_utf8(std::string& out, uint32_t cp)
{
    if (cp < 0x80) out += static_cast<char>(cp);
    else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

void flush_utf16(std::string& out, const std::vector<uint16_t>& units)
{
    out += '&';
    uint32_t bits = 0;
    int nbits = 0;
    for (uint16_t unit : units) {
        bits = (bits << 16) | unit;
        nbits += 16;
        while (nbits >= 6) {
            nbits -= 6;
            out += b64[(bits >> nbits) & 0x3F];
        }
    }
    if (nbits > 0)
        out += b64[(bits << (6 - nbits)) & 0x3F];
    out += '-';
}

}  // namespace

std::string utf8_to_mutf7(std::string_view utf8)
{
    std::string out;
    std::vector<uint16_t> pending;
    size_t i = 0;
    while (i < utf8.size()) {
        uint32_t cp = next_code_point(utf8, i);
        if (cp >= 0x20 && cp <= 0x7E) {
            if (!pending.empty()) {
                flush_utf16(out, pending);
                pending.clear();
            }
            if (cp == '&')
                out += "&-";
            else
                out += static_cast<char>(cp);
        } else if (cp >= 0x10000) {
            cp -= 0x10000;
            pending.push_back(static_cast<uint16_t>(0xD800 | (cp >> 10)));
            pending.push_back(static_cast<uint16_t>(0xDC00 | (cp & 0x3FF)));
        } else {
            pending.push_back(static_cast<uint16_t>(cp));
        }
    }
    if (!pending.empty())
        flush_utf16(out, pending);
    return out;
}

std::string mutf7_to_utf8(std::string_view text)
{
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E)
            bad("Invalid character in modified UTF-7 name", text);
        if (c != '&') {
            out += c;
            i++;
            continue;
        }
        size_t end = text.find('-', i + 1);
        if (end == std::string_view::npos)
            bad("Unterminated modified UTF-7 sequence", text);
        if (end == i + 1) {
            out += '&';
            i = end + 1;
            continue;
        }
        uint32_t bits = 0;
        int nbits = 0;
        std::vector<uint16_t> units;
        for (size_t k = i + 1; k < end; k++) {
            int v = b64_value(text[k]);
            if (v < 0)
                bad("Invalid modified UTF-7 sequence", text);
            bits = (bits << 6) | static_cast<uint32_t>(v);
            nbits += 6;
            if (nbits >= 16) {
                nbits -= 16;
                units.push_back(static_cast<uint16_t>((bits >> nbits) & 0xFFFF));
            }
        }
        if (nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0 || units.empty())
            bad("Invalid modified UTF-7 padding", text);
        for (size_t k = 0; k < units.size(); k++) {
            uint32_t cp = units[k];
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (k + 1 >= units.size() || units[k + 1] < 0xDC00 || units[k + 1] > 0xDFFF)
                    bad("Invalid surrogate in modified UTF-7", text);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (units[k + 1] - 0xDC00);
                k++;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                bad("Invalid surrogate in modified UTF-7", text);
            } else if (cp >= 0x20 && cp <= 0x7E) {
                bad("Printable ASCII must not be encoded in modified UTF-7", text);
            }
            append_utf8(out, cp);
        }
        i = end + 1;
    }
    return out;
}

bool is_valid_mutf7(std::string_view text)
{
    try {
        mutf7_to_utf8(text);
        return true;
    } catch (const StorageError&) {
        return false;
    }
}

}  // namespace loft::storage
