#include "storage/daemon/storage_handler.h"

#include "lib/strings.h"
#include "mail/binary.h"
#include "mail/imap_structure.h"
#include "mail/message.h"
#include "mail/section.h"
#include "rpc/framing.h"
#include "imap/protocol/arg.h"
#include "imap/protocol/sequence_set.h"
#include "storage/daemon/search_request.h"
#include "storage/maildir/mutf7.h"
#include "storage/storage_error.h"

#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace loft::storage::daemon {

namespace {

constexpr std::chrono::milliseconds kExternalChangePoll{1000};
constexpr uint64_t kMaxMessageRead = 1ull << 30;

rpc::StorageError rpc_error(rpc::ErrorKind::type kind, const std::string& message)
{
    rpc::StorageError error;
    error.kind = kind;
    error.message = message;
    return error;
}

rpc::ErrorKind::type kind_of(StorageError::Kind kind)
{
    switch (kind) {
    case StorageError::Kind::NotFound: return rpc::ErrorKind::NOT_FOUND;
    case StorageError::Kind::Exists: return rpc::ErrorKind::EXISTS;
    case StorageError::Kind::BadName: return rpc::ErrorKind::INVALID;
    case StorageError::Kind::NotAllowed: return rpc::ErrorKind::DENIED;
    case StorageError::Kind::Limit: return rpc::ErrorKind::LIMIT;
    case StorageError::Kind::Locked: return rpc::ErrorKind::TEMPORARY;
    default: return rpc::ErrorKind::INTERNAL;
    }
}

rpc::Flags to_rpc(const Flags& flags)
{
    rpc::Flags out;
    out.system = static_cast<int32_t>(flags.system);
    out.keywords = flags.keywords;
    return out;
}

Flags from_rpc(const rpc::Flags& flags)
{
    Flags out;
    out.system = static_cast<uint32_t>(flags.system) & ~static_cast<uint32_t>(Recent);
    out.keywords = flags.keywords;
    return out;
}

rpc::MessageData flags_data(const MessageInfo& message)
{
    rpc::MessageData data;
    data.uid = static_cast<int32_t>(message.uid);
    data.__set_flags(to_rpc(message.flags));
    data.__set_modseq(static_cast<int64_t>(message.modseq));
    return data;
}

rpc::ViewChanges to_rpc(const ViewDelta& delta)
{
    rpc::ViewChanges changes;
    for (uint32_t uid : delta.expunged)
        changes.expunged.push_back(static_cast<int32_t>(uid));
    for (const MessageInfo& message : delta.added)
        changes.added.push_back(flags_data(message));
    for (const MessageInfo& message : delta.changed)
        changes.changed.push_back(flags_data(message));
    return changes;
}

// `mailbox X { auto = create|subscribe }`: Dovecot makes these exist (and subscribed)
// as soon as the user lists them; so do we, re-creating one the user deleted.
void create_auto_mailboxes(const config::Settings& settings, MailStore& store)
{
    for (const config::Section* ns : settings.sections("namespace")) {
        for (const config::Section* mailbox : ns->sections("mailbox")) {
            std::string mode = mailbox->get_or("auto", "no");
            if ((mode != "create" && mode != "subscribe") || store.exists(mailbox->name()))
                continue;
            try {
                store.create(mailbox->name());
                if (mode == "subscribe")
                    store.subscribe(mailbox->name());
            } catch (const StorageError&) {
                // A name this layout cannot store: Dovecot logs it and lists the rest.
            }
        }
    }
}

rpc::MailboxStatus status_of(Mailbox& box)
{
    rpc::MailboxStatus status;
    MailboxStatus summary = box.status();
    status.uidvalidity = static_cast<int32_t>(summary.uidvalidity);
    status.uidnext = static_cast<int32_t>(summary.uidnext);
    status.messages = static_cast<int32_t>(summary.messages);
    status.recent = static_cast<int32_t>(summary.recent);
    status.unseen = static_cast<int32_t>(summary.unseen);
    status.first_unseen_uid = 0;
    status.size = static_cast<int64_t>(summary.size);
    status.guid = box.guid();
    // FLAGS lists every keyword the folder has defined, used or not (as Dovecot does).
    std::vector<std::string> keywords = box.keyword_names();
    for (const MessageInfo& message : box.messages()) {
        if (status.first_unseen_uid == 0 && !(message.flags.system & Seen))
            status.first_unseen_uid = static_cast<int32_t>(message.uid);
        for (const std::string& keyword : message.flags.keywords) {
            if (std::find(keywords.begin(), keywords.end(), keyword) == keywords.end())
                keywords.push_back(keyword);
        }
    }
    status.keywords = std::move(keywords);
    status.highest_modseq = static_cast<int64_t>(box.highest_modseq());
    return status;
}

std::string utf8_name(const std::string& wire_name)
{
    return mutf7_to_utf8(wire_name);
}

std::string read_message(UniqueFd fd)
{
    struct stat st;
    if (fstat(fd.get(), &st) != 0)
        throw StorageError(StorageError::Kind::Io, "cannot stat message");
    if (static_cast<uint64_t>(st.st_size) > kMaxMessageRead)
        throw StorageError(StorageError::Kind::Limit, "message too large to read");
    std::string data(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = pread(fd.get(), data.data() + done, data.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += static_cast<size_t>(n);
    }
    data.resize(done);
    return data;
}

mail::FetchSection section_of(const std::string& text)
{
    auto spec = mail::parse_section(text);
    if (!spec)
        throw rpc_error(rpc::ErrorKind::INVALID, "invalid section " + text);
    return *spec;
}

// Dovecot's NO for BINARY of a part it cannot decode.
rpc::StorageError binary_error(const mail::BinaryDecodeError& error)
{
    bool unknown = error.kind() == mail::BinaryDecodeError::Kind::UnknownTransferEncoding;
    rpc::StorageError out = rpc_error(rpc::ErrorKind::INVALID, unknown ? "Unknown Content-Transfer-Encoding"
                                                                       : "Invalid data in MIME part");
    out.__set_response_code(unknown ? "UNKNOWN-CTE" : "PARSE");
    return out;
}

}  // namespace

template <typename Body>
void StorageHandler::guarded(const Fail& fail, Body&& body)
{
    // The processor takes ownership of the delayed exception (throw_it deletes it).
    try {
        body();
    } catch (const rpc::StorageError& error) {
        fail(TDelayedException::delayException(error));
    } catch (const StorageError& error) {
        fail(TDelayedException::delayException(rpc_error(kind_of(error.kind()), error.what())));
    } catch (const std::exception& error) {
        daemon_.log().error(std::string("internal error: ") + error.what());
        fail(TDelayedException::delayException(rpc_error(rpc::ErrorKind::INTERNAL, "internal error")));
    }
}

void StorageHandler::open_session(Reply<int64_t> cob, Fail fail, const std::string& grant)
{
    guarded(fail, [&] { cob(daemon_.open_session(connection_, grant)); });
}

void StorageHandler::close_session(Done cob, int64_t session)
{
    daemon_.close_session(connection_, session);
    cob();
}

void StorageHandler::list_mailboxes(Reply<rpc::MailboxList> cob, Fail fail, int64_t session_id)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id);
        MailStore& store = session.user->store();
        create_auto_mailboxes(daemon_.settings(), store);
        std::map<std::string, std::string> special_use;
        for (const config::Section* ns : daemon_.settings().sections("namespace")) {
            for (const config::Section* mailbox : ns->sections("mailbox")) {
                std::string use = mailbox->get_or("special_use", "");
                if (!use.empty())
                    special_use[mailbox->name()] = use;
            }
        }
        rpc::MailboxList list;
        list.separator = std::string(1, store.separator());
        for (const MailboxListEntry& entry : store.list()) {
            rpc::MailboxEntry out;
            out.name = utf8_to_mutf7(entry.name);
            if (entry.attributes & NoSelect)
                out.attributes.push_back("\\Noselect");
            if (entry.attributes & NonExistent)
                out.attributes.push_back("\\NonExistent");
            if (entry.attributes & HasChildren)
                out.attributes.push_back("\\HasChildren");
            if (entry.attributes & HasNoChildren)
                out.attributes.push_back("\\HasNoChildren");
            auto use = special_use.find(entry.name);
            if (use != special_use.end()) {
                for (const std::string& attribute : split_words(use->second))
                    out.attributes.push_back(attribute);
            }
            list.mailboxes.push_back(std::move(out));
        }
        cob(list);
    });
}

