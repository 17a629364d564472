#include "mail/transfer_encoding.h"

#include "lib/strings.h"
#include "mail/rfc822_tokens.h"

#include <strings.h>

namespace loft::mail {

TransferEncoding parse_transfer_encoding(std::string_view value)
{
    Rfc822Reader reader(value);
    reader.skip_lwsp();
    std::string token;
    reader.read_mime_token(token);
    const char* name = token.c_str();
    if (token.empty() || strcasecmp(name, "7bit") == 0 || strcasecmp(name, "8bit") == 0)
        return TransferEncoding::SevenOrEightBit;
    if (strcasecmp(name, "binary") == 0)
        return TransferEncoding::Binary;
    if (strcasecmp(name, "quoted-printable") == 0)
        return TransferEncoding::QuotedPrintable;
    if (strcasecmp(name, "base64") == 0)
        return TransferEncoding::Base64;
    return TransferEncoding::Unknown;
}

bool decode_base64(std::string_view input, std::string& out)
{
    bool ok = true;
    uint32_t bits = 0;
    int count = 0;
    for (char c : input) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=')
            break;  // padding: flush what the group holds
        int value = base64_digit_value(c);
        if (value < 0) {
            ok = false;
            break;
        }
        bits = (bits << 6) | static_cast<uint32_t>(value);
        if (++count == 4) {
            out.push_back(static_cast<char>((bits >> 16) & 0xFF));
            out.push_back(static_cast<char>((bits >> 8) & 0xFF));
            out.push_back(static_cast<char>(bits & 0xFF));
            bits = 0;
            count = 0;
        }
    }
    if (count == 2) {
        out.push_back(static_cast<char>((bits >> 4) & 0xFF));
    } else if (count == 3) {
        out.push_back(static_cast<char>((bits >> 10) & 0xFF));
        out.push_back(static_cast<char>((bits >> 2) & 0xFF));
    }
    return ok && count != 1;
}

bool decode_q(std::string_view input, std::string& out)
{
    bool ok = true;
    for (size_t i = 0; i < input.size(); i++) {
        char c = input[i];
        if (c == '_') {
            out.push_back(' ');
        } else if (c == '=' && i + 2 < input.size() && hex_digit_value(input[i + 1]) >= 0 &&
                   hex_digit_value(input[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_digit_value(input[i + 1]) * 16 + hex_digit_value(input[i + 2])));
            i += 2;
        } else {
            if (c == '=')
                ok = false;
            out.push_back(c);
        }
    }
    return ok;
}

bool decode_quoted_printable(std::string_view input, std::string& out)
{
    bool ok = true;
    size_t pos = 0;
    while (pos < input.size()) {
        size_t lf = input.find('\n', pos);
        bool has_newline = lf != std::string_view::npos;
        std::string_view line = input.substr(pos, has_newline ? lf - pos : std::string_view::npos);
        pos = has_newline ? lf + 1 : input.size();
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t'))
            line.remove_suffix(1);
        bool soft_break = false;
        for (size_t i = 0; i < line.size(); i++) {
            char c = line[i];
            if (c != '=') {
                out.push_back(c);
                continue;
            }
            if (i + 1 == line.size()) {
                soft_break = true;
                break;
            }
            if (i + 2 < line.size() && hex_digit_value(line[i + 1]) >= 0 && hex_digit_value(line[i + 2]) >= 0) {
                out.push_back(static_cast<char>(hex_digit_value(line[i + 1]) * 16 + hex_digit_value(line[i + 2])));
                i += 2;
            } else {
                ok = false;
                out.push_back(c);
            }
        }
        if (has_newline && !soft_break)
            out += "\r\n";
    }
    return ok;
}

}  // namespace loft::mail
