#include "rpc/storage_client.h"

#include "rpc/call.h"

namespace loft::rpc {

using Done = std::function<void(StorageCobClient*)>;

Task<int64_t> AsyncStorageClient::open_session(std::string grant)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.open_session(done, grant); },
        [](StorageCobClient& c) { return c.recv_open_session(); });
}

Task<void> AsyncStorageClient::close_session(int64_t session)
{
    co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.close_session(done, session); },
        [](StorageCobClient& c) { c.recv_close_session(); });
}

Task<MailboxList> AsyncStorageClient::list_mailboxes(int64_t session)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.list_mailboxes(done, session); },
        [](StorageCobClient& c) {
            MailboxList result;
            c.recv_list_mailboxes(result);
            return result;
        });
}

Task<void> AsyncStorageClient::create_mailbox(int64_t session, std::string mailbox)
{
    co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.create_mailbox(done, session, mailbox); },
        [](StorageCobClient& c) { c.recv_create_mailbox(); });
}

Task<void> AsyncStorageClient::delete_mailbox(int64_t session, std::string mailbox)
{
    co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.delete_mailbox(done, session, mailbox); },
        [](StorageCobClient& c) { c.recv_delete_mailbox(); });
}

Task<void> AsyncStorageClient::rename_mailbox(int64_t session, std::string from, std::string to)
{
    co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.rename_mailbox(done, session, from, to); },
        [](StorageCobClient& c) { c.recv_rename_mailbox(); });
}

Task<MailboxStatus> AsyncStorageClient::mailbox_status(int64_t session, std::string mailbox)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.mailbox_status(done, session, mailbox); },
        [](StorageCobClient& c) {
            MailboxStatus result;
            c.recv_mailbox_status(result);
            return result;
        });
}

Task<std::vector<std::string>> AsyncStorageClient::list_subscriptions(int64_t session)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.list_subscriptions(done, session); },
        [](StorageCobClient& c) {
            std::vector<std::string> result;
            c.recv_list_subscriptions(result);
            return result;
        });
}

Task<void> AsyncStorageClient::set_subscribed(int64_t session, std::string mailbox, bool subscribed)
{
    co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.set_subscribed(done, session, mailbox, subscribed); },
        [](StorageCobClient& c) { c.recv_set_subscribed(); });
}

Task<CopyResult> AsyncStorageClient::copy_messages(int64_t session, int64_t view, std::vector<int32_t> uids,
                                                   std::string target, bool move)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.copy_messages(done, session, view, uids, target, move); },
        [](StorageCobClient& c) {
            CopyResult result;
            c.recv_copy_messages(result);
            return result;
        });
}

Task<SelectReply> AsyncStorageClient::select_mailbox(int64_t session, std::string mailbox, bool read_only)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.select_mailbox(done, session, mailbox, read_only); },
        [](StorageCobClient& c) {
            SelectReply result;
            c.recv_select_mailbox(result);
            return result;
        });
}

Task<void> AsyncStorageClient::close_view(int64_t session, int64_t view)
{
    co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.close_view(done, session, view); },
        [](StorageCobClient& c) { c.recv_close_view(); });
}

Task<std::vector<MessageData>> AsyncStorageClient::fetch(int64_t session, int64_t view, std::vector<int32_t> uids,
                                                    std::vector<FetchItem::type> items)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.fetch(done, session, view, uids, items); },
        [](StorageCobClient& c) {
            std::vector<MessageData> result;
            c.recv_fetch(result);
            return result;
        });
}

Task<SectionChunk> AsyncStorageClient::read_section(int64_t session, int64_t view, int32_t uid, std::string section,
                                               int64_t offset, int32_t max_bytes)
{
    co_return co_await call<StorageCobClient>(
        channel_,
        [&](StorageCobClient& c, Done done) { c.read_section(done, session, view, uid, section, offset, max_bytes); },
        [](StorageCobClient& c) {
            SectionChunk result;
            c.recv_read_section(result);
            return result;
        });
}

Task<SectionChunk> AsyncStorageClient::read_binary(int64_t session, int64_t view, int32_t uid, std::string section,
                                               int64_t offset, int32_t max_bytes)
{
    co_return co_await call<StorageCobClient>(
        channel_,
        [&](StorageCobClient& c, Done done) { c.read_binary(done, session, view, uid, section, offset, max_bytes); },
        [](StorageCobClient& c) {
            SectionChunk result;
            c.recv_read_binary(result);
            return result;
        });
}

Task<int64_t> AsyncStorageClient::binary_size(int64_t session, int64_t view, int32_t uid, std::string section)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.binary_size(done, session, view, uid, section); },
        [](StorageCobClient& c) { return c.recv_binary_size(); });
}

Task<std::vector<MessageData>> AsyncStorageClient::store_flags(int64_t session, int64_t view, std::vector<int32_t> uids,
                                                          StoreMode::type mode, Flags flags)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.store_flags(done, session, view, uids, mode, flags); },
        [](StorageCobClient& c) {
            std::vector<MessageData> result;
            c.recv_store_flags(result);
            return result;
        });
}

