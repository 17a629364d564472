// One mbox file as an IMAP mailbox, with the same operations as MaildirMailbox: sync
// with the file (UIDs from X-UID, new ones for MTA-delivered mail), flags and keywords,
// expunge, copy and appends. Appends are appended; other changes are written in place
// under the write locks, as Dovecot does (the inode never changes), with a redo journal
// whenever a kill could otherwise leave a message half written.
#pragma once

#include "lib/unique_fd.h"
#include "storage/mail_store.h"
#include "storage/mail_types.h"
#include "storage/mbox/format.h"
#include "storage/mbox/lock.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace loft::storage::mbox {

struct MboxPaths {
    std::string name;              // UTF-8 IMAP name, for messages
    std::string file;              // the mbox file
    std::string uidvalidity_dir;   // where dovecot-uidvalidity lives (ROOT/.imap unless INDEX=)
    std::string index_dir;         // Dovecot's index directory of this mailbox; Loft keeps
                                   // loft.mbox-index (modseqs) there. Empty: none (INDEX=MEMORY)
};

struct MboxOptions {
    LockSettings locks;
    uint64_t max_file_size = 4ULL << 30;
    uint64_t max_message_size = 1ULL << 30;
    FormatLimits limits;
    // mbox_lazy_writes: UIDs given to MTA-delivered mail are written with the next change
    // instead of at once (they are the same either way: the next UIDs in file order).
    bool lazy_writes = true;
    // mbox_dirty_syncs: when the file only grew, read just the new part (after checking
    // that the bytes before it are what we parsed) instead of re-reading all of it.
    bool dirty_syncs = true;
    // mbox_very_dirty_syncs: trust growth alone (skip comparing the bytes before the
    // new part). Loft has no separate "full sync on SELECT" to skip: a SELECT re-reads
    // only a file whose size or mtime changed, dirty or not.
    bool very_dirty_syncs = false;
    // mbox_min_index_size: Loft's modseq index (loft.mbox-index) is written only for
    // mbox files at least this large; smaller ones start from fresh modseqs.
    uint64_t min_index_size = 0;
    std::string from_sender;  // envelope sender on From lines of APPENDed mail; empty: user@host
};

}  // namespace loft::storage::mbox

namespace loft::storage {

class MboxMailbox : public Mailbox {
public:
    MboxMailbox(mbox::MboxPaths paths, bool read_only, mbox::MboxOptions options = {});
    ~MboxMailbox() override;  // writes loft.mbox-index if modseqs changed
    MboxMailbox(const MboxMailbox&) = delete;
    MboxMailbox& operator=(const MboxMailbox&) = delete;

    // read_only is what EXAMINE, STATUS and deliveries use (as for Maildir): the mailbox
    // takes no \Recent and refuses flag changes and expunges; appends and copies work.
    // Re-reads the file if it changed (under the read locks). Messages without a usable
    // X-UID get the next UIDs; a read-write mailbox writes them (and the X-IMAPbase) back.
    void sync() override;

    const std::string& name() const override { return paths_.name; }
    bool read_only() const override { return read_only_; }
    uint32_t uidvalidity() const override { return file_.uidvalidity; }
    uint32_t uidnext() const override { return file_.next_uid; }
    const std::string& guid() const override { return guid_; }
    const std::vector<MessageInfo>& messages() const override { return messages_; }  // sorted by uid
    // Modseqs live in Loft's loft.mbox-index in the mailbox's index directory (deletable:
    // modseqs then start afresh); changes made by others count when a sync notices them.
    uint64_t highest_modseq() const override { return highest_modseq_; }
    std::vector<uint32_t> expunged_since(uint64_t modseq, bool& complete) const override;
    void save_index() override;
    MailboxStatus status() const override;
    const MessageInfo* find(uint32_t uid) const override;

    // The message as IMAP shows it (hidden headers removed, LF line ends) in an
    // anonymous read-only file; throws StorageError(NotFound) if it was expunged.
    UniqueFd open_message(uint32_t uid) override;
    std::string message_text(uint32_t uid) const;

    using FlagOp = Mailbox::FlagOp;
    std::vector<MessageInfo> store_flags(const std::vector<uint32_t>& uids, FlagOp op, const Flags& flags) override;

    // Removes every \Deleted message; returns their uids (ascending).
    std::vector<uint32_t> expunge() override;

    // COPY/MOVE from another mbox (or this one, for COPY), keeping INTERNALDATE and flags.
    std::vector<std::pair<uint32_t, uint32_t>> copy_from(MboxMailbox& source, const std::vector<uint32_t>& uids,
                                                         bool move = false);
    // Any other mailbox: the typed copy above for the same backend, else read + append.
    std::vector<std::pair<uint32_t, uint32_t>> copy_from(Mailbox& source, const std::vector<uint32_t>& uids,
                                                         bool move = false) override
    {
        if (auto* same = dynamic_cast<MboxMailbox*>(&source))
            return copy_from(*same, uids, move);
        return copy_by_append(source, uids, move);
    }

