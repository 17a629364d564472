#include "imap/protocol/append_args.h"

namespace loft::imap::protocol {

namespace {

std::vector<CatenatePart> parse_catenate(const Arg& list)
{
    if (list.children.empty())
        throw CommandError("Empty CATENATE list");
    std::vector<CatenatePart> parts;
    const ArgList& items = list.children;
    for (size_t i = 0; i < items.size(); i += 2) {
        if (i + 1 >= items.size() || !items[i].is_atom())
            throw CommandError("Invalid arguments");
        CatenatePart part;
        if (items[i].is_atom("URL")) {
            part.is_url = true;
            // a URL sent as a literal may have been streamed away: unusable
            if ((!items[i + 1].is_string() && !items[i + 1].is_atom()) || items[i + 1].streamed)
                throw CommandError("Invalid arguments");
        } else if (items[i].is_atom("TEXT")) {
            if (items[i + 1].type != ArgType::Literal)
                throw CommandError("Invalid arguments");
        } else {
            throw CommandError("Invalid arguments");
        }
        part.value = &items[i + 1];
        parts.push_back(part);
    }
    return parts;
}

}  // namespace

AppendMessage parse_append_message(const ArgList& args, size_t& pos)
{
    if (pos >= args.size())
        throw CommandError("Missing message size");
    AppendMessage message;
    if (args[pos].is_list()) {
        message.flags = parse_flag_list(args[pos]);
        ++pos;
    }
    if (pos < args.size() && args[pos].type == ArgType::Quoted) {
        auto date = parse_date_time(args[pos].value);
        if (!date)
            throw CommandError("Invalid internal date");
        message.internal_date = date;
        ++pos;
    }
    if (pos >= args.size())
        throw CommandError("Invalid arguments");
    const Arg& body = args[pos];
    if (body.type == ArgType::Literal) {
        message.literal = &body;
        ++pos;
        return message;
    }
    if (body.is_atom("CATENATE") && pos + 1 < args.size() && args[pos + 1].is_list()) {
        message.catenate = parse_catenate(args[pos + 1]);
        pos += 2;
        return message;
    }
    throw CommandError("Invalid arguments");
}

std::vector<AppendMessage> parse_append(const ArgList& args)
{
    if (args.empty())
        throw CommandError("Invalid arguments");
    std::vector<AppendMessage> messages;
    size_t pos = 1;
    do {
        messages.push_back(parse_append_message(args, pos));
    } while (pos < args.size());
    return messages;
}

}  // namespace loft::imap::protocol
