#include "mail/rfc822_tokens.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <strings.h>

namespace loft::mail {

namespace {

// Bit 1: atext, bit 2: letters, digits and 8-bit bytes, bit 4: atext that is a MIME
// tspecial ('/', '=', '?'). A MIME token char is atext without the tspecial bit.
constexpr std::array<unsigned char, 256> make_char_classes()
{
    std::array<unsigned char, 256> classes{};
    for (int c = 0; c < 256; c++) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 128)
            classes[c] = 2;
    }
    for (char c : std::string_view("!#$%&'*+-^_`{|}~"))
        classes[static_cast<unsigned char>(c)] = 1;
    for (char c : std::string_view("/=?"))
        classes[static_cast<unsigned char>(c)] = 4;
    return classes;
}

constexpr std::array<unsigned char, 256> kCharClasses = make_char_classes();

}  // namespace

bool is_atext(unsigned char c)
{
    return kCharClasses[c] != 0;
}

bool is_mime_token_char(unsigned char c)
{
    return (kCharClasses[c] & 3) != 0;
}

std::string c_string(std::string_view text)
{
    size_t nul = text.find('\0');
    return std::string(nul == std::string_view::npos ? text : text.substr(0, nul));
}

void Rfc822Reader::append_nul_replacement(std::string& out) const
{
    out.append(kNulReplacement);
}

int Rfc822Reader::skip_comment()
{
    if (last_comment_ != nullptr)
        last_comment_->clear();
    int level = 1;
    size_t start = ++pos_;
    for (; pos_ < text_.size(); pos_++) {
        switch (text_[pos_]) {
        case '\0':
            if (last_comment_ != nullptr && replace_nuls_) {
                last_comment_->append(text_.substr(start, pos_ - start));
                append_nul_replacement(*last_comment_);
                start = pos_ + 1;
            }
            break;
        case '(':
            level++;
            break;
        case ')':
            if (--level == 0) {
                if (last_comment_ != nullptr)
                    last_comment_->append(text_.substr(start, pos_ - start));
                pos_++;
                return at_end() ? 0 : 1;
            }
            break;
        case '\n': {
            if (last_comment_ == nullptr)
                break;
            size_t len = pos_ - start;
            if (len > 0 && text_[pos_ - 1] == '\r')
                len--;
            last_comment_->append(text_.substr(start, len));
            start = pos_ + 1;
            break;
        }
        case '\\':
            pos_++;
            if (pos_ >= text_.size())
                return -1;
            if (text_[pos_] == '\r' || text_[pos_] == '\n' || text_[pos_] == '\0') {
                // Not a valid quoted-pair; let the loop see the byte itself.
                pos_--;
                break;
            }
            if (last_comment_ != nullptr)
                last_comment_->append(text_.substr(start, pos_ - start - 1));
            start = pos_;
            break;
        }
    }
    return -1;
}

int Rfc822Reader::skip_lwsp()
{
    while (pos_ < text_.size()) {
        char c = text_[pos_];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            pos_++;
            continue;
        }
        if (c != '(')
            break;
        if (skip_comment() < 0)
            return -1;
    }
    return at_end() ? 0 : 1;
}

int Rfc822Reader::read_atom(std::string& out)
{
    if (at_end() || !is_atext(text_[pos_]))
        return -1;
    size_t start = pos_++;
    for (; pos_ < text_.size(); pos_++) {
        if (is_atext(text_[pos_]))
            continue;
        out.append(text_.substr(start, pos_ - start));
        return skip_lwsp();
    }
    out.append(text_.substr(start));
    return 0;
}

int Rfc822Reader::read_dot_atom(std::string& out)
{
    if (at_end() || !is_atext(text_[pos_]))
        return -1;
    size_t start = pos_++;
    while (pos_ < text_.size()) {
        if (is_atext(text_[pos_])) {
            pos_++;
            continue;
        }
        if (start == pos_)
            return -1;
        out.append(text_.substr(start, pos_ - start));
        int ret = skip_lwsp();
        if (ret <= 0)
            return ret;
        if (text_[pos_] != '.')
            return 1;
        pos_++;
        out.push_back('.');
        if (skip_lwsp() <= 0)
            return -1;
        start = pos_;
    }
    out.append(text_.substr(start));
    return 0;
}

