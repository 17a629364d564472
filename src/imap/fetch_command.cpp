// FETCH and STORE (and their UID forms): message data from the storage daemon,
// formatted the way Dovecot formats it, with message bodies streamed in chunks.
#include "imap/protocol/arg_values.h"
#include "imap/protocol/imap_date.h"
#include "imap/protocol/response.h"
#include "imap/protocol/sequence_set.h"
#include "imap/protocol/store_args.h"
#include "imap/session.h"
#include "lib/strings.h"
#include "rpc/call.h"
#include "rpc/framing.h"

#include <map>

namespace loft::imap {

namespace {

constexpr size_t kFetchBatch = 512;
constexpr size_t kOutputHighWater = 1024 * 1024;

using Attribute = protocol::FetchAttribute;

protocol::FlagSet flag_set_of(const rpc::Flags& flags)
{
    protocol::FlagSet set;
    set.system = static_cast<uint8_t>(flags.system);
    set.keywords = flags.keywords;
    return set;
}

// The storage section name for a body attribute, or nullopt if not supported yet.
std::optional<std::string> storage_section(const Attribute& attribute)
{
    switch (attribute.kind) {
    case Attribute::Kind::Rfc822: return "";
    case Attribute::Kind::Rfc822Header: return "HEADER";
    case Attribute::Kind::Rfc822Text: return "TEXT";
    case Attribute::Kind::BodySection:
    case Attribute::Kind::BinarySection:
    case Attribute::Kind::BinarySize: return attribute.section.to_string();
    default: return std::nullopt;
    }
}

// Items Dovecot sends after the simple ones, in the order asked: message sections and
// BINARY.SIZE.
bool is_body_attribute(const Attribute& attribute)
{
    return attribute.kind == Attribute::Kind::Rfc822 || attribute.kind == Attribute::Kind::Rfc822Header ||
           attribute.kind == Attribute::Kind::Rfc822Text || attribute.kind == Attribute::Kind::BodySection ||
           attribute.kind == Attribute::Kind::BinarySection || attribute.kind == Attribute::Kind::BinarySize;
}

}  // namespace

Task<void> ImapSession::fetch_section(uint32_t uid, const std::string& section, std::optional<uint64_t> offset,
                                      std::optional<uint64_t> length, std::string& prefix, bool binary)
{
    // prefix ("BODY[] ") is written only once the size is known, so an expunged
    // message produces no half-written item.
    uint64_t position = offset.value_or(0);
    auto read = [&](uint64_t at) {
        // Plain calls, no ?: around co_await (GCC 12).
        if (binary)
            return storage_->read_binary(storage_session_, selected_->view, static_cast<int32_t>(uid), section,
                                         static_cast<int64_t>(at), rpc::kChunkSize);
        return storage_->read_section(storage_session_, selected_->view, static_cast<int32_t>(uid), section,
                                      static_cast<int64_t>(at), rpc::kChunkSize);
    };
    rpc::SectionChunk chunk = co_await read(position);
    uint64_t total = static_cast<uint64_t>(chunk.total_size);
    uint64_t available = position >= total ? 0 : total - position;
    uint64_t to_send = length ? std::min(*length, available) : available;
    send(prefix + protocol::literal_prefix(to_send, chunk.__isset.literal8 && chunk.literal8));
    uint64_t sent = 0;
    while (sent < to_send) {
        if (chunk.data.empty())
            throw rpc::RpcUnavailable("message shrank while it was read");
        size_t take = static_cast<size_t>(std::min<uint64_t>(chunk.data.size(), to_send - sent));
        send(std::string_view(chunk.data).substr(0, take));
        sent += take;
        position += take;
        if (sent >= to_send)
            break;
        if (stream_->output_pending() > kOutputHighWater)
            co_await stream_->drain();
        chunk = co_await read(position);
    }
}

Task<void> ImapSession::cmd_fetch(const Command& command, bool uid, Clock::time_point started)
{
    if (command.args.size() < 2) {
        bad(command, "Invalid arguments", started);
        co_return;
    }
    std::vector<uint32_t> uids = resolve_set(protocol::astring(command.args[0]), uid);
    protocol::FetchRequest request = protocol::parse_fetch(command.args, 1);
    // Dovecot's checks, in its order.
    if (request.vanished && !uid)
        throw protocol::CommandError("Unknown FETCH modifier");
    if (request.vanished && !qresync_)
        throw protocol::CommandError("QRESYNC not enabled");
    if (request.vanished && !request.changed_since)
        throw protocol::CommandError("VANISHED used without CHANGEDSINCE");
    bool want_flags = false, want_size = false, want_date = false, sets_seen = false;
    bool want_envelope = false, want_structure = false, want_body = false;
    bool want_modseq = request.changed_since.has_value();
    bool modseq_listed = false;
    for (const Attribute& attribute : request.attributes) {
        switch (attribute.kind) {
        case Attribute::Kind::Uid: break;
        case Attribute::Kind::ModSeq:
            want_modseq = true;
            modseq_listed = true;
            break;
        case Attribute::Kind::Flags: want_flags = true; break;
        case Attribute::Kind::Rfc822Size: want_size = true; break;
        case Attribute::Kind::InternalDate: want_date = true; break;
        case Attribute::Kind::Envelope: want_envelope = true; break;
        case Attribute::Kind::BodyStructure: want_structure = true; break;
        case Attribute::Kind::Body: want_body = true; break;
        default:
            if (!is_body_attribute(attribute) || !storage_section(attribute)) {
                tagged(command.tag, "NO", "", "FETCH " + attribute.response_name() + " is not supported yet.",
                       started);
                co_return;
            }
        }
        if (attribute.sets_seen())
            sets_seen = true;
    }
    if (want_modseq)
        enable_condstore();
    if (request.vanished) {
        // The UIDs of the command's set that vanished since CHANGEDSINCE ("*" is any UID).
        auto set = protocol::SequenceSet::parse(protocol::astring(command.args[0]), true);
        std::string uid_set = protocol::format_ranges(set.resolve(0xFFFFFFFFu));
        auto vanished = co_await storage_->vanished_since(storage_session_, selected_->view,
                                                          static_cast<int64_t>(*request.changed_since), uid_set,
                                                          std::vector<int32_t>(), std::vector<int32_t>());
        if (!vanished.empty())
            untagged("VANISHED (EARLIER) " + vanished);
    }
    if (request.changed_since && *request.changed_since > selected_->highest_modseq)
        request.changed_since = 0;  // not a modseq we gave out: everything may have changed
    if (request.changed_since && !uids.empty()) {
        // CHANGEDSINCE: only the messages whose modseq is above it.
        std::vector<rpc::FetchItem::type> modseq_only = {rpc::FetchItem::MODSEQ};
        std::vector<uint32_t> changed;
        for (size_t start = 0; start < uids.size(); start += kFetchBatch) {
            std::vector<int32_t> batch(uids.begin() + static_cast<ptrdiff_t>(start),
                                       uids.begin() + static_cast<ptrdiff_t>(std::min(uids.size(), start + kFetchBatch)));
            auto data = co_await storage_->fetch(storage_session_, selected_->view, batch, modseq_only);
            for (const auto& message : data)
                if (message.__isset.modseq && static_cast<uint64_t>(message.modseq) > *request.changed_since)
                    changed.push_back(static_cast<uint32_t>(message.uid));
        }
        std::sort(changed.begin(), changed.end());
        uids = std::move(changed);
    }
    std::map<uint32_t, rpc::Flags> seen_changes;
    std::map<uint32_t, uint64_t> seen_modseqs;
    if (sets_seen && !selected_->read_only && !uids.empty()) {
        rpc::Flags seen;
        seen.system = protocol::kFlagSeen;
        // In batches, like the data below: no RPC carries the whole mailbox.
        for (size_t batch_start = 0; batch_start < uids.size(); batch_start += kFetchBatch) {
            size_t batch_end = std::min(uids.size(), batch_start + kFetchBatch);
            std::vector<int32_t> targets(uids.begin() + batch_start, uids.begin() + batch_end);
            // A named vector, not a braced list: GCC 12 miscompiles initializer lists in co_await.
            std::vector<rpc::FetchItem::type> flags_only = {rpc::FetchItem::FLAGS};
            auto before = co_await storage_->fetch(storage_session_, selected_->view, targets, flags_only);
            std::vector<int32_t> unseen;
            for (const auto& message : before) {
                if (message.__isset.flags && !(message.flags.system & protocol::kFlagSeen))
                    unseen.push_back(message.uid);
            }
            if (unseen.empty())
                continue;
            auto updated = co_await storage_->store_flags(storage_session_, selected_->view, unseen,
                                                          rpc::StoreMode::ADD, seen);
            for (const auto& message : updated) {
                seen_changes[static_cast<uint32_t>(message.uid)] = message.flags;
                if (message.__isset.modseq)
                    seen_modseqs[static_cast<uint32_t>(message.uid)] = static_cast<uint64_t>(message.modseq);
            }
        }
    }
    std::vector<rpc::FetchItem::type> items;
    if (want_flags || !seen_changes.empty())
        items.push_back(rpc::FetchItem::FLAGS);
    if (want_size)
        items.push_back(rpc::FetchItem::SIZE);
    if (want_date)
        items.push_back(rpc::FetchItem::INTERNALDATE);
    if (want_envelope)
        items.push_back(rpc::FetchItem::ENVELOPE);
    if (want_structure)
        items.push_back(rpc::FetchItem::BODYSTRUCTURE);
    if (want_body)
        items.push_back(rpc::FetchItem::BODY);
    if (want_modseq)
        items.push_back(rpc::FetchItem::MODSEQ);

    for (size_t batch_start = 0; batch_start < uids.size(); batch_start += kFetchBatch) {
        size_t batch_end = std::min(uids.size(), batch_start + kFetchBatch);
        std::vector<int32_t> batch(uids.begin() + batch_start, uids.begin() + batch_end);
        std::map<uint32_t, rpc::MessageData> data;
        if (!items.empty()) {
            for (auto& message : co_await storage_->fetch(storage_session_, selected_->view, batch, items))
                data[static_cast<uint32_t>(message.uid)] = std::move(message);
        }
        for (int32_t id : batch) {
            uint32_t message_uid = static_cast<uint32_t>(id);
            uint32_t seq = sequence_of(message_uid);
            auto found = data.find(message_uid);
            if (seq == 0 || (!items.empty() && found == data.end()))
                continue;  // expunged meanwhile
            std::vector<std::string> parts;
            bool flags_sent = false;
            if (uid && std::none_of(request.attributes.begin(), request.attributes.end(),
                                    [](const Attribute& a) { return a.kind == Attribute::Kind::Uid; }))
                parts.push_back("UID " + std::to_string(message_uid));
            for (const Attribute& attribute : request.attributes) {
                switch (attribute.kind) {
                case Attribute::Kind::Uid: parts.push_back("UID " + std::to_string(message_uid)); break;
                case Attribute::Kind::Flags:
                    parts.push_back("FLAGS " + protocol::flag_list_text(flag_set_of(found->second.flags)));
                    flags_sent = true;
                    break;
                case Attribute::Kind::Rfc822Size:
                    parts.push_back("RFC822.SIZE " + std::to_string(found->second.size));
                    break;
                case Attribute::Kind::InternalDate:
                    parts.push_back("INTERNALDATE \"" + protocol::format_date_time(found->second.internal_date) + "\"");
                    break;
                case Attribute::Kind::Envelope: parts.push_back("ENVELOPE " + found->second.envelope); break;
                case Attribute::Kind::BodyStructure:
                    parts.push_back("BODYSTRUCTURE " + found->second.bodystructure);
                    break;
                case Attribute::Kind::Body: parts.push_back("BODY " + found->second.body); break;
                case Attribute::Kind::ModSeq:
                    parts.push_back("MODSEQ (" + std::to_string(found->second.modseq) + ")");
                    note_fetched_modseq(static_cast<uint64_t>(found->second.modseq));
                    break;
                default: break;
                }
            }
            if (request.changed_since && !modseq_listed) {
                // CHANGEDSINCE adds MODSEQ after the items asked for.
                parts.push_back("MODSEQ (" + std::to_string(found->second.modseq) + ")");
                note_fetched_modseq(static_cast<uint64_t>(found->second.modseq));
            }
            if (!flags_sent && seen_changes.count(message_uid))
                parts.push_back("FLAGS " + protocol::flag_list_text(flag_set_of(seen_changes[message_uid])));
            std::string head = "* " + std::to_string(seq) + " FETCH (" + join(parts, " ");
            bool any_body = false;
            std::optional<rpc::StorageError> failure;
            try {
                for (const Attribute& attribute : request.attributes) {
                    if (!is_body_attribute(attribute))
                        continue;
                    std::string lead = parts.empty() && !any_body ? head : (any_body ? " " : head + " ");
                    std::string section = *storage_section(attribute);
                    if (attribute.kind == Attribute::Kind::BinarySize) {
                        int64_t size = co_await storage_->binary_size(storage_session_, selected_->view, id, section);
                        send(lead + attribute.response_name() + " " + std::to_string(size));
                    } else {
                        std::string prefix = lead + attribute.response_name() + " ";
                        co_await fetch_section(message_uid, section, attribute.partial_offset,
                                               attribute.partial_length, prefix,
                                               attribute.kind == Attribute::Kind::BinarySection);
                    }
                    any_body = true;
                }
            } catch (const rpc::StorageError& error) {
                if (error.kind != rpc::ErrorKind::NOT_FOUND && !error.__isset.response_code)
                    throw;
                failure = error;
            }
            if (failure && failure->kind == rpc::ErrorKind::NOT_FOUND) {
                if (any_body)
                    send(")\r\n");
                continue;  // expunged by someone else: no data, as Dovecot
            }
            if (failure) {
                // Dovecot ends the FETCH at the first part it cannot decode, after sending
                // what it had for this message (at least its UID).
                if (!any_body)
                    send(parts.empty() ? "* " + std::to_string(seq) + " FETCH (UID " + std::to_string(message_uid)
                                       : head);
                send(")\r\n");
                tagged(command.tag, "NO", failure->response_code, failure->message, started);
                co_return;
            }
            if (!any_body)
                send(head);
            send(")\r\n");
            if (stream_->output_pending() > kOutputHighWater)
                co_await stream_->drain();
        }
    }
    if (condstore_) {
        // The implicit \Seen changed modseqs; Dovecot reports them in its sync.
        for (const auto& [changed_uid, flags] : seen_modseqs) {
            uint32_t seq = sequence_of(changed_uid);
            if (seq == 0)
                continue;
            untagged(std::to_string(seq) + " FETCH (" + (qresync_ ? "UID " + std::to_string(changed_uid) + " " : "") +
                     "MODSEQ (" + std::to_string(flags) + "))");
            note_fetched_modseq(flags);
        }
    }
    // Like Dovecot, a FETCH reports other changes too; without UID, expunges wait.
    co_await sync_selected(uid);
    tagged(command.tag, "OK", "", "Fetch completed", started);
}

Task<void> ImapSession::cmd_store(const Command& command, bool uid, Clock::time_point started)
{
    if (command.args.size() < 3) {
        bad(command, "Invalid arguments", started);
        co_return;
    }
    std::vector<uint32_t> uids = resolve_set(protocol::astring(command.args[0]), uid);
    protocol::StoreRequest request = protocol::parse_store(command.args, 1);
    for (const std::string& keyword : request.flags.keywords) {
        if (auto error = protocol::keyword_error(keyword)) {
            tagged(command.tag, "NO", "CANNOT", *error, started);
            co_return;
        }
    }
    if (request.unchanged_since)
        enable_condstore();
    if (selected_->read_only) {
        co_await sync_selected(uid);
        if (request.unchanged_since)
            tagged(command.tag, "NO", "", "CONDSTORE failed: Mailbox is read-only", started);
        else
            tagged(command.tag, "OK", "", "Store ignored with read-only mailbox", started);
        co_return;
    }
    rpc::Flags flags;
    flags.system = request.flags.system & ~protocol::kFlagRecent;
    flags.keywords = request.flags.keywords;
    rpc::StoreMode::type mode = request.mode == protocol::StoreRequest::Mode::Add      ? rpc::StoreMode::ADD
                                : request.mode == protocol::StoreRequest::Mode::Remove ? rpc::StoreMode::REMOVE
                                                                                       : rpc::StoreMode::REPLACE;
    std::vector<int32_t> targets(uids.begin(), uids.end());
    // Not a ?: around co_await: GCC 12 miscompiles co_await inside a conditional.
    std::vector<rpc::MessageData> updated;
    std::vector<uint32_t> modified;
    if (!targets.empty() && request.unchanged_since) {
        auto result = co_await storage_->store_flags_unchanged_since(
            storage_session_, selected_->view, targets, mode, flags, static_cast<int64_t>(*request.unchanged_since));
        updated = std::move(result.updated);
        modified.assign(result.modified.begin(), result.modified.end());
    } else if (!targets.empty()) {
        updated = co_await storage_->store_flags(storage_session_, selected_->view, targets, mode, flags);
    }
    if (!targets.empty() && mode != rpc::StoreMode::REMOVE)
        announce_keywords(flags.keywords);
    // What Dovecot's sync after STORE shows: UID for UID STORE (unless .SILENT
    // without CONDSTORE) or with QRESYNC, MODSEQ with CONDSTORE, FLAGS unless .SILENT.
    bool send_uid = qresync_ || (uid && (!request.silent || condstore_));
    if (!request.silent || condstore_) {
        for (const auto& message : updated) {
            uint32_t seq = sequence_of(static_cast<uint32_t>(message.uid));
            if (seq == 0)
                continue;
            std::vector<std::string> parts;
            if (send_uid)
                parts.push_back("UID " + std::to_string(message.uid));
            if (condstore_ && message.__isset.modseq) {
                parts.push_back("MODSEQ (" + std::to_string(message.modseq) + ")");
                note_fetched_modseq(static_cast<uint64_t>(message.modseq));
            }
            if (!request.silent)
                parts.push_back("FLAGS " + protocol::flag_list_text(flag_set_of(message.flags)));
            untagged(std::to_string(seq) + " FETCH (" + join(parts, " ") + ")");
        }
    }
    co_await sync_selected(uid, send_uid);
    if (modified.empty()) {
        tagged(command.tag, "OK", "", "Store completed", started);
        co_return;
    }
    if (!uid) {
        for (uint32_t& number : modified)
            number = sequence_of(number);
        std::erase(modified, 0u);
    }
    tagged(command.tag, "OK", "MODIFIED " + protocol::format_sequence_set(modified), "Conditional store failed",
           started);
}

}  // namespace loft::imap
