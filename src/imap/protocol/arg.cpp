#include "imap/protocol/arg.h"

#include "lib/strings.h"

namespace loft::imap::protocol {

bool Arg::is_nil() const
{
    return type == ArgType::Atom && iequals(value, "NIL");
}

bool Arg::is_atom(std::string_view upper_name) const
{
    return type == ArgType::Atom && iequals(value, upper_name);
}

Arg Arg::atom(std::string text)
{
    Arg arg;
    arg.type = ArgType::Atom;
    arg.value = std::move(text);
    return arg;
}

Arg Arg::quoted(std::string text)
{
    Arg arg;
    arg.type = ArgType::Quoted;
    arg.value = std::move(text);
    return arg;
}

Arg Arg::literal(std::string bytes)
{
    Arg arg;
    arg.type = ArgType::Literal;
    arg.literal_size = bytes.size();
    arg.value = std::move(bytes);
    return arg;
}

Arg Arg::list(std::vector<Arg> items)
{
    Arg arg;
    arg.type = ArgType::List;
    arg.children = std::move(items);
    return arg;
}

std::string describe(const Arg& arg)
{
    switch (arg.type) {
    case ArgType::Atom:
        return arg.value;
    case ArgType::Quoted: {
        std::string out = "\"";
        for (char c : arg.value) {
            if (c == '"' || c == '\\')
                out.push_back('\\');
            out.push_back(c);
        }
        return out + "\"";
    }
    case ArgType::Literal:
        return std::string(arg.literal8 ? "~" : "") + "{" + std::to_string(arg.literal_size) + "}" +
               (arg.streamed ? "" : arg.value);
    case ArgType::List:
        return "(" + describe(arg.children) + ")";
    }
    return {};
}

std::string describe(const ArgList& args)
{
    std::string out;
    for (const Arg& arg : args) {
        if (!out.empty())
            out.push_back(' ');
        out += describe(arg);
    }
    return out;
}

}  // namespace loft::imap::protocol
