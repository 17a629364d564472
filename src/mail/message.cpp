#include "mail/message.h"

#include "mail/header_lines.h"

namespace loft::mail {

namespace {

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
    while (pos < header_block.size()) {
        HeaderLine line = read_header_line(header_block, pos);
        if (line.kind != HeaderLine::Kind::Field)
            break;
        pos = line.end;
        if (fields.size() >= limits.max_fields)
            throw MessageLimitError("header has more than " + std::to_string(limits.max_fields) +
                                    " fields");
        // Unfold: the line breaks go, the blanks that start continuation lines stay.
        std::string value;
        value.reserve(line.full_value.size());
        for (char c : line.full_value) {
            if (c != '\n')
                value.push_back(c);
        }
        fields.push_back({std::move(line.name), std::move(value)});
    }
    return fields;
}

}  // namespace loft::mail
