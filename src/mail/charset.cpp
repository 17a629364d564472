#include "mail/charset.h"

#include "mail/rfc822_tokens.h"

#include <cerrno>
#include <iconv.h>
#include <strings.h>

namespace loft::mail {

namespace {

class IconvHandle {
public:
    explicit IconvHandle(const std::string& from) : handle_(iconv_open("UTF-8", from.c_str())) {}
    IconvHandle(const IconvHandle&) = delete;
    IconvHandle& operator=(const IconvHandle&) = delete;
    ~IconvHandle()
    {
        if (valid())
            iconv_close(handle_);
    }
    bool valid() const { return handle_ != reinterpret_cast<iconv_t>(-1); }
    iconv_t get() const { return handle_; }

private:
    iconv_t handle_;
};

// Length of the valid UTF-8 sequence at text[pos], or 0 when it is invalid.
size_t utf8_sequence_length(std::string_view text, size_t pos)
{
    unsigned char c = static_cast<unsigned char>(text[pos]);
    size_t length;
    uint32_t min;
    uint32_t value;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        length = 2;
        min = 0x80;
        value = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        length = 3;
        min = 0x800;
        value = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        length = 4;
        min = 0x10000;
        value = c & 0x07;
    } else {
        return 0;
    }
    if (pos + length > text.size())
        return 0;
    for (size_t i = 1; i < length; i++) {
        unsigned char next = static_cast<unsigned char>(text[pos + i]);
        if ((next & 0xC0) != 0x80)
            return 0;
        value = (value << 6) | (next & 0x3F);
    }
    if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
        return 0;
    return length;
}

}  // namespace

bool charset_is_utf8(std::string_view charset)
{
    std::string name(charset);
    return strcasecmp(name.c_str(), "us-ascii") == 0 || strcasecmp(name.c_str(), "ascii") == 0 ||
           strcasecmp(name.c_str(), "utf-8") == 0 || strcasecmp(name.c_str(), "utf8") == 0;
}

std::string sanitize_utf8(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) {
        size_t length = utf8_sequence_length(text, pos);
        if (length == 0) {
            out.append(kNulReplacement);
            pos++;
        } else {
            out.append(text.substr(pos, length));
            pos += length;
        }
    }
    return out;
}

std::optional<std::string> convert_to_utf8(std::string_view charset, std::string_view text)
{
    if (charset_is_utf8(charset))
        return sanitize_utf8(text);
    std::string name(charset);
    // RFC 2231 allows a language suffix: utf-8*en.
    if (size_t star = name.find('*'); star != std::string::npos)
        name.resize(star);
    IconvHandle converter(name);
    if (!converter.valid())
        return std::nullopt;
    std::string out;
    std::string input(text);
    char* in = input.data();
    size_t in_left = input.size();
    char buffer[4096];
    while (in_left > 0) {
        char* outp = buffer;
        size_t out_left = sizeof(buffer);
        size_t ret = iconv(converter.get(), &in, &in_left, &outp, &out_left);
        out.append(buffer, sizeof(buffer) - out_left);
        if (ret != static_cast<size_t>(-1))
            continue;
        if (errno == E2BIG)
            continue;
        // EILSEQ or EINVAL (truncated sequence): replace one byte and go on.
        out.append(kNulReplacement);
        in++;
        in_left--;
        iconv(converter.get(), nullptr, nullptr, nullptr, nullptr);
    }
    char* outp = buffer;
    size_t out_left = sizeof(buffer);
    iconv(converter.get(), nullptr, nullptr, &outp, &out_left);
    out.append(buffer, sizeof(buffer) - out_left);
    return out;
}

}  // namespace loft::mail
