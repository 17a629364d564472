// Low-level RFC 822/5322 and MIME token reader (atoms, quoted strings, comments,
// domains, content types and parameters) with Dovecot's tolerance of broken input.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loft::mail {

bool is_atext(unsigned char c);
// atext minus the MIME tspecials '/', '?' and '='.
bool is_mime_token_char(unsigned char c);

// UTF-8 U+FFFD, written in place of NUL bytes inside strings taken from headers.
inline constexpr std::string_view kNulReplacement = "\xEF\xBF\xBD";

// Every read_* function returns 1 when more input follows, 0 at the end of the input
// (a value may still have been read) and -1 on invalid input. Blanks and comments after
// a token are skipped, not before it.
class Rfc822Reader {
public:
    explicit Rfc822Reader(std::string_view text, std::string* last_comment = nullptr)
        : text_(text), last_comment_(last_comment)
    {
    }

    bool at_end() const { return pos_ >= text_.size(); }
    // The current byte, or NUL at the end (callers test at_end() where it matters).
    char peek() const { return at_end() ? '\0' : text_[pos_]; }
    void advance() { pos_++; }
    size_t position() const { return pos_; }
    void set_position(size_t pos) { pos_ = pos; }
    void set_nul_replacement(bool replace) { replace_nuls_ = replace; }
    bool replaces_nuls() const { return replace_nuls_; }

    int skip_comment();
    int skip_lwsp();
    int read_atom(std::string& out);
    int read_dot_atom(std::string& out);
    int read_mime_token(std::string& out);
    int read_quoted_string(std::string& out);
    int read_phrase(std::string& out);
    int read_domain(std::string& out);  // at '@'
    int read_content_type(std::string& out);
    // One ";" attribute "=" value; 0 at the end of input, 1 with key/value set, -1 broken.
    int read_content_param(std::string& key, std::string& value);

private:
    int read_atom_or_dot(std::string& out);
    int read_domain_literal(std::string& out);
    void append_nul_replacement(std::string& out) const;

    std::string_view text_;
    size_t pos_ = 0;
    std::string* last_comment_;
    bool replace_nuls_ = false;
};

// MIME parameters after the content type / disposition token, with RFC 2231 continuations
// merged (key*0*, key*1 ... -> key*) but not decoded, in Dovecot's order.
struct MimeParams {
    std::vector<std::pair<std::string, std::string>> list;
    bool broken = false;
};
MimeParams read_mime_params(Rfc822Reader& reader);

// Truncates at the first NUL, as a C string copy would.
std::string c_string(std::string_view text);

}  // namespace loft::mail
