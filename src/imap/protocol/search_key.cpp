#include "imap/protocol/search_key.h"

#include "imap/protocol/arg_values.h"
#include "lib/strings.h"

#include <array>

namespace loft::imap::protocol {

namespace {

using Kind = SearchKey::Kind;

// NOT/OR chains nest without parentheses; bound them so recursion stays shallow.
constexpr size_t kMaxSearchDepth = 200;

struct FlagKey {
    std::string_view name;
    Kind kind;
    uint8_t flag;
};
constexpr std::array<FlagKey, 12> kFlagKeys{{
    {"ANSWERED", Kind::Flag, kFlagAnswered},
    {"DELETED", Kind::Flag, kFlagDeleted},
    {"DRAFT", Kind::Flag, kFlagDraft},
    {"FLAGGED", Kind::Flag, kFlagFlagged},
    {"SEEN", Kind::Flag, kFlagSeen},
    {"RECENT", Kind::Flag, kFlagRecent},
    {"UNANSWERED", Kind::NoFlag, kFlagAnswered},
    {"UNDELETED", Kind::NoFlag, kFlagDeleted},
    {"UNDRAFT", Kind::NoFlag, kFlagDraft},
    {"UNFLAGGED", Kind::NoFlag, kFlagFlagged},
    {"UNSEEN", Kind::NoFlag, kFlagSeen},
    {"OLD", Kind::Old, 0},
}};

struct DateKey {
    std::string_view name;
    Kind kind;
};
constexpr std::array<DateKey, 9> kDateKeys{{
    {"BEFORE", Kind::Before},
    {"ON", Kind::On},
    {"SINCE", Kind::Since},
    {"SENTBEFORE", Kind::SentBefore},
    {"SENTON", Kind::SentOn},
    {"SENTSINCE", Kind::SentSince},
    {"SAVEDBEFORE", Kind::SavedBefore},
    {"SAVEDON", Kind::SavedOn},
    {"SAVEDSINCE", Kind::SavedSince},
}};

constexpr std::array<std::string_view, 5> kAddressHeaders{"BCC", "CC", "FROM", "SUBJECT", "TO"};

class SearchParser {
public:
    SearchParser(const ArgList& args, size_t pos) : args_(args), pos_(pos) {}

    bool at_end() const { return pos_ >= args_.size(); }

    SearchKey parse_key(size_t depth)
    {
        if (depth > kMaxSearchDepth)
            throw CommandError("Too deep search query");
        if (at_end())
            throw CommandError("Missing argument");
        const Arg& arg = args_[pos_++];
        if (arg.is_list())
            return parse_group(arg.children, depth);
        if (!arg.is_atom())
            throw CommandError("Unexpected string as search key: " + arg.value);
        std::string name = to_upper(arg.value);

        SearchKey key;
        for (const auto& flag : kFlagKeys) {
            if (name == flag.name) {
                key.kind = flag.kind;
                key.flag = flag.flag;
                return key;
            }
        }
        for (const auto& date_key : kDateKeys) {
            if (name == date_key.name) {
                key.kind = date_key.kind;
                auto date = parse_date(string_param(name));
                if (!date)
                    throw CommandError("Invalid search date parameter");
                key.date = *date;
                return key;
            }
        }
        for (std::string_view header : kAddressHeaders) {
            if (name == header) {
                key.kind = Kind::Header;
                key.field = name;
                key.value = string_param(name);
                return key;
            }
        }
        if (name == "ALL") {
            key.kind = Kind::All;
        } else if (name == "NEW") {
            key.kind = Kind::New;
        } else if (name == "NOT") {
            key.kind = Kind::Not;
            key.children.push_back(parse_key(depth + 1));
        } else if (name == "OR") {
            key.kind = Kind::Or;
            key.children.push_back(parse_key(depth + 1));
            key.children.push_back(parse_key(depth + 1));
        } else if (name == "KEYWORD" || name == "UNKEYWORD") {
            key.kind = name == "KEYWORD" ? Kind::Keyword : Kind::NoKeyword;
            key.value = string_param(name);
        } else if (name == "HEADER") {
            key.kind = Kind::Header;
            key.raw_header = true;
            key.field = to_upper(string_param(name));
            key.value = string_param(name);
        } else if (name == "BODY" || name == "TEXT") {
            key.kind = name == "BODY" ? Kind::Body : Kind::Text;
            key.value = string_param(name);
        } else if (name == "LARGER" || name == "SMALLER") {
            key.kind = name == "LARGER" ? Kind::Larger : Kind::Smaller;
            auto size = parse_uint(string_param(name));
            if (!size)
                throw CommandError("Invalid search size parameter");
            key.number = *size;
        } else if (name == "UID") {
            key.kind = Kind::Uid;
            try {
                key.set = SequenceSet::parse(string_param(name));
            } catch (const CommandError&) {
                throw CommandError("Invalid UID messageset");
            }
        } else if (name == "MODSEQ") {
            parse_modseq(key);
        } else if (name == "OLDER" || name == "YOUNGER") {
            key.kind = name == "OLDER" ? Kind::Older : Kind::Younger;
            auto seconds = parse_uint(string_param(name));
            if (!seconds || *seconds == 0 || *seconds > UINT32_MAX)
                throw CommandError("Invalid search interval parameter");
            key.number = *seconds;
        } else if (name == "SAVEDATESUPPORTED") {
            key.kind = Kind::SaveDateSupported;
        } else if (name == "$" || (!name.empty() && (name[0] == '*' || (name[0] >= '0' && name[0] <= '9')))) {
            key.kind = Kind::SequenceSet;
            key.set = SequenceSet::parse(arg.value);
        } else {
            throw CommandError("Unknown argument " + name);
        }
        return key;
    }

private:
    SearchKey parse_group(const ArgList& items, size_t depth)
    {
        if (items.empty())
            throw CommandError("No search parameters inside list");
        SearchParser inner(items, 0);
        SearchKey group;
        group.kind = Kind::And;
        while (!inner.at_end())
            group.children.push_back(inner.parse_key(depth + 1));
        return group;
    }

