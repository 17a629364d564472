// One Maildir folder (cur/ new/ tmp/ + dovecot-uidlist + dovecot-keywords): sync with
// the directory, flags and keywords by renaming, expunge, and durable streamed appends.
// Not thread-safe: one owner at a time; other processes (Dovecot included) are fine.
#pragma once

#include "lib/unique_fd.h"
#include "storage/mail_store.h"
#include "storage/mail_types.h"
#include "storage/maildir/dotlock.h"
#include "storage/maildir/keywords.h"
#include "storage/maildir/uidlist.h"

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <string>
#include <string_view>
#include <vector>

namespace loft::storage::maildir {

struct MailboxPaths {
    std::string name;           // UTF-8 IMAP name, for messages
    std::string dir;            // holds cur/ new/ tmp/
    std::string control;        // holds dovecot-uidlist, dovecot-keywords
    std::string uidvalidity_dir;  // where dovecot-uidvalidity lives (list control root)
    std::string quota_file;       // maildirsize to log deltas in, if it exists
    std::string index;            // where Loft's own loft.index goes (INDEX= or control)
};

struct MailboxOptions {
    uint64_t max_message_size = 4ULL << 30;
    size_t max_messages = 10'000'000;
};

}  // namespace loft::storage::maildir

namespace loft::storage {

class MaildirMailbox : public Mailbox {
public:
    MaildirMailbox(maildir::MailboxPaths paths, bool read_only, maildir::MailboxOptions options = {});
    ~MaildirMailbox() override;
    MaildirMailbox(const MaildirMailbox&) = delete;
    MaildirMailbox& operator=(const MaildirMailbox&) = delete;

    // Scans new/ and cur/, assigns UIDs to unknown files under dovecot-uidlist.lock and
    // picks up changes by others. A read-write mailbox moves new/ to cur/ and marks those
    // messages \Recent, as Dovecot does.
    void sync() override;

    const std::string& name() const override { return paths_.name; }
    bool read_only() const override { return read_only_; }
    // A read-write SELECT of a folder already open read-only: from the next sync on,
    // new/ moves to cur/ and changes are allowed.
    bool make_writable() override
    {
        read_only_ = false;
        last_snapshot_.reset();  // the next sync must move new/ to cur/ even if nothing changed
        return true;
    }
    uint32_t uidvalidity() const override { return uidvalidity_; }
    uint32_t uidnext() const override { return next_uid_; }
    const std::string& guid() const override { return guid_; }
    const std::vector<MessageInfo>& messages() const override { return messages_; }  // sorted by uid
    // CONDSTORE/QRESYNC. Modseqs live in Loft's loft.index (Dovecot's are in its own
    // index): flag changes made by others are counted when a sync notices them.
    uint64_t highest_modseq() const override { return highest_modseq_; }
    // UIDs expunged after `modseq`; `complete` is false when older records were dropped
    // and the caller must treat every UID it does not see as possibly vanished.
    std::vector<uint32_t> expunged_since(uint64_t modseq, bool& complete) const override;
    // Writes loft.index now (it is also written when the mailbox is closed).
    void save_index() override;
    // Loft's other per-mailbox files (loft.cache) go next to loft.index.
    std::string loft_file_dir() const override { return index_path_.substr(0, index_path_.rfind('/')); }
    // STATUS: recent is how many messages the next read-write SELECT will see as \Recent.
    MailboxStatus status() const override;

    // \Recent as Dovecot keeps it: messages from first_recent_uid() on are \Recent to the
    // first read-write SELECT that sees them and to nobody after it (EXAMINE and STATUS
    // only look). Kept in loft.index and shared through it with other processes.
    uint32_t first_recent_uid() const override { return first_recent_uid_; }
    // Every keyword defined in the folder: dovecot-keywords in letter order, then the
    // ones beyond 26 in creation order.
    std::vector<std::string> keyword_names() const override;
    // For a read-write SELECT (and its later syncs): takes the messages still \Recent and
    // returns their UIDs; afterwards nobody else sees them as \Recent.
    std::vector<uint32_t> claim_recent() override;
    std::vector<uint32_t> recent_uids() const override;
    // Another object on the same folder claimed messages up to uid (exclusive).
    void raise_first_recent_uid(uint32_t uid) override;
    // nullptr if the uid is not (any more) in the mailbox.
    const MessageInfo* find(uint32_t uid) const override;