void StorageHandler::create_mailbox(Done cob, Fail fail, int64_t session_id, const std::string& mailbox)
{
    guarded(fail, [&] {
        daemon_.session(connection_, session_id).user->store().create(utf8_name(mailbox));
        cob();
    });
}

void StorageHandler::delete_mailbox(Done cob, Fail fail, int64_t session_id, const std::string& mailbox)
{
    guarded(fail, [&] {
        daemon_.session(connection_, session_id).user->store().remove(utf8_name(mailbox));
        cob();
    });
}

void StorageHandler::rename_mailbox(Done cob, Fail fail, int64_t session_id, const std::string& from_name,
                                    const std::string& to_name)
{
    guarded(fail, [&] {
        daemon_.session(connection_, session_id).user->store().rename(utf8_name(from_name), utf8_name(to_name));
        cob();
    });
}

void StorageHandler::mailbox_status(Reply<rpc::MailboxStatus> cob, Fail fail, int64_t session_id,
                                    const std::string& mailbox)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id);
        auto open = session.user->open(utf8_name(mailbox), false);
        open->box().sync();
        cob(status_of(open->box()));
    });
}

void StorageHandler::list_subscriptions(Reply<std::vector<std::string>> cob, Fail fail, int64_t session_id)
{
    guarded(fail, [&] {
        std::vector<std::string> names;
        MailStore& store = daemon_.session(connection_, session_id).user->store();
        create_auto_mailboxes(daemon_.settings(), store);
        for (const std::string& name : store.subscriptions())
            names.push_back(utf8_to_mutf7(name));
        cob(names);
    });
}