int Rfc822Reader::read_mime_token(std::string& out)
{
    size_t start = pos_;
    for (; pos_ < text_.size(); pos_++) {
        unsigned char c = text_[pos_];
        if (is_mime_token_char(c) || c == '.')
            continue;
        out.append(text_.substr(start, pos_ - start));
        return skip_lwsp();
    }
    out.append(text_.substr(start));
    return 0;
}

int Rfc822Reader::read_quoted_string(std::string& out)
{
    size_t start = ++pos_;
    for (; pos_ < text_.size(); pos_++) {
        switch (text_[pos_]) {
        case '\0':
            if (replace_nuls_) {
                out.append(text_.substr(start, pos_ - start));
                append_nul_replacement(out);
                start = pos_ + 1;
            }
            break;
        case '"':
            out.append(text_.substr(start, pos_ - start));
            pos_++;
            return skip_lwsp();
        case '\n': {
            size_t len = pos_ - start;
            if (len > 0 && text_[pos_ - 1] == '\r')
                len--;
            out.append(text_.substr(start, len));
            start = pos_ + 1;
            break;
        }
        case '\\':
            pos_++;
            if (pos_ >= text_.size())
                return -1;
            if (text_[pos_] == '\r' || text_[pos_] == '\n' || text_[pos_] == '\0') {
                pos_--;
                break;
            }
            out.append(text_.substr(start, pos_ - start - 1));
            start = pos_;
            break;
        }
    }
    return -1;
}

int Rfc822Reader::read_atom_or_dot(std::string& out)
{
    size_t start = pos_;
    for (; pos_ < text_.size(); pos_++) {
        if (is_atext(text_[pos_]) || text_[pos_] == '.')
            continue;
        out.append(text_.substr(start, pos_ - start));
        return skip_lwsp();
    }
    out.append(text_.substr(start));
    return 0;
}

int Rfc822Reader::read_phrase(std::string& out)
{
    if (at_end())
        return 0;
    if (peek() == '.')
        return -1;
    for (;;) {
        int ret = peek() == '"' ? read_quoted_string(out) : read_atom_or_dot(out);
        if (ret <= 0)
            return ret;
        char c = peek();
        if (!is_atext(c) && c != '"' && c != '.')
            break;
        out.push_back(' ');
    }
    return skip_lwsp();
}

int Rfc822Reader::read_domain_literal(std::string& out)
{
    size_t start = pos_++;
    for (; pos_ < text_.size(); pos_++) {
        switch (text_[pos_]) {
        case '\0':
            if (replace_nuls_) {
                out.append(text_.substr(start, pos_ - start));
                append_nul_replacement(out);
                start = pos_ + 1;
            }
            break;
        case '[':
            return -1;
        case ']':
            out.append(text_.substr(start, pos_ - start + 1));
            pos_++;
            return skip_lwsp();
        case '\n': {
            size_t len = pos_ - start;
            if (len > 0 && text_[pos_ - 1] == '\r')
                len--;
            out.append(text_.substr(start, len));
            start = pos_ + 1;
            break;
        }
        case '\\':
            // The backslash stays in the output.
            pos_++;
            if (pos_ >= text_.size())
                return -1;
            if (text_[pos_] == '\r' || text_[pos_] == '\n' || text_[pos_] == '\0') {
                out.append(text_.substr(start, pos_ - start));
                start = pos_;
                pos_--;
            }
            break;
        }
    }
    return -1;
}

int Rfc822Reader::read_domain(std::string& out)
{
    pos_++;  // '@'
    if (skip_lwsp() <= 0)
        return -1;
    if (peek() == '[')
        return read_domain_literal(out);
    return read_dot_atom(out);
}

int Rfc822Reader::read_content_type(std::string& out)
{
    size_t type_start = out.size();
    if (skip_lwsp() <= 0)
        return -1;
    // A type without "/subtype" stays in the output (Dovecot keeps it) but is an error.
    if (read_mime_token(out) <= 0 || out.size() == type_start)
        return -1;
    if (peek() != '/') {
        out.resize(type_start);
        return -1;
    }
    pos_++;
    if (skip_lwsp() <= 0) {
        out.resize(type_start);
        return -1;
    }
    out.push_back('/');
    size_t subtype_start = out.size();
    int ret = read_mime_token(out);
    if (ret < 0 || out.size() == subtype_start || (!at_end() && peek() != ';')) {
        out.resize(type_start);
        return -1;
    }
    return ret;
}

