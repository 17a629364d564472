// APPEND: the message literal is streamed from the client to the storage daemon in
// chunks as it arrives; the reply comes only after the daemon has it on disk.
#include "imap/protocol/append_args.h"
#include "imap/protocol/arg_values.h"
#include "imap/session.h"

namespace loft::imap {

Task<void> ImapSession::append_start(protocol::ReaderEvent& event)
{
    auto started = Clock::now();
    const Command& command = event.command;
    if (command.name != "APPEND") {
        reader_.abandon_command();
        tagged(command.tag, "BAD", "", "Error in IMAP command " + command.name + ": Invalid arguments", started);
        co_return;
    }
    if (state_ == State::NotAuthenticated) {
        reader_.abandon_command();
        tagged(command.tag, "BAD", "", "Error in IMAP command APPEND: Unknown command", started);
        co_return;
    }
    if (append_) {
        // A second message in one APPEND needs MULTIAPPEND, which is not offered.
        append_->error = "MULTIAPPEND is not supported";
        reader_.abandon_command();
        co_return;
    }
    PendingAppend append;
    append.tag = command.tag;
    try {
        if (command.args.empty())
            throw protocol::CommandError("Invalid arguments");
        append.mailbox = protocol::mailbox_name(command.args[0]);
        size_t position = 1;
        protocol::AppendMessage message = protocol::parse_append_message(command.args, position);
        rpc::Flags flags;
        flags.system = message.flags.system & ~protocol::kFlagRecent;
        flags.keywords = message.flags.keywords;
        int64_t date = message.internal_date ? message.internal_date->utc_seconds : 0;
        append.id = co_await storage_->begin_append(storage_session_, append.mailbox, flags, date);
    } catch (const protocol::CommandError& error) {
        reader_.abandon_command();
        tagged(command.tag, "BAD", "", std::string("Error in IMAP command APPEND: ") + error.what(), started);
        co_return;
    } catch (const rpc::StorageError& error) {
        reader_.abandon_command();
        if (error.kind == rpc::ErrorKind::NOT_FOUND)
            tagged(command.tag, "NO", "TRYCREATE", "Mailbox doesn't exist: " + append.mailbox, started);
        else
            tagged(command.tag, "NO", "", error.message + ".", started);
        co_return;
    } catch (const std::exception& error) {
        reader_.abandon_command();
        log_.error(std::string("APPEND: storage unavailable: ") + error.what());
        tagged(command.tag, "NO", "UNAVAILABLE", "Temporary failure: mail storage is unavailable.", started);
        co_return;
    }
    append_ = std::move(append);
}

Task<void> ImapSession::append_flush(bool)
{
    if (!append_ || !append_->error.empty() || append_->buffer.empty())
        co_return;
    std::string chunk = std::move(append_->buffer);
    append_->buffer.clear();
    try {
        co_await storage_->append_chunk(storage_session_, append_->id, std::move(chunk));
    } catch (const rpc::StorageError& error) {
        append_->error = error.message;
    } catch (const std::exception& error) {
        append_->error = error.what();
    }
}

Task<void> ImapSession::append_finish(const Command& command, Clock::time_point started)
{
    PendingAppend append = std::move(*append_);
    append_.reset();
    if (append.error.empty()) {
        try {
            rpc::AppendResult result = co_await storage_->commit_append(storage_session_, append.id);
            if (state_ == State::Selected)
                co_await sync_selected(true);
            tagged(command.tag, "OK",
                   "APPENDUID " + std::to_string(static_cast<uint32_t>(result.uidvalidity)) + " " +
                       std::to_string(result.uid),
                   "Append completed", started);
            co_return;
        } catch (const rpc::StorageError& error) {
            append.error = error.message;
        } catch (const std::exception& error) {
            append.error = error.what();
        }
    } else if (storage_ && storage_->connected()) {
        try {
            co_await storage_->abort_append(storage_session_, append.id);
        } catch (const std::exception&) {
        }
    }
    log_.error("APPEND to " + append.mailbox + " failed: " + append.error);
    tagged(command.tag, "NO", "", "Append failed: " + append.error + ".", started);
}

}  // namespace loft::imap