void StorageHandler::set_subscribed(Done cob, Fail fail, int64_t session_id, const std::string& mailbox,
                                    bool subscribed)
{
    guarded(fail, [&] {
        MailStore& store = daemon_.session(connection_, session_id).user->store();
        std::string name = utf8_name(mailbox);
        // Dovecot refuses to subscribe to what does not exist (unsubscribing always works).
        if (subscribed && !store.exists(name))
            throw rpc_error(rpc::ErrorKind::NOT_FOUND, "Mailbox doesn't exist: " + mailbox);
        store.subscribe(name, subscribed);
        cob();
    });
}

void StorageHandler::copy_messages(Reply<rpc::CopyResult> cob, Fail fail, int64_t session_id, int64_t view_id,
                                   const std::vector<int32_t>& uids, const std::string& target, bool move)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id);
        View& view = daemon_.view(session, view_id);
        if (move && view.read_only())
            throw rpc_error(rpc::ErrorKind::DENIED, "mailbox is read-only");
        std::string target_name = utf8_name(target);
        if (!session.user->store().exists(target_name))
            throw rpc_error(rpc::ErrorKind::NOT_FOUND, "Mailbox doesn't exist: " + target);
        auto destination = session.user->open(target_name, false);
        std::vector<uint32_t> sources(uids.begin(), uids.end());
        auto pairs = destination->box().copy_from(view.mailbox().box(), sources, move);
        rpc::CopyResult result;
        result.uidvalidity = static_cast<int32_t>(destination->box().uidvalidity());
        std::vector<uint32_t> moved;
        for (const auto& [from, to] : pairs) {
            result.source_uids.push_back(static_cast<int32_t>(from));
            result.dest_uids.push_back(static_cast<int32_t>(to));
            moved.push_back(from);
        }
        if (move) {
            view.note_expunged(moved);
            view.mailbox().changed();
        }
        session.user->mailbox_changed(target_name);
        cob(result);
    });
}

void StorageHandler::select_mailbox(Reply<rpc::SelectReply> cob, Fail fail, int64_t session_id,
                                    const std::string& mailbox, bool read_only)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id);
        if (session.views.size() >= kMaxViewsPerSession)
            throw rpc_error(rpc::ErrorKind::LIMIT, "too many open mailboxes in one session");
        auto open = session.user->open(utf8_name(mailbox), !read_only);
        open->box().sync();
        auto view = std::make_unique<View>(open, read_only);
        rpc::SelectReply reply;
        reply.view = session.next_id++;
        reply.status = status_of(open->box());
        reply.status.recent = static_cast<int32_t>(view->recent_count());
        reply.read_only = read_only;
        for (uint32_t uid : view->known_uids())
            reply.uids.push_back(static_cast<int32_t>(uid));
        session.views.emplace(reply.view, std::move(view));
        cob(reply);
    });
}

void StorageHandler::close_view(Done cob, int64_t session_id, int64_t view)
{
    try {
        auto& session = daemon_.session(connection_, session_id);
        auto wait = session.waits.find(view);
        if (wait != session.waits.end()) {
            auto answer = wait->second->answer;
            answer(ViewDelta{});
        }
        session.views.erase(view);
    } catch (const std::exception&) {
        // Closing what is not open is not an error worth reporting.
    }
    cob();
}

void StorageHandler::fetch(Reply<std::vector<rpc::MessageData>> cob, Fail fail, int64_t session_id, int64_t view_id,
                           const std::vector<int32_t>& uids, const std::vector<rpc::FetchItem::type>& items)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id);
        View& view = daemon_.view(session, view_id);
        Mailbox& box = view.mailbox().box();
        std::vector<rpc::MessageData> out;
        out.reserve(uids.size());
        for (int32_t uid : uids) {
            const MessageInfo* found = box.find(static_cast<uint32_t>(uid));
            if (!found)
                continue;
            // A copy: reading the message may resync the mailbox under the pointer.
            const MessageInfo message = *found;
            rpc::MessageData data;
            data.uid = uid;
            try {
                for (rpc::FetchItem::type item : items) {
                    switch (item) {
                    case rpc::FetchItem::FLAGS: data.__set_flags(to_rpc(view.flags_of(message))); break;
                    case rpc::FetchItem::SIZE: data.__set_size(static_cast<int64_t>(message.virtual_size)); break;
                    case rpc::FetchItem::INTERNALDATE: data.__set_internal_date(message.internal_date); break;
                    case rpc::FetchItem::MODSEQ: data.__set_modseq(static_cast<int64_t>(message.modseq)); break;
                    case rpc::FetchItem::ENVELOPE:
                        data.__set_envelope(structure_of(session, view_id, message.uid).envelope);
                        break;
                    case rpc::FetchItem::BODYSTRUCTURE:
                        data.__set_bodystructure(structure_of(session, view_id, message.uid).bodystructure);
                        break;
                    case rpc::FetchItem::BODY:
                        data.__set_body(structure_of(session, view_id, message.uid).body);
                        break;
                    default:
                        throw rpc_error(rpc::ErrorKind::INVALID, "fetch item not supported yet");
                    }
                }
            } catch (const StorageError& error) {
                if (error.kind() == StorageError::Kind::NotFound)
                    continue;  // expunged by someone else meanwhile
                throw;
            }
            out.push_back(std::move(data));
        }
        view.mailbox().fetch_cache().flush();
        cob(out);
    });
}

