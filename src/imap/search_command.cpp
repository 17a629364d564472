// SEARCH, SORT and THREAD (and their UID forms): the storage daemon evaluates them;
// the worker passes the client's arguments and maps UIDs back to sequence numbers.
#include "imap/protocol/response.h"
#include "imap/protocol/search_return.h"
#include "imap/session.h"
#include "lib/strings.h"

namespace loft::imap {

namespace {

// Arguments back in IMAP syntax, for the storage daemon's parser.
void render(const protocol::Arg& arg, std::string& out)
{
    switch (arg.type) {
    case protocol::ArgType::Atom: out += arg.value; break;
    case protocol::ArgType::Quoted:
    case protocol::ArgType::Literal: out += protocol::string_text(arg.value); break;
    case protocol::ArgType::List:
        out += '(';
        for (size_t i = 0; i < arg.children.size(); i++) {
            if (i > 0)
                out += ' ';
            render(arg.children[i], out);
        }
        out += ')';
        break;
    }
}

// Whether a search program uses the MODSEQ key (which enables CONDSTORE).
bool uses_modseq(const protocol::ArgList& args)
{
    for (const protocol::Arg& arg : args) {
        if (arg.is_atom("MODSEQ") || (arg.is_list() && uses_modseq(arg.children)))
            return true;
    }
    return false;
}

}  // namespace

Task<void> ImapSession::cmd_search(const Command& command, bool uid, const std::string& kind,
                                   Clock::time_point started)
{
    if (command.args.empty()) {
        bad(command, "Missing arguments", started);
        co_return;
    }
    // RETURN (...) is ours to handle (ESEARCH, ESORT, SEARCHRES); THREAD has none.
    size_t first = 0;
    protocol::SearchReturn options;
    if (kind != "THREAD")
        options = protocol::parse_search_return(command.args, first);
    std::string arguments;
    for (size_t i = first; i < command.args.size(); i++) {
        if (i > first)
            arguments += ' ';
        render(command.args[i], arguments);
    }
    if (uses_modseq(command.args))
        enable_condstore();
    std::vector<int32_t> saved(selected_->saved_uids.begin(), selected_->saved_uids.end());
    rpc::SearchReply reply;
    try {
        reply = co_await storage_->search(storage_session_, selected_->view, kind, arguments, uid, saved);
    } catch (const rpc::StorageError& error) {
        if (error.kind != rpc::ErrorKind::INVALID)
            throw;
        bad(command, error.message, started);
        co_return;
    }
    if (kind == "THREAD") {
        untagged(reply.thread.empty() ? kind : kind + " " + reply.thread);
    } else {
        // The client's numbers for what was found, in result order.
        protocol::SearchFound found;
        for (size_t i = 0; i < reply.uids.size(); i++) {
            uint32_t message_uid = static_cast<uint32_t>(reply.uids[i]);
            uint32_t number = uid ? message_uid : sequence_of(message_uid);
            if (number == 0)
                continue;
            found.ids.push_back(number);
            found.uids.push_back(message_uid);
            if (i < reply.modseqs.size())
                found.modseqs.push_back(static_cast<uint64_t>(reply.modseqs[i]));
        }
        if (options.save)
            selected_->saved_uids = protocol::saved_result(options, found);
        if (options.esearch) {
            std::string line = protocol::format_esearch(command.tag, uid, options, found);
            if (!line.empty())
                untagged(line);
        } else {
            std::string line = kind;
            for (uint32_t number : found.ids)
                line += " " + std::to_string(number);
            if (reply.highest_modseq > 0 && !found.ids.empty())
                line += " (MODSEQ " + std::to_string(reply.highest_modseq) + ")";
            untagged(line);
        }
    }
    co_await sync_selected(uid);
    tagged(command.tag, "OK", "", kind == "SEARCH" ? "Search completed" : kind == "SORT" ? "Sort completed"
                                                                                        : "Thread completed",
           started);
}

}  // namespace loft::imap
