#include "storage/mail_store.h"

#include "lib/system_error.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

namespace loft::storage {

namespace {

// Streams a message file into an append without holding all of it in memory.
void pour(int fd, Mailbox::Append& append)
{
    char buffer[65536];
    while (true) {
        ssize_t got = read(fd, buffer, sizeof(buffer));
        if (got < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("read message");
        }
        if (got == 0)
            return;
        append.write(std::string_view(buffer, static_cast<size_t>(got)));
    }
}

}  // namespace

std::vector<std::pair<uint32_t, uint32_t>> Mailbox::copy_by_append(Mailbox& source, const std::vector<uint32_t>& uids,
                                                                   bool move)
{
    std::vector<std::pair<uint32_t, uint32_t>> pairs;
    for (uint32_t uid : uids) {
        const MessageInfo* found = source.find(uid);
        if (!found)
            continue;
        Flags flags = found->flags;
        int64_t internal_date = found->internal_date;
        flags.system &= ~static_cast<uint32_t>(Recent);
        UniqueFd fd = source.open_message(uid);
        Append append = begin_append(flags, internal_date);
        pour(fd.get(), append);
        pairs.emplace_back(uid, append.commit());
    }
    if (move && !pairs.empty()) {
        std::vector<uint32_t> copied;
        for (const auto& pair : pairs)
            copied.push_back(pair.first);
        Flags deleted;
        deleted.system = Deleted;
        source.store_flags(copied, FlagOp::Add, deleted);
        source.expunge_uids(copied);
    }
    return pairs;
}

std::vector<uint32_t> expunge_only(Mailbox& box, const std::vector<uint32_t>& uids)
{
    std::set<uint32_t> allowed(uids.begin(), uids.end());
    std::vector<uint32_t> spared;
    for (const MessageInfo& message : box.messages()) {
        if ((message.flags.system & Deleted) && !allowed.count(message.uid))
            spared.push_back(message.uid);
    }
    Flags deleted;
    deleted.system = Deleted;
    if (!spared.empty())
        box.store_flags(spared, Mailbox::FlagOp::Remove, deleted);
    auto gone = box.expunge();
    if (!spared.empty())
        box.store_flags(spared, Mailbox::FlagOp::Add, deleted);
    return gone;
}

std::vector<MessageInfo> Mailbox::store_flags_unchanged_since(const std::vector<uint32_t>& uids, FlagOp op,
                                                             const Flags& flags, uint64_t limit,
                                                             std::vector<uint32_t>& modified)
{
    std::vector<uint32_t> allowed;
    for (uint32_t uid : uids) {
        const MessageInfo* message = find(uid);
        if (message && message->modseq > limit)
            modified.push_back(uid);
        else
            allowed.push_back(uid);
    }
    return store_flags(allowed, op, flags);
}

std::vector<uint32_t> Mailbox::expunge_uids(const std::vector<uint32_t>& uids)
{
    return expunge_only(*this, uids);
}

std::vector<uint32_t> Mailbox::recent_uids() const
{
    std::vector<uint32_t> uids;
    for (const MessageInfo& info : messages())
        if (info.flags.system & Recent)
            uids.push_back(info.uid);
    return uids;
}

std::vector<std::string> Mailbox::keyword_names() const
{
    std::vector<std::string> names;
    for (const MessageInfo& info : messages())
        for (const std::string& keyword : info.flags.keywords)
            if (std::find(names.begin(), names.end(), keyword) == names.end())
                names.push_back(keyword);
    return names;
}

}  // namespace loft::storage