void StorageHandler::pop3_messages(Reply<std::vector<rpc::Pop3Message>> cob, Fail fail, int64_t session_id,
                                   int64_t view_id, const std::string& hidden_keyword)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id);
        View& view = daemon_.view(session, view_id);
        Mailbox& box = view.mailbox().box();
        std::vector<MessageInfo> listed;
        for (uint32_t uid : view.known_uids()) {
            const MessageInfo* found = box.find(uid);
            if (!found)
                continue;
            const auto& keywords = found->flags.keywords;
            bool hidden = !hidden_keyword.empty() &&
                          std::any_of(keywords.begin(), keywords.end(), [&](const std::string& keyword) {
                              return strcasecmp(keyword.c_str(), hidden_keyword.c_str()) == 0;
                          });
            if (!hidden)
                listed.push_back(*found);
        }
        std::vector<uint32_t> uids;
        for (const MessageInfo& message : listed)
            uids.push_back(message.uid);
        std::vector<Pop3Identity> identities = box.pop3_identities(uids);
        std::vector<rpc::Pop3Message> out;
        out.reserve(listed.size());
        for (size_t i = 0; i < listed.size(); i++) {
            rpc::Pop3Message message;
            message.uid = static_cast<int32_t>(listed[i].uid);
            message.virtual_size = static_cast<int64_t>(listed[i].virtual_size);
            message.flags = to_rpc(view.flags_of(listed[i]));
            if (i < identities.size()) {
                message.backend_uidl = identities[i].backend_uidl;
                message.file_name = identities[i].file_name;
                message.guid = identities[i].guid;
            }
            out.push_back(std::move(message));
        }
        cob(out);
    });
}

void StorageHandler::pop3_read(Reply<rpc::SectionChunk> cob, Fail fail, int64_t session_id, int64_t view_id,
                               int32_t uid, int64_t offset, int32_t max_bytes)
{
    guarded(fail, [&] {
        if (offset < 0 || max_bytes < 0)
            throw rpc_error(rpc::ErrorKind::INVALID, "negative offset or size");
        auto& session = daemon_.session(connection_, session_id);
        const auto& message = message_of(session, view_id, static_cast<uint32_t>(uid));
        rpc::SectionChunk chunk;
        chunk.total_size = static_cast<int64_t>(message.bytes.size());
        size_t from = std::min(static_cast<size_t>(offset), message.bytes.size());
        size_t count = std::min<size_t>(static_cast<size_t>(max_bytes), rpc::kChunkSize);
        chunk.data = message.bytes.substr(from, count);
        cob(chunk);
    });
}

const MessageStructure& StorageHandler::structure_of(StorageDaemon::Session& session, int64_t view_id, uint32_t uid)
{
    OpenMailbox& mailbox = daemon_.view(session, view_id).mailbox();
    FetchCache& cache = mailbox.fetch_cache();
    uint32_t uidvalidity = mailbox.box().uidvalidity();
    if (!cache.retained(uidvalidity)) {
        std::vector<uint32_t> live;
        live.reserve(mailbox.box().messages().size());
        for (const MessageInfo& message : mailbox.box().messages())
            live.push_back(message.uid);
        cache.retain(uidvalidity, live);
    }
    if (const MessageStructure* cached = cache.find(uidvalidity, uid))
        return *cached;
    // One parse gives all three strings: a client asking for one usually asks for the others.
    const auto& message = message_of(session, view_id, uid);
    MessageStructure structure;
    structure.envelope = mail::imap_envelope(message.bytes);
    structure.bodystructure = mail::imap_bodystructure(*message.root, true);
    structure.body = mail::imap_bodystructure(*message.root, false);
    return cache.insert(uidvalidity, uid, std::move(structure));
}

const StorageDaemon::CachedMessage& StorageHandler::message_of(StorageDaemon::Session& session, int64_t view_id,
                                                               uint32_t uid)
{
    auto& cache = session.cache;
    if (cache.root && cache.view == view_id && cache.uid == uid)
        return cache;
    View& view = daemon_.view(session, view_id);
    cache = StorageDaemon::CachedMessage{};
    std::string bytes = read_message(view.mailbox().box().open_message(uid));
    auto root = mail::parse_mime(bytes);
    cache.view = view_id;
    cache.uid = uid;
    cache.bytes = std::move(bytes);
    cache.root = std::move(root);
    return cache;
}

