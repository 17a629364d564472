// SEARCH, SORT and THREAD (and their UID forms): the storage daemon evaluates them;
// the worker passes the client's arguments and maps UIDs back to sequence numbers.
#include "imap/protocol/response.h"
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
    std::string arguments;
    for (size_t i = 0; i < command.args.size(); i++) {
        if (i > 0)
            arguments += ' ';
        render(command.args[i], arguments);
    }
    if (uses_modseq(command.args))
        enable_condstore();
    rpc::SearchReply reply;
    try {
        reply = co_await storage_->search(storage_session_, selected_->view, kind, arguments, uid);
    } catch (const rpc::StorageError& error) {
        if (error.kind != rpc::ErrorKind::INVALID)
            throw;
        bad(command, error.message, started);
        co_return;
    }
    std::string line = kind;
    if (kind == "THREAD") {
        if (!reply.thread.empty())
            line += " " + reply.thread;
    } else {
        for (int32_t id : reply.uids) {
            uint32_t number = uid ? static_cast<uint32_t>(id) : sequence_of(static_cast<uint32_t>(id));
            if (number != 0)
                line += " " + std::to_string(number);
        }
        if (kind == "SEARCH" && reply.highest_modseq > 0 && !reply.uids.empty())
            line += " (MODSEQ " + std::to_string(reply.highest_modseq) + ")";
    }
    untagged(line);
    co_await sync_selected(uid);
    tagged(command.tag, "OK", "", kind == "SEARCH" ? "Search completed" : kind == "SORT" ? "Sort completed"
                                                                                        : "Thread completed",
           started);
}

}  // namespace loft::imap