int Rfc822Reader::read_content_param(std::string& key, std::string& value)
{
    key.clear();
    value.clear();
    if (at_end())
        return 0;
    if (peek() != ';')
        return -1;
    pos_++;
    if (skip_lwsp() <= 0)
        return -1;
    if (read_mime_token(key) <= 0)
        return -1;
    if (peek() != '=')
        return -1;
    pos_++;
    int ret = skip_lwsp();
    if (ret <= 0) {
        // no value
    } else if (peek() == '"') {
        ret = read_quoted_string(value);
    } else if (peek() == '=') {
        // Broken senders write name==?utf-8?b?...?= unquoted; take it up to a separator.
        while (!at_end()) {
            char c = peek();
            if (c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n')
                break;
            value.push_back(c);
            pos_++;
        }
    } else {
        ret = read_mime_token(value);
    }
    return ret < 0 ? -1 : 1;
}

namespace {

struct ContinuationParam {
    std::string key;
    std::string value;
    unsigned int index = 0;
    bool extended = false;
};

void append_percent_escaped(std::string& out, std::string_view value)
{
    for (char c : value) {
        if (c == '%')
            out += "%25";
        else
            out.push_back(c);
    }
}

}  // namespace

MimeParams read_mime_params(Rfc822Reader& reader)
{
    MimeParams params;
    std::vector<ContinuationParam> continuations;
    bool saved_replace = reader.replaces_nuls();
    reader.set_nul_replacement(true);

    std::string key, value;
    // Dovecot keeps the last parsed section index when a key has no number ("name*"),
    // so a later "name*" sorts as if it had that index. Reproduce that.
    unsigned int index = 0;
    int ret;
    while ((ret = reader.read_content_param(key, value)) != 0) {
        if (ret < 0) {
            params.broken = true;
            if (reader.at_end())
                break;
            reader.advance();
            continue;
        }
        key = c_string(key);
        size_t star = key.find('*');
        bool plain = true;
        if (star != std::string::npos) {
            size_t p = star;
            if (p + 1 < key.size()) {
                p++;
                index = 0;
                while (p < key.size() && key[p] >= '0' && key[p] <= '9') {
                    index = index * 10 + static_cast<unsigned int>(key[p] - '0');
                    p++;
                }
            }
            bool extended = false;
            if (p < key.size() && key[p] == '*') {
                extended = true;
                p++;
            }
            if (p == key.size()) {
                continuations.push_back({key.substr(0, star), c_string(value), index, extended});
                plain = false;
            }
        }
        if (plain)
            params.list.emplace_back(key, c_string(value));
    }
    reader.set_nul_replacement(saved_replace);
    if (continuations.empty())
        return params;

    std::stable_sort(continuations.begin(), continuations.end(),
                     [](const ContinuationParam& a, const ContinuationParam& b) {
                         int cmp = a.key.compare(b.key);
                         if (cmp != 0)
                             return cmp < 0;
                         return a.index < b.index;
                     });
    for (size_t i = 0, next; i < continuations.size(); i = next) {
        bool complete = true;
        bool any_extended = false;
        unsigned int expected = 0;
        size_t j = i;
        for (; j < continuations.size(); j++) {
            if (strcasecmp(continuations[i].key.c_str(), continuations[j].key.c_str()) != 0)
                break;
            if (continuations[j].index != expected)
                complete = false;
            if (continuations[j].extended)
                any_extended = true;
            expected++;
        }
        next = j;
        if (!complete) {
            // Gaps in the numbering: keep the pieces as they were written.
            for (j = i; j < next; j++) {
                const auto& piece = continuations[j];
                std::string name = piece.key + "*" + std::to_string(piece.index);
                if (piece.extended)
                    name += "*";
                params.list.emplace_back(name, piece.value);
            }
            continue;
        }
        std::string merged;
        if (!continuations[i].extended && any_extended)
            merged = "''";
        for (j = i; j < next; j++) {
            if (!continuations[j].extended && any_extended)
                append_percent_escaped(merged, continuations[j].value);
            else
                merged += continuations[j].value;
        }
        std::string name = continuations[i].key;
        if (any_extended)
            name += "*";
        params.list.emplace_back(name, merged);
    }
    return params;
}

}  // namespace loft::mail
