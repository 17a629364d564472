#include "config/lexer.h"

namespace loft::config {
namespace {

bool is_white(char c) { return c == ' ' || c == '\t'; }

// Cuts a comment from line. Quotes protect '#'; returns whether a '#' glued to the
// previous word was treated as a comment (Dovecot warns about that).
bool strip_comment(std::string& line)
{
    for (size_t i = 0; i < line.size(); i++) {
        char c = line[i];
        if (c == '\'' || c == '"') {
            size_t j = i + 1;
            for (; j < line.size() && line[j] != c; j++) {
                if (line[j] == '\\' && j + 1 < line.size())
                    j++;
            }
            if (j >= line.size())
                return false;
            i = j;
        } else if (c == '#') {
            bool ambiguous = i > 0 && !is_white(line[i - 1]);
            line.resize(i);
            return ambiguous;
        }
    }
    return false;
}

void trim_right(std::string& s)
{
    while (!s.empty() && is_white(s.back()))
        s.pop_back();
}

}  // namespace

std::string unescape(std::string_view text, bool control_escapes)
{
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); i++) {
        char c = text[i];
        if (c == '\\') {
            if (++i == text.size())
                break;
            c = text[i];
            if (control_escapes) {
                if (c == 'n') c = '\n';
                else if (c == 'r') c = '\r';
                else if (c == 't') c = '\t';
            }
        }
        out += c;
    }
    return out;
}

std::optional<LogicalLine> Lexer::next()
{
    std::string full;
    bool continuing = false;
    unsigned pieces = 0;
    bool ambiguous = false;
    while (pos_ < text_.size()) {
        size_t end = text_.find('\n', pos_);
        if (end == std::string_view::npos)
            end = text_.size();
        std::string_view raw = text_.substr(pos_, end - pos_);
        pos_ = end + 1;
        line_number_++;
        if (!raw.empty() && raw.back() == '\r')
            raw.remove_suffix(1);  // CRLF files read the same, as in Dovecot
        if (raw.size() > kMaxLineLength)
            return LogicalLine{LineKind::Error, "", "Line is too long", line_number_};

        std::string line(raw);
        size_t start = 0;
        while (start < line.size() && is_white(line[start]))
            start++;
        line.erase(0, start);
        if (line.empty() || line[0] == '#')
            continue;  // also inside a continuation, which carries on past it
        if (strip_comment(line))
            ambiguous = true;
        trim_right(line);
        if (!line.empty() && line.back() == '\\') {
            line.pop_back();
            trim_right(line);
            if (!line.empty()) {
                full += line;
                full += ' ';
            }
            continuing = true;
            if (++pieces > kMaxContinuationLines || full.size() > kMaxLineLength)
                return LogicalLine{LineKind::Error, "", "Line is too long", line_number_};
            continue;
        }
        if (continuing) {
            full += line;
            line = std::move(full);
        }
        return parse(std::move(line), line_number_, ambiguous);
    }
    // A continuation still open at the end of the text is dropped, as Dovecot does.
    return std::nullopt;
}

std::optional<LogicalLine> Lexer::parse(std::string line, unsigned line_number, bool ambiguous)
{
    LogicalLine out{LineKind::Error, "", "", line_number, ambiguous};
    if (line.empty())
        return next();  // a continuation that ended up empty

    size_t p = 0;
    while (p < line.size() && !is_white(line[p]) && line[p] != '=')
        p++;
    out.key = line.substr(0, p);
    while (p < line.size() && is_white(line[p]))
        p++;
    std::string_view rest = std::string_view(line).substr(p);

    if (out.key == "!include" || out.key == "!include_try") {
        out.kind = out.key == "!include" ? LineKind::Include : LineKind::IncludeTry;
        out.value = std::string(rest);
        return out;
    }

    if (!rest.empty() && rest[0] == '=') {
        rest.remove_prefix(1);
        while (!rest.empty() && is_white(rest[0]))
            rest.remove_prefix(1);
        if (!rest.empty() && rest[0] == '<') {
            rest.remove_prefix(1);
            while (!rest.empty() && is_white(rest[0]))
                rest.remove_prefix(1);
            out.kind = LineKind::KeyFile;
            out.value = std::string(rest);
            return out;
        }
        if (!rest.empty() && rest[0] != '\'' && rest[0] != '"' &&
            rest.find('$') != std::string_view::npos) {
            out.kind = LineKind::KeyVariable;
            out.value = std::string(rest);
            return out;
        }
        out.kind = LineKind::KeyValue;
        if (rest.size() >= 2 && ((rest.front() == '"' && rest.back() == '"') ||
                                 (rest.front() == '\'' && rest.back() == '\''))) {
            out.value = unescape(rest.substr(1, rest.size() - 2), control_escapes_);
        } else if (rest.size() == 1 && (rest[0] == '"' || rest[0] == '\'')) {
            // A lone quote is both the opening and closing one in Dovecot: empty value.
            out.value.clear();
        } else {
            out.value = std::string(rest);
        }
        return out;
    }

    if (out.key == "}" && rest.empty()) {
        out.kind = LineKind::SectionEnd;
        return out;
    }

    // Section begin, or an error.
    if (!rest.empty() && rest[0] == '{') {
        out.value.clear();
    } else {
        if (rest.empty() || rest[0] != '"') {
            size_t e = 0;
            while (e < rest.size() && !is_white(rest[e]))
                e++;
            out.value = std::string(rest.substr(0, e));
            rest.remove_prefix(e);
            while (!rest.empty() && is_white(rest[0]))
                rest.remove_prefix(1);
        } else {
            size_t close = rest.find('"', 1);
            if (close != std::string_view::npos) {
                out.value = unescape(rest.substr(1, close - 1), control_escapes_);
                rest.remove_prefix(close + 1);
                while (!rest.empty() && is_white(rest[0]))
                    rest.remove_prefix(1);
            } else {
                rest.remove_prefix(1);
            }
        }
        if (rest.empty() || rest[0] != '{') {
            out.kind = LineKind::Error;
            out.value = "Expecting '{'";
            return out;
        }
    }
    if (rest.size() > 1) {
        out.kind = LineKind::Error;
        out.value = "Garbage after '{'";
        return out;
    }
    out.kind = LineKind::SectionBegin;
    return out;
}

}  // namespace loft::config