Task<std::vector<int32_t>> AsyncStorageClient::expunge(int64_t session, int64_t view, std::vector<int32_t> uids)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.expunge(done, session, view, uids); },
        [](StorageCobClient& c) {
            std::vector<int32_t> result;
            c.recv_expunge(result);
            return result;
        });
}

Task<std::vector<Pop3Message>> AsyncStorageClient::pop3_messages(int64_t session, int64_t view,
                                                                 std::string hidden_keyword)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.pop3_messages(done, session, view, hidden_keyword); },
        [](StorageCobClient& c) {
            std::vector<Pop3Message> result;
            c.recv_pop3_messages(result);
            return result;
        });
}

Task<SectionChunk> AsyncStorageClient::pop3_read(int64_t session, int64_t view, int32_t uid, int64_t offset,
                                                int32_t max_bytes)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.pop3_read(done, session, view, uid, offset, max_bytes); },
        [](StorageCobClient& c) {
            SectionChunk result;
            c.recv_pop3_read(result);
            return result;
        });
}

Task<SearchReply> AsyncStorageClient::search(int64_t session, int64_t view, std::string kind, std::string arguments,
                                             bool uid_threads, std::vector<int32_t> saved_uids)
{
    co_return co_await call<StorageCobClient>(
        channel_,
        [&](StorageCobClient& c, Done done) { c.search(done, session, view, kind, arguments, uid_threads, saved_uids); },
        [](StorageCobClient& c) {
            SearchReply result;
            c.recv_search(result);
            return result;
        });
}

Task<ViewChanges> AsyncStorageClient::sync_view(int64_t session, int64_t view)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.sync_view(done, session, view); },
        [](StorageCobClient& c) {
            ViewChanges result;
            c.recv_sync_view(result);
            return result;
        });
}

Task<ViewChanges> AsyncStorageClient::wait_changes(int64_t session, int64_t view, std::chrono::milliseconds timeout)
{
    // The call itself may take the whole poll, so its RPC deadline is longer.
    co_return co_await call<StorageCobClient>(
        channel_,
        [&](StorageCobClient& c, Done done) {
            c.wait_changes(done, session, view, static_cast<int32_t>(timeout.count()));
        },
        [](StorageCobClient& c) {
            ViewChanges result;
            c.recv_wait_changes(result);
            return result;
        },
        timeout + RpcChannel::kDefaultTimeout);
}

Task<void> AsyncStorageClient::cancel_wait(int64_t session, int64_t view)
{
    co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.cancel_wait(done, session, view); },
        [](StorageCobClient& c) { c.recv_cancel_wait(); });
}

Task<int64_t> AsyncStorageClient::begin_append(int64_t session, std::string mailbox, Flags flags, int64_t internal_date)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.begin_append(done, session, mailbox, flags, internal_date); },
        [](StorageCobClient& c) { return c.recv_begin_append(); });
}

Task<void> AsyncStorageClient::append_chunk(int64_t session, int64_t append, std::string data)
{
    co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.append_chunk(done, session, append, data); },
        [](StorageCobClient& c) { c.recv_append_chunk(); });
}

Task<AppendResult> AsyncStorageClient::commit_append(int64_t session, int64_t append)
{
    co_return co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.commit_append(done, session, append); },
        [](StorageCobClient& c) {
            AppendResult result;
            c.recv_commit_append(result);
            return result;
        });
}

Task<void> AsyncStorageClient::abort_append(int64_t session, int64_t append)
{
    co_await call<StorageCobClient>(
        channel_, [&](StorageCobClient& c, Done done) { c.abort_append(done, session, append); },
        [](StorageCobClient& c) { c.recv_abort_append(); });
}

Task<ConditionalStoreResult> AsyncStorageClient::store_flags_unchanged_since(int64_t session, int64_t view,
                                                                             std::vector<int32_t> uids,
                                                                             StoreMode::type mode, Flags flags,
                                                                             int64_t unchanged_since)
{
    co_return co_await call<StorageCobClient>(
        channel_,
        [&](StorageCobClient& c, Done done) {
            c.store_flags_unchanged_since(done, session, view, uids, mode, flags, unchanged_since);
        },
        [](StorageCobClient& c) {
            ConditionalStoreResult result;
            c.recv_store_flags_unchanged_since(result);
            return result;
        });
}

Task<std::string> AsyncStorageClient::vanished_since(int64_t session, int64_t view, int64_t modseq,
                                                     std::string uid_set, std::vector<int32_t> known_seqs,
                                                     std::vector<int32_t> known_uids)
{
    co_return co_await call<StorageCobClient>(
        channel_,
        [&](StorageCobClient& c, Done done) {
            c.vanished_since(done, session, view, modseq, uid_set, known_seqs, known_uids);
        },
        [](StorageCobClient& c) {
            std::string result;
            c.recv_vanished_since(result);
            return result;
        });
}

}  // namespace loft::rpc
