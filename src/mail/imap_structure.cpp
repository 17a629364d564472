#include "mail/imap_structure.h"

#include "mail/imap_quote.h"
#include "mail/rfc822_tokens.h"

#include <strings.h>

namespace loft::mail {

namespace {

constexpr std::string_view kDefaultCharset = "us-ascii";
constexpr std::string_view kEmptyBody = "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0";
constexpr std::string_view kEmptyBodystructure =
    "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL";

bool iequal(const std::string& a, const char* b)
{
    return strcasecmp(a.c_str(), b) == 0;
}

void write_addresses(std::string& out, const std::vector<Address>& list)
{
    if (list.empty()) {
        out += "NIL";
        return;
    }
    out += '(';
    for (const Address& address : list) {
        out += '(';
        if (!address.name)
            out += "NIL";
        else
            imap_append_string_for_humans(out, c_string(*address.name));
        out += ' ';
        imap_append_nstring(out, address.route);
        out += ' ';
        imap_append_nstring(out, address.mailbox);
        out += ' ';
        imap_append_nstring(out, address.domain);
        out += ')';
    }
    out += ')';
}

void write_envelope_fields(std::string& out, const Envelope& envelope)
{
    imap_append_nstring_nolf(out, envelope.date);
    out += ' ';
    if (!envelope.subject)
        out += "NIL";
    else
        imap_append_string_for_humans(out, c_string(*envelope.subject));
    out += ' ';
    write_addresses(out, envelope.from);
    out += ' ';
    write_addresses(out, envelope.sender.empty() ? envelope.from : envelope.sender);
    out += ' ';
    write_addresses(out, envelope.reply_to.empty() ? envelope.from : envelope.reply_to);
    out += ' ';
    write_addresses(out, envelope.to);
    out += ' ';
    write_addresses(out, envelope.cc);
    out += ' ';
    write_addresses(out, envelope.bcc);
    out += ' ';
    imap_append_nstring_nolf(out, envelope.in_reply_to);
    out += ' ';
    imap_append_nstring_nolf(out, envelope.message_id);
}

void write_params(std::string& out, const std::vector<MimeParam>& params, bool default_charset)
{
    if (!default_charset && params.empty()) {
        out += "NIL";
        return;
    }
    out += '(';
    bool seen_charset = false;
    for (size_t i = 0; i < params.size(); i++) {
        if (i > 0)
            out += ' ';
        if (default_charset && iequal(params[i].name, "charset"))
            seen_charset = true;
        imap_append_string(out, params[i].name);
        out += ' ';
        imap_append_string(out, params[i].value);
    }
    if (default_charset && !seen_charset) {
        if (!params.empty())
            out += ' ';
        out += "\"charset\" \"";
        out += kDefaultCharset;
        out += '"';
    }
    out += ')';
}

void write_extension_common(std::string& out, const PartData& data)
{
    out += ' ';
    if (!data.content_disposition) {
        out += "NIL";
    } else {
        out += '(';
        imap_append_string(out, *data.content_disposition);
        out += ' ';
        write_params(out, data.content_disposition_params, false);
        out += ')';
    }
    out += ' ';
    if (!data.content_language) {
        out += "NIL";
    } else {
        out += '(';
        bool first = true;
        for (const std::string& language : *data.content_language) {
            if (!first)
                out += ' ';
            first = false;
            imap_append_string(out, language);
        }
        out += ')';
    }
    out += ' ';
    imap_append_nstring_nolf(out, data.content_location);
}

void write_part(std::string& out, const MessagePart& part, bool extended);

void write_siblings(std::string& out, const std::vector<std::unique_ptr<MessagePart>>& parts,
                    bool extended)
{
    for (const auto& child : parts) {
        out += '(';
        write_part(out, *child, extended);
        out += ')';
    }
}

void write_multipart(std::string& out, const MessagePart& part, bool extended)
{
    const PartData& data = part.data;
    if (!part.children.empty()) {
        write_siblings(out, part.children, extended);
    } else {
        // A multipart without parts is not allowed; Dovecot shows an empty text part.
        out += '(';
        out += extended ? kEmptyBodystructure : kEmptyBody;
        out += ')';
    }
    out += ' ';
    imap_append_string(out, data.content_subtype.value_or(""));
    if (!extended)
        return;
    out += ' ';
    write_params(out, data.content_type_params, false);
    write_extension_common(out, data);
}

// A message/rfc822 or multipart that a limit kept from being parsed as such.
bool is_truncated(const MessagePart& part)
{
    const PartData& data = part.data;
    if (data.content_type) {
        if (iequal(*data.content_type, "message") && iequal(data.content_subtype.value_or(""), "rfc822"))
            return true;
        if (iequal(*data.content_type, "multipart"))
            return true;
        return false;
    }
    return part.parent != nullptr && part.parent->has(kPartMultipartDigest);
}

void write_single(std::string& out, const MessagePart& part, bool extended)
{
    const PartData& data = part.data;
    bool text;
    if (part.has(kPartMessageRfc822)) {
        out += "\"message\" \"rfc822\"";
        text = false;
    } else if (is_truncated(part)) {
        out += "\"application\" \"octet-stream\"";
        text = false;
    } else if (!data.content_type) {
        text = true;
        out += "\"text\" \"plain\"";
    } else {
        text = iequal(*data.content_type, "text");
        imap_append_string(out, *data.content_type);
        out += ' ';
        imap_append_string(out, data.content_subtype.value_or(""));
    }
    out += ' ';
    write_params(out, data.content_type_params, text);
    out += ' ';
    imap_append_nstring_nolf(out, data.content_id);
    out += ' ';
    imap_append_nstring_nolf(out, data.content_description);
    out += ' ';
    if (data.content_transfer_encoding)
        imap_append_string(out, *data.content_transfer_encoding);
    else
        out += "\"7bit\"";
    out += ' ';
    out += std::to_string(part.body_size.virtual_size);
    if (text) {
        out += ' ';
        out += std::to_string(part.body_size.lines);
    } else if (part.has(kPartMessageRfc822) && !part.children.empty()) {
        const MessagePart& child = *part.children.front();
        out += " (";
        if (child.data.envelope)
            write_envelope_fields(out, *child.data.envelope);
        else
            out += "NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL";
        out += ") ";
        write_siblings(out, part.children, extended);
        out += ' ';
        out += std::to_string(part.body_size.lines);
    }
    if (!extended)
        return;
    out += ' ';
    imap_append_nstring_nolf(out, data.content_md5);
    write_extension_common(out, data);
}

void write_part(std::string& out, const MessagePart& part, bool extended)
{
    if (part.has(kPartMultipart))
        write_multipart(out, part, extended);
    else
        write_single(out, part, extended);
}

}  // namespace

std::string imap_envelope(const Envelope& envelope)
{
    std::string out = "(";
    write_envelope_fields(out, envelope);
    out += ')';
    return out;
}

std::string imap_envelope(std::string_view message)
{
    return imap_envelope(parse_envelope(message));
}

std::string imap_bodystructure(const MessagePart& part, bool extended)
{
    std::string out = "(";
    write_part(out, part, extended);
    out += ')';
    return out;
}

}  // namespace loft::mail
