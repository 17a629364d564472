#include "imap/protocol/fetch_attributes.h"

#include "imap/protocol/arg_values.h"
#include "imap/protocol/response.h"
#include "lib/strings.h"

#include <array>

namespace loft::imap::protocol {

namespace {

using Kind = FetchAttribute::Kind;

constexpr size_t kMaxPartDepth = 100;

struct SimpleName {
    std::string_view name;
    Kind kind;
};
constexpr std::array<SimpleName, 17> kSimple{{
    {"UID", Kind::Uid},
    {"FLAGS", Kind::Flags},
    {"INTERNALDATE", Kind::InternalDate},
    {"RFC822.SIZE", Kind::Rfc822Size},
    {"RFC822", Kind::Rfc822},
    {"RFC822.HEADER", Kind::Rfc822Header},
    {"RFC822.TEXT", Kind::Rfc822Text},
    {"ENVELOPE", Kind::Envelope},
    {"BODY", Kind::Body},
    {"BODYSTRUCTURE", Kind::BodyStructure},
    {"MODSEQ", Kind::ModSeq},
    {"SAVEDATE", Kind::SaveDate},
    {"EMAILID", Kind::EmailId},
    {"THREADID", Kind::ThreadId},
    {"SNIPPET", Kind::Snippet},
    {"PREVIEW", Kind::Preview},
    {"X-SAVEDATE", Kind::SaveDate},
}};

FetchAttribute simple(Kind kind)
{
    FetchAttribute attribute;
    attribute.kind = kind;
    return attribute;
}

void add_macro(std::vector<FetchAttribute>& out, std::string_view upper)
{
    // ALL = (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE); FAST without ENVELOPE; FULL adds BODY
    out.push_back(simple(Kind::Flags));
    out.push_back(simple(Kind::InternalDate));
    out.push_back(simple(Kind::Rfc822Size));
    if (upper != "FAST")
        out.push_back(simple(Kind::Envelope));
    if (upper == "FULL")
        out.push_back(simple(Kind::Body));
}

std::optional<uint64_t> read_number(std::string_view& text)
{
    size_t length = 0;
    uint64_t value = 0;
    while (length < text.size() && text[length] >= '0' && text[length] <= '9') {
        uint64_t digit = uint64_t(text[length] - '0');
        if (value > (uint64_t(INT64_MAX) - digit) / 10)
            return std::nullopt;
        value = value * 10 + digit;
        ++length;
    }
    if (length == 0)
        return std::nullopt;
    text.remove_prefix(length);
    return value;
}

// "<o.n>" after the closing bracket.
void parse_partial(std::string_view text, FetchAttribute& attribute, std::string_view label)
{
    if (text.empty())
        return;
    std::string prefix = "Invalid " + std::string(label) + "[..] parameter: ";
    if (text[0] != '<')
        throw CommandError(prefix + "Unexpected data after ']'");
    text.remove_prefix(1);
    // Dovecot reports a missing number like an overflowing one.
    auto offset = read_number(text);
    if (!offset)
        throw CommandError(prefix + "Too big partial start");
    attribute.partial_offset = offset;
    if (!text.empty() && text[0] == '.') {
        text.remove_prefix(1);
        auto length = read_number(text);
        if (!length)
            throw CommandError(prefix + "Too big partial end");
        attribute.partial_length = length;
    }
    if (text.empty() || text[0] != '>')
        throw CommandError(prefix + "Missing '>' in partial");
    if (text.size() != 1)
        throw CommandError(prefix + "Unexpected data after '>'");
}

// BODY[...], BODY.PEEK[...], BINARY[...], BINARY.PEEK[...], BINARY.SIZE[...]
// starting at args[index]; consumes a header list and "]..." atom when present.
FetchAttribute parse_section_attribute(const ArgList& args, size_t& index, std::string_view upper)
{
    FetchAttribute attribute;
    bool binary = upper.starts_with("BINARY");
    std::string_view label = binary ? "BINARY" : "BODY";
    std::string_view rest = upper.substr(label.size());
    attribute.kind = binary ? Kind::BinarySection : Kind::BodySection;
    if (rest.starts_with(".PEEK")) {
        attribute.peek = true;
        rest.remove_prefix(5);
    } else if (binary && rest.starts_with(".SIZE")) {
        attribute.kind = Kind::BinarySize;
        rest.remove_prefix(5);
    }
    std::string prefix = "Invalid " + std::string(label) + "[..] parameter: ";
    if (rest.empty() || rest[0] != '[')
        throw CommandError(prefix + "Missing '['");
    rest.remove_prefix(1);
    // Keep the original spelling of what follows "]" for the partial parse.
    std::string_view original = args[index].value;
    std::string after_bracket;
    size_t close = rest.find(']');
    if (close == std::string_view::npos) {
        // BODY[HEADER.FIELDS (list)]...: the list and "]..." are separate arguments
        if (index + 1 >= args.size() || !args[index + 1].is_list() || index + 2 >= args.size() ||
            !args[index + 2].is_atom() || args[index + 2].value.empty() || args[index + 2].value[0] != ']')
            throw CommandError(prefix + "Missing ']'");
        std::string spec(rest);
        std::string_view spec_view = spec;
        if (spec_view != "HEADER.FIELDS" && spec_view != "HEADER.FIELDS.NOT" &&
            !spec_view.ends_with(".HEADER.FIELDS") && !spec_view.ends_with(".HEADER.FIELDS.NOT"))
            throw CommandError("Invalid " + std::string(label) + "[..] section");
        attribute.section = parse_section(spec + " ()");
        for (const Arg& field : args[index + 1].children) {
            if (field.is_list() || field.streamed || field.literal8)
                throw CommandError(prefix + "Header list contains non-strings");
            if (field.value.empty() || field.value.find_first_of(" :\r\n\t") != std::string::npos)
                throw CommandError("Invalid " + std::string(label) + "[..] section");
            attribute.section.fields.push_back(to_upper(field.value));
        }
        if (attribute.section.fields.empty())
            throw CommandError("Invalid " + std::string(label) + "[..] section");
        after_bracket = args[index + 2].value.substr(1);
        index += 2;
    } else {
        attribute.section = parse_section(rest.substr(0, close));
        after_bracket = std::string(original.substr(original.size() - (rest.size() - close - 1)));
    }
    // BINARY.SIZE ignores what follows "]"; BINARY takes any section, like Dovecot.
    if (attribute.kind != Kind::BinarySize)
        parse_partial(after_bracket, attribute, label);
    return attribute;
}

FetchAttribute parse_preview(const ArgList& args, size_t& index, Kind kind)
{
    FetchAttribute attribute = simple(kind);
    if (index + 1 < args.size() && args[index + 1].is_list()) {
        for (const Arg& modifier : args[index + 1].children) {
            if (!modifier.is_atom())
                throw CommandError("Invalid PREVIEW algorithm/modifier");
            std::string upper = to_upper(modifier.value);
            if (upper == "LAZY" || upper == "LAZY=FUZZY")
                attribute.lazy = true;
            else if (upper != "FUZZY")
                throw CommandError("'" + modifier.value + "' is not a supported PREVIEW modifier");
        }
        ++index;
    }
    return attribute;
}

void parse_one(const ArgList& args, size_t& index, std::vector<FetchAttribute>& out)
{
    const Arg& arg = args[index];
    if (!arg.is_atom())
        throw CommandError("FETCH list contains non-atoms");
    // Dovecot picks the handler by prefix, so "BODY.X" fails on the missing "[".
    std::string upper = to_upper(arg.value);
    if (upper.find('[') != std::string::npos &&
        (upper.starts_with("BODY") || upper.starts_with("BINARY"))) {
        out.push_back(parse_section_attribute(args, index, upper));
        return;
    }
    if ((upper == "SNIPPET" || upper == "PREVIEW")) {
        out.push_back(parse_preview(args, index, upper == "SNIPPET" ? Kind::Snippet : Kind::Preview));
        return;
    }
    for (const auto& known : kSimple) {
        if (upper == known.name) {
            out.push_back(simple(known.kind));
            return;
        }
    }
    if (upper.starts_with("BODY") || upper.starts_with("BINARY"))
        parse_section_attribute(args, index, upper);  // throws "Missing '['"
    if (upper.starts_with("RFC822"))
        throw CommandError("Unknown parameter " + upper);
    throw CommandError("Unknown parameter: " + upper);
}

void parse_modifiers(const Arg& list, FetchRequest& request)
{
    const ArgList& items = list.children;
    for (size_t i = 0; i < items.size(); ++i) {
        if (!items[i].is_atom())
            throw CommandError("FETCH modifiers contain non-atoms");
        std::string name = to_upper(items[i].value);
        if (name == "CHANGEDSINCE") {
            if (i + 1 >= items.size() || !items[i + 1].is_atom())
                throw CommandError("Invalid CHANGEDSINCE modseq");
            auto modseq = parse_mod_sequence(items[i + 1].value, true);
            if (!modseq)
                throw CommandError("Invalid CHANGEDSINCE modseq");
            request.changed_since = modseq;
            ++i;
        } else if (name == "VANISHED") {
            request.vanished = true;
        } else {
            throw CommandError("Unknown FETCH modifier");
        }
    }
}

}  // namespace

std::string Section::to_string() const
{
    std::string out;
    for (uint32_t number : part) {
        if (!out.empty())
            out.push_back('.');
        out += std::to_string(number);
    }
    std::string_view spec;
    switch (kind) {
    case Kind::Full: return out;
    case Kind::Header: spec = "HEADER"; break;
    case Kind::HeaderFields: spec = "HEADER.FIELDS"; break;
    case Kind::HeaderFieldsNot: spec = "HEADER.FIELDS.NOT"; break;
    case Kind::Text: spec = "TEXT"; break;
    case Kind::Mime: spec = "MIME"; break;
    }
    if (!out.empty())
        out.push_back('.');
    out += spec;
    if (kind == Kind::HeaderFields || kind == Kind::HeaderFieldsNot) {
        out += " (";
        for (size_t i = 0; i < fields.size(); ++i) {
            if (i > 0)
                out.push_back(' ');
            out += astring_text(fields[i]);
        }
        out += ")";
    }
    return out;
}

Section parse_section(std::string_view text)
{
    Section section;
    std::string upper = to_upper(text);
    std::string_view rest = upper;
    auto invalid = [] { throw CommandError("Invalid BODY[..] section"); };
    while (!rest.empty() && rest[0] >= '0' && rest[0] <= '9') {
        auto number = read_number(rest);
        // part 0 is accepted (and finds nothing), as in Dovecot
        if (!number || *number > UINT32_MAX || section.part.size() >= kMaxPartDepth)
            invalid();
        section.part.push_back(uint32_t(*number));
        if (rest.empty())
            return section;
        if (rest[0] != '.')
            invalid();
        rest.remove_prefix(1);
        if (rest.empty())
            invalid();
    }
    if (rest.empty())
        return section;
    if (rest == "HEADER") {
        section.kind = Section::Kind::Header;
    } else if (rest == "TEXT") {
        section.kind = Section::Kind::Text;
    } else if (rest == "MIME") {
        if (section.part.empty())
            invalid();
        section.kind = Section::Kind::Mime;
    } else if (rest == "HEADER.FIELDS ()") {
        section.kind = Section::Kind::HeaderFields;
    } else if (rest == "HEADER.FIELDS.NOT ()") {
        section.kind = Section::Kind::HeaderFieldsNot;
    } else {
        invalid();
    }
    return section;
}

bool FetchAttribute::sets_seen() const
{
    switch (kind) {
    case Kind::Rfc822:
    case Kind::Rfc822Text:
        return true;
    case Kind::BodySection:
    case Kind::BinarySection:
        return !peek;
    default:
        return false;
    }
}

std::string FetchAttribute::response_name() const
{
    switch (kind) {
    case Kind::Uid: return "UID";
    case Kind::Flags: return "FLAGS";
    case Kind::InternalDate: return "INTERNALDATE";
    case Kind::Rfc822Size: return "RFC822.SIZE";
    case Kind::Rfc822: return "RFC822";
    case Kind::Rfc822Header: return "RFC822.HEADER";
    case Kind::Rfc822Text: return "RFC822.TEXT";
    case Kind::Envelope: return "ENVELOPE";
    case Kind::Body: return "BODY";
    case Kind::BodyStructure: return "BODYSTRUCTURE";
    case Kind::ModSeq: return "MODSEQ";
    case Kind::SaveDate: return "SAVEDATE";
    case Kind::EmailId: return "EMAILID";
    case Kind::ThreadId: return "THREADID";
    case Kind::Snippet: return "SNIPPET";
    case Kind::Preview: return "PREVIEW";
    case Kind::BinarySize: return "BINARY.SIZE[" + section.to_string() + "]";
    case Kind::BodySection:
    case Kind::BinarySection: {
        std::string name = std::string(kind == Kind::BodySection ? "BODY[" : "BINARY[") + section.to_string() + "]";
        if (partial_offset)
            name += "<" + std::to_string(*partial_offset) + ">";
        return name;
    }
    }
    return {};
}

FetchRequest parse_fetch(const ArgList& args, size_t first)
{
    FetchRequest request;
    if (first >= args.size())
        throw CommandError("Invalid arguments");
    const Arg& spec = args[first];
    if (spec.is_list()) {
        const ArgList& items = spec.children;
        if (items.empty())
            throw CommandError("FETCH list is empty");
        for (size_t i = 0; i < items.size(); ++i)
            parse_one(items, i, request.attributes);
        ++first;
    } else {
        std::string upper = spec.is_atom() ? to_upper(spec.value) : std::string();
        if (upper == "ALL" || upper == "FAST" || upper == "FULL") {
            add_macro(request.attributes, upper);
            ++first;
        } else {
            size_t index = first;
            parse_one(args, index, request.attributes);
            first = index + 1;
        }
    }
    if (first < args.size()) {
        if (!args[first].is_list() || first + 1 != args.size())
            throw CommandError("Invalid arguments");
        parse_modifiers(args[first], request);
    }
    return request;
}

}  // namespace loft::imap::protocol
