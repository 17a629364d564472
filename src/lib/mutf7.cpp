#include "lib/mutf7.h"

#include <cstdint>
#include <vector>

namespace loft {

namespace {

constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int base64_value(char c)
{
    size_t pos = kBase64.find(c);
    return pos == std::string_view::npos ? -1 : int(pos);
}

bool is_direct(uint32_t code_point)
{
    return code_point >= 0x20 && code_point <= 0x7e;
}

void append_utf8(std::string& out, uint32_t cp)
{
    if (cp < 0x80) {
        out.push_back(char(cp));
    } else if (cp < 0x800) {
        out.push_back(char(0xc0 | (cp >> 6)));
        out.push_back(char(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out.push_back(char(0xe0 | (cp >> 12)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(char(0x80 | (cp & 0x3f)));
    } else {
        out.push_back(char(0xf0 | (cp >> 18)));
        out.push_back(char(0x80 | ((cp >> 12) & 0x3f)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(char(0x80 | (cp & 0x3f)));
    }
}

// Decodes one UTF-8 sequence at text[pos]; rejects overlongs, surrogates, > U+10FFFF.
std::optional<uint32_t> next_code_point(std::string_view text, size_t& pos)
{
    auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
    unsigned char lead = byte(pos);
    size_t length;
    uint32_t cp;
    if (lead < 0x80) {
        ++pos;
        return lead;
    } else if ((lead & 0xe0) == 0xc0) {
        length = 2;
        cp = lead & 0x1f;
    } else if ((lead & 0xf0) == 0xe0) {
        length = 3;
        cp = lead & 0x0f;
    } else if ((lead & 0xf8) == 0xf0) {
        length = 4;
        cp = lead & 0x07;
    } else {
        return std::nullopt;
    }
    if (pos + length > text.size())
        return std::nullopt;
    for (size_t i = 1; i < length; ++i) {
        if ((byte(pos + i) & 0xc0) != 0x80)
            return std::nullopt;
        cp = (cp << 6) | (byte(pos + i) & 0x3f);
    }
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinimum[length] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return std::nullopt;
    pos += length;
    return cp;
}

void flush_encoded(std::string& out, std::vector<uint16_t>& units)
{
    if (units.empty())
        return;
    out.push_back('&');
    uint32_t bits = 0;
    int bit_count = 0;
    for (uint16_t unit : units) {
        bits = (bits << 16) | unit;
        bit_count += 16;
        while (bit_count >= 6) {
            bit_count -= 6;
            out.push_back(kBase64[(bits >> bit_count) & 0x3f]);
        }
    }
    if (bit_count > 0)
        out.push_back(kBase64[(bits << (6 - bit_count)) & 0x3f]);
    out.push_back('-');
    units.clear();
}

}  // namespace

std::optional<std::string> utf8_to_mutf7(std::string_view utf8)
{
    std::string out;
    std::vector<uint16_t> pending;
    size_t pos = 0;
    while (pos < utf8.size()) {
        auto cp = next_code_point(utf8, pos);
        if (!cp || *cp == 0)
            return std::nullopt;
        if (is_direct(*cp)) {
            flush_encoded(out, pending);
            if (*cp == '&')
                out += "&-";
            else
                out.push_back(char(*cp));
            continue;
        }
        if (*cp >= 0x10000) {
            uint32_t v = *cp - 0x10000;
            pending.push_back(uint16_t(0xd800 | (v >> 10)));
            pending.push_back(uint16_t(0xdc00 | (v & 0x3ff)));
        } else {
            pending.push_back(uint16_t(*cp));
        }
    }
    flush_encoded(out, pending);
    return out;
}

std::optional<std::string> mutf7_to_utf8(std::string_view mutf7)
{
    std::string out;
    size_t pos = 0;
    bool previous_was_encoded = false;
    while (pos < mutf7.size()) {
        char c = mutf7[pos];
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
            return std::nullopt;
        if (c != '&') {
            out.push_back(c);
            ++pos;
            previous_was_encoded = false;
            continue;
        }
        ++pos;
        if (pos < mutf7.size() && mutf7[pos] == '-') {
            out.push_back('&');
            ++pos;
            previous_was_encoded = false;
            continue;
        }
        if (previous_was_encoded)
            return std::nullopt;  // "&AAA-&BBB-" must have been one run
        uint32_t bits = 0;
        int bit_count = 0;
        uint16_t high_surrogate = 0;
        size_t units = 0;
        for (;;) {
            if (pos >= mutf7.size())
                return std::nullopt;  // unterminated
            char e = mutf7[pos++];
            if (e == '-')
                break;
            int value = base64_value(e);
            if (value < 0)
                return std::nullopt;
            bits = (bits << 6) | uint32_t(value);
            bit_count += 6;
            if (bit_count < 16)
                continue;
            bit_count -= 16;
            auto unit = uint16_t((bits >> bit_count) & 0xffff);
            bits &= (1u << bit_count) - 1;
            ++units;
            if (high_surrogate != 0) {
                if (unit < 0xdc00 || unit > 0xdfff)
                    return std::nullopt;
                append_utf8(out, 0x10000 + ((uint32_t(high_surrogate) - 0xd800) << 10) + (unit - 0xdc00));
                high_surrogate = 0;
            } else if (unit >= 0xd800 && unit <= 0xdbff) {
                high_surrogate = unit;
            } else if (unit >= 0xdc00 && unit <= 0xdfff) {
                return std::nullopt;
            } else if (is_direct(unit) || unit == 0) {
                return std::nullopt;  // printable ASCII must not be encoded
            } else {
                append_utf8(out, unit);
            }
        }
        // Fewer than 6 bits may be left over. Dovecot ignores their value ("&AOR-"
        // is accepted as "&AOQ-"), so we do too. A run must hold something.
        if (units == 0 || high_surrogate != 0 || bit_count >= 6)
            return std::nullopt;
        previous_was_encoded = true;
    }
    return out;
}

bool is_valid_mutf7(std::string_view mutf7)
{
    return mutf7_to_utf8(mutf7).has_value();
}

}  // namespace loft
