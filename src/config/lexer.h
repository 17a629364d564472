// Splits dovecot.conf text into logical lines (key = value, section begin/end, !include),
// with Dovecot's rules for comments, quotes and '\' continuation lines.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loft::config {

enum class LineKind {
    KeyValue,     // key = value (quotes removed)
    KeyFile,      // key = <path
    KeyVariable,  // key = value that mentions $name, unquoted
    SectionBegin, // type [name] {
    SectionEnd,   // }
    Include,      // !include pattern
    IncludeTry,   // !include_try pattern
    Error,        // value holds the message
};

struct LogicalLine {
    LineKind kind;
    std::string key;    // setting name, section type, or include keyword
    std::string value;  // value, section name ("" if none), include pattern, error text
    unsigned line = 0;  // physical line the logical line ends on
    bool ambiguous_hash = false;  // '#' without a space before it was taken as a comment
};

// Dovecot's unescaping inside quotes: a backslash keeps the next character. With
// control_escapes, \n \r \t also mean newline, CR and tab (Loft's serialized form).
std::string unescape(std::string_view text, bool control_escapes = false);

class Lexer {
public:
    static constexpr size_t kMaxLineLength = 1024 * 1024;
    static constexpr unsigned kMaxContinuationLines = 10000;

    explicit Lexer(std::string_view text, bool control_escapes = false)
        : text_(text), control_escapes_(control_escapes)
    {
    }
    // Next meaningful line; nullopt at the end. Comments and blank lines are skipped.
    std::optional<LogicalLine> next();

private:
    std::optional<LogicalLine> parse(std::string line, unsigned line_number, bool ambiguous);

    std::string_view text_;
    size_t pos_ = 0;
    unsigned line_number_ = 0;
    bool control_escapes_;
};

}  // namespace loft::config
