// The storage API as coroutines for protocol workers: every method is one RPC on the
// shared channel; StorageError (from the IDL) and RpcUnavailable are thrown as-is.
#pragma once

#include "lib/task.h"
#include "rpc/channel.h"
#include "rpc/gen-cpp/Storage.h"

#include <memory>
#include <string>
#include <vector>

namespace loft::rpc {

class AsyncStorageClient {
public:
    explicit AsyncStorageClient(std::shared_ptr<RpcChannel> channel) : channel_(std::move(channel)) {}

    const std::shared_ptr<RpcChannel>& channel() const { return channel_; }
    bool connected() const { return channel_ && channel_->good(); }

    Task<int64_t> open_session(std::string grant);
    Task<void> close_session(int64_t session);
    Task<MailboxList> list_mailboxes(int64_t session);
    Task<void> create_mailbox(int64_t session, std::string mailbox);
    Task<void> delete_mailbox(int64_t session, std::string mailbox);
    Task<void> rename_mailbox(int64_t session, std::string from, std::string to);
    Task<MailboxStatus> mailbox_status(int64_t session, std::string mailbox);
    Task<std::vector<std::string>> list_subscriptions(int64_t session);
    Task<void> set_subscribed(int64_t session, std::string mailbox, bool subscribed);
    Task<CopyResult> copy_messages(int64_t session, int64_t view, std::vector<int32_t> uids, std::string target,
                                   bool move);
    Task<SelectReply> select_mailbox(int64_t session, std::string mailbox, bool read_only);
    Task<void> close_view(int64_t session, int64_t view);
    Task<std::vector<MessageData>> fetch(int64_t session, int64_t view, std::vector<int32_t> uids,
                                         std::vector<FetchItem::type> items);
    Task<SectionChunk> read_section(int64_t session, int64_t view, int32_t uid, std::string section, int64_t offset,
                                    int32_t max_bytes);
    Task<SectionChunk> read_binary(int64_t session, int64_t view, int32_t uid, std::string section, int64_t offset,
                                   int32_t max_bytes);
    Task<int64_t> binary_size(int64_t session, int64_t view, int32_t uid, std::string section);
    Task<std::vector<MessageData>> store_flags(int64_t session, int64_t view, std::vector<int32_t> uids,
                                               StoreMode::type mode, Flags flags);
    Task<std::vector<int32_t>> expunge(int64_t session, int64_t view, std::vector<int32_t> uids);
    Task<SearchReply> search(int64_t session, int64_t view, std::string kind, std::string arguments,
                             bool uid_threads, std::vector<int32_t> saved_uids = {});
    Task<ViewChanges> sync_view(int64_t session, int64_t view);
    Task<ViewChanges> wait_changes(int64_t session, int64_t view, std::chrono::milliseconds timeout);
    Task<void> cancel_wait(int64_t session, int64_t view);
    Task<int64_t> begin_append(int64_t session, std::string mailbox, Flags flags, int64_t internal_date);
    Task<void> append_chunk(int64_t session, int64_t append, std::string data);
    Task<AppendResult> commit_append(int64_t session, int64_t append);
    Task<void> abort_append(int64_t session, int64_t append);
    Task<ConditionalStoreResult> store_flags_unchanged_since(int64_t session, int64_t view, std::vector<int32_t> uids,
                                                             StoreMode::type mode, Flags flags,
                                                             int64_t unchanged_since);
    Task<std::string> vanished_since(int64_t session, int64_t view, int64_t modseq, std::string uid_set,
                                     std::vector<int32_t> known_seqs, std::vector<int32_t> known_uids);

    Task<std::vector<Pop3Message>> pop3_messages(int64_t session, int64_t view, std::string hidden_keyword);
    Task<SectionChunk> pop3_read(int64_t session, int64_t view, int32_t uid, int64_t offset, int32_t max_bytes);

private:
    std::shared_ptr<RpcChannel> channel_;
};

}  // namespace loft::rpc
