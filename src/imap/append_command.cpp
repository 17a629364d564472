// APPEND and MULTIAPPEND (RFC 3502): each message literal is streamed from the client
// to the storage daemon in chunks as it arrives; the messages are committed together
// once the whole command has arrived and parsed, so an error anywhere saves none.
#include "imap/protocol/append_args.h"
#include "imap/protocol/arg_values.h"
#include "imap/protocol/sequence_set.h"
#include "imap/session.h"

#include <stdexcept>

namespace loft::imap {

namespace {

// Dovecot refuses empty messages (NO, and none of the command's messages is saved).
struct EmptyMessage : std::runtime_error {
    EmptyMessage() : std::runtime_error("Can't save a zero byte message") {}
};

}  // namespace

Task<void> ImapSession::append_start(protocol::ReaderEvent& event)
{
    auto started = Clock::now();
    const Command& command = event.command;
    // A later message of the same APPEND: its arguments start after the previous literal.
    bool next_message = append_.has_value() && event.arg_offset != 0;
    if (!next_message) {
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
        if (append_)
            co_await append_abort(*append_);
        append_.emplace();
        append_->tag = command.tag;
    }
    PendingAppend& append = *append_;
    if (!append.error.empty())
        co_return;  // the literal is still read, and dropped
    std::string failure;
    std::string code;
    bool bad = false;
    try {
        size_t position = 0;
        if (!next_message) {
            if (command.args.empty())
                throw protocol::CommandError("Invalid arguments");
            append.mailbox = protocol::mailbox_name(command.args[0]);
            position = 1;
        }
        protocol::AppendMessage message = protocol::parse_append_message(command.args, position);
        if (event.literal.size == 0)
            throw EmptyMessage();
        rpc::Flags flags;
        flags.system = message.flags.system & ~protocol::kFlagRecent;
        flags.keywords = message.flags.keywords;
        int64_t date = message.internal_date ? message.internal_date->utc_seconds : 0;
        int64_t id = co_await storage_->begin_append(storage_session_, append.mailbox, flags, date);
        append.ids.push_back(id);
        co_return;
    } catch (const protocol::CommandError& error) {
        bad = true;
        failure = std::string("Error in IMAP command APPEND: ") + error.what();
    } catch (const EmptyMessage&) {
        failure = "Can't save a zero byte message";
    } catch (const rpc::StorageError& error) {
        if (error.kind == rpc::ErrorKind::NOT_FOUND) {
            code = "TRYCREATE";
            failure = "Mailbox doesn't exist: " + append.mailbox;
        } else {
            failure = error.message + ".";
        }
    } catch (const std::exception& error) {
        log_.error(std::string("APPEND: storage unavailable: ") + error.what());
        code = "UNAVAILABLE";
        failure = "Temporary failure: mail storage is unavailable.";
    }
    reader_.abandon_command();
    std::string tag = append.tag;
    co_await append_abort(append);
    append_.reset();
    tagged(tag, bad ? "BAD" : "NO", code, failure, started);
}

Task<void> ImapSession::append_flush(bool)
{
    if (!append_ || !append_->error.empty() || append_->buffer.empty() || append_->ids.empty())
        co_return;
    std::string chunk = std::move(append_->buffer);
    append_->buffer.clear();
    try {
        co_await storage_->append_chunk(storage_session_, append_->ids.back(), std::move(chunk));
    } catch (const rpc::StorageError& error) {
        append_->error = error.message;
    } catch (const std::exception& error) {
        append_->error = error.what();
    }
}

Task<void> ImapSession::append_abort(PendingAppend& append)
{
    if (!storage_ || !storage_->connected())
        co_return;
    for (int64_t id : append.ids) {
        try {
            co_await storage_->abort_append(storage_session_, id);
        } catch (const std::exception&) {
        }
    }
    append.ids.clear();
}

Task<void> ImapSession::append_finish(const Command& command, Clock::time_point started)
{
    PendingAppend append = std::move(*append_);
    append_.reset();
    // The whole command is here now: what followed the last message must parse too.
    std::string syntax_error;
    try {
        protocol::parse_append(command.args);
    } catch (const protocol::CommandError& error) {
        syntax_error = error.what();
    }
    if (!syntax_error.empty()) {
        co_await append_abort(append);
        tagged(command.tag, "BAD", "", "Error in IMAP command APPEND: " + syntax_error, started);
        co_return;
    }
    if (append.error.empty()) {
        std::vector<uint32_t> uids;
        uint32_t uidvalidity = 0;
        try {
            for (size_t i = 0; i < append.ids.size(); i++) {
                rpc::AppendResult result = co_await storage_->commit_append(storage_session_, append.ids[i]);
                uids.push_back(static_cast<uint32_t>(result.uid));
                uidvalidity = static_cast<uint32_t>(result.uidvalidity);
            }
            append.ids.clear();
            if (state_ == State::Selected)
                co_await sync_selected(true);
            // In the order saved (RFC 4315): consecutive UIDs as one range.
            std::vector<protocol::NumberRange> ranges;
            for (uint32_t uid : uids) {
                if (!ranges.empty() && ranges.back().last + 1 == uid)
                    ranges.back().last = uid;
                else
                    ranges.push_back({uid, uid});
            }
            tagged(command.tag, "OK",
                   "APPENDUID " + std::to_string(uidvalidity) + " " + protocol::format_ranges(ranges),
                   "Append completed", started);
            co_return;
        } catch (const rpc::StorageError& error) {
            append.error = error.message;
        } catch (const std::exception& error) {
            append.error = error.what();
        }
        // Messages committed before the failure cannot be taken back; the rest are dropped.
        append.ids.erase(append.ids.begin(), append.ids.begin() + static_cast<std::ptrdiff_t>(uids.size()));
    }
    co_await append_abort(append);
    log_.error("APPEND to " + append.mailbox + " failed: " + append.error);
    tagged(command.tag, "NO", "", "Append failed: " + append.error + ".", started);
}

}  // namespace loft::imap
