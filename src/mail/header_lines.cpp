#include "mail/header_lines.h"

namespace loft::mail {

namespace {

// Dovecot treats header names longer than this as values of a nameless field.
constexpr size_t kMaxHeaderNameLength = 1000;

bool is_lwsp(char c)
{
    return c == ' ' || c == '\t';
}

struct PhysicalLine {
    size_t content_end;  // before CR LF / LF
    size_t next;         // start of the following line
    unsigned int newline_size;
};

PhysicalLine physical_line(std::string_view message, size_t pos)
{
    size_t lf = message.find('\n', pos);
    if (lf == std::string_view::npos)
        return {message.size(), message.size(), 0};
    if (lf > pos && message[lf - 1] == '\r')
        return {lf - 1, lf + 1, 2};
    return {lf, lf + 1, 1};
}

}  // namespace

HeaderLine read_header_line(std::string_view message, size_t pos)
{
    HeaderLine line;
    line.start = pos;
    if (pos >= message.size()) {
        line.end = pos;
        return line;
    }
    PhysicalLine first = physical_line(message, pos);
    if (first.content_end == pos && first.newline_size > 0) {
        line.kind = HeaderLine::Kind::EndOfHeader;
        line.end = first.next;
        line.last_newline_size = first.newline_size;
        return line;
    }
    line.kind = HeaderLine::Kind::Field;
    std::string_view content = message.substr(pos, first.content_end - pos);
    size_t colon = content.find(':');
    if (colon == std::string_view::npos) {
        line.full_value.assign(content);
    } else {
        size_t name_end = colon;
        while (name_end > 0 && is_lwsp(content[name_end - 1]))
            name_end--;
        if (name_end > kMaxHeaderNameLength) {
            line.full_value.assign(content);
        } else {
            line.name.assign(content.substr(0, name_end));
            std::string_view value = content.substr(colon + 1);
            size_t skip = 0;
            while (skip < value.size() && is_lwsp(value[skip]))
                skip++;
            if (skip == value.size() && skip > 0)
                skip = 1;
            line.full_value.assign(value.substr(skip));
        }
    }
    size_t next = first.next;
    unsigned int newline_size = first.newline_size;
    while (newline_size > 0 && next < message.size() && is_lwsp(message[next])) {
        PhysicalLine cont = physical_line(message, next);
        line.full_value += '\n';
        line.full_value.append(message.substr(next, cont.content_end - next));
        next = cont.next;
        newline_size = cont.newline_size;
    }
    line.end = next;
    line.last_newline_size = newline_size;
    return line;
}

}  // namespace loft::mail
