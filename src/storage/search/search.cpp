#include "storage/search/search.h"

#include <algorithm>

#include "lib/strings.h"
#include "mail/address.h"
#include "mail/rfc2047.h"
#include "storage/search/text_fold.h"

#include <cctype>
#include <ctime>

namespace loft::storage::search {
namespace {

using imap::protocol::SearchKey;
using Kind = SearchKey::Kind;

constexpr int64_t kDay = 24 * 3600;

bool is_address_header(std::string_view field)
{
    return field == "FROM" || field == "TO" || field == "CC" || field == "BCC";
}

// Dovecot writes a display name in quotes unless it is all atext (RFC 5322) or 8-bit:
// "Bob Jones" and "Bob.Jones" get quotes, Bob's and Bob#Jones do not (measured).
bool needs_quotes(std::string_view name)
{
    static constexpr std::string_view kAtextSpecials = "!#$%&'*+-/=?^_`{|}~";
    for (char c : name) {
        auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x80 || std::isalnum(byte) || kAtextSpecials.find(c) != std::string_view::npos)
            continue;
        return true;
    }
    return false;
}

// The address list written back in normal form, the text FROM/TO/CC/BCC search in.
std::string normalized_addresses(std::string_view value)
{
    std::string out;
    bool in_group = false;
    bool first_in_group = true;
    for (const auto& addr : mail::parse_address_list(value)) {
        bool group_start = addr.mailbox && !addr.domain && !in_group;
        bool group_end = !addr.name && !addr.route && !addr.mailbox && !addr.domain;
        if (group_end) {
            out += ';';
            in_group = false;
            continue;
        }
        if (!out.empty() && !(in_group && first_in_group))
            out += ", ";
        if (group_start) {
            out += *addr.mailbox;
            out += ": ";
            in_group = true;
            first_in_group = true;
            continue;
        }
        first_in_group = false;
        std::string spec = addr.mailbox.value_or("");
        if (addr.domain && !addr.domain->empty())
            spec += "@" + *addr.domain;
        if (addr.name && !addr.name->empty()) {
            if (needs_quotes(*addr.name)) {
                out += '"';
                for (char c : *addr.name) {
                    if (c == '"' || c == '\\')
                        out += '\\';
                    out += c;
                }
                out += '"';
            } else {
                out += *addr.name;
            }
            out += " <";
            if (addr.route && !addr.route->empty())
                out += *addr.route + ":";
            out += spec + ">";
        } else {
            // Dovecot writes a bare address in brackets too, with its route.
            out += "<";
            if (addr.route && !addr.route->empty())
                out += *addr.route + ":";
            out += spec + ">";
        }
    }
    return out;
}

// SUBJECT (not HEADER SUBJECT) compares with every run of spaces and tabs as one space.
std::string compress_whitespace(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    bool in_space = false;
    for (char c : text) {
        bool space = c == ' ' || c == '\t';
        if (space && in_space)
            continue;
        out += space ? ' ' : c;
        in_space = space;
    }
    return out;
}

bool on_day(int64_t time, int64_t day_start) { return time >= day_start && time < day_start + kDay; }

// RFC 3501 ignores the sender's zone, so SENT* compare the sender's wall clock. A
// missing or unreadable Date: counts as the epoch, as in Dovecot 2.3.
int64_t sent_wall_clock(MessageView& message)
{
    const auto& sent = message.sent_date();
    return sent ? sent->utc_seconds + static_cast<int64_t>(sent->tz_offset_minutes) * 60 : 0;
}

bool has_keyword(const Flags& flags, std::string_view keyword)
{
    for (const auto& k : flags.keywords)
        if (iequals(k, keyword))
            return true;
    return false;
}

}  // namespace

MessageSet::MessageSet(std::vector<SearchMessage> messages, SearchOptions options) : options_(options)
{
    views_.reserve(messages.size());
    for (auto& message : messages)
        views_.emplace_back(std::move(message));
    if (options_.now == 0)
        options_.now = static_cast<int64_t>(std::time(nullptr));
}

std::vector<uint32_t> MessageSet::matching_sequences(const imap::protocol::SearchProgram& program)
{
    std::vector<uint32_t> result;
    for (uint32_t seq = 1; seq <= count(); ++seq)
        if (matches(program.root, seq, 0))
            result.push_back(seq);
    return result;
}

std::vector<uint32_t> MessageSet::search(const imap::protocol::SearchProgram& program)
{
    return to_uids(matching_sequences(program));
}