void StorageHandler::read_section(Reply<rpc::SectionChunk> cob, Fail fail, int64_t session_id, int64_t view_id,
                                  int32_t uid, const std::string& section, int64_t offset, int32_t max_bytes)
{
    guarded(fail, [&] {
        if (offset < 0 || max_bytes < 0)
            throw rpc_error(rpc::ErrorKind::INVALID, "negative offset or size");
        auto spec = mail::parse_section(section);
        if (!spec)
            throw rpc_error(rpc::ErrorKind::INVALID, "invalid section " + section);
        auto& session = daemon_.session(connection_, session_id);
        const auto& message = message_of(session, view_id, static_cast<uint32_t>(uid));
        rpc::SectionChunk chunk;
        chunk.total_size = static_cast<int64_t>(mail::section_size(message.bytes, *message.root, *spec));
        mail::Partial partial{static_cast<uint64_t>(offset),
                              std::min<uint64_t>(static_cast<uint64_t>(max_bytes), rpc::kChunkSize)};
        chunk.data = mail::fetch_section(message.bytes, *message.root, *spec, partial);
        if (message.bytes.size() > kMaxCachedMessage &&
            static_cast<uint64_t>(offset) + chunk.data.size() >= static_cast<uint64_t>(chunk.total_size))
            session.cache = StorageDaemon::CachedMessage{};  // do not keep a huge message around
        cob(chunk);
    });
}

void StorageHandler::read_binary(Reply<rpc::SectionChunk> cob, Fail fail, int64_t session_id, int64_t view_id,
                                 int32_t uid, const std::string& section, int64_t offset, int32_t max_bytes)
{
    guarded(fail, [&] {
        if (offset < 0 || max_bytes < 0)
            throw rpc_error(rpc::ErrorKind::INVALID, "negative offset or size");
        mail::FetchSection spec = section_of(section);
        auto& session = daemon_.session(connection_, session_id);
        message_of(session, view_id, static_cast<uint32_t>(uid));
        auto& message = session.cache;
        if (message.binary_section != section) {
            try {
                message.binary = mail::fetch_binary_section(message.bytes, *message.root, spec);
            } catch (const mail::BinaryDecodeError& error) {
                throw binary_error(error);
            }
            message.binary_section = section;
        }
        const std::string& data = message.binary.data;
        rpc::SectionChunk chunk;
        chunk.total_size = static_cast<int64_t>(data.size());
        chunk.__set_literal8(message.binary.literal8);
        if (static_cast<uint64_t>(offset) < data.size())
            chunk.data = data.substr(static_cast<size_t>(offset),
                                     std::min<size_t>(static_cast<size_t>(max_bytes), rpc::kChunkSize));
        if (message.bytes.size() > kMaxCachedMessage &&
            static_cast<uint64_t>(offset) + chunk.data.size() >= data.size())
            session.cache = StorageDaemon::CachedMessage{};  // do not keep a huge message around
        cob(chunk);
    });
}

void StorageHandler::binary_size(Reply<int64_t> cob, Fail fail, int64_t session_id, int64_t view_id, int32_t uid,
                                 const std::string& section)
{
    guarded(fail, [&] {
        mail::FetchSection spec = section_of(section);
        auto& session = daemon_.session(connection_, session_id);
        const auto& message = message_of(session, view_id, static_cast<uint32_t>(uid));
        try {
            cob(static_cast<int64_t>(mail::fetch_binary_size(message.bytes, *message.root, spec)));
        } catch (const mail::BinaryDecodeError& error) {
            throw binary_error(error);
        }
    });
}

void StorageHandler::store_flags(Reply<std::vector<rpc::MessageData>> cob, Fail fail, int64_t session_id,
                                 int64_t view_id, const std::vector<int32_t>& uids, rpc::StoreMode::type mode,
                                 const rpc::Flags& flags)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id);
        View& view = daemon_.view(session, view_id);
        if (view.read_only())
            throw rpc_error(rpc::ErrorKind::DENIED, "mailbox is read-only");
        Mailbox::FlagOp op = mode == rpc::StoreMode::ADD      ? Mailbox::FlagOp::Add
                                    : mode == rpc::StoreMode::REMOVE ? Mailbox::FlagOp::Remove
                                                                     : Mailbox::FlagOp::Replace;
        std::vector<uint32_t> targets(uids.begin(), uids.end());
        Mailbox& box = view.mailbox().box();
        uint64_t before = box.highest_modseq();
        auto updated = box.store_flags(targets, op, from_rpc(flags));
        view.note_flags(updated);
        // Like Dovecot, only the messages whose flags really changed are reported.
        std::vector<rpc::MessageData> out;
        for (MessageInfo message : updated) {
            if (message.modseq <= before)
                continue;
            message.flags = view.flags_of(message);
            out.push_back(flags_data(message));
        }
        view.mailbox().changed();
        cob(out);
    });
}

