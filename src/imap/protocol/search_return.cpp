#include "imap/protocol/search_return.h"

#include "imap/protocol/response.h"
#include "lib/strings.h"

#include <algorithm>

namespace loft::imap::protocol {

namespace {

// "a:b" with both ends non-zero digits-only numbers; a reversed range is swapped.
bool parse_partial_range(const std::string& text, SearchReturn& options)
{
    size_t colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() || colon > 10 ||
        text.size() - colon - 1 > 10)
        return false;
    auto number = [](std::string_view digits, uint32_t& out) {
        uint64_t value = 0;
        for (char c : digits) {
            if (c < '0' || c > '9')
                return false;
            value = value * 10 + static_cast<uint64_t>(c - '0');
        }
        if (value == 0 || value > UINT32_MAX)
            return false;
        out = static_cast<uint32_t>(value);
        return true;
    };
    std::string_view view(text);
    if (!number(view.substr(0, colon), options.partial_first) || !number(view.substr(colon + 1), options.partial_last))
        return false;
    if (options.partial_first > options.partial_last)
        std::swap(options.partial_first, options.partial_last);
    return true;
}

// The positions of found.ids that take part in SAVE/MODSEQ/RELEVANCY.
std::vector<size_t> participants(const SearchReturn& options, const SearchFound& found)
{
    std::vector<size_t> positions;
    if (found.ids.empty())
        return positions;
    if (options.min_max_only()) {
        if (options.min)
            positions.push_back(0);
        if (options.max && (!options.min || found.ids.size() > 1))
            positions.push_back(found.ids.size() - 1);
        return positions;
    }
    for (size_t i = 0; i < found.ids.size(); i++)
        positions.push_back(i);
    return positions;
}

}  // namespace

SearchReturn parse_search_return(const ArgList& args, size_t& pos)
{
    SearchReturn options;
    if (pos + 1 >= args.size() || !args[pos].is_atom("RETURN") || !args[pos + 1].is_list())
        return options;
    const ArgList& items = args[pos + 1].children;
    for (size_t i = 0; i < items.size(); i++) {
        if (!items[i].is_atom())
            throw CommandError("SEARCH return options contain non-atoms");
        std::string name = to_upper(items[i].value);
        if (name == "MIN") {
            options.min = true;
        } else if (name == "MAX") {
            options.max = true;
        } else if (name == "ALL") {
            options.all = true;
        } else if (name == "COUNT") {
            options.count = true;
        } else if (name == "SAVE") {
            options.save = true;
        } else if (name == "CONTEXT") {
            // Accepted and ignored, as Dovecot does.
        } else if (name == "UPDATE") {
            if (options.update)
                throw CommandError("SEARCH return options have duplicate UPDATE");
            options.update = true;
            if (i + 1 < items.size() && items[i + 1].is_list())
                ++i;  // the fetch attributes for updates, which are never sent
        } else if (name == "RELEVANCY") {
            options.relevancy = true;
        } else if (name == "PARTIAL") {
            if (options.partial_first != 0)
                throw CommandError("PARTIAL can be used only once");
            options.partial = true;
            if (i + 1 >= items.size() || !items[i + 1].is_atom())
                throw CommandError("PARTIAL range missing");
            if (!parse_partial_range(items[++i].value, options))
                throw CommandError("PARTIAL range broken");
        } else {
            throw CommandError("Unknown SEARCH return option");
        }
    }
    if (options.partial && options.all)
        throw CommandError("PARTIAL conflicts with ALL");
    if (!options.min && !options.max && !options.all && !options.count && !options.save && !options.update &&
        !options.relevancy && !options.partial)
        options.all = true;
    options.esearch = true;
    pos += 2;
    return options;
}

std::vector<uint32_t> saved_result(const SearchReturn& options, const SearchFound& found)
{
    std::vector<uint32_t> uids;
    for (size_t position : participants(options, found))
        uids.push_back(found.uids.at(position));
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    return uids;
}

uint64_t result_modseq(const SearchReturn& options, const SearchFound& found)
{
    uint64_t highest = 0;
    if (found.modseqs.empty())
        return 0;
    for (size_t position : participants(options, found))
        highest = std::max(highest, found.modseqs.at(position));
    return highest;
}

std::string format_ordered_set(const std::vector<uint32_t>& numbers)
{
    std::string out;
    size_t i = 0;
    while (i < numbers.size()) {
        size_t end = i;
        while (end + 1 < numbers.size() && numbers[end] != UINT32_MAX && numbers[end + 1] == numbers[end] + 1)
            ++end;
        if (!out.empty())
            out += ',';
        out += std::to_string(numbers[i]);
        if (end > i)
            out += ':' + std::to_string(numbers[end]);
        i = end + 1;
    }
    return out;
}

std::string format_esearch(const std::string& tag, bool uid, const SearchReturn& options, const SearchFound& found)
{
    if (options.save_only())
        return "";
    std::string line = "ESEARCH (TAG " + string_text(tag) + ")";
    if (uid)
        line += " UID";
    const auto& ids = found.ids;
    if (!ids.empty()) {
        if (options.min)
            line += " MIN " + std::to_string(ids.front());
        if (options.max)
            line += " MAX " + std::to_string(ids.back());
        if (options.all)
            line += " ALL " + format_ordered_set(ids);
    }
    if (options.relevancy) {
        // Without full-text search every message scores the same: 1 (Dovecot's floor).
        line += " RELEVANCY (";
        size_t scored = participants(options, found).size();
        for (size_t i = 0; i < scored; i++)
            line += i == 0 ? "1" : " 1";
        line += ')';
    }
    if (options.partial) {
        line += " PARTIAL (" + std::to_string(options.partial_first) + ":" + std::to_string(options.partial_last) + " ";
        if (options.partial_first > ids.size()) {
            line += "NIL";
        } else {
            size_t last = std::min<size_t>(options.partial_last, ids.size());
            line += format_ordered_set(std::vector<uint32_t>(ids.begin() + (options.partial_first - 1),
                                                             ids.begin() + static_cast<std::ptrdiff_t>(last)));
        }
        line += ')';
    }
    if (options.count)
        line += " COUNT " + std::to_string(ids.size());
    if (uint64_t modseq = result_modseq(options, found); modseq != 0)
        line += " MODSEQ " + std::to_string(modseq);
    return line;
}

}  // namespace loft::imap::protocol
