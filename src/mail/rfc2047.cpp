#include "mail/rfc2047.h"

#include "lib/strings.h"
#include "mail/charset.h"
#include "mail/transfer_encoding.h"

namespace loft::mail {

namespace {

bool only_lwsp(std::string_view text)
{
    return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

void append_in_charset(std::string& out, std::string_view charset, std::string_view bytes)
{
    auto converted = convert_to_utf8(charset, bytes);
    out += converted ? *converted : sanitize_utf8(bytes);
}

// Decodes the encoded word whose "charset?enc?text?=" part starts at data[pos].
// Returns the length consumed, or 0 when it is not a valid encoded word.
size_t decode_encoded_word(std::string_view data, std::string& out)
{
    size_t marks[3];
    size_t found = 0;
    size_t i = 0;
    for (; i < data.size() && found < 3; i++) {
        if (data[i] == '?')
            marks[found++] = i;
    }
    if (found < 3 || i >= data.size() || data[i] != '=')
        return 0;
    std::string_view charset = data.substr(0, marks[0]);
    std::string_view text = data.substr(marks[1] + 1, marks[2] - marks[1] - 1);
    std::string decoded;
    char encoding = data[marks[0] + 1];
    if (encoding == 'q' || encoding == 'Q')
        decode_q(text, decoded);
    else if (encoding == 'b' || encoding == 'B')
        decode_base64(text, decoded);
    else
        return 0;
    if (!decoded.empty())
        append_in_charset(out, charset, decoded);
    return marks[2] + 2;
}

}  // namespace

std::string decode_header_text(std::string_view value)
{
    std::string out;
    size_t start = 0;
    size_t pos = 0;
    while (pos + 1 < value.size()) {
        if (value[pos] != '=' || value[pos + 1] != '?') {
            pos++;
            continue;
        }
        // Plain text before an encoded word, unless it is only blanks (between two words).
        std::string_view plain = value.substr(start, pos - start);
        if (!plain.empty() && !only_lwsp(plain))
            out += sanitize_utf8(plain);
        start = pos;
        std::string word;
        size_t used = decode_encoded_word(value.substr(pos + 2), word);
        if (used == 0) {
            pos += 2;  // not an encoded word: kept as text from its "=?"
            continue;
        }
        out += word;
        pos += 2 + used;
        start = pos;
    }
    if (start < value.size())
        out += sanitize_utf8(value.substr(start));
    return out;
}

std::string decode_rfc2231_value(std::string_view value)
{
    size_t first = value.find('\'');
    size_t second = first == std::string_view::npos ? first : value.find('\'', first + 1);
    if (second == std::string_view::npos)
        return sanitize_utf8(value);
    std::string_view charset = value.substr(0, first);
    std::string bytes;
    for (size_t i = second + 1; i < value.size(); i++) {
        if (value[i] == '%' && i + 2 < value.size() && hex_digit_value(value[i + 1]) >= 0 &&
            hex_digit_value(value[i + 2]) >= 0) {
            bytes.push_back(static_cast<char>(hex_digit_value(value[i + 1]) * 16 + hex_digit_value(value[i + 2])));
            i += 2;
        } else {
            bytes.push_back(value[i]);
        }
    }
    std::string out;
    if (charset.empty())
        out = sanitize_utf8(bytes);
    else
        append_in_charset(out, charset, bytes);
    return out;
}

}  // namespace loft::mail
