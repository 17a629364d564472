#include "auth/encoding.h"

#include "lib/strings.h"

#include <cstdint>

namespace loft::auth {

namespace {

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string base64_encode(std::string_view data)
{
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    size_t i = 0;
    auto byte = [&](size_t n) { return static_cast<uint32_t>(static_cast<unsigned char>(data[n])); };
    for (; i + 3 <= data.size(); i += 3) {
        uint32_t group = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
        out += base64_alphabet[group >> 18 & 63];
        out += base64_alphabet[group >> 12 & 63];
        out += base64_alphabet[group >> 6 & 63];
        out += base64_alphabet[group & 63];
    }
    size_t rest = data.size() - i;
    if (rest == 1) {
        uint32_t group = byte(i) << 16;
        out += base64_alphabet[group >> 18 & 63];
        out += base64_alphabet[group >> 12 & 63];
        out += "==";
    } else if (rest == 2) {
        uint32_t group = byte(i) << 16 | byte(i + 1) << 8;
        out += base64_alphabet[group >> 18 & 63];
        out += base64_alphabet[group >> 12 & 63];
        out += base64_alphabet[group >> 6 & 63];
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text, size_t max_input)
{
    if (text.size() > max_input)
        return std::nullopt;
    size_t padding = 0;
    if (!text.empty() && text.back() == '=') {
        padding = 1;
        if (text.size() >= 2 && text[text.size() - 2] == '=')
            padding = 2;
        // Padding only ever completes a group of four.
        if (text.size() % 4 != 0)
            return std::nullopt;
    }
    std::string_view body = text.substr(0, text.size() - padding);
    // A lone character in the last group carries only 6 bits: no encoder emits that.
    if (body.size() % 4 == 1)
        return std::nullopt;

    std::string out;
    out.reserve(body.size() / 4 * 3 + 2);
    uint32_t accumulator = 0;
    int bits = 0;
    for (char c : body) {
        int value = base64_digit_value(c);
        if (value < 0)
            return std::nullopt;
        accumulator = (accumulator << 6 | static_cast<uint32_t>(value)) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>(accumulator >> bits & 0xff);
        }
    }
    return out;
}

std::string hex_encode(std::string_view data)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (unsigned char c : data) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::optional<std::string> hex_decode(std::string_view text)
{
    if (text.size() % 2 != 0)
        return std::nullopt;
    std::string out;
    out.reserve(text.size() / 2);
    for (size_t i = 0; i < text.size(); i += 2) {
        int high = hex_digit_value(text[i]);
        int low = hex_digit_value(text[i + 1]);
        if (high < 0 || low < 0)
            return std::nullopt;
        out += static_cast<char>(high << 4 | low);
    }
    return out;
}

}  // namespace loft::auth