    // Read-only fd of the stored message (LF line ends). Follows renames done by others;
    // throws StorageError(NotFound) if the message was expunged.
    UniqueFd open_message(uint32_t uid) override;
    // From dovecot-uidlist as it is now: P (a migrated POP3 UIDL; an empty P means the
    // base file name) and G (else the GUID is the base file name), as Dovecot reads them.
    std::vector<Pop3Identity> pop3_identities(const std::vector<uint32_t>& uids) override;

    using FlagOp = Mailbox::FlagOp;
    // Changes flags by renaming files. Returns the new state of each message that still
    // exists. \Recent in flags is ignored.
    // Every message changed by one call gets the same new modseq (one transaction).
    std::vector<MessageInfo> store_flags(const std::vector<uint32_t>& uids, FlagOp op, const Flags& flags) override;
    // A message whose modseq is above the limit, or whose file another process renamed
    // meanwhile, is left alone and its uid added to `modified`.
    std::vector<MessageInfo> store_flags_unchanged_since(const std::vector<uint32_t>& uids, FlagOp op,
                                                         const Flags& flags, uint64_t limit,
                                                         std::vector<uint32_t>& modified) override;

    // Unlinks every \Deleted message; returns their uids (ascending).
    std::vector<uint32_t> expunge() override;
    // Only the \Deleted messages among uids, without touching the others' flags.
    std::vector<uint32_t> expunge_uids(const std::vector<uint32_t>& uids) override;

    // COPY/MOVE from another mailbox (or this one, for COPY): a hard link where possible,
    // keeping the base name and INTERNALDATE, flags re-encoded with this folder's keyword
    // letters; a byte copy across file systems. Returns (source uid, new uid) pairs for
    // COPYUID. MOVE unlinks the sources afterwards, as Dovecot does.
    std::vector<std::pair<uint32_t, uint32_t>> copy_from(MaildirMailbox& source, const std::vector<uint32_t>& uids,
                                                         bool move = false);
    // Any other mailbox: the typed copy above for the same backend, else read + append.
    std::vector<std::pair<uint32_t, uint32_t>> copy_from(Mailbox& source, const std::vector<uint32_t>& uids,
                                                         bool move = false) override
    {
        if (auto* same = dynamic_cast<MaildirMailbox*>(&source))
            return copy_from(*same, uids, move);
        return copy_by_append(source, uids, move);
    }

    class Append {
    public:
        Append(Append&&) noexcept;
        Append& operator=(Append&&) = delete;
        Append(const Append&) = delete;
        ~Append();  // aborts an uncommitted append: the tmp/ file is removed

        // Data may use CRLF or LF; it is stored with LF only.
        void write(std::string_view chunk);
        // Durably stores the message and returns its UID.
        uint32_t commit();

    private:
        friend class MaildirMailbox;
        Append(MaildirMailbox& box, const Flags& flags, int64_t internal_date);
        void flush();
        void emit(char c);

        MaildirMailbox* box_;
        Flags flags_;
        int64_t internal_date_;
        std::string tmp_base_;
        std::string tmp_path_;
        UniqueFd fd_;
        std::string buffer_;
        uint64_t size_ = 0;
        uint64_t vsize_ = 0;
        bool pending_cr_ = false;
        bool finished_ = false;
    };
    // internal_date 0 = now.
    Append begin_append(const Flags& flags, int64_t internal_date = 0);

protected:
    std::unique_ptr<Writer> start_append(const Flags& flags, int64_t internal_date) override
    {
        return std::make_unique<WriterFor<Append>>(begin_append(flags, internal_date));
    }

private:
    struct FileState {
        std::string filename;  // "cur/<name>" or "new/<name>"
        int64_t mtime = 0;
        uint64_t size = 0;
        uint64_t vsize = 0;
    };

    using FileMap = std::unordered_map<std::string, std::string>;  // base -> "cur/<name>"

