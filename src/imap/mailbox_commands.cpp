// LIST, SELECT/EXAMINE, STATUS, CREATE/DELETE/RENAME, CLOSE/UNSELECT, EXPUNGE and the
// bookkeeping of the selected mailbox (sequence numbers, unsolicited updates).
#include "imap/list_extended.h"
#include "imap/list_match.h"
#include "imap/protocol/arg_values.h"
#include "imap/protocol/mutf7.h"
#include "imap/protocol/response.h"
#include "imap/protocol/sequence_set.h"
#include "imap/protocol/status_items.h"
#include "imap/session.h"
#include "lib/strings.h"

#include <algorithm>

namespace loft::imap {

namespace {

protocol::FlagSet flag_set_of(const rpc::Flags& flags)
{
    protocol::FlagSet set;
    set.system = static_cast<uint8_t>(flags.system);
    set.keywords = flags.keywords;
    return set;
}

std::string flags_response(const rpc::MailboxStatus& status)
{
    std::string flags = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";
    for (const std::string& keyword : status.keywords)
        flags += " " + keyword;
    return flags;
}

std::vector<std::string> status_items_text(uint16_t items, const rpc::MailboxStatus& status)
{
    std::vector<std::string> parts;
    if (items & protocol::kStatusMessages)
        parts.push_back("MESSAGES " + std::to_string(status.messages));
    if (items & protocol::kStatusRecent)
        parts.push_back("RECENT " + std::to_string(status.recent));
    if (items & protocol::kStatusUidNext)
        parts.push_back("UIDNEXT " + std::to_string(status.uidnext));
    if (items & protocol::kStatusUidValidity)
        parts.push_back("UIDVALIDITY " + std::to_string(static_cast<uint32_t>(status.uidvalidity)));
    if (items & protocol::kStatusUnseen)
        parts.push_back("UNSEEN " + std::to_string(status.unseen));
    if (items & protocol::kStatusHighestModSeq)
        parts.push_back("HIGHESTMODSEQ " + std::to_string(status.highest_modseq));
    if (items & protocol::kStatusSize)
        parts.push_back("SIZE " + std::to_string(status.size));
    if (items & protocol::kStatusXSize)
        parts.push_back("X-SIZE " + std::to_string(status.size));
    if ((items & protocol::kStatusXGuid) && !status.guid.empty())
        parts.push_back("X-GUID " + status.guid);
    return parts;
}

// list-mailbox (RFC 3501): an astring that may also contain the wildcards % and *.
std::string list_mailbox(const protocol::Arg& arg)
{
    if (arg.is_atom())
        return arg.value;
    return protocol::astring(arg);
}

}  // namespace

Task<void> ImapSession::cmd_list(const Command& command, Clock::time_point started)
{
    ListRequest request = parse_list_request(command.args);
    rpc::MailboxList list = co_await storage_->list_mailboxes(storage_session_);
    char separator = list.separator.empty() ? '/' : list.separator[0];
    std::string quoted_separator = protocol::string_text(list.separator);
    if (!request.extended && request.patterns[0].empty()) {
        // LIST "" "": just the hierarchy delimiter and root.
        untagged("LIST (\\Noselect) " + quoted_separator + " \"\"");
        tagged(command.tag, "OK", "", "List completed", started);
        co_return;
    }
    std::vector<std::string> subscriptions;
    if (request.select_subscribed || request.return_subscribed)
        subscriptions = co_await storage_->list_subscriptions(storage_session_);
    std::vector<ListedMailbox> mailboxes;
    for (const rpc::MailboxEntry& entry : list.mailboxes)
        mailboxes.push_back({entry.name, entry.attributes});
    for (const ListLine& line : list_lines(request, mailboxes, subscriptions, separator)) {
        std::string text = "LIST (" + join(line.attributes, " ") + ") " + quoted_separator + " " +
                           protocol::astring_text(line.name);
        if (line.child_info_subscribed)
            text += " (CHILDINFO (\"SUBSCRIBED\"))";
        untagged(text);
        if (request.return_status && line.selectable) {
            rpc::MailboxStatus status = co_await storage_->mailbox_status(storage_session_, line.name);
            untagged("STATUS " + protocol::astring_text(line.name) + " (" +
                     join(status_items_text(request.return_status, status), " ") + ")");
        }
    }
    tagged(command.tag, "OK", "", "List completed", started);
}

Task<void> ImapSession::cmd_select(const Command& command, bool read_only, Clock::time_point started)
{
    if (command.args.size() != 1) {
        bad(command, "Invalid arguments", started);
        co_return;
    }
    std::string name = protocol::mailbox_name(command.args[0]);
    if (selected_) {
        co_await close_selected();
        untagged("OK [CLOSED] Previous mailbox closed.");
        state_ = State::Authenticated;
    }
    rpc::SelectReply reply;
    try {
        reply = co_await storage_->select_mailbox(storage_session_, name, read_only);
    } catch (const rpc::StorageError& error) {
        if (error.kind != rpc::ErrorKind::NOT_FOUND)
            throw;
        tagged(command.tag, "NO", "", error.message, started);  // Dovecot: no NONEXISTENT here
        co_return;
    }
    Selected selected;
    selected.name = name;
    selected.view = reply.view;
    selected.read_only = reply.read_only;
    selected.uidvalidity = static_cast<uint32_t>(reply.status.uidvalidity);
    selected.uidnext = static_cast<uint32_t>(reply.status.uidnext);
    for (int32_t uid : reply.uids)
        selected.uids.push_back(static_cast<uint32_t>(uid));
    const rpc::MailboxStatus& status = reply.status;
    selected.recent = static_cast<uint32_t>(status.recent);
    selected.keywords = status.keywords;
    untagged("FLAGS (" + flags_response(status) + ")");
    if (read_only)
        untagged("OK [PERMANENTFLAGS ()] Read-only mailbox.");
    else
        untagged("OK [PERMANENTFLAGS (" + flags_response(status) + " \\*)] Flags permitted.");
    untagged(std::to_string(selected.uids.size()) + " EXISTS");
    // EXAMINE shows what is still \Recent without taking it (as Dovecot does).
    untagged(std::to_string(status.recent) + " RECENT");
    if (status.first_unseen_uid != 0) {
        auto seq = std::find(selected.uids.begin(), selected.uids.end(), static_cast<uint32_t>(status.first_unseen_uid));
        if (seq != selected.uids.end())
            untagged("OK [UNSEEN " + std::to_string(seq - selected.uids.begin() + 1) + "] First unseen.");
    }
    untagged("OK [UIDVALIDITY " + std::to_string(selected.uidvalidity) + "] UIDs valid");
    untagged("OK [UIDNEXT " + std::to_string(selected.uidnext) + "] Predicted next UID");
    selected_ = std::move(selected);
    state_ = State::Selected;
    tagged(command.tag, "OK", read_only ? "READ-ONLY" : "READ-WRITE",
           read_only ? "Examine completed" : "Select completed", started);
}

Task<void> ImapSession::cmd_status(const Command& command, Clock::time_point started)
{
    if (command.args.size() != 2) {
        bad(command, "Invalid arguments", started);
        co_return;
    }
    std::string name = protocol::mailbox_name(command.args[0]);
    uint16_t items = protocol::parse_status_items(command.args[1]);
    rpc::MailboxStatus status;
    try {
        status = co_await storage_->mailbox_status(storage_session_, name);
    } catch (const rpc::StorageError& error) {
        if (error.kind != rpc::ErrorKind::NOT_FOUND)
            throw;
        tagged(command.tag, "NO", "", error.message, started);  // Dovecot: no NONEXISTENT here
        co_return;
    }
    // On the selected mailbox Dovecot answers from the session's own view.
    bool on_selected = selected_ && selected_->name == name;
    if (on_selected)
        status.recent = static_cast<int32_t>(selected_->recent);
    std::vector<std::string> parts = status_items_text(items, status);
    // Dovecot repeats the name as the client wrote it ("inbox" stays "inbox").
    untagged("STATUS " + protocol::astring_text(protocol::astring(command.args[0])) + " (" + join(parts, " ") + ")");
    if (state_ == State::Selected)
        co_await sync_selected(true);
    if (on_selected)
        tagged(command.tag, "OK", "CLIENTBUG", "Status on selected mailbox completed", started);
    else
        tagged(command.tag, "OK", "", "Status completed", started);
}

Task<void> ImapSession::cmd_mailbox_change(const Command& command, Clock::time_point started)
{
    const std::string& name = command.name;
    size_t wanted = name == "RENAME" ? 2 : 1;
    if (command.args.size() != wanted) {
        bad(command, "Invalid arguments", started);
        co_return;
    }
    std::string mailbox = protocol::mailbox_name(command.args[0]);
    for (size_t i = 0; i < wanted; i++) {
        if (!protocol::is_valid_mutf7(protocol::mailbox_name(command.args[i]))) {
            tagged(command.tag, "NO", "", std::string(protocol::kInvalidMutf7Text), started);
            co_return;
        }
    }
    try {
        co_await change_mailbox(command, mailbox, started);
    } catch (const rpc::StorageError& error) {
        // Dovecot refuses these without a response code.
        if (error.kind != rpc::ErrorKind::DENIED)
            throw;
        tagged(command.tag, "NO", "", error.message, started);
    }
}

Task<void> ImapSession::change_mailbox(const Command& command, std::string mailbox, Clock::time_point started)
{
    const std::string& name = command.name;
    if (name == "CREATE") {
        // A trailing separator is passed on: with LAYOUT=fs it makes a directory only.
        co_await storage_->create_mailbox(storage_session_, mailbox);
        tagged(command.tag, "OK", "", "Create completed", started);
    } else if (name == "DELETE") {
        if (selected_ && selected_->name == mailbox) {
            co_await close_selected();
            state_ = State::Authenticated;
        }
        co_await storage_->delete_mailbox(storage_session_, mailbox);
        tagged(command.tag, "OK", "", "Delete completed", started);
    } else {
        std::string target = protocol::mailbox_name(command.args[1]);
        co_await storage_->rename_mailbox(storage_session_, mailbox, target);
        tagged(command.tag, "OK", "", "Rename completed", started);
    }
}

Task<void> ImapSession::cmd_copy(const Command& command, bool uid, bool move, Clock::time_point started)
{
    if (command.args.size() != 2) {
        bad(command, "Invalid arguments", started);
        co_return;
    }
    std::vector<uint32_t> uids = resolve_set(protocol::astring(command.args[0]), uid);
    std::string target = protocol::mailbox_name(command.args[1]);
    const char* done = move ? "Move completed" : "Copy completed";
    if (uids.empty()) {
        tagged(command.tag, "OK", "", uid ? done : "No messages found.", started);
        co_return;
    }
    if (move && selected_->read_only) {
        tagged(command.tag, "NO", "", "Mailbox is read-only.", started);
        co_return;
    }
    rpc::CopyResult result;
    try {
        result = co_await storage_->copy_messages(storage_session_, selected_->view,
                                                  std::vector<int32_t>(uids.begin(), uids.end()), target, move);
    } catch (const rpc::StorageError& error) {
        if (error.kind != rpc::ErrorKind::NOT_FOUND)
            throw;
        tagged(command.tag, "NO", "TRYCREATE", "Mailbox doesn't exist: " + target, started);
        co_return;
    }
    std::vector<uint32_t> from(result.source_uids.begin(), result.source_uids.end());
    std::vector<uint32_t> to(result.dest_uids.begin(), result.dest_uids.end());
    std::string copyuid = "COPYUID " + std::to_string(static_cast<uint32_t>(result.uidvalidity)) + " " +
                          protocol::format_sequence_set(from) + " " + protocol::format_sequence_set(to);
    if (from.empty())
        copyuid.clear();
    if (!move) {
        co_await sync_selected(uid);
        tagged(command.tag, "OK", copyuid, done, started);
        co_return;
    }
    // RFC 6851: COPYUID in an untagged OK, then the EXPUNGEs, then the tagged OK.
    if (!copyuid.empty())
        untagged("OK [" + copyuid + "] Moved UIDs.");
    std::sort(from.begin(), from.end());
    for (uint32_t gone : from) {
        uint32_t seq = sequence_of(gone);
        if (seq == 0)
            continue;
        untagged(std::to_string(seq) + " EXPUNGE");
        selected_->uids.erase(selected_->uids.begin() + (seq - 1));
    }
    co_await sync_selected(true);
    tagged(command.tag, "OK", "", done, started);
}

Task<void> ImapSession::cmd_subscribe(const Command& command, bool subscribe, Clock::time_point started)
{
    if (command.args.size() != 1) {
        bad(command, "Invalid arguments", started);
        co_return;
    }
    std::string name = protocol::mailbox_name(command.args[0]);
    try {
        co_await storage_->set_subscribed(storage_session_, name, subscribe);
    } catch (const rpc::StorageError& error) {
        if (error.kind != rpc::ErrorKind::NOT_FOUND)
            throw;
        tagged(command.tag, "NO", "", error.message, started);
        co_return;
    }
    tagged(command.tag, "OK", "", subscribe ? "Subscribe completed" : "Unsubscribe completed", started);
}

Task<void> ImapSession::cmd_lsub(const Command& command, Clock::time_point started)
{
    if (command.args.size() != 2) {
        bad(command, "Invalid arguments", started);
        co_return;
    }
    std::string reference = protocol::astring(command.args[0]);
    std::string mailbox = list_mailbox(command.args[1]);
    rpc::MailboxList list = co_await storage_->list_mailboxes(storage_session_);
    char separator = list.separator.empty() ? '/' : list.separator[0];
    std::string quoted_separator = protocol::string_text(list.separator);
    std::vector<std::string> subscribed = co_await storage_->list_subscriptions(storage_session_);
    std::vector<ListedMailbox> mailboxes;
    for (const rpc::MailboxEntry& entry : list.mailboxes)
        mailboxes.push_back({entry.name, entry.attributes});
    for (const ListLine& line : lsub_lines(reference, mailbox, mailboxes, subscribed, separator))
        untagged("LSUB (" + join(line.attributes, " ") + ") " + quoted_separator + " " +
                 protocol::astring_text(line.name));
    tagged(command.tag, "OK", "", "Lsub completed", started);
}

Task<void> ImapSession::close_selected()
{
    if (!selected_)
        co_return;
    int64_t view = selected_->view;
    selected_.reset();
    if (storage_ && storage_->connected()) {
        try {
            co_await storage_->close_view(storage_session_, view);
        } catch (const std::exception&) {
        }
    }
}

Task<void> ImapSession::cmd_close(const Command& command, bool expunge, Clock::time_point started)
{
    if (!command.args.empty()) {
        bad(command, "Invalid arguments", started);
        co_return;
    }
    if (expunge && !selected_->read_only) {
        try {
            co_await storage_->expunge(storage_session_, selected_->view, {});
        } catch (const rpc::StorageError&) {
            // CLOSE still closes; the messages stay for the next expunge.
        }
    }
    co_await close_selected();
    state_ = State::Authenticated;
    tagged(command.tag, "OK", "", expunge ? "Close completed" : "Unselect completed", started);
}

Task<void> ImapSession::cmd_expunge(const Command& command, bool uid, Clock::time_point started)
{
    std::vector<int32_t> only;
    if (uid) {
        if (command.args.size() != 1) {
            bad(command, "Invalid arguments", started);
            co_return;
        }
        for (uint32_t id : resolve_set(protocol::astring(command.args[0]), true))
            only.push_back(static_cast<int32_t>(id));
        if (only.empty()) {
            tagged(command.tag, "OK", "", "Expunge completed", started);
            co_return;
        }
    } else if (!command.args.empty()) {
        bad(command, "Invalid arguments", started);
        co_return;
    }
    if (selected_->read_only) {
        tagged(command.tag, "NO", "", "Mailbox is read-only.", started);
        co_return;
    }
    auto gone = co_await storage_->expunge(storage_session_, selected_->view, only);
    for (int32_t id : gone) {
        uint32_t seq = sequence_of(static_cast<uint32_t>(id));
        if (seq == 0)
            continue;
        untagged(std::to_string(seq) + " EXPUNGE");
        selected_->uids.erase(selected_->uids.begin() + (seq - 1));
    }
    co_await sync_selected(true);
    tagged(command.tag, "OK", "", "Expunge completed", started);
}

uint32_t ImapSession::sequence_of(uint32_t uid) const
{
    const auto& uids = selected_->uids;
    auto found = std::lower_bound(uids.begin(), uids.end(), uid);
    if (found == uids.end() || *found != uid)
        return 0;
    return static_cast<uint32_t>(found - uids.begin() + 1);
}

std::vector<uint32_t> ImapSession::resolve_set(const std::string& set_text, bool uid) const
{
    auto set = protocol::SequenceSet::parse(set_text);
    const auto& uids = selected_->uids;
    std::vector<uint32_t> result;
    if (uid) {
        uint32_t highest = uids.empty() ? 0 : uids.back();
        for (const auto& range : set.resolve(highest)) {
            auto first = std::lower_bound(uids.begin(), uids.end(), range.first);
            auto last = std::upper_bound(uids.begin(), uids.end(), range.last);
            result.insert(result.end(), first, last);
        }
        std::sort(result.begin(), result.end());
        result.erase(std::unique(result.begin(), result.end()), result.end());
        return result;
    }
    uint32_t count = static_cast<uint32_t>(uids.size());
    if (set.max_explicit() > count || (set.uses_star() && count == 0))
        throw protocol::CommandError("Invalid messageset");
    for (const auto& range : set.resolve(count)) {
        for (uint32_t seq = range.first; seq <= range.last && seq <= count; seq++)
            result.push_back(uids[seq - 1]);
    }
    std::sort(result.begin(), result.end());
    result.erase(std::unique(result.begin(), result.end()), result.end());
    return result;
}

Task<void> ImapSession::sync_selected(bool allow_expunge)
{
    if (!selected_)
        co_return;
    rpc::ViewChanges changes = co_await storage_->sync_view(storage_session_, selected_->view);
    report_changes(changes, allow_expunge);
}

void ImapSession::announce_keywords(const std::vector<std::string>& keywords)
{
    if (!selected_)
        return;
    bool added = false;
    for (const std::string& keyword : keywords) {
        bool known = std::any_of(selected_->keywords.begin(), selected_->keywords.end(),
                                 [&](const std::string& k) { return iequals(k, keyword); });
        if (!known) {
            selected_->keywords.push_back(keyword);
            added = true;
        }
    }
    if (!added)
        return;
    rpc::MailboxStatus shown;
    shown.keywords = selected_->keywords;
    untagged("FLAGS (" + flags_response(shown) + ")");
    if (selected_->read_only)
        untagged("OK [PERMANENTFLAGS ()] Read-only mailbox.");
    else
        untagged("OK [PERMANENTFLAGS (" + flags_response(shown) + " \\*)] Flags permitted.");
}

void ImapSession::report_changes(const rpc::ViewChanges& changes, bool allow_expunge)
{
    if (!selected_)
        return;
    announce_keywords(changes.status.keywords);
    Selected& selected = *selected_;
    for (int32_t uid : changes.expunged)
        selected.deferred_expunges.push_back(static_cast<uint32_t>(uid));
    if (allow_expunge && !selected.deferred_expunges.empty()) {
        std::sort(selected.deferred_expunges.begin(), selected.deferred_expunges.end());
        for (uint32_t uid : selected.deferred_expunges) {
            uint32_t seq = sequence_of(uid);
            if (seq == 0)
                continue;
            untagged(std::to_string(seq) + " EXPUNGE");
            selected.uids.erase(selected.uids.begin() + (seq - 1));
        }
        selected.deferred_expunges.clear();
    }
    for (const rpc::MessageData& message : changes.changed) {
        uint32_t seq = sequence_of(static_cast<uint32_t>(message.uid));
        if (seq != 0 && message.__isset.flags)
            untagged(std::to_string(seq) + " FETCH (FLAGS " + protocol::flag_list_text(flag_set_of(message.flags)) + ")");
    }
    if (!changes.added.empty()) {
        for (const rpc::MessageData& message : changes.added) {
            uint32_t uid = static_cast<uint32_t>(message.uid);
            if (selected.uids.empty() || uid > selected.uids.back())
                selected.uids.push_back(uid);
        }
        untagged(std::to_string(selected.uids.size()) + " EXISTS");
        // Like Dovecot, RECENT only when this session's count changed.
        if (static_cast<uint32_t>(changes.status.recent) != selected.recent) {
            selected.recent = static_cast<uint32_t>(changes.status.recent);
            untagged(std::to_string(selected.recent) + " RECENT");
        }
    }
    if (changes.status.uidnext > 0)
        selected.uidnext = static_cast<uint32_t>(changes.status.uidnext);
}

}  // namespace loft::imap
