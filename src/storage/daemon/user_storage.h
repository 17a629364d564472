// One user's mail as the storage daemon serves it: the store, the mailboxes open in
// any session, and the views (per-session mailbox states) that changes are reported to.
#pragma once

#include "lib/event_loop.h"
#include "storage/daemon/fetch_cache.h"
#include "storage/mail_store.h"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace loft::storage::daemon {

// What a view has told its client, and what changed since.
struct ViewDelta {
    std::vector<uint32_t> expunged;
    std::vector<MessageInfo> added;
    std::vector<MessageInfo> changed;
};

class OpenMailbox;

// One session's selected mailbox.
class View {
public:
    View(std::shared_ptr<OpenMailbox> mailbox, bool read_only);
    ~View();
    View(const View&) = delete;
    View& operator=(const View&) = delete;

    OpenMailbox& mailbox() { return *mailbox_; }
    bool read_only() const { return read_only_; }
    // Re-reads the mailbox and returns what this view has not seen yet, then
    // remembers it as seen.
    ViewDelta take_changes();
    // The session itself caused these: no need to report them back later.
    void note_flags(const std::vector<MessageInfo>& updated);
    void note_expunged(const std::vector<uint32_t>& uids);
    const std::vector<uint32_t>& known_uids() const { return known_order_; }
    // \Recent is per session, as in Dovecot: a read-write view owns the messages it
    // claimed; a read-only one shows those nobody has claimed yet.
    bool is_recent(uint32_t uid) const { return recent_.count(uid) != 0; }
    uint32_t recent_count() const { return static_cast<uint32_t>(recent_.size()); }
    // flags as this view reports them (with \Recent if it is one of its recent messages).
    Flags flags_of(const MessageInfo& message) const;

    // A long poll: fires once when the mailbox changes (or never; the caller times out).
    void set_waiter(std::function<void()> waiter) { waiter_ = std::move(waiter); }
    void clear_waiter() { waiter_ = nullptr; }
    void wake();

private:
    std::shared_ptr<OpenMailbox> mailbox_;
    bool read_only_;
    std::vector<uint32_t> known_order_;
    std::map<uint32_t, Flags> known_flags_;
    std::set<uint32_t> recent_;
    void take_recent();
    std::function<void()> waiter_;
};

// A mailbox open in this daemon, shared by every view of it.
class OpenMailbox {
public:
    explicit OpenMailbox(std::unique_ptr<Mailbox> box, std::shared_ptr<FetchCache> cache = nullptr)
        : box_(std::move(box)), cache_(cache ? std::move(cache) : std::make_shared<FetchCache>(""))
    {
    }
    Mailbox& box() { return *box_; }
    // Shared by the read-only and read-write instances of the same mailbox.
    FetchCache& fetch_cache() { return *cache_; }
    void attach(View* view) { views_.insert(view); }
    void detach(View* view) { views_.erase(view); }
    // Something changed the mailbox: wake every view waiting for changes.
    void changed();

private:
    std::unique_ptr<Mailbox> box_;
    std::shared_ptr<FetchCache> cache_;
    std::set<View*> views_;
};

class UserStorage {
public:
    // A Maildir store at location (mail_location without "maildir:").
    UserStorage(std::string user, std::string location, char separator);
    UserStorage(std::string user, std::unique_ptr<MailStore> store);

    const std::string& user() const { return user_; }
    MailStore& store() { return *store_; }
    // The shared open mailbox, opened and synced on first use. Only a read-write
    // SELECT makes it writable: from then on it moves new/ to cur/ and takes \Recent,
    // as Dovecot's SELECT does; until then deliveries, STATUS and EXAMINE leave new/
    // alone. It stays writable while anyone has it open.
    std::shared_ptr<OpenMailbox> open(const std::string& mailbox, bool read_write);
    // Tell views of mailbox that it changed, if anyone has it open.
    void mailbox_changed(const std::string& mailbox);

private:
    static std::string key_of(const std::string& mailbox);
    // The instance open under key, if anyone still holds it.
    std::shared_ptr<OpenMailbox> find_open(const std::string& key);
    static constexpr const char* kSeparateWritable = "\n(read-write)";  // no mailbox name has a newline
    // A folder open twice (a backend that cannot make_writable()): both objects agree
    // on what is \Recent.
    void share_recent_mark(const std::string& name);

    std::string user_;
    std::unique_ptr<MailStore> store_;
    std::map<std::string, std::weak_ptr<OpenMailbox>> open_;
    std::map<std::string, std::weak_ptr<FetchCache>> caches_;  // by loft.cache path
};

}  // namespace loft::storage::daemon