    // Enough of stat() to tell whether a directory or file changed.
    struct FileStamp {
        dev_t dev = 0;
        ino_t ino = 0;
        off_t size = 0;
        time_t mtime_sec = 0;
        long mtime_nsec = 0;
        time_t ctime_sec = 0;
        long ctime_nsec = 0;
        bool operator==(const FileStamp&) const = default;
    };
    struct DirSnapshot {
        FileStamp cur, new_dir, uidlist, keywords;
        bool operator==(const DirSnapshot&) const = default;
    };
    static FileStamp stamp_of(const std::string& path);  // zeros if it does not exist
    DirSnapshot snapshot() const;
    bool unchanged_since_last_sync(const DirSnapshot& now) const;

    // How often to chase a file another process renamed before giving up on it.
    static constexpr int max_rename_retries = 5;

    std::string path_of(const std::string& relative) const;
    // Lists new/ and cur/ into base -> relative file name.
    FileMap scan_dirs() const;
    void move_new_to_cur(std::unordered_set<std::string>& moved_bases);
    void clean_tmp();
    void load_keywords();
    // Makes sure every keyword has a letter in dovecot-keywords (taking its lock if needed);
    // keywords for which no letter is left go to beyond_letters (kept in loft.index only).
    std::string letters_for(const std::vector<std::string>& keywords, std::vector<std::string>& beyond_letters);
    // Records keywords without a letter for a message (in creation order); empty clears.
    void set_extra_keywords(uint32_t uid, const std::vector<std::string>& names);
    void merge_recent_mark();
    Flags flags_from_name(std::string_view filename) const;
    MessageInfo make_info(uint32_t uid, const std::string& base, const std::string& relative);
    // Finds the current file of a base name after someone renamed it; empty if gone.
    std::string locate(const std::string& base) const;
    std::optional<maildir::Uidlist> read_uidlist() const;
    maildir::Uidlist new_uidlist() const;
    std::string unique_tmp_base();
    // Under the uidlist lock: appends records, or writes the uidlist if it did not exist.
    void write_new_records(maildir::Dotlock& lock, maildir::Uidlist& uidlist, bool existed,
                           const std::vector<maildir::UidlistRecord>& records);
    // Makes a message this object stored visible without another sync.
    void remember_stored(const maildir::UidlistHeader& header, uint32_t uid, const std::string& base,
                         FileState state);
    void remove_messages(const std::vector<uint32_t>& uids);
    void drop_partial_last_line(int fd);
    void update_quota(int64_t bytes, int64_t count);
    void copy_file_durably(const std::string& from, const std::string& to, int64_t mtime);
    void fsync_changed_dirs(bool cur, bool new_dir);

    maildir::MailboxPaths paths_;
    bool read_only_;
    maildir::MailboxOptions options_;
    std::string uidlist_path_;
    uint32_t uidvalidity_ = 0;
    uint32_t next_uid_ = 1;
    std::string guid_;
    maildir::KeywordTable keywords_;
    std::vector<MessageInfo> messages_;
    // Built on first use (ensure_maps): a warm open from loft.index only needs messages_.
    std::unordered_map<std::string, FileState> files_by_base_;  // what each message file looked like
    std::unordered_map<uint32_t, std::string> base_by_uid_;
    bool maps_built_ = true;
    void ensure_maps();
    std::optional<DirSnapshot> last_snapshot_;
    std::string index_path_;
    uint64_t highest_modseq_ = 0;
    uint64_t expunge_floor_ = 0;
    std::vector<std::pair<uint64_t, uint32_t>> expunged_;  // (modseq, uid)
    bool index_dirty_ = false;
    void load_index();
    void note_expunged(uint32_t uid);
    // The modseq of the operation in progress: the first change takes a new value,
    // the rest of the same operation reuse it.
    uint64_t operation_modseq();
    std::vector<MessageInfo> change_flags(const std::vector<uint32_t>& uids, FlagOp op, const Flags& flags,
                                          std::optional<uint64_t> limit, std::vector<uint32_t>* modified);
    uint64_t op_modseq_ = 0;
    uint32_t first_recent_uid_ = 1;
    bool recent_mark_known_ = false;  // false until loft.index or a first sync set it
    FileStamp index_stamp_;  // loft.index as we last read or wrote it
    std::vector<std::string> extra_keyword_names_;
    std::unordered_map<uint32_t, std::vector<std::string>> extra_keywords_;
    bool tmp_cleaned_ = false;
    uint32_t tmp_counter_ = 0;
};

}  // namespace loft::storage
