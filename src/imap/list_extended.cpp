#include "imap/list_extended.h"

#include "imap/list_match.h"
#include "imap/protocol/arg_values.h"
#include "imap/protocol/status_items.h"
#include "lib/strings.h"

#include <algorithm>
#include <map>
#include <set>

namespace loft::imap {

using protocol::CommandError;

namespace {

constexpr size_t kMaxPatterns = 100;

std::string list_mailbox_text(const protocol::Arg& arg)
{
    if (arg.is_atom())
        return arg.value;
    return protocol::astring(arg);
}

bool has(const std::vector<std::string>& attributes, const char* attribute)
{
    return std::find(attributes.begin(), attributes.end(), attribute) != attributes.end();
}

bool is_special_use(const std::string& attribute)
{
    static const char* const uses[] = {"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash",
                                       "\\Important"};
    return std::any_of(std::begin(uses), std::end(uses), [&](const char* use) { return iequals(use, attribute); });
}

bool matches_any(const ListRequest& request, const std::string& name, char separator)
{
    for (const auto& pattern : request.patterns)
        if (list_matches(list_pattern(request.reference, pattern, separator), name, separator))
            return true;
    return false;
}

// Subscription entries name INBOX in any case; LIST shows it as INBOX.
std::string canonical(const std::string& name, char separator)
{
    return protocol::canonical_mailbox_name(name, separator);
}

}  // namespace

ListRequest parse_list_request(const protocol::ArgList& args)
{
    ListRequest request;
    size_t at = 0;
    if (!args.empty() && args[0].is_list()) {
        request.extended = true;
        for (const auto& option : args[0].children) {
            if (!option.is_atom())
                throw CommandError("List options contains non-atoms.");
            std::string upper = to_upper(option.value);
            if (upper == "SUBSCRIBED")
                request.select_subscribed = true;
            else if (upper == "RECURSIVEMATCH")
                request.recursive_match = true;
            else if (upper == "SPECIAL-USE")
                request.select_special_use = true;
            else if (upper != "REMOTE")
                throw CommandError("Unknown select option " + upper + ".");
        }
        if (request.recursive_match && !request.select_subscribed && !request.select_special_use)
            throw CommandError("RECURSIVEMATCH must not be the only selection.");
        at = 1;
    }
    if (args.size() < at + 2)
        throw CommandError("Invalid arguments.");
    request.reference = protocol::astring(args[at]);
    const protocol::Arg& patterns = args[at + 1];
    if (patterns.is_list()) {
        request.extended = true;
        for (const auto& pattern : patterns.children)
            request.patterns.push_back(list_mailbox_text(pattern));
        if (request.patterns.empty() || request.patterns.size() > kMaxPatterns)
            throw CommandError("Invalid arguments.");
    } else {
        request.patterns.push_back(list_mailbox_text(patterns));
    }
    at += 2;
    if (at < args.size()) {
        if (!args[at].is_atom("RETURN") || at + 2 != args.size() || !args[at + 1].is_list())
            throw CommandError("Invalid arguments.");
        request.extended = true;
        const auto& options = args[at + 1].children;
        for (size_t i = 0; i < options.size(); i++) {
            if (!options[i].is_atom())
                throw CommandError("List return options contains non-atoms.");
            std::string upper = to_upper(options[i].value);
            if (upper == "CHILDREN") {
                request.return_children = true;
            } else if (upper == "SUBSCRIBED") {
                request.return_subscribed = true;
            } else if (upper == "SPECIAL-USE") {
                request.return_special_use = true;
            } else if (upper == "STATUS" && i + 1 < options.size() && options[i + 1].is_list()) {
                request.return_status = protocol::parse_status_items(options[++i]);
            } else {
                throw CommandError("Unknown return option " + upper + ".");
            }
        }
    }
    return request;
}

std::vector<ListLine> list_lines(const ListRequest& request, const std::vector<ListedMailbox>& mailboxes,
                                 const std::vector<std::string>& subscriptions, char separator)
{
    std::map<std::string, const ListedMailbox*> by_name;
    for (const auto& mailbox : mailboxes)
        by_name.emplace(mailbox.name, &mailbox);
    std::set<std::string> subscribed;
    for (const auto& name : subscriptions)
        subscribed.insert(canonical(name, separator));

    bool show_children = !request.extended || request.return_children;
    bool show_special_use = !request.extended || request.return_special_use || request.select_special_use;
    bool show_subscribed = request.select_subscribed || request.return_subscribed;

    auto line_for = [&](const std::string& name, const ListedMailbox* mailbox) {
        ListLine line;
        line.name = name;
        bool noselect = mailbox && has(mailbox->attributes, "\\Noselect");
        bool nonexistent = !mailbox || has(mailbox->attributes, "\\NonExistent");
        if (show_subscribed && subscribed.count(name))
            line.attributes.push_back("\\Subscribed");
        // Plain LIST calls a parent without a folder \Noselect; LIST-EXTENDED \NonExistent.
        if (nonexistent && (request.extended || !mailbox))
            line.attributes.push_back("\\NonExistent");
        else if ((noselect || nonexistent) && !request.select_subscribed)
            line.attributes.push_back("\\Noselect");  // Dovecot omits it when selecting SUBSCRIBED
        if (mailbox) {
            for (const auto& attribute : mailbox->attributes) {
                bool children = attribute == "\\HasChildren" || attribute == "\\HasNoChildren";
                if ((children && show_children) || (is_special_use(attribute) && show_special_use))
                    line.attributes.push_back(attribute);
            }
        }
        line.selectable = mailbox && !noselect && !nonexistent;
        return line;
    };

    std::vector<ListLine> lines;
    if (request.select_subscribed) {
        std::set<std::string> listed;
        for (const auto& name : subscriptions) {
            std::string shown = canonical(name, separator);
            if (!listed.insert(shown).second || !matches_any(request, shown, separator))
                continue;
            auto found = by_name.find(shown);
            const ListedMailbox* mailbox = found == by_name.end() ? nullptr : found->second;
            if (request.select_special_use &&
                (!mailbox || std::none_of(mailbox->attributes.begin(), mailbox->attributes.end(), is_special_use)))
                continue;
            lines.push_back(line_for(shown, mailbox));
        }
        if (request.recursive_match) {
            // Parents that match only through a subscribed descendant get CHILDINFO.
            for (const auto& name : subscriptions) {
                std::string shown = canonical(name, separator);
                if (matches_any(request, shown, separator))
                    continue;  // listed itself; its parents are not listed for it
                size_t cut = shown.size();
                while ((cut = shown.rfind(separator, cut == 0 ? 0 : cut - 1)) != std::string::npos && cut > 0) {
                    std::string parent = shown.substr(0, cut);
                    if (listed.count(parent) || !matches_any(request, parent, separator))
                        continue;
                    listed.insert(parent);
                    auto found = by_name.find(parent);
                    ListLine line = line_for(parent, found == by_name.end() ? nullptr : found->second);
                    line.child_info_subscribed = true;
                    lines.push_back(std::move(line));
                }
            }
        }
        return lines;
    }
    for (const auto& mailbox : mailboxes) {
        if (!matches_any(request, mailbox.name, separator))
            continue;
        if (request.select_special_use &&
            std::none_of(mailbox.attributes.begin(), mailbox.attributes.end(), is_special_use))
            continue;
        lines.push_back(line_for(mailbox.name, &mailbox));
    }
    return lines;
}

std::vector<ListLine> lsub_lines(const std::string& reference, const std::string& pattern,
                                 const std::vector<ListedMailbox>& mailboxes,
                                 const std::vector<std::string>& subscriptions, char separator)
{
    std::map<std::string, const ListedMailbox*> by_name;
    for (const auto& mailbox : mailboxes)
        by_name.emplace(mailbox.name, &mailbox);
    std::string full = list_pattern(reference, pattern, separator);
    std::vector<ListLine> lines;
    std::set<std::string> listed;
    for (const auto& name : subscriptions) {
        std::string shown = canonical(name, separator);
        if (listed.count(shown) || !list_matches(full, shown, separator))
            continue;
        listed.insert(shown);
        ListLine line;
        line.name = shown;
        auto found = by_name.find(shown);
        bool exists = found != by_name.end() && !has(found->second->attributes, "\\Noselect");
        if (!exists)
            line.attributes.push_back("\\Noselect");
        else
            for (const auto& attribute : found->second->attributes)
                if (is_special_use(attribute))
                    line.attributes.push_back(attribute);
        lines.push_back(std::move(line));
    }
    for (const auto& name : subscriptions) {
        std::string shown = canonical(name, separator);
        if (list_matches(full, shown, separator))
            continue;  // listed itself; its parents are not listed for it
        size_t cut = shown.size();
        while ((cut = shown.rfind(separator, cut == 0 ? 0 : cut - 1)) != std::string::npos && cut > 0) {
            std::string parent = shown.substr(0, cut);
            if (listed.count(parent) || !list_matches(full, parent, separator))
                continue;
            listed.insert(parent);
            lines.push_back({parent, {"\\Noselect"}, false, false});
        }
    }
    return lines;
}

}  // namespace loft::imap