void StorageHandler::store_flags_unchanged_since(Reply<rpc::ConditionalStoreResult> cob, Fail fail,
                                                 int64_t session_id, int64_t view_id,
                                                 const std::vector<int32_t>& uids, rpc::StoreMode::type mode,
                                                 const rpc::Flags& flags, int64_t unchanged_since)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id);
        View& view = daemon_.view(session, view_id);
        if (view.read_only())
            throw rpc_error(rpc::ErrorKind::DENIED, "mailbox is read-only");
        if (unchanged_since < 0)
            throw rpc_error(rpc::ErrorKind::INVALID, "negative modseq");
        Mailbox::FlagOp op = mode == rpc::StoreMode::ADD      ? Mailbox::FlagOp::Add
                                    : mode == rpc::StoreMode::REMOVE ? Mailbox::FlagOp::Remove
                                                                     : Mailbox::FlagOp::Replace;
        Mailbox& box = view.mailbox().box();
        // The check needs current modseqs, including changes made by other programs.
        box.sync();
        uint64_t before = box.highest_modseq();
        std::vector<uint32_t> targets(uids.begin(), uids.end());
        std::vector<uint32_t> modified;
        auto updated = box.store_flags_unchanged_since(targets, op, from_rpc(flags),
                                                       static_cast<uint64_t>(unchanged_since), modified);
        view.note_flags(updated);
        rpc::ConditionalStoreResult result;
        for (MessageInfo message : updated) {
            if (message.modseq <= before)
                continue;
            message.flags = view.flags_of(message);
            result.updated.push_back(flags_data(message));
        }
        std::sort(modified.begin(), modified.end());
        result.modified.assign(modified.begin(), modified.end());
        view.mailbox().changed();
        cob(result);
    });
}

void StorageHandler::vanished_since(Reply<std::string> cob, Fail fail, int64_t session_id, int64_t view_id,
                                    int64_t modseq, const std::string& uid_set, const std::vector<int32_t>& known_seqs,
                                    const std::vector<int32_t>& known_uids)
{
    using imap::protocol::NumberRange;
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id);
        View& view = daemon_.view(session, view_id);
        Mailbox& box = view.mailbox().box();
        if (modseq < 0 || known_seqs.size() != known_uids.size())
            throw rpc_error(rpc::ErrorKind::INVALID, "invalid vanished_since arguments");
        std::vector<NumberRange> ranges;
        try {
            auto set = imap::protocol::SequenceSet::parse(uid_set, true);
            if (set.uses_star() || set.is_saved_result())
                throw rpc_error(rpc::ErrorKind::INVALID, "vanished_since needs explicit UIDs");
            ranges = set.resolve(0);
        } catch (const imap::protocol::CommandError& error) {
            throw rpc_error(rpc::ErrorKind::INVALID, error.what());
        }
        bool complete = false;
        std::vector<uint32_t> expunged = box.expunged_since(static_cast<uint64_t>(modseq), complete);
        // A modseq above ours is not one we gave out (Dovecot's, from before Loft kept
        // this folder's index): the records prove nothing, so answer the long way.
        if (static_cast<uint64_t>(modseq) > box.highest_modseq())
            complete = false;
        if (complete) {
            std::vector<uint32_t> wanted;
            for (uint32_t uid : expunged) {
                auto found = std::upper_bound(ranges.begin(), ranges.end(), uid,
                                              [](uint32_t u, const NumberRange& r) { return u < r.first; });
                if (found != ranges.begin() && std::prev(found)->last >= uid)
                    wanted.push_back(uid);
            }
            cob(imap::protocol::format_sequence_set(std::move(wanted)));
            return;
        }
        // Not known that far back: the gaps between the messages there are, within the
        // set and below UIDNEXT, minus what the client's sequence-match data proves it
        // already knows is gone (the UIDs up to its last sample that still matches).
        uint64_t known_gone_up_to = 0;
        for (size_t i = 0; i < known_seqs.size(); i++) {
            size_t seq = static_cast<size_t>(known_seqs[i]);
            if (seq == 0 || seq > view.known_uids().size() || view.known_uids()[seq - 1] != uint32_t(known_uids[i]))
                break;
            known_gone_up_to = static_cast<uint32_t>(known_uids[i]);
        }
        uint64_t end = box.uidnext();  // exclusive
        const auto& messages = box.messages();
        std::vector<NumberRange> gone;
        auto add_gap = [&](uint64_t first, uint64_t last) {  // inclusive; may be empty
            first = std::max(first, known_gone_up_to + 1);
            last = std::min(last, end - 1);
            if (end == 0 || first > last)
                return;
            if (!gone.empty() && uint64_t(gone.back().last) + 1 == first)
                gone.back().last = static_cast<uint32_t>(last);
            else
                gone.push_back(NumberRange{static_cast<uint32_t>(first), static_cast<uint32_t>(last)});
        };
        for (const NumberRange& range : ranges) {
            uint64_t next = range.first;
            auto message = std::lower_bound(messages.begin(), messages.end(), range.first,
                                            [](const MessageInfo& m, uint32_t u) { return m.uid < u; });
            for (; message != messages.end() && message->uid <= range.last; ++message) {
                add_gap(next, uint64_t(message->uid) - 1);
                next = uint64_t(message->uid) + 1;
            }
            add_gap(next, range.last);
        }
        cob(imap::protocol::format_ranges(gone));
    });
}

