// The storage interface both backends (Maildir, mbox) implement, so the storage daemon
// serves either without knowing which: a user's tree of mailboxes and one open mailbox.
#pragma once

#include "lib/unique_fd.h"
#include "storage/mail_types.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loft::storage {

class Mailbox {
public:
    virtual ~Mailbox() = default;

    // Picks up changes made by others (and by this object) since the last sync.
    virtual void sync() = 0;

    virtual const std::string& name() const = 0;
    virtual bool read_only() const = 0;
    // Turns a read-only instance into a read-write one (the first read-write SELECT of
    // a folder already open for STATUS or EXAMINE), so one instance numbers all of its
    // changes. false: the backend cannot, open a separate read-write instance.
    virtual bool make_writable() { return false; }
    virtual uint32_t uidvalidity() const = 0;
    virtual uint32_t uidnext() const = 0;
    virtual const std::string& guid() const = 0;
    virtual const std::vector<MessageInfo>& messages() const = 0;  // sorted by uid
    virtual uint64_t highest_modseq() const = 0;
    // UIDs expunged after `modseq`; `complete` is false when older records were dropped.
    virtual std::vector<uint32_t> expunged_since(uint64_t modseq, bool& complete) const = 0;
    virtual void save_index() = 0;
    // The directory for Loft's own disposable per-mailbox files (loft.cache); "" when
    // the backend has none, and caches stay in memory.
    virtual std::string loft_file_dir() const { return std::string(); }
    virtual MailboxStatus status() const = 0;
    // nullptr if the uid is not (any more) in the mailbox.
    virtual const MessageInfo* find(uint32_t uid) const = 0;

    // \Recent belongs to sessions (see MaildirMailbox). recent_uids(): what is still
    // \Recent for the next read-write SELECT; claim_recent(): that SELECT takes them.
    // The defaults serve backends that mark \Recent in MessageInfo flags themselves.
    virtual std::vector<uint32_t> recent_uids() const;
    virtual std::vector<uint32_t> claim_recent() { return recent_uids(); }
    // A mark shared between objects on one folder; 0 = the backend has none.
    virtual uint32_t first_recent_uid() const { return 0; }
    virtual void raise_first_recent_uid(uint32_t) {}
    // Keywords the folder defines (FLAGS/PERMANENTFLAGS); default: those in use.
    virtual std::vector<std::string> keyword_names() const;

    // POP3 identities of the given messages, in the same order (defaults: all empty).
    virtual std::vector<Pop3Identity> pop3_identities(const std::vector<uint32_t>& uids)
    {
        return std::vector<Pop3Identity>(uids.size());
    }

    // Read-only fd of the message as IMAP shows it (LF line ends); throws
    // StorageError(NotFound) if it was expunged.
    virtual UniqueFd open_message(uint32_t uid) = 0;

    enum class FlagOp { Replace, Add, Remove };
    // Returns the new state of each message that still exists. \Recent is ignored.
    virtual std::vector<MessageInfo> store_flags(const std::vector<uint32_t>& uids, FlagOp op,
                                                 const Flags& flags) = 0;
    // STORE (UNCHANGEDSINCE limit): a message whose modseq is above the limit is left
    // alone and its uid added to `modified`. The default checks, then stores; a backend
    // may also refuse a message another program changed meanwhile.
    virtual std::vector<MessageInfo> store_flags_unchanged_since(const std::vector<uint32_t>& uids, FlagOp op,
                                                                 const Flags& flags, uint64_t limit,
                                                                 std::vector<uint32_t>& modified);
    // Removes every \Deleted message; returns their uids (ascending).
    virtual std::vector<uint32_t> expunge() = 0;
    // UID EXPUNGE: only the \Deleted messages among uids (default: expunge_only()).
    virtual std::vector<uint32_t> expunge_uids(const std::vector<uint32_t>& uids);
    // COPY/MOVE into this mailbox; returns (source uid, new uid) pairs for COPYUID.
    // A source of another backend is read and appended (copy_by_append).
    virtual std::vector<std::pair<uint32_t, uint32_t>> copy_from(Mailbox& source, const std::vector<uint32_t>& uids,
                                                                 bool move = false) = 0;

    // What a backend's streaming append looks like behind the interface.
    class Writer {
    public:
        virtual ~Writer() = default;
        virtual void write(std::string_view chunk) = 0;
        virtual uint32_t commit() = 0;  // durably stores the message, returns its UID
    };
    // A started append; destroying it uncommitted leaves no trace.
    class Append {
    public:
        explicit Append(std::unique_ptr<Writer> writer) : writer_(std::move(writer)) {}
        // Data may use CRLF or LF; it is stored with LF only.
        void write(std::string_view chunk) { writer_->write(chunk); }
        uint32_t commit() { return writer_->commit(); }

    private:
        std::unique_ptr<Writer> writer_;
    };
    // internal_date 0 = now. (Backends hide this with their own typed begin_append.)
    Append begin_append(const Flags& flags, int64_t internal_date = 0)
    {
        return Append(start_append(flags, internal_date));
    }

protected:
    virtual std::unique_ptr<Writer> start_append(const Flags& flags, int64_t internal_date) = 0;

    // Adapts a backend's own movable Append type to Writer.
    template <typename BackendAppend>
    class WriterFor : public Writer {
    public:
        explicit WriterFor(BackendAppend append) : append_(std::move(append)) {}
        void write(std::string_view chunk) override { append_.write(chunk); }
        uint32_t commit() override { return append_.commit(); }

    private:
        BackendAppend append_;
    };

    // Cross-backend COPY/MOVE: reads each message and appends it here with its flags
    // and INTERNALDATE; MOVE then expunges exactly the copied sources.
    std::vector<std::pair<uint32_t, uint32_t>> copy_by_append(Mailbox& source, const std::vector<uint32_t>& uids,
                                                              bool move);
};

// Expunges only `uids` of the \Deleted messages (UID EXPUNGE, MOVE): the other
// \Deleted messages lose the flag for the duration and get it back afterwards.
std::vector<uint32_t> expunge_only(Mailbox& box, const std::vector<uint32_t>& uids);

// Quota limits from quota_rule (0 = none).
struct QuotaLimits {
    uint64_t storage_bytes = 0;
    uint64_t messages = 0;
};

class MailStore {
public:
    virtual ~MailStore() = default;

    // Backends that keep a quota file (Maildir++ maildirsize) use this; others ignore it.
    virtual void set_quota(std::optional<QuotaLimits>) {}

    virtual char separator() const = 0;
    // Special-use attributes from the namespace's `mailbox NAME { special_use = ... }`.
    virtual void set_special_use(std::map<std::string, std::string> by_name) = 0;
    virtual std::vector<MailboxListEntry> list() const = 0;
    virtual bool exists(std::string_view mailbox) const = 0;
    virtual void create(std::string_view mailbox) = 0;
    virtual void remove(std::string_view mailbox) = 0;
    virtual void rename(std::string_view from, std::string_view to) = 0;

    virtual std::vector<std::string> subscriptions() const = 0;
    virtual void subscribe(std::string_view mailbox, bool subscribed = true) = 0;

    // (Backends hide this with their own typed open.)
    std::unique_ptr<Mailbox> open(std::string_view mailbox, bool read_only) { return open_mailbox(mailbox, read_only); }
    // Opens, syncs and summarises (read-only, so \Recent is not consumed).
    virtual MailboxStatus status(std::string_view mailbox) = 0;

protected:
    virtual std::unique_ptr<Mailbox> open_mailbox(std::string_view mailbox, bool read_only) = 0;
};

}  // namespace loft::storage
