#include "storage/search/message_view.h"

#include "lib/strings.h"
#include "mail/header_lines.h"
#include "mail/part_text.h"
#include "mail/rfc2047.h"
#include "storage/search/text_fold.h"

namespace loft::storage::search {
namespace {

bool is_text_part(const mail::MessagePart& part)
{
    const auto& type = part.data.content_type;
    if (!type)
        return true;  // no Content-Type: text/plain (or message/rfc822 in a digest)
    return iequals(*type, "text") || iequals(*type, "message");
}

void append_header_text(std::string_view block, std::string& out)
{
    for (const auto& field : mail::parse_header(block)) {
        out += field.name;
        out += ": ";
        out += mail::decode_header_text(field.value);
        out += "\r\n";
    }
}

}  // namespace

MessageView::MessageView(SearchMessage message) : message_(std::move(message)) {}

const std::string& MessageView::bytes()
{
    if (!bytes_)
        bytes_ = message_.load ? message_.load() : std::string();
    return *bytes_;
}

const std::vector<mail::HeaderField>& MessageView::header_fields()
{
    if (!fields_) {
        const std::string& data = bytes();
        mail::MessageLayout layout = mail::find_header_end(data);
        fields_ = mail::parse_header(std::string_view(data).substr(0, layout.header_size));
    }
    return *fields_;
}

std::vector<std::string_view> MessageView::header_values(std::string_view name)
{
    std::vector<std::string_view> values;
    for (const auto& field : header_fields())
        if (iequals(field.name, name))
            values.emplace_back(field.value);
    return values;
}

std::optional<std::string_view> MessageView::first_header(std::string_view name)
{
    for (const auto& field : header_fields())
        if (iequals(field.name, name))
            return std::string_view(field.value);
    return std::nullopt;
}

std::vector<std::string> MessageView::raw_header_values(std::string_view name)
{
    std::vector<std::string> values;
    const std::string& data = bytes();
    std::string_view view(data);
    size_t pos = 0;
    for (size_t fields = 0; fields < 100000; ++fields) {
        mail::HeaderLine line = mail::read_header_line(view, pos);
        if (line.kind != mail::HeaderLine::Kind::Field || line.end <= pos)
            break;
        pos = line.end;
        if (!iequals(line.name, name))
            continue;
        std::string_view field = view.substr(line.start, line.end - line.start);
        size_t colon = field.find(':');
        if (colon == std::string_view::npos)
            continue;
        std::string value;
        for (char c : field.substr(colon + 1))
            if (c != '\r' && c != '\n')
                value += c;
        values.push_back(std::move(value));
    }
    return values;
}

const mail::MessagePart& MessageView::mime()
{
    if (!mime_)
        mime_ = mail::parse_mime(bytes());
    return *mime_;
}

const std::optional<SentDate>& MessageView::sent_date()
{
    if (!sent_date_) {
        auto value = first_header("Date");
        sent_date_ = value ? parse_date_header(*value) : std::nullopt;
    }
    return *sent_date_;
}

void MessageView::build_texts()
{
    std::string body, full;
    const std::string& data = bytes();
    std::string_view view(data);
    std::vector<const mail::MessagePart*> stack{&mime()};
    while (!stack.empty()) {
        const mail::MessagePart* part = stack.back();
        stack.pop_back();
        uint64_t header_start = part->physical_pos;
        uint64_t header_len = part->header_size.physical_size;
        if (header_start <= view.size())
            append_header_text(view.substr(header_start, header_len), full);
        if (part->children.empty() && is_text_part(*part)) {
            std::string text = mail::decoded_part_text(data, *part);
            body += text;
            full += text;
        }
        for (auto it = part->children.rbegin(); it != part->children.rend(); ++it)
            stack.push_back(it->get());
    }
    body_text_ = fold_case(body);
    full_text_ = fold_case(full);
}

const std::string& MessageView::folded_body_text()
{
    if (!body_text_)
        build_texts();
    return *body_text_;
}

const std::string& MessageView::folded_full_text()
{
    if (!full_text_)
        build_texts();
    return *full_text_;
}

}  // namespace loft::storage::search