    // The parameter of a search key: an atom or a string (Dovecot takes either).
    std::string string_param(std::string_view key_name)
    {
        if (at_end())
            throw CommandError("Missing parameter for search key (for search key: " + std::string(key_name) + ")");
        const Arg& arg = args_[pos_++];
        if (arg.is_list())
            throw CommandError("Unexpected ( (for search key: " + std::string(key_name) + ")");
        return astring(arg);
    }

    // MODSEQ [entry-name entry-type-req] mod-sequence-valzer
    void parse_modseq(SearchKey& key)
    {
        key.kind = Kind::ModSeq;
        if (!at_end() && args_[pos_].is_string()) {
            key.entry_name = string_param("MODSEQ");
            std::string type = to_upper(string_param("MODSEQ"));
            if (type != "PRIV" && type != "SHARED" && type != "ALL")
                throw CommandError("Invalid MODSEQ type");
            key.entry_type = type;
        }
        auto modseq = parse_mod_sequence(string_param("MODSEQ"), true);
        if (!modseq)
            throw CommandError("Invalid MODSEQ value");
        key.number = *modseq;
    }

    const ArgList& args_;
    size_t pos_;
};

}  // namespace

SearchProgram parse_search(const ArgList& args, size_t first)
{
    SearchProgram program;
    size_t pos = first;
    if (pos < args.size() && args[pos].is_atom("CHARSET")) {
        ++pos;
        if (pos >= args.size() || args[pos].is_list())
            throw CommandError("Invalid charset argument");
        program.charset = astring(args[pos]);
        ++pos;
    }
    program.root.kind = Kind::And;
    SearchParser parser(args, pos);
    if (parser.at_end())
        throw CommandError("Missing search parameters");
    while (!parser.at_end())
        program.root.children.push_back(parser.parse_key(0));
    return program;
}

std::string describe(const SearchKey& key)
{
    auto quote = [](const std::string& s) { return "\"" + s + "\""; };
    switch (key.kind) {
    case Kind::All: return "ALL";
    case Kind::And:
    case Kind::Or:
    case Kind::Not: {
        std::string out = key.kind == Kind::And ? "(AND" : key.kind == Kind::Or ? "(OR" : "(NOT";
        for (const auto& child : key.children)
            out += " " + describe(child);
        return out + ")";
    }
    case Kind::SequenceSet: return "(SEQ " + key.set.to_string() + ")";
    case Kind::Uid: return "(UID " + key.set.to_string() + ")";
    case Kind::Flag: return "(FLAG " + std::string(system_flag_name(SystemFlag(key.flag))) + ")";
    case Kind::NoFlag: return "(NOFLAG " + std::string(system_flag_name(SystemFlag(key.flag))) + ")";
    case Kind::Keyword: return "(KEYWORD " + key.value + ")";
    case Kind::NoKeyword: return "(NOKEYWORD " + key.value + ")";
    case Kind::New: return "NEW";
    case Kind::Old: return "OLD";
    case Kind::Before: return "(BEFORE " + format_date(key.date) + ")";
    case Kind::On: return "(ON " + format_date(key.date) + ")";
    case Kind::Since: return "(SINCE " + format_date(key.date) + ")";
    case Kind::SentBefore: return "(SENTBEFORE " + format_date(key.date) + ")";
    case Kind::SentOn: return "(SENTON " + format_date(key.date) + ")";
    case Kind::SentSince: return "(SENTSINCE " + format_date(key.date) + ")";
    case Kind::SavedBefore: return "(SAVEDBEFORE " + format_date(key.date) + ")";
    case Kind::SavedOn: return "(SAVEDON " + format_date(key.date) + ")";
    case Kind::SavedSince: return "(SAVEDSINCE " + format_date(key.date) + ")";
    case Kind::SaveDateSupported: return "SAVEDATESUPPORTED";
    case Kind::Larger: return "(LARGER " + std::to_string(key.number) + ")";
    case Kind::Smaller: return "(SMALLER " + std::to_string(key.number) + ")";
    case Kind::Header:
        return std::string(key.raw_header ? "(RAWHEADER " : "(HEADER ") + key.field + " " + quote(key.value) + ")";
    case Kind::Body: return "(BODY " + quote(key.value) + ")";
    case Kind::Text: return "(TEXT " + quote(key.value) + ")";
    case Kind::ModSeq:
        return "(MODSEQ " + (key.entry_name.empty() ? "" : quote(key.entry_name) + " " + key.entry_type + " ") +
               std::to_string(key.number) + ")";
    case Kind::Older: return "(OLDER " + std::to_string(key.number) + ")";
    case Kind::Younger: return "(YOUNGER " + std::to_string(key.number) + ")";
    }
    return "?";
}

}  // namespace loft::imap::protocol