void StorageHandler::expunge(Reply<std::vector<int32_t>> cob, Fail fail, int64_t session_id, int64_t view_id,
                             const std::vector<int32_t>& uids)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id);
        View& view = daemon_.view(session, view_id);
        if (view.read_only())
            throw rpc_error(rpc::ErrorKind::DENIED, "mailbox is read-only");
        Mailbox& box = view.mailbox().box();
        box.sync();
        if (!uids.empty()) {
            // UID EXPUNGE: only the named messages may go, so take \Deleted off the
            // others for the duration and put it back afterwards.
            auto gone = box.expunge_uids(std::vector<uint32_t>(uids.begin(), uids.end()));
            view.note_expunged(gone);
            view.mailbox().changed();
            cob(std::vector<int32_t>(gone.begin(), gone.end()));
            return;
        }
        auto gone = box.expunge();
        view.note_expunged(gone);
        view.mailbox().changed();
        cob(std::vector<int32_t>(gone.begin(), gone.end()));
    });
}

void StorageHandler::search(Reply<rpc::SearchReply> cob, Fail fail, int64_t session_id, int64_t view_id,
                            const std::string& kind, const std::string& arguments, bool uid_threads,
                            const std::vector<int32_t>& saved_uids)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id);
        View& view = daemon_.view(session, view_id);
        Mailbox& box = view.mailbox().box();
        // The client's sequence numbers are the view's known UIDs; a message expunged
        // meanwhile keeps its place (and matches nothing that needs its content).
        std::vector<search::SearchMessage> messages;
        messages.reserve(view.known_uids().size());
        for (uint32_t uid : view.known_uids()) {
            const MessageInfo* found = box.find(uid);
            MessageInfo info = found ? *found : MessageInfo{};
            info.uid = uid;
            messages.push_back(search::SearchMessage{info, [&box, uid]() {
                                                         try {
                                                             return read_message(box.open_message(uid));
                                                         } catch (const StorageError&) {
                                                             return std::string();
                                                         }
                                                     }});
        }
        time_t now = time(nullptr);
        struct tm local;
        localtime_r(&now, &local);
        search::SearchOptions options;
        options.tz_offset_minutes = static_cast<int>(local.tm_gmtoff / 60);
        search::MessageSet set(std::move(messages), options);
        set.set_saved_result(std::vector<uint32_t>(saved_uids.begin(), saved_uids.end()));
        SearchResult result;
        try {
            result = run_search(set, kind, arguments, uid_threads);
        } catch (const imap::protocol::CommandError& error) {
            throw rpc_error(rpc::ErrorKind::INVALID, error.what());
        } catch (const search::SearchError& error) {
            throw rpc_error(rpc::ErrorKind::INVALID, error.what());
        }
        rpc::SearchReply reply;
        reply.uids.assign(result.uids.begin(), result.uids.end());
        reply.thread = result.thread;
        reply.highest_modseq = static_cast<int64_t>(result.highest_modseq);
        reply.modseqs.assign(result.modseqs.begin(), result.modseqs.end());
        cob(reply);
    });
}

rpc::ViewChanges StorageHandler::changes_of(StorageDaemon::Session&, View& view)
{
    rpc::ViewChanges changes = to_rpc(view.take_changes());
    changes.status = status_of(view.mailbox().box());
    changes.status.recent = static_cast<int32_t>(view.recent_count());
    return changes;
}

void StorageHandler::sync_view(Reply<rpc::ViewChanges> cob, Fail fail, int64_t session_id, int64_t view_id)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id);
        cob(changes_of(session, daemon_.view(session, view_id)));
    });
}

