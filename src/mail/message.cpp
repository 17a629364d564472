#include "mail/message.h"

namespace loft::mail {

namespace {

// Dovecot treats header names longer than this as values of a nameless field.
constexpr size_t kMaxHeaderNameLength = 1000;

bool is_lwsp(char c)
{
    return c == ' ' || c == '\t';
}

// Length of the line starting at pos, including its LF (if any).
size_t line_length(std::string_view text, size_t pos)
{
    size_t lf = text.find('\n', pos);
    return lf == std::string_view::npos ? text.size() - pos : lf + 1 - pos;
}

bool is_empty_line(std::string_view text, size_t pos)
{
    return text.compare(pos, 1, "\n") == 0 || text.compare(pos, 2, "\r\n") == 0;
}

// The line's content without its LF or CRLF.
std::string_view line_content(std::string_view line)
{
    if (!line.empty() && line.back() == '\n')
        line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    return line;
}

}  // namespace

MessageLayout find_header_end(std::string_view message)
{
    size_t pos = 0;
    while (pos < message.size()) {
        if (is_empty_line(message, pos)) {
            size_t end = pos + (message[pos] == '\r' ? 2 : 1);
            return {end, end, message.size() - end};
        }
        pos += line_length(message, pos);
    }
    return {message.size(), message.size(), 0};
}

void CrlfConverter::convert_into(std::string_view chunk, std::string& out)
{
    out.reserve(out.size() + chunk.size() + chunk.size() / 16);
    size_t start = 0;
    while (start < chunk.size()) {
        size_t lf = chunk.find('\n', start);
        if (lf == std::string_view::npos) {
            out.append(chunk.substr(start));
            break;
        }
        out.append(chunk.substr(start, lf - start));
        bool preceded_by_cr = lf > 0 ? chunk[lf - 1] == '\r' : last_was_cr_;
        if (!preceded_by_cr)
            out.push_back('\r');
        out.push_back('\n');
        start = lf + 1;
    }
    if (!chunk.empty())
        last_was_cr_ = chunk.back() == '\r';
}

std::string CrlfConverter::convert(std::string_view chunk)
{
    std::string out;
    convert_into(chunk, out);
    return out;
}

uint64_t crlf_size(std::string_view message)
{
    uint64_t size = message.size();
    for (size_t i = 0; i < message.size(); i++) {
        if (message[i] == '\n' && (i == 0 || message[i - 1] != '\r'))
            size++;
    }
    return size;
}

std::vector<HeaderField> parse_header(std::string_view header_block, const HeaderLimits& limits)
{
    if (header_block.size() > limits.max_total_size)
        throw MessageLimitError("header block of " + std::to_string(header_block.size()) +
                                " bytes exceeds the limit of " +
                                std::to_string(limits.max_total_size));
    std::vector<HeaderField> fields;
    size_t pos = 0;
    while (pos < header_block.size() && !is_empty_line(header_block, pos)) {
        std::string_view line = header_block.substr(pos, line_length(header_block, pos));
        pos += line.size();
        std::string_view content = line_content(line);

        HeaderField field;
        size_t colon = content.find(':');
        if (colon == std::string_view::npos) {
            field.value.assign(content);
        } else {
            size_t name_end = colon;
            while (name_end > 0 && is_lwsp(content[name_end - 1]))
                name_end--;
            if (name_end > kMaxHeaderNameLength) {
                field.value.assign(content);
            } else {
                field.name.assign(content.substr(0, name_end));
                std::string_view value = content.substr(colon + 1);
                size_t skip = 0;
                while (skip < value.size() && is_lwsp(value[skip]))
                    skip++;
                if (skip == value.size() && skip > 0)
                    skip = 1;  // an all-blank value keeps all but the first blank
                field.value.assign(value.substr(skip));
            }
        }
        // Continuation lines start with a blank; the line break itself is dropped.
        while (pos < header_block.size() && is_lwsp(header_block[pos])) {
            std::string_view next = header_block.substr(pos, line_length(header_block, pos));
            pos += next.size();
            field.value.append(line_content(next));
        }
        if (fields.size() >= limits.max_fields)
            throw MessageLimitError("header has more than " + std::to_string(limits.max_fields) +
                                    " fields");
        fields.push_back(std::move(field));
    }
    return fields;
}

}  // namespace loft::mail