    class Append {
    public:
        Append(Append&&) noexcept = default;
        Append& operator=(Append&&) = delete;
        Append(const Append&) = delete;
        ~Append() = default;  // an uncommitted append leaves no trace

        // Data may use CRLF or LF; it is stored with LF only.
        void write(std::string_view chunk);
        // Writes the message into the mbox and returns its UID.
        uint32_t commit();

    private:
        friend class MboxMailbox;
        Append(MboxMailbox& box, const Flags& flags, int64_t internal_date);
        MboxMailbox* box_;
        Flags flags_;
        int64_t internal_date_;
        std::string data_;
        bool finished_ = false;
    };
    Append begin_append(const Flags& flags, int64_t internal_date = 0);

protected:
    std::unique_ptr<Writer> start_append(const Flags& flags, int64_t internal_date) override
    {
        return std::make_unique<WriterFor<Append>>(begin_append(flags, internal_date));
    }

private:
    struct Stamp {
        dev_t dev = 0;
        ino_t ino = 0;
        off_t size = 0;
        time_t mtime_sec = 0;
        long mtime_nsec = 0;
        bool operator==(const Stamp&) const = default;
    };
    struct NewMessage {
        std::string text;  // LF line ends
        Flags flags;
        int64_t internal_date;
    };

    // Opens the mbox (creating nothing); invalid fd if it does not exist.
    UniqueFd open_file(bool write) const;
    std::string read_all(int fd) const;
    // Parses content and makes the in-memory state match; returns true if UIDs were
    // assigned or the X-IMAPbase is missing, i.e. the file should be written back.
    // Remembers the end of content for dirty syncs.
    bool load(std::string_view content, const Stamp& stamp);
    // The same for an already parsed file.
    bool apply(mbox::MboxFile parsed, const Stamp& stamp);
    // Under the write locks: re-reads the file, lets change() edit it, writes it back.
    // append_only: change() only adds messages at the end, which are then appended to
    // the file instead of rewriting it when the file allows (it has its X-IMAPbase,
    // needs no UIDs written and knows every keyword used).
    template <typename Change>
    void modify(Change change, bool append_only = false);
    // mbox_dirty_syncs: the file grew; parses just the new part if the bytes before it
    // are the ones last parsed. Returns load()'s answer, or nullopt if a full read is needed.
    std::optional<bool> sync_appended(int fd, const Stamp& now);
    // Writes file_.messages[first_new..] at the end of the file (fd holds the write locks).
    void append_to_file(int fd, const Stamp& now, size_t first_new, const std::vector<uint32_t>& new_recent);
    void load_index();
    std::string index_path() const;
    void remove_stale_temporaries();
    // ".<mbox>.loft-append" beside the mbox: "loft-append DEV INO OLD_SIZE NEW_SIZE" while
    // an append is being written.
    std::string append_journal_path() const;
    // Under the write locks: cuts off an append whose writer died. True if it did.
    bool recover_torn_append(int fd, const struct stat& st);
    // ".<mbox>.loft-redo" beside the mbox: what an in-place write that moves data is
    // about to write (redo_journal.h).
    std::string redo_journal_path() const;
    // Under the write locks: finishes an in-place write whose writer died. True if it did.
    bool recover_redo(int fd, const struct stat& st);
    // Under the write locks: writes file_ into the mbox in place (changed header blocks
    // where they fit, else the rest of the file moved), then takes it as the loaded state.
    void write_in_place(int fd, const Stamp& now, const std::vector<uint32_t>& new_recent);
    // tail_ = the last bytes of the file (dirty syncs).
    void refresh_tail(int fd, off_t size);
    void rebuild_infos();
    void note_expunged(uint32_t uid);
    std::vector<uint32_t> append_messages(std::vector<NewMessage> messages);
    std::string default_from_sender() const;
    void require_writable() const;

    mbox::MboxPaths paths_;
    bool read_only_;
    mbox::MboxOptions options_;
    std::string guid_;
    mbox::MboxFile file_;
    bool uidvalidity_saved_ = false;
    std::vector<MessageInfo> messages_;
    std::map<uint32_t, size_t> index_by_uid_;
    std::set<uint32_t> recent_;
    std::map<uint32_t, uint64_t> modseq_by_uid_;
    std::map<uint32_t, Flags> last_flags_;
    uint64_t highest_modseq_ = 1;
    std::vector<std::pair<uint64_t, uint32_t>> expunged_;  // (modseq, uid), oldest first
    uint64_t expunge_floor_ = 0;  // expunges at or below this modseq were forgotten
    uint32_t index_uidvalidity_ = 0;  // of the restored loft.mbox-index, until the first load
    uint64_t saved_modseq_ = 0;
    Stamp stamp_;
    std::string tail_;  // the last bytes of the file as last parsed (dirty syncs)
    bool needs_write_back_ = false;  // the last load wants the file written (UIDs, X-IMAPbase)
    bool uids_unwritten_ = false;    // UIDs were given that the file does not hold yet
    bool temporaries_checked_ = false;
    bool loaded_ = false;
};

}  // namespace loft::storage
