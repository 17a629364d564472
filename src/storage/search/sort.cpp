#include "storage/search/sort.h"

#include "lib/strings.h"
#include "mail/address.h"
#include "mail/rfc2047.h"
#include "storage/search/base_subject.h"
#include "storage/search/text_fold.h"

#include <algorithm>
#include <map>
#include <variant>

namespace loft::storage::search {
namespace {

constexpr size_t kMaxCriteria = 64;

std::optional<mail::Address> first_address(MessageView& message, std::string_view header)
{
    auto value = message.first_header(header);
    if (!value)
        return std::nullopt;
    auto list = mail::parse_address_list(*value, 1);
    if (list.empty())
        return std::nullopt;
    return list.front();
}

std::string string_key(MessageView& message, SortKey key)
{
    switch (key) {
    case SortKey::Subject: {
        auto subject = message.first_header("Subject");
        return subject ? base_subject(*subject).text : std::string();
    }
    case SortKey::Cc:
    case SortKey::From:
    case SortKey::To: {
        auto addr = first_address(message, key == SortKey::Cc ? "Cc" : key == SortKey::From ? "From" : "To");
        return addr && addr->mailbox ? fold_case(*addr->mailbox) : std::string();
    }
    case SortKey::DisplayFrom:
    case SortKey::DisplayTo: {
        auto addr = first_address(message, key == SortKey::DisplayFrom ? "From" : "To");
        if (!addr)
            return {};
        if (addr->name) {
            std::string name = mail::decode_header_text(*addr->name);
            if (!name.empty())
                return fold_case(name);
        }
        if (addr->mailbox && addr->domain)
            return fold_case(*addr->mailbox + "@" + *addr->domain);
        return addr->mailbox ? fold_case(*addr->mailbox) : std::string();
    }
    default:
        return {};
    }
}

}  // namespace

int64_t sort_date(MessageView& message)
{
    const auto& sent = message.sent_date();
    if (sent && sent->utc_seconds != 0)
        return sent->utc_seconds;
    return message.info().internal_date;
}

std::vector<SortCriterion> parse_sort_criteria(const std::vector<std::string>& atoms)
{
    static const std::map<std::string, SortKey> kKeys = {
        {"ARRIVAL", SortKey::Arrival}, {"CC", SortKey::Cc},         {"DATE", SortKey::Date},
        {"FROM", SortKey::From},       {"SIZE", SortKey::Size},     {"SUBJECT", SortKey::Subject},
        {"TO", SortKey::To},           {"DISPLAYFROM", SortKey::DisplayFrom},
        {"DISPLAYTO", SortKey::DisplayTo}};
    std::vector<SortCriterion> criteria;
    bool reverse = false;
    if (atoms.size() > kMaxCriteria)
        throw SearchError("too many sort criteria");
    for (const auto& atom : atoms) {
        std::string upper = to_upper(atom);
        if (upper == "REVERSE") {
            if (reverse)
                throw SearchError("REVERSE given twice");
            reverse = true;
            continue;
        }
        auto it = kKeys.find(upper);
        if (it == kKeys.end())
            throw SearchError("Unknown sort argument: " + atom);
        criteria.push_back({it->second, reverse});
        reverse = false;
    }
    if (reverse)
        throw SearchError("Sort program ends with REVERSE");
    if (criteria.empty())
        throw SearchError("Empty sort program");
    return criteria;
}

std::vector<uint32_t> sort_messages(MessageSet& messages, const std::vector<SortCriterion>& criteria,
                                    std::vector<uint32_t> sequences)
{
    using Value = std::variant<int64_t, uint64_t, std::string>;
    // Keys computed once per message, so the comparator never parses.
    std::map<uint32_t, std::vector<Value>> keys;
    for (uint32_t seq : sequences) {
        MessageView& message = messages.view(seq);
        std::vector<Value> values;
        for (const auto& criterion : criteria) {
            switch (criterion.key) {
            case SortKey::Arrival:
                values.emplace_back(message.info().internal_date);
                break;
            case SortKey::Date:
                values.emplace_back(sort_date(message));
                break;
            case SortKey::Size:
                values.emplace_back(message.info().virtual_size);
                break;
            default:
                values.emplace_back(string_key(message, criterion.key));
            }
        }
        keys.emplace(seq, std::move(values));
    }
    std::stable_sort(sequences.begin(), sequences.end(), [&](uint32_t a, uint32_t b) {
        const auto& ka = keys.at(a);
        const auto& kb = keys.at(b);
        for (size_t i = 0; i < criteria.size(); ++i) {
            if (ka[i] == kb[i])
                continue;
            bool less = ka[i] < kb[i];
            return criteria[i].reverse ? !less : less;
        }
        return a < b;
    });
    return sequences;
}

}  // namespace loft::storage::search
