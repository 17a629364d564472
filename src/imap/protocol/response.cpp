#include "imap/protocol/response.h"

#include "imap/protocol/syntax.h"
#include "lib/strings.h"

#include <algorithm>

namespace loft::imap::protocol {

namespace {

// Literals win over quoted strings after this many escapes (Dovecot's threshold).
constexpr int kMaxQuotedEscapes = 4;

}  // namespace

std::string string_text(std::string_view text)
{
    int escapes = 0;
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        bool needs_literal = c == '\r' || c == '\n' || c == '\0' || byte >= 0x80;
        if (c == '"' || c == '\\')
            needs_literal = ++escapes > kMaxQuotedEscapes;
        if (needs_literal)
            return literal_prefix(text.size()) + std::string(text);
    }
    return quoted_text(text);
}

std::string nstring_text(const std::optional<std::string>& text)
{
    return text ? string_text(*text) : "NIL";
}

std::string nstring_text(std::string_view text, bool is_nil)
{
    return is_nil ? "NIL" : string_text(text);
}

std::string astring_text(std::string_view text)
{
    if (text.empty() || iequals(text, "NIL") || !std::all_of(text.begin(), text.end(), is_astring_char))
        return string_text(text);
    return std::string(text);
}

std::string quoted_text(std::string_view text)
{
    std::string out;
    out.reserve(text.size() + 2);
    out.push_back('"');
    for (char c : text) {
        if (c == '\r' || c == '\n' || c == '\0' || static_cast<unsigned char>(c) >= 0x80)
            continue;
        if (c == '"' || c == '\\')
            out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

std::string literal_prefix(uint64_t size, bool literal8)
{
    return std::string(literal8 ? "~{" : "{") + std::to_string(size) + "}\r\n";
}

std::string flag_list_text(const FlagSet& flags)
{
    std::string out = "(";
    for (SystemFlag flag : {kFlagAnswered, kFlagFlagged, kFlagDeleted, kFlagSeen, kFlagDraft, kFlagRecent}) {
        if (flags.system & flag) {
            if (out.size() > 1)
                out.push_back(' ');
            out += system_flag_name(flag);
        }
    }
    for (const auto& keyword : flags.keywords) {
        if (out.size() > 1)
            out.push_back(' ');
        out += keyword;
    }
    out.push_back(')');
    return out;
}

std::string status_line(std::string_view tag, std::string_view status, std::string_view code,
                        std::string_view text)
{
    std::string out;
    out.reserve(tag.size() + status.size() + code.size() + text.size() + 8);
    out.append(tag).append(" ").append(status);
    if (!code.empty())
        out.append(" [").append(code).append("]");
    if (!text.empty())
        out.append(" ").append(text);
    out.append("\r\n");
    return out;
}

}  // namespace loft::imap::protocol
