#include "storage/daemon/user_storage.h"

#include "lib/strings.h"
#include "storage/maildir/store.h"

#include <algorithm>

namespace loft::storage::daemon {

View::View(std::shared_ptr<OpenMailbox> mailbox, bool read_only) : mailbox_(std::move(mailbox)), read_only_(read_only)
{
    mailbox_->attach(this);
    for (const MessageInfo& message : mailbox_->box().messages()) {
        known_order_.push_back(message.uid);
        known_flags_[message.uid] = message.flags;
    }
    take_recent();
}

void View::take_recent()
{
    Mailbox& box = mailbox_->box();
    if (!read_only_) {
        for (uint32_t uid : box.claim_recent())
            recent_.insert(uid);
        return;
    }
    for (uint32_t uid : box.recent_uids())
        recent_.insert(uid);
}

Flags View::flags_of(const MessageInfo& message) const
{
    Flags flags = message.flags;
    if (is_recent(message.uid))
        flags.system |= Recent;
    return flags;
}

View::~View() { mailbox_->detach(this); }

ViewDelta View::take_changes()
{
    Mailbox& box = mailbox_->box();
    box.sync();
    ViewDelta delta;
    std::set<uint32_t> present;
    for (const MessageInfo& message : box.messages())
        present.insert(message.uid);
    std::vector<uint32_t> still_known;
    for (uint32_t uid : known_order_) {
        if (present.count(uid)) {
            still_known.push_back(uid);
        } else {
            delta.expunged.push_back(uid);
            known_flags_.erase(uid);
            recent_.erase(uid);
        }
    }
    known_order_ = std::move(still_known);
    uint32_t last_known = known_order_.empty() ? 0 : known_order_.back();
    take_recent();
    for (const MessageInfo& message : box.messages()) {
        auto known = known_flags_.find(message.uid);
        if (known == known_flags_.end()) {
            // A UID below the last known one that we never saw was expunged and
            // re-added by nobody: UIDs only grow, so only newer ones are new.
            if (message.uid > last_known) {
                delta.added.push_back(message);
                delta.added.back().flags = flags_of(message);
                known_order_.push_back(message.uid);
                known_flags_[message.uid] = message.flags;
            }
        } else if (!(known->second == message.flags)) {
            delta.changed.push_back(message);
            delta.changed.back().flags = flags_of(message);
            known->second = message.flags;
        }
    }
    return delta;
}

void View::note_flags(const std::vector<MessageInfo>& updated)
{
    for (const MessageInfo& message : updated) {
        auto known = known_flags_.find(message.uid);
        if (known != known_flags_.end())
            known->second = message.flags;
    }
}

void View::note_expunged(const std::vector<uint32_t>& uids)
{
    std::set<uint32_t> gone(uids.begin(), uids.end());
    std::erase_if(known_order_, [&](uint32_t uid) { return gone.count(uid) > 0; });
    for (uint32_t uid : uids) {
        known_flags_.erase(uid);
        recent_.erase(uid);
    }
}

void View::wake()
{
    if (waiter_) {
        auto waiter = std::move(waiter_);
        waiter_ = nullptr;
        waiter();
    }
}

void OpenMailbox::changed()
{
    // Waking may detach views; iterate over a copy.
    std::vector<View*> waiting(views_.begin(), views_.end());
    for (View* view : waiting) {
        if (views_.count(view))
            view->wake();
    }
}

UserStorage::UserStorage(std::string user, std::string location, char separator)
    : UserStorage(std::move(user), std::make_unique<MaildirStore>(std::move(location), separator))
{
}

UserStorage::UserStorage(std::string user, std::unique_ptr<MailStore> store)
    : user_(std::move(user)), store_(std::move(store))
{
}

std::string UserStorage::key_of(const std::string& mailbox)
{
    return iequals(mailbox, "INBOX") ? std::string("INBOX") : mailbox;
}

std::shared_ptr<OpenMailbox> UserStorage::find_open(const std::string& key)
{
    auto found = open_.find(key);
    if (found == open_.end())
        return nullptr;
    auto alive = found->second.lock();
    if (!alive)
        open_.erase(found);
    return alive;
}

std::shared_ptr<OpenMailbox> UserStorage::open(const std::string& mailbox, bool read_write)
{
    // One instance per folder, made writable by the first read-write SELECT: two
    // instances would each number the same changes with their own modseqs.
    std::string name = key_of(mailbox);
    std::string key = name;
    if (auto alive = find_open(name)) {
        if (!read_write || !alive->box().read_only())
            return alive;
        if (alive->box().make_writable()) {
            alive->box().sync();
            return alive;
        }
        // A backend that cannot switch gets a read-write instance of its own.
        key = name + kSeparateWritable;
        if (auto writable = find_open(key)) {
            share_recent_mark(name);
            return writable;
        }
    }
    auto box = store_->open(name, !read_write);
    // Backends without a place for Loft's files (dir "") keep the cache in memory only.
    std::string dir = box->loft_file_dir();
    std::string cache_path = dir.empty() ? std::string() : dir + "/" + kFetchCacheFileName;
    std::string cache_key = cache_path.empty() ? "memory:" + name : cache_path;
    std::shared_ptr<FetchCache> cache = caches_[cache_key].lock();
    if (!cache) {
        std::erase_if(caches_, [](const auto& entry) { return entry.second.expired(); });
        cache = std::make_shared<FetchCache>(cache_path);
        caches_[cache_key] = cache;
    }
    auto opened = std::make_shared<OpenMailbox>(std::move(box), std::move(cache));
    opened->box().sync();
    open_[key] = opened;
    share_recent_mark(name);
    return opened;
}

void UserStorage::share_recent_mark(const std::string& name)
{
    std::vector<std::shared_ptr<OpenMailbox>> alive;
    for (const std::string& key : {name, name + kSeparateWritable})
        if (auto box = find_open(key))
            alive.push_back(std::move(box));
    if (alive.size() != 2 || alive[0]->box().uidvalidity() != alive[1]->box().uidvalidity())
        return;
    alive[0]->box().raise_first_recent_uid(alive[1]->box().first_recent_uid());
    alive[1]->box().raise_first_recent_uid(alive[0]->box().first_recent_uid());
}

void UserStorage::mailbox_changed(const std::string& mailbox)
{
    std::string name = key_of(mailbox);
    for (const std::string& key : {name, name + kSeparateWritable}) {
        if (auto alive = find_open(key))
            alive->changed();
    }
}

}  // namespace loft::storage::daemon
