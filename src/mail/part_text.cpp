#include "mail/part_text.h"

#include "mail/charset.h"
#include "mail/transfer_encoding.h"

#include <strings.h>

namespace loft::mail {

namespace {

std::string charset_of(const PartData& data)
{
    for (const MimeParam& param : data.content_type_params) {
        if (strcasecmp(param.name.c_str(), "charset") == 0)
            return param.value;
    }
    return "us-ascii";
}

void visit(std::string_view message, const MessagePart& part,
           void (*callback)(const MessagePart&, const std::string&, void*), void* context)
{
    if (part.children.empty() && !part.has(kPartMultipart)) {
        callback(part, decoded_part_text(message, part), context);
        return;
    }
    for (const auto& child : part.children)
        visit(message, *child, callback, context);
}

}  // namespace

std::string decoded_part_text(std::string_view message, const MessagePart& part)
{
    if (part.has(kPartMultipart) || !part.children.empty())
        return std::string();
    size_t start = part.physical_pos + part.header_size.physical_size;
    std::string_view body = message.substr(start, part.body_size.physical_size);
    TransferEncoding encoding = parse_transfer_encoding(part.data.content_transfer_encoding.value_or(""));
    std::string bytes;
    switch (encoding) {
    case TransferEncoding::Base64:
        decode_base64(body, bytes);
        break;
    case TransferEncoding::QuotedPrintable:
        decode_quoted_printable(body, bytes);
        break;
    default:
        bytes.assign(body);
        break;
    }
    if (!part.has(kPartText))
        return sanitize_utf8(bytes);
    auto converted = convert_to_utf8(charset_of(part.data), bytes);
    return converted ? *converted : sanitize_utf8(bytes);
}

void for_each_part_text(std::string_view message, const MessagePart& root,
                        void (*callback)(const MessagePart& part, const std::string& text, void* context),
                        void* context)
{
    visit(message, root, callback, context);
}

}  // namespace loft::mail
