#include "mail/imap_quote.h"

#include "mail/rfc822_tokens.h"

namespace loft::mail {

namespace {

// After this many quoted-specials a literal is shorter than escaping (Dovecot's rule).
constexpr unsigned int kMaxQuotedEscapes = 4;

void append_literal(std::string& out, std::string_view value)
{
    out += '{';
    out += std::to_string(value.size());
    out += "}\r\n";
    out.append(value);
}

void append_quoted(std::string& out, std::string_view value)
{
    out += '"';
    for (char c : value) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    out += '"';
}

}  // namespace

void imap_append_string(std::string& out, std::string_view raw)
{
    std::string value = c_string(raw);
    unsigned int escapes = 0;
    for (char c : value) {
        unsigned char u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            if (escapes++ < kMaxQuotedEscapes)
                continue;
            append_literal(out, value);
            return;
        }
        if (c == '\r' || c == '\n' || u >= 0x80) {
            append_literal(out, value);
            return;
        }
    }
    append_quoted(out, value);
}

void imap_append_nstring(std::string& out, const std::optional<std::string>& value)
{
    if (!value)
        out += "NIL";
    else
        imap_append_string(out, *value);
}

void imap_append_nstring_nolf(std::string& out, const std::optional<std::string>& value)
{
    if (!value) {
        out += "NIL";
        return;
    }
    std::string text = c_string(*value);
    if (text.find_first_of("\r\n") == std::string::npos) {
        imap_append_string(out, text);
        return;
    }
    std::string joined;
    joined.reserve(text.size());
    for (size_t i = 0; i < text.size(); i++) {
        char c = text[i];
        if (c != '\r' && c != '\n') {
            joined += c;
            continue;
        }
        char next = i + 1 < text.size() ? text[i + 1] : '\0';
        if (next != ' ' && next != '\t' && next != '\r' && next != '\n' && next != '\0')
            joined += ' ';
    }
    imap_append_string(out, joined);
}

void imap_append_string_for_humans(std::string& out, std::string_view value)
{
    size_t remove_count = 0;
    bool whitespace_prefix = true, last_lwsp = true, modify = false;
    for (char c : value) {
        switch (c) {
        case '\0':
            last_lwsp = false;
            modify = true;
            break;
        case '\r':
        case '\n':
        case '\t':
            modify = true;
            [[fallthrough]];
        case ' ':
            if (last_lwsp) {
                modify = true;
                remove_count++;
            }
            last_lwsp = true;
            break;
        case '"':
        case '\\':
            modify = true;
            last_lwsp = false;
            break;
        default:
            if (static_cast<unsigned char>(c) & 0x80)
                modify = true;
            last_lwsp = false;
            break;
        }
        if (!last_lwsp)
            whitespace_prefix = false;
    }
    if (last_lwsp && !value.empty() && !whitespace_prefix) {
        modify = true;
        remove_count++;
    }
    if (!modify) {
        out += '"';
        out.append(value);
        out += '"';
        return;
    }
    if (value.size() == remove_count) {
        out += "\"\"";
        return;
    }
    out += '{';
    out += std::to_string(value.size() - remove_count);
    out += "}\r\n";
    last_lwsp = true;
    whitespace_prefix = true;
    for (char c : value) {
        switch (c) {
        case '\0':
            out += '\x80';
            last_lwsp = false;
            break;
        case '\r':
        case '\n':
        case '\t':
        case ' ':
            if (!last_lwsp)
                out += ' ';
            last_lwsp = true;
            break;
        default:
            last_lwsp = false;
            out += c;
            break;
        }
        if (!last_lwsp)
            whitespace_prefix = false;
    }
    if (last_lwsp && !value.empty() && !whitespace_prefix)
        out.pop_back();
}

}  // namespace loft::mail