std::vector<uint32_t> MessageSet::to_uids(const std::vector<uint32_t>& sequences) const
{
    std::vector<uint32_t> uids;
    uids.reserve(sequences.size());
    for (uint32_t seq : sequences)
        uids.push_back(uid(seq));
    return uids;
}

bool MessageSet::match_header(const SearchKey& key, MessageView& message)
{
    auto values = message.raw_header_values(key.field);
    if (values.empty())
        return false;
    if (key.value.empty())
        return true;  // an empty string asks only whether the field exists
    std::string needle = fold_case(key.value);
    for (const std::string& value : values) {
        bool addresses = !key.raw_header && is_address_header(key.field);
        std::string text = addresses ? normalized_addresses(value) : std::string(value);
        std::string decoded = mail::decode_header_text(text);
        if (!key.raw_header && key.field == "SUBJECT")
            decoded = compress_whitespace(decoded);
        if (contains_folded(decoded, needle))
            return true;
    }
    return false;
}

void MessageSet::set_saved_result(std::vector<uint32_t> uids)
{
    std::sort(uids.begin(), uids.end());
    saved_uids_ = std::move(uids);
}

bool MessageSet::matches(const SearchKey& key, uint32_t seq, size_t depth)
{
    if (depth > options_.max_depth)
        throw SearchError("search program nested too deeply");
    MessageView& message = view(seq);
    const MessageInfo& info = message.info();
    auto local_midnight = [this](const imap::protocol::Date& date) {
        return imap::protocol::date_to_utc_seconds(date) - static_cast<int64_t>(options_.tz_offset_minutes) * 60;
    };
    switch (key.kind) {
    case Kind::All:
        return true;
    case Kind::And:
        for (const auto& child : key.children)
            if (!matches(child, seq, depth + 1))
                return false;
        return true;
    case Kind::Or:
        for (const auto& child : key.children)
            if (matches(child, seq, depth + 1))
                return true;
        return false;
    case Kind::Not:
        return key.children.empty() || !matches(key.children.front(), seq, depth + 1);
    case Kind::SequenceSet:
        if (key.set.is_saved_result())
            return std::binary_search(saved_uids_.begin(), saved_uids_.end(), info.uid);
        return key.set.contains(seq, count());
    case Kind::Uid: {
        if (key.set.is_saved_result())
            return std::binary_search(saved_uids_.begin(), saved_uids_.end(), info.uid);
        uint32_t highest = count() == 0 ? 0 : uid(count());
        return key.set.contains(info.uid, highest);
    }
    case Kind::Flag:
        return (info.flags.system & key.flag) != 0;
    case Kind::NoFlag:
        return (info.flags.system & key.flag) == 0;
    case Kind::Keyword:
        return has_keyword(info.flags, key.value);
    case Kind::NoKeyword:
        return !has_keyword(info.flags, key.value);
    case Kind::New:
        return (info.flags.system & Recent) != 0 && (info.flags.system & Seen) == 0;
    case Kind::Old:
        return (info.flags.system & Recent) == 0;
    case Kind::Before:
    case Kind::SavedBefore:  // Maildir keeps no save date: Dovecot uses the received date
        return info.internal_date < local_midnight(key.date);
    case Kind::On:
    case Kind::SavedOn:
        return on_day(info.internal_date, local_midnight(key.date));
    case Kind::Since:
    case Kind::SavedSince:
        return info.internal_date >= local_midnight(key.date);
    case Kind::SentBefore:
        return sent_wall_clock(message) < imap::protocol::date_to_utc_seconds(key.date);
    case Kind::SentOn:
        return on_day(sent_wall_clock(message), imap::protocol::date_to_utc_seconds(key.date));
    case Kind::SentSince:
        return sent_wall_clock(message) >= imap::protocol::date_to_utc_seconds(key.date);
    case Kind::SaveDateSupported:
        return true;
    case Kind::Larger:
        return info.virtual_size > key.number;
    case Kind::Smaller:
        return info.virtual_size < key.number;
    case Kind::Header:
        return match_header(key, message);
    case Kind::Body:
        return message.folded_body_text().find(fold_case(key.value)) != std::string::npos;
    case Kind::Text:
        return message.folded_full_text().find(fold_case(key.value)) != std::string::npos;
    case Kind::ModSeq:
        return info.modseq >= key.number;
    case Kind::Older:
        return info.internal_date <= options_.now - static_cast<int64_t>(key.number);
    case Kind::Younger:
        return info.internal_date >= options_.now - static_cast<int64_t>(key.number);
    }
    return false;
}

}  // namespace loft::storage::search
