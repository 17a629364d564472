// The Thrift face of the storage daemon for one connection: decodes calls, checks
// the session, runs them on the user's mail and answers (now, or later for long polls).
#pragma once

#include "rpc/gen-cpp/Storage.h"
#include "storage/daemon/storage_daemon.h"

namespace loft::storage::daemon {

using apache::thrift::TDelayedException;
template <typename T>
using Reply = std::function<void(const T&)>;
using Done = std::function<void()>;
using Fail = std::function<void(TDelayedException*)>;

class StorageHandler : public rpc::StorageCobSvIf {
public:
    StorageHandler(StorageDaemon& daemon, rpc::FrameServer::ConnectionId connection)
        : daemon_(daemon), connection_(connection)
    {
    }

    void open_session(Reply<int64_t> cob, Fail fail, const std::string& grant) override;
    void close_session(Done cob, int64_t session) override;
    void list_mailboxes(Reply<rpc::MailboxList> cob, Fail fail, int64_t session) override;
    void create_mailbox(Done cob, Fail fail, int64_t session, const std::string& mailbox) override;
    void delete_mailbox(Done cob, Fail fail, int64_t session, const std::string& mailbox) override;
    void rename_mailbox(Done cob, Fail fail, int64_t session, const std::string& from_name,
                        const std::string& to_name) override;
    void mailbox_status(Reply<rpc::MailboxStatus> cob, Fail fail, int64_t session, const std::string& mailbox) override;
    void list_subscriptions(Reply<std::vector<std::string>> cob, Fail fail, int64_t session) override;
    void set_subscribed(Done cob, Fail fail, int64_t session, const std::string& mailbox, bool subscribed) override;
    void copy_messages(Reply<rpc::CopyResult> cob, Fail fail, int64_t session, int64_t view,
                       const std::vector<int32_t>& uids, const std::string& target, bool move) override;
    void select_mailbox(Reply<rpc::SelectReply> cob, Fail fail, int64_t session, const std::string& mailbox,
                        bool read_only) override;
    void close_view(Done cob, int64_t session, int64_t view) override;
    void fetch(Reply<std::vector<rpc::MessageData>> cob, Fail fail, int64_t session, int64_t view,
               const std::vector<int32_t>& uids, const std::vector<rpc::FetchItem::type>& items) override;
    void read_section(Reply<rpc::SectionChunk> cob, Fail fail, int64_t session, int64_t view, int32_t uid,
                      const std::string& section, int64_t offset, int32_t max_bytes) override;
    void read_binary(Reply<rpc::SectionChunk> cob, Fail fail, int64_t session, int64_t view, int32_t uid,
                     const std::string& section, int64_t offset, int32_t max_bytes) override;
    void binary_size(Reply<int64_t> cob, Fail fail, int64_t session, int64_t view, int32_t uid,
                     const std::string& section) override;
    void store_flags(Reply<std::vector<rpc::MessageData>> cob, Fail fail, int64_t session, int64_t view,
                     const std::vector<int32_t>& uids, rpc::StoreMode::type mode, const rpc::Flags& flags) override;
    void expunge(Reply<std::vector<int32_t>> cob, Fail fail, int64_t session, int64_t view,
                 const std::vector<int32_t>& uids) override;
    void search(Reply<rpc::SearchReply> cob, Fail fail, int64_t session, int64_t view, const std::string& kind,
                const std::string& arguments, bool uid_threads,
                const std::vector<int32_t>& saved_uids) override;
    void sync_view(Reply<rpc::ViewChanges> cob, Fail fail, int64_t session, int64_t view) override;
    void wait_changes(Reply<rpc::ViewChanges> cob, Fail fail, int64_t session, int64_t view,
                      int32_t timeout_ms) override;
    void cancel_wait(Done cob, int64_t session, int64_t view) override;
    void begin_append(Reply<int64_t> cob, Fail fail, int64_t session, const std::string& mailbox,
                      const rpc::Flags& flags, int64_t internal_date) override;
    void append_chunk(Done cob, Fail fail, int64_t session, int64_t append, const std::string& data) override;
    void commit_append(Reply<rpc::AppendResult> cob, Fail fail, int64_t session, int64_t append) override;
    void abort_append(Done cob, int64_t session, int64_t append) override;
    void store_flags_unchanged_since(Reply<rpc::ConditionalStoreResult> cob, Fail fail, int64_t session, int64_t view,
                                     const std::vector<int32_t>& uids, rpc::StoreMode::type mode,
                                     const rpc::Flags& flags, int64_t unchanged_since) override;
    void vanished_since(Reply<std::string> cob, Fail fail, int64_t session, int64_t view, int64_t modseq,
                        const std::string& uid_set, const std::vector<int32_t>& known_seqs,
                        const std::vector<int32_t>& known_uids) override;
    void pop3_messages(Reply<std::vector<rpc::Pop3Message>> cob, Fail fail, int64_t session, int64_t view,
                       const std::string& hidden_keyword) override;
    void pop3_read(Reply<rpc::SectionChunk> cob, Fail fail, int64_t session, int64_t view, int32_t uid,
                   int64_t offset, int32_t max_bytes) override;
    void plugin_call(Reply<std::string> cob, Fail fail, int64_t session, const std::string& plugin,
                     const std::string& method, const std::string& payload) override;

private:
    // Runs body; a storage or unexpected error becomes a declared StorageError reply.
    template <typename Body>
    void guarded(const Fail& fail, Body&& body);
    rpc::ViewChanges changes_of(StorageDaemon::Session& session, View& view);
    // The message, read and parsed (kept for the next call on the same message).
    const StorageDaemon::CachedMessage& message_of(StorageDaemon::Session& session, int64_t view, uint32_t uid);
    // ENVELOPE/BODY/BODYSTRUCTURE from the mailbox's fetch cache, computed on a miss.
    const MessageStructure& structure_of(StorageDaemon::Session& session, int64_t view, uint32_t uid);

    StorageDaemon& daemon_;
    rpc::FrameServer::ConnectionId connection_;
};

}  // namespace loft::storage::daemon