void StorageHandler::wait_changes(Reply<rpc::ViewChanges> cob, Fail fail, int64_t session_id, int64_t view_id,
                                  int32_t timeout_ms)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id);
        View& view = daemon_.view(session, view_id);
        if (session.waits.count(view_id))
            throw rpc_error(rpc::ErrorKind::INVALID, "already waiting on this view");
        rpc::ViewChanges now = changes_of(session, view);
        if (!now.expunged.empty() || !now.added.empty() || !now.changed.empty() || timeout_ms <= 0) {
            cob(now);
            return;
        }
        StorageDaemon& daemon = daemon_;
        auto connection = connection_;
        // Everything below finds the session and view again: by the time a timer
        // fires either may be gone.
        auto finish = [&daemon, connection, session_id, view_id, cob](ViewDelta delta) {
            StorageDaemon::Session* alive = nullptr;
            try {
                alive = &daemon.session(connection, session_id);
            } catch (const std::exception&) {
                return;
            }
            auto wait = alive->waits.find(view_id);
            if (wait == alive->waits.end())
                return;
            auto pending = std::move(wait->second);
            alive->waits.erase(wait);
            rpc::ViewChanges changes = to_rpc(delta);
            auto view = alive->views.find(view_id);
            if (view != alive->views.end()) {
                view->second->clear_waiter();
                changes.status = status_of(view->second->mailbox().box());
                changes.status.recent = static_cast<int32_t>(view->second->recent_count());
            }
            cob(changes);
            // pending (and its timers) is destroyed here, after the reply.
        };
        auto check = [&daemon, connection, session_id, view_id, finish]() {
            try {
                auto& alive = daemon.session(connection, session_id);
                auto view = alive.views.find(view_id);
                if (view == alive.views.end()) {
                    finish(ViewDelta{});
                    return;
                }
                ViewDelta delta = view->second->take_changes();
                if (!delta.expunged.empty() || !delta.added.empty() || !delta.changed.empty())
                    finish(std::move(delta));
                else
                    return;
            } catch (const std::exception& error) {
                daemon.log().error(std::string("checking for changes failed: ") + error.what());
                finish(ViewDelta{});
            }
        };
        auto pending = std::make_unique<StorageDaemon::PendingWait>();
        pending->answer = finish;
        pending->deadline = std::make_unique<Timer>(daemon_.base(), [finish] { finish(ViewDelta{}); });
        pending->deadline->start(std::chrono::milliseconds(std::min(timeout_ms, kMaxWaitMs)));
        // Changes by other processes (Dovecot, an MDA) are found by polling.
        pending->poll = std::make_unique<Timer>(daemon_.base(), check, true);
        pending->poll->start(kExternalChangePoll);
        view.set_waiter([check] { check(); });
        session.waits.emplace(view_id, std::move(pending));
    });
}

void StorageHandler::cancel_wait(Done cob, int64_t session_id, int64_t view)
{
    try {
        auto& session = daemon_.session(connection_, session_id);
        auto wait = session.waits.find(view);
        if (wait != session.waits.end()) {
            auto answer = wait->second->answer;
            answer(ViewDelta{});
        }
    } catch (const std::exception&) {
    }
    cob();
}

void StorageHandler::begin_append(Reply<int64_t> cob, Fail fail, int64_t session_id, const std::string& mailbox,
                                  const rpc::Flags& flags, int64_t internal_date)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id, false);
        if (session.appends.size() >= kMaxAppendsPerSession)
            throw rpc_error(rpc::ErrorKind::LIMIT, "too many appends in progress");
        StorageDaemon::Append append;
        append.mailbox = utf8_name(mailbox);
        append.target = session.user->open(append.mailbox, false);
        append.writer.emplace(append.target->box().begin_append(from_rpc(flags), internal_date));
        int64_t id = session.next_id++;
        session.appends.emplace(id, std::move(append));
        cob(id);
    });
}

void StorageHandler::append_chunk(Done cob, Fail fail, int64_t session_id, int64_t append_id, const std::string& data)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id, false);
        auto found = session.appends.find(append_id);
        if (found == session.appends.end())
            throw rpc_error(rpc::ErrorKind::INVALID, "no such append");
        found->second.writer->write(data);
        cob();
    });
}

void StorageHandler::commit_append(Reply<rpc::AppendResult> cob, Fail fail, int64_t session_id, int64_t append_id)
{
    guarded(fail, [&] {
        auto& session = daemon_.session(connection_, session_id, false);
        auto found = session.appends.find(append_id);
        if (found == session.appends.end())
            throw rpc_error(rpc::ErrorKind::INVALID, "no such append");
        StorageDaemon::Append append = std::move(found->second);
        session.appends.erase(found);
        rpc::AppendResult result;
        result.uid = static_cast<int32_t>(append.writer->commit());
        result.uidvalidity = static_cast<int32_t>(append.target->box().uidvalidity());
        session.user->mailbox_changed(append.mailbox);
        cob(result);
    });
}

void StorageHandler::abort_append(Done cob, int64_t session_id, int64_t append_id)
{
    try {
        daemon_.session(connection_, session_id, false).appends.erase(append_id);
    } catch (const std::exception&) {
    }
    cob();
}

void StorageHandler::plugin_call(Reply<std::string>, Fail fail, int64_t, const std::string& plugin,
                                 const std::string&, const std::string&)
{
    fail(TDelayedException::delayException(rpc_error(rpc::ErrorKind::NOT_FOUND, "no plugin named " + plugin)));
}

}  // namespace loft::storage::daemon
