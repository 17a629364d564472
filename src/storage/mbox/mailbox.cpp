#include "storage/mbox/mailbox.h"

#include "lib/strings.h"
#include "lib/system_error.h"
#include "storage/maildir/fs_util.h"
#include "storage/maildir/uidvalidity.h"
#include "storage/mbox/privileged_group.h"
#include "storage/mbox/redo_journal.h"
#include "storage/storage_error.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

namespace loft::storage {

using mbox::MboxFile;
using mbox::MboxMessage;

namespace {

constexpr int max_reopen_attempts = 5;
// How much of the end of the file a dirty sync compares before trusting that the file
// only grew (mbox_dirty_syncs).
constexpr size_t kTailCheckSize = 4096;
// Expunge records kept for QRESYNC; older ones are summarised by a floor modseq.
constexpr size_t kMaxExpungeRecords = 100'000;
constexpr std::string_view kIndexName = "loft.mbox-index";
constexpr std::string_view kIndexMagic = "loft-mbox-index 1";

std::string dir_of(const std::string& path)
{
    auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool has_keyword(const std::vector<std::string>& keywords, std::string_view keyword)
{
    return std::any_of(keywords.begin(), keywords.end(), [&](const std::string& k) { return iequals(k, keyword); });
}

void add_keywords(std::vector<std::string>& to, const std::vector<std::string>& keywords)
{
    for (const auto& keyword : keywords)
        if (!has_keyword(to, keyword))
            to.push_back(keyword);
}

void validate_keyword(const std::string& keyword)
{
    if (keyword.empty() || keyword.size() > 256)
        throw StorageError(StorageError::Kind::Limit, "keyword is empty or too long");
    for (unsigned char c : keyword)
        if (c <= ' ' || c >= 0x7f || c == '(' || c == ')' || c == '{' || c == '%' || c == '*' || c == '"' ||
            c == '\\' || c == ']')
            throw StorageError(StorageError::Kind::BadName, "keyword contains characters mbox cannot store: " + keyword);
}

// What the file holds for a message after its header block (block_size bytes) is written
// at offset; the body and separator positions are filled in by the caller when they move.
mbox::OnDisk on_disk(const MboxMessage& message, uint64_t offset, size_t block_size, bool recent, bool carries_base)
{
    mbox::OnDisk disk;
    disk.known = true;
    disk.offset = offset;
    disk.body_offset = offset + block_size;
    disk.body_end = disk.body_offset + message.body.size();
    disk.end = disk.body_end + 1;
    disk.uid = message.uid;
    disk.flags = message.flags;
    disk.seen_by_session = !recent;
    disk.carries_base = carries_base;
    return disk;
}

}  // namespace

MboxMailbox::MboxMailbox(mbox::MboxPaths paths, bool read_only, mbox::MboxOptions options)
    : paths_(std::move(paths)), read_only_(read_only), options_(std::move(options))
{
    load_index();
    sync();
}

MboxMailbox::~MboxMailbox()
{
    try {
        save_index();
    } catch (const std::exception&) {
        // Losing modseqs only makes clients resync; never throw from a destructor.
    }
}

void MboxMailbox::require_writable() const
{
    if (read_only_)
        throw StorageError(StorageError::Kind::NotAllowed, "mailbox " + paths_.name + " is open read-only");
}

UniqueFd MboxMailbox::open_file(bool write) const
{
    bool wants_lockf = false;
    for (auto method : write ? options_.locks.write_locks : options_.locks.read_locks)
        wants_lockf |= method == mbox::LockMethod::Lockf;
    int flags = (write || wants_lockf ? O_RDWR : O_RDONLY) | O_CLOEXEC;
    UniqueFd fd(::open(paths_.file.c_str(), flags));
    if (!fd.valid() && errno == EACCES && !write)
        fd.reset(::open(paths_.file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT)
            throw StorageError(StorageError::Kind::NotFound, "mailbox does not exist: " + paths_.name);
        throw StorageError(StorageError::Kind::Io, "cannot open " + paths_.file + ": " + strerror(errno));
    }
    return fd;
}

std::string MboxMailbox::read_all(int fd) const
{
    struct stat st;
    if (::fstat(fd, &st) < 0)
        throw_errno("fstat " + paths_.file);
    if (static_cast<uint64_t>(st.st_size) > options_.max_file_size)
        throw StorageError(StorageError::Kind::Limit, "mbox file too large: " + paths_.file);
    std::string content;
    content.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::pread(fd, content.data() + done, content.size() - done, static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("read " + paths_.file);
        }
        if (n == 0)
            break;
        done += static_cast<size_t>(n);
    }
    content.resize(done);
    return content;
}

namespace {

template <typename StampT>
StampT stamp_of(const struct stat& st)
{
    StampT stamp;
    stamp.dev = st.st_dev;
    stamp.ino = st.st_ino;
    stamp.size = st.st_size;
    stamp.mtime_sec = st.st_mtim.tv_sec;
    stamp.mtime_nsec = st.st_mtim.tv_nsec;
    return stamp;
}

}  // namespace

bool MboxMailbox::load(std::string_view content, const Stamp& stamp)
{
    MboxFile parsed = mbox::parse_mbox(content, options_.limits);
    bool needs_write = apply(std::move(parsed), stamp);
    tail_ = std::string(content.substr(content.size() - std::min(content.size(), kTailCheckSize)));
    return needs_write;
}

bool MboxMailbox::apply(MboxFile parsed, const Stamp& stamp)
{
    bool needs_write = false;
    bool had_base = parsed.uidvalidity != 0;

    // UIDs must rise through the file; the first message that breaks this (or has no
    // X-UID) and every one after it get new UIDs. X-UIDs above the X-IMAPbase last UID are
    // fine: Dovecot writes X-UID on delivery but updates X-IMAPbase lazily.
    uint32_t header_next = parsed.uidvalidity ? parsed.next_uid : 0;
    uint32_t next = std::max<uint32_t>(header_next, 1);
    uint32_t last = 0;
    bool renumbering = false;
    for (auto& message : parsed.messages) {
        bool valid = !renumbering && message.uid > last;
        if (!valid) {
            renumbering = true;
            needs_write |= !options_.lazy_writes || !had_base;
            message.uid = std::max(next, last + 1);
        }
        last = message.uid;
        next = std::max(next, last + 1);
    }
    parsed.next_uid = std::max(next, header_next);
    // Lazily given UIDs are not in the file yet: it must be rewritten, not appended to.
    uids_unwritten_ = renumbering || !had_base;

    if (parsed.uidvalidity == 0) {
        if (loaded_ && file_.uidvalidity != 0) {
            parsed.uidvalidity = file_.uidvalidity;
        } else if (!read_only_ || parsed.messages.empty()) {
            try {
                maildir::make_dir(paths_.uidvalidity_dir, 0700);
                parsed.uidvalidity = maildir::next_uidvalidity(paths_.uidvalidity_dir);
            } catch (const std::exception&) {
                parsed.uidvalidity = static_cast<uint32_t>(::time(nullptr));
            }
        } else {
            // Not stored anywhere yet: stable for as long as the file is not touched.
            parsed.uidvalidity = static_cast<uint32_t>(stamp.mtime_sec > 0 ? stamp.mtime_sec : ::time(nullptr));
        }
        // An empty file gets the pseudo message (X-IMAP) that Dovecot also writes when
        // a mailbox becomes empty, so the UIDVALIDITY given now is the one everyone reads
        // later instead of a new one per opener.
        needs_write = true;
    }
    // UIDs never go back within one UIDVALIDITY, even if the messages that had the
    // highest ones vanished (expunged by an MUA, a torn append cut off).
    if (loaded_ && parsed.uidvalidity == file_.uidvalidity)
        parsed.next_uid = std::max(parsed.next_uid, file_.next_uid);
    for (const auto& message : parsed.messages)
        add_keywords(parsed.keywords, message.flags.keywords);

    // Work out expunges, new messages and flag changes against what we had: in memory,
    // or on the first load what loft.mbox-index remembered.
    std::set<uint32_t> present;
    for (const auto& message : parsed.messages)
        present.insert(message.uid);
    bool comparing = loaded_ || index_uidvalidity_ != 0;
    if (!loaded_ && index_uidvalidity_ != 0 && index_uidvalidity_ != parsed.uidvalidity) {
        // The index belongs to an older incarnation of the mailbox.
        comparing = false;
        last_flags_.clear();
        modseq_by_uid_.clear();
        expunged_.clear();
        expunge_floor_ = highest_modseq_;
    } else if (comparing) {
        std::vector<uint32_t> known;
        if (loaded_) {
            for (const auto& info : messages_)
                known.push_back(info.uid);
        } else {
            for (const auto& [uid, flags] : last_flags_)
                known.push_back(uid);
        }
        if (loaded_ && parsed.uidvalidity != file_.uidvalidity) {
            for (uint32_t uid : known)
                note_expunged(uid);
            last_flags_.clear();
            modseq_by_uid_.clear();
        } else {
            for (uint32_t uid : known)
                if (!present.count(uid))
                    note_expunged(uid);
        }
    }
    index_uidvalidity_ = 0;
    std::map<uint32_t, Flags> flags_now;
    for (const auto& message : parsed.messages) {
        auto old = last_flags_.find(message.uid);
        Flags flags = message.flags;
        std::sort(flags.keywords.begin(), flags.keywords.end());
        if (old == last_flags_.end() || !(old->second == flags)) {
            if (comparing)
                highest_modseq_++;
            modseq_by_uid_[message.uid] = highest_modseq_;
        }
        flags_now[message.uid] = std::move(flags);
        if (!message.seen_by_session && !read_only_ && !(loaded_ && last_flags_.count(message.uid)))
            recent_.insert(message.uid);
    }
    for (auto it = modseq_by_uid_.begin(); it != modseq_by_uid_.end();)
        it = present.count(it->first) ? std::next(it) : modseq_by_uid_.erase(it);
    last_flags_ = std::move(flags_now);

    if (read_only_) {
        recent_.clear();
        for (const auto& message : parsed.messages)
            if (!message.seen_by_session)
                recent_.insert(message.uid);
    }
    file_ = std::move(parsed);
    stamp_ = stamp;
    loaded_ = true;
    needs_write_back_ = needs_write;
    rebuild_infos();
    return needs_write;
}

void MboxMailbox::rebuild_infos()
{
    // Counting line ends of a large mbox costs more than a flag change written in place:
    // a message with the same UID and physical size keeps the virtual size counted before.
    std::vector<MessageInfo> before = std::move(messages_);
    size_t old_index = 0;
    messages_.clear();
    index_by_uid_.clear();
    messages_.reserve(file_.messages.size());
    for (size_t i = 0; i < file_.messages.size(); i++) {
        const auto& message = file_.messages[i];
        MessageInfo info;
        info.uid = message.uid;
        info.flags = message.flags;
        if (recent_.count(message.uid))
            info.flags.system |= Recent;
        info.physical_size = message.header.size() + 1 + message.body.size();
        while (old_index < before.size() && before[old_index].uid < message.uid)
            old_index++;
        if (old_index < before.size() && before[old_index].uid == message.uid &&
            before[old_index].physical_size == info.physical_size)
            info.virtual_size = before[old_index].virtual_size;
        else
            info.virtual_size = mbox::crlf_size(message.header) + 2 + mbox::crlf_size(message.body);
        info.internal_date = message.internal_date;
        info.modseq = modseq_by_uid_.count(message.uid) ? modseq_by_uid_.at(message.uid) : highest_modseq_;
        index_by_uid_[message.uid] = i;
        messages_.push_back(std::move(info));
    }
}

void MboxMailbox::note_expunged(uint32_t uid)
{
    highest_modseq_++;
    expunged_.emplace_back(highest_modseq_, uid);
    recent_.erase(uid);
    if (expunged_.size() > kMaxExpungeRecords) {
        auto drop = expunged_.begin() + static_cast<std::ptrdiff_t>(expunged_.size() / 2);
        expunge_floor_ = std::prev(drop)->first;
        expunged_.erase(expunged_.begin(), drop);
    }
}

std::string MboxMailbox::index_path() const
{
    return paths_.index_dir.empty() ? std::string() : maildir::join_path(paths_.index_dir, kIndexName);
}

void MboxMailbox::load_index()
{
    std::string path = index_path();
    if (path.empty())
        return;
    std::optional<std::string> text;
    try {
        text = maildir::read_file_if_exists(path, 512ull * 1024 * 1024);
    } catch (const std::exception&) {
        return;  // unreadable or too large: start afresh, as if it had been deleted
    }
    if (!text)
        return;
    // Parsed into locals first: a damaged index is ignored as a whole.
    uint32_t uidvalidity = 0;
    uint64_t highest = 0, floor = 0;
    std::map<uint32_t, Flags> flags_by_uid;
    std::map<uint32_t, uint64_t> modseqs;
    std::vector<std::pair<uint64_t, uint32_t>> expunged;
    std::vector<std::string> lines = split(*text, '\n');
    if (lines.empty() || lines[0] != kIndexMagic)
        return;
    for (size_t i = 1; i < lines.size(); i++) {
        std::vector<std::string> words = split_words(lines[i]);
        if (words.empty())
            continue;
        try {
            if (words[0] == "uidvalidity" && words.size() == 2) {
                uidvalidity = static_cast<uint32_t>(std::stoul(words[1]));
            } else if (words[0] == "highest" && words.size() == 2) {
                highest = std::stoull(words[1]);
            } else if (words[0] == "floor" && words.size() == 2) {
                floor = std::stoull(words[1]);
            } else if (words[0] == "m" && words.size() >= 4) {
                auto uid = static_cast<uint32_t>(std::stoul(words[1]));
                modseqs[uid] = std::stoull(words[2]);
                Flags flags;
                flags.system = static_cast<uint32_t>(std::stoul(words[3])) & (Answered | Flagged | Deleted | Seen | Draft);
                flags.keywords.assign(words.begin() + 4, words.end());
                if (flags.keywords.size() > options_.limits.max_keywords)
                    return;
                flags_by_uid[uid] = std::move(flags);
            } else if (words[0] == "x" && words.size() == 3) {
                expunged.emplace_back(std::stoull(words[1]), static_cast<uint32_t>(std::stoul(words[2])));
            } else {
                return;
            }
        } catch (const std::exception&) {
            return;
        }
        if (flags_by_uid.size() > options_.limits.max_messages || expunged.size() > kMaxExpungeRecords)
            return;
    }
    if (uidvalidity == 0 || highest == 0)
        return;
    index_uidvalidity_ = uidvalidity;
    highest_modseq_ = highest;
    saved_modseq_ = highest;
    expunge_floor_ = floor;
    last_flags_ = std::move(flags_by_uid);
    modseq_by_uid_ = std::move(modseqs);
    expunged_ = std::move(expunged);
}

void MboxMailbox::save_index()
{
    std::string path = index_path();
    if (path.empty() || !loaded_ || highest_modseq_ == saved_modseq_ ||
        static_cast<uint64_t>(stamp_.size) < options_.min_index_size)
        return;
    // Another instance of this mailbox (a delivery's, another session's) may have saved
    // a higher modseq meanwhile: never let the saved one go back.
    uint64_t highest = highest_modseq_;
    try {
        if (auto existing = maildir::read_file_if_exists(path, 512ull * 1024 * 1024)) {
            for (const auto& line : split(existing->substr(0, 256), '\n'))
                if (line.rfind("highest ", 0) == 0)
                    highest = std::max<uint64_t>(highest, std::stoull(line.substr(8)));
        }
    } catch (const std::exception&) {
    }
    std::string text = std::string(kIndexMagic) + "\n";
    text += "uidvalidity " + std::to_string(file_.uidvalidity) + "\n";
    text += "highest " + std::to_string(highest) + "\n";
    text += "floor " + std::to_string(expunge_floor_) + "\n";
    for (const auto& [uid, flags] : last_flags_) {
        auto modseq = modseq_by_uid_.find(uid);
        text += "m " + std::to_string(uid) + " " +
                std::to_string(modseq == modseq_by_uid_.end() ? highest_modseq_ : modseq->second) + " " +
                std::to_string(flags.system);
        for (const auto& keyword : flags.keywords)
            text += " " + keyword;
        text += "\n";
    }
    for (const auto& [modseq, uid] : expunged_)
        text += "x " + std::to_string(modseq) + " " + std::to_string(uid) + "\n";
    // Dovecot creates the same directories for its own index files.
    std::string dir;
    for (const auto& part : split(paths_.index_dir, '/')) {
        if (part.empty())
            continue;
        dir += "/" + part;
        maildir::make_dir(dir, 0700);
    }
    maildir::replace_file_durably(path, text, 0600);
    saved_modseq_ = highest_modseq_;
}

void MboxMailbox::sync()
{
    if (maildir::path_exists(redo_journal_path())) {
        // A writer died in the middle of an in-place write: finish it before reading.
        try {
            UniqueFd fd = open_file(true);
            auto lock = mbox::MboxLock::acquire(paths_.file, fd.get(), true, options_.locks);
            struct stat st;
            if (::fstat(fd.get(), &st) < 0)
                throw_errno("fstat " + paths_.file);
            recover_redo(fd.get(), st);
        } catch (const std::exception&) {
            // Not ours to write (or locked): read what is there, as Dovecot would.
        }
    }
    UniqueFd fd = open_file(false);
    struct stat st;
    if (::fstat(fd.get(), &st) < 0)
        throw_errno("fstat " + paths_.file);
    Stamp stamp = stamp_of<Stamp>(st);
    if (loaded_ && stamp == stamp_)
        return;
    bool needs_write;
    {
        auto lock = mbox::MboxLock::acquire(paths_.file, fd.get(), false, options_.locks);
        if (::fstat(fd.get(), &st) < 0)
            throw_errno("fstat " + paths_.file);
        Stamp now = stamp_of<Stamp>(st);
        if (auto appended = sync_appended(fd.get(), now)) {
            needs_write = *appended;
        } else {
            std::string content = read_all(fd.get());
            needs_write = load(content, now);
        }
    }
    if (needs_write && !read_only_) {
        modify([](MboxFile&, std::vector<uint32_t>&) { return false; });
    } else if (needs_write && file_.messages.empty() && !file_.has_pseudo) {
        // Read-only opens (STATUS, EXAMINE) change nothing a user sees, but an empty
        // file still gets its UIDVALIDITY stored when we may write it.
        try {
            modify([](MboxFile&, std::vector<uint32_t>&) { return false; });
        } catch (const StorageError&) {
        }
    }
}

std::optional<bool> MboxMailbox::sync_appended(int fd, const Stamp& now)
{
    if (!loaded_ || !options_.dirty_syncs || now.dev != stamp_.dev || now.ino != stamp_.ino ||
        now.size <= stamp_.size || static_cast<uint64_t>(now.size) > options_.max_file_size)
        return std::nullopt;
    // Only a file that ended with a complete message (blank line) can have grown by
    // whole messages.
    if (tail_.size() < 2 || tail_.compare(tail_.size() - 2, 2, "\n\n") != 0 ||
        static_cast<size_t>(stamp_.size) < tail_.size())
        return std::nullopt;
    off_t start = stamp_.size - static_cast<off_t>(tail_.size());
    std::string bytes(static_cast<size_t>(now.size - start), '\0');
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done, start + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return std::nullopt;
        done += static_cast<size_t>(n);
    }
    // mbox_very_dirty_syncs trusts the size alone; plain dirty syncs check the bytes
    // before the new part are still the ones parsed last time.
    if (!options_.very_dirty_syncs && bytes.compare(0, tail_.size(), tail_) != 0)
        return std::nullopt;
    std::string_view added = std::string_view(bytes).substr(tail_.size());
    if (added.substr(0, 5) != "From ")
        return std::nullopt;
    MboxFile grown;
    try {
        grown = mbox::parse_mbox(added, options_.limits);
    } catch (const StorageError&) {
        return std::nullopt;
    }
    if (grown.uidvalidity != 0 || grown.has_pseudo ||
        file_.messages.size() + grown.messages.size() > options_.limits.max_messages)
        return std::nullopt;
    MboxFile merged = std::move(file_);
    file_.uidvalidity = merged.uidvalidity;
    for (auto& message : grown.messages) {
        // Parsed from the new part alone: make its offsets the file's.
        auto base = static_cast<uint64_t>(stamp_.size);
        message.disk.offset += base;
        message.disk.body_offset += base;
        message.disk.body_end += base;
        message.disk.end += base;
        merged.messages.push_back(std::move(message));
    }
    // The old messages' UIDs are taken as they are in memory: what was not written yet
    // still is not.
    bool unwritten_before = uids_unwritten_;
    bool needs_write = apply(std::move(merged), now);
    uids_unwritten_ = uids_unwritten_ || unwritten_before;
    tail_ = bytes.substr(bytes.size() - std::min(bytes.size(), kTailCheckSize));
    return needs_write;
}

template <typename Change>
void MboxMailbox::modify(Change change, bool append_only)
{
    for (int attempt = 0;; attempt++) {
        UniqueFd fd = open_file(true);
        auto lock = mbox::MboxLock::acquire(paths_.file, fd.get(), true, options_.locks);
        // Someone may have replaced the file while we waited for the locks.
        struct stat by_fd, by_path;
        if (::fstat(fd.get(), &by_fd) < 0)
            throw_errno("fstat " + paths_.file);
        if (::stat(paths_.file.c_str(), &by_path) < 0) {
            if (errno == ENOENT)
                throw StorageError(StorageError::Kind::NotFound, "mailbox does not exist: " + paths_.name);
            throw_errno("stat " + paths_.file);
        }
        if (by_fd.st_ino != by_path.st_ino || by_fd.st_dev != by_path.st_dev) {
            if (attempt + 1 >= max_reopen_attempts)
                throw StorageError(StorageError::Kind::Locked, "mbox keeps being replaced: " + paths_.file);
            continue;
        }
        if ((recover_torn_append(fd.get(), by_fd) | recover_redo(fd.get(), by_fd)) && ::fstat(fd.get(), &by_fd) < 0)
            throw_errno("fstat " + paths_.file);
        if (!temporaries_checked_) {
            // A writer killed while writing its journal leaves the temporary file.
            mbox::PrivilegedGroup group(dir_of(paths_.file));
            remove_stale_temporaries();
        }
        Stamp now = stamp_of<Stamp>(by_fd);
        bool needs_write = needs_write_back_;
        if (!loaded_ || !(now == stamp_)) {
            if (auto appended = sync_appended(fd.get(), now)) {
                needs_write = *appended;
            } else {
                std::string content = read_all(fd.get());
                needs_write = load(content, now);
            }
        }
        size_t messages_before = file_.messages.size();
        bool had_messages = messages_before > 0 || file_.has_pseudo;
        std::vector<uint32_t> new_recent;
        bool changed = change(file_, new_recent);
        if (!changed && !needs_write)
            return;
        bool keywords_known = true;
        for (size_t i = messages_before; i < file_.messages.size(); i++)
            for (const auto& keyword : file_.messages[i].flags.keywords)
                keywords_known = keywords_known && has_keyword(file_.keywords, keyword);
        bool ends_cleanly = tail_.size() >= 2 && tail_.compare(tail_.size() - 2, 2, "\n\n") == 0;
        if (append_only && !needs_write && !uids_unwritten_ && had_messages && ends_cleanly && keywords_known) {
            append_to_file(fd.get(), now, messages_before, new_recent);
            return;
        }
        for (const auto& message : file_.messages)
            add_keywords(file_.keywords, message.flags.keywords);
        try {
            write_in_place(fd.get(), now, new_recent);
        } catch (...) {
            stamp_ = {};  // memory may be ahead of the file: read it again next time
            throw;
        }
        return;
    }
}

void MboxMailbox::append_to_file(int fd, const Stamp& now, size_t first_new, const std::vector<uint32_t>& new_recent)
{
    // Like an MTA (and Dovecot's own saves): the new messages go after the last one,
    // with their X-UIDs; X-IMAPbase is brought up to date by the next rewrite.
    std::string out;
    std::vector<mbox::OnDisk> written;
    for (size_t i = first_new; i < file_.messages.size(); i++) {
        const auto& message = file_.messages[i];
        bool recent = std::find(new_recent.begin(), new_recent.end(), message.uid) != new_recent.end();
        size_t start = out.size();
        std::string block = mbox::header_block(message, recent, {}, mbox::kHeaderPadding);
        out += block;
        out += message.body;
        out += "\n";
        written.push_back(on_disk(message, static_cast<uint64_t>(now.size) + start, block.size(), recent, false));
    }
    mbox::PrivilegedGroup group(dir_of(paths_.file));
    if (!temporaries_checked_)
        remove_stale_temporaries();
    // The journal lets the next writer cut off this append if we die halfway through it.
    std::string journal = append_journal_path();
    {
        UniqueFd journal_fd(::open(journal.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!journal_fd.valid())
            throw StorageError(StorageError::Kind::Io, "cannot create " + journal + ": " + strerror(errno));
        maildir::write_all(journal_fd.get(),
                           "loft-append " + std::to_string(now.dev) + " " + std::to_string(now.ino) + " " +
                               std::to_string(now.size) + " " + std::to_string(now.size + static_cast<off_t>(out.size())) +
                               "\n",
                           journal);
        if (::fdatasync(journal_fd.get()) < 0)
            throw_errno("fdatasync " + journal);
    }
    size_t done = 0;
    try {
        while (done < out.size()) {
            ssize_t n = ::pwrite(fd, out.data() + done, out.size() - done, now.size + static_cast<off_t>(done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                throw_errno("append to " + paths_.file);
            done += static_cast<size_t>(n);
        }
        maildir::fsync_fd(fd, paths_.file);
    } catch (...) {
        // Leave the file as it was: a partial message would be misread by everyone.
        (void)::ftruncate(fd, now.size);
        (void)::unlink(journal.c_str());
        throw;
    }
    // A journal left by a crash after this point describes a complete append: harmless.
    (void)::unlink(journal.c_str());
    struct stat st;
    if (::fstat(fd, &st) < 0)
        throw_errno("fstat " + paths_.file);
    for (uint32_t uid : new_recent)
        recent_.insert(uid);
    for (size_t i = first_new; i < file_.messages.size(); i++)
        file_.messages[i].disk = written[i - first_new];
    std::string tail = tail_ + out;
    MboxFile updated = std::move(file_);
    file_.uidvalidity = updated.uidvalidity;
    apply(std::move(updated), stamp_of<Stamp>(st));
    tail_ = tail.substr(tail.size() - std::min(tail.size(), kTailCheckSize));
}

void MboxMailbox::remove_stale_temporaries()
{
    // We hold the write locks, so a temporary file of this mbox is left from a writer that died.
    std::string dir = dir_of(paths_.file);
    std::string tmp_prefix = "." + base_of(paths_.file) + ".loft-tmp.";
    if (auto names = maildir::list_dir(dir))
        for (const auto& name : *names)
            if (name.compare(0, tmp_prefix.size(), tmp_prefix) == 0)
                (void)::unlink(maildir::join_path(dir, name).c_str());
    temporaries_checked_ = true;
}

std::string MboxMailbox::append_journal_path() const
{
    return maildir::join_path(dir_of(paths_.file), "." + base_of(paths_.file) + ".loft-append");
}

bool MboxMailbox::recover_torn_append(int fd, const struct stat& st)
{
    std::string journal = append_journal_path();
    std::optional<std::string> text;
    try {
        text = maildir::read_file_if_exists(journal, 256);
    } catch (const std::exception&) {
    }
    if (!text)
        return false;
    mbox::PrivilegedGroup group(dir_of(paths_.file));
    std::vector<std::string> words = split_words(*text);
    bool truncated = false;
    try {
        if (words.size() == 5 && words[0] == "loft-append" && std::stoull(words[1]) == st.st_dev &&
            std::stoull(words[2]) == st.st_ino) {
            auto old_size = static_cast<off_t>(std::stoll(words[3]));
            auto new_size = static_cast<off_t>(std::stoll(words[4]));
            // Between the two sizes: a writer died in the middle of its append, which was
            // never acknowledged; cut it off so nobody reads half a message.
            if (st.st_size > old_size && st.st_size < new_size) {
                if (::ftruncate(fd, old_size) < 0)
                    throw_errno("truncate torn append in " + paths_.file);
                maildir::fsync_fd(fd, paths_.file);
                truncated = true;
            }
        }
    } catch (const std::invalid_argument&) {
    } catch (const std::out_of_range&) {
    }
    (void)::unlink(journal.c_str());
    return truncated;
}

std::string MboxMailbox::redo_journal_path() const
{
    return maildir::join_path(dir_of(paths_.file), "." + base_of(paths_.file) + ".loft-redo");
}

bool MboxMailbox::recover_redo(int fd, const struct stat& st)
{
    std::string journal = redo_journal_path();
    if (!maildir::path_exists(journal))
        return false;
    mbox::PrivilegedGroup group(dir_of(paths_.file));
    std::optional<mbox::RedoRecord> record;
    try {
        record = mbox::read_redo_journal(journal, options_.max_file_size + (1 << 20));
    } catch (const StorageError&) {
    }
    bool applied = false;
    // A journal of another incarnation of the file, an incomplete one (its writer died
    // before touching the mbox) or one whose untouched prefix changed since (Dovecot
    // rewrote the file meanwhile) is dropped; otherwise it is finished.
    if (record && mbox::redo_applies(fd, st, *record, paths_.file)) {
        mbox::apply_redo(fd, *record, paths_.file);
        applied = true;
    }
    if (::unlink(journal.c_str()) < 0 && errno != ENOENT)
        throw_errno("unlink " + journal);
    return applied;
}

void MboxMailbox::write_in_place(int fd, const Stamp& now, const std::vector<uint32_t>& new_recent)
{
    // Like Dovecot's mbox sync: a header block that changed is rewritten where it is when
    // it fits (its X-Keywords padding absorbs the difference); from the first block that
    // does not fit, or the first gap an expunge leaves, the rest of the file is written
    // anew at its new place; a shorter file is truncated. The inode never changes.
    std::string base = mbox::base_value(file_);
    bool base_changed = base != file_.stored_base;
    if (!file_.has_pseudo && file_.messages.empty()) {
        // Dovecot keeps the UIDVALIDITY of an empty mbox in this pseudo message.
        file_.has_pseudo = true;
        file_.pseudo = mbox::new_pseudo_message(maildir::plain_hostname(), static_cast<int64_t>(::time(nullptr)));
    }
    auto is_recent = [&](uint32_t uid) { return std::find(new_recent.begin(), new_recent.end(), uid) != new_recent.end(); };

    // The pseudo message (if any) first, then every message, in file order.
    struct Piece {
        mbox::MboxMessage* message;
        bool pseudo;
        bool recent;
        bool carries_base;
        bool changed;
    };
    std::vector<Piece> pieces;
    if (file_.has_pseudo)
        pieces.push_back({&file_.pseudo, true, false, false, !file_.pseudo.disk.known || base_changed});
    for (size_t i = 0; i < file_.messages.size(); i++) {
        auto& message = file_.messages[i];
        bool recent = is_recent(message.uid);
        bool carries_base = i == 0 && !file_.has_pseudo;
        const auto& disk = message.disk;
        bool changed = !disk.known || disk.uid != message.uid || !(disk.flags == message.flags) ||
                       disk.seen_by_session == recent || disk.carries_base != carries_base ||
                       (carries_base && base_changed);
        pieces.push_back({&message, false, recent, carries_base, changed});
    }
    auto block_of = [&](const Piece& piece, size_t padding) {
        if (piece.pseudo)
            return mbox::pseudo_header_block(*piece.message, base, padding);
        return mbox::header_block(*piece.message, piece.recent, piece.carries_base ? base : std::string_view(),
                                  padding);
    };
    // A changed block padded to fill the old one exactly, or nullopt if it cannot fit.
    auto fitted_block = [&](const Piece& piece) -> std::optional<std::string> {
        const auto& disk = piece.message->disk;
        if (!disk.known)
            return std::nullopt;
        std::string unpadded = block_of(piece, 0);
        uint64_t room = disk.body_offset - disk.offset;
        if (unpadded.size() > room)
            return std::nullopt;
        return block_of(piece, static_cast<size_t>(room - unpadded.size()));
    };

    mbox::RedoRecord record;
    record.dev = now.dev;
    record.ino = now.ino;
    record.old_size = static_cast<uint64_t>(now.size);
    std::vector<mbox::OnDisk> new_disks;
    new_disks.reserve(pieces.size());
    uint64_t cursor = 0;  // where the next piece starts in the new file
    bool moving = false;
    std::string tail;     // the new file from tail_start on, once moving
    uint64_t tail_start = 0;
    for (const auto& piece : pieces) {
        const auto& disk = piece.message->disk;
        if (!moving) {
            std::optional<std::string> fitted;
            // A message that ends the file without the separating blank line cannot stay
            // put if another one will follow it.
            bool unterminated = disk.end == disk.body_end && &piece != &pieces.back();
            if (disk.known && disk.offset == cursor && !unterminated &&
                (!piece.changed || (fitted = fitted_block(piece)))) {
                if (piece.changed) {
                    new_disks.push_back(on_disk(*piece.message, disk.offset, fitted->size(), piece.recent,
                                                piece.carries_base));
                    new_disks.back().body_end = disk.body_end;
                    new_disks.back().end = disk.end;
                    record.patches.push_back({disk.offset, std::move(*fitted)});
                } else {
                    new_disks.push_back(disk);
                }
                cursor = disk.end;
                continue;
            }
            moving = true;
            tail_start = cursor;
        }
        // Everything from here on is written at its new place.
        uint64_t offset = tail_start + tail.size();
        std::string block;
        if (!piece.changed) {
            block.resize(static_cast<size_t>(disk.body_offset - disk.offset));
            size_t done = 0;
            while (done < block.size()) {
                ssize_t n = ::pread(fd, block.data() + done, block.size() - done,
                                    static_cast<off_t>(disk.offset + done));
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    throw StorageError(StorageError::Kind::Io, "mbox changed while being rewritten: " + paths_.file);
                done += static_cast<size_t>(n);
            }
            new_disks.push_back(disk);
            auto& moved = new_disks.back();
            moved.offset = offset;
        } else {
            auto fitted = fitted_block(piece);
            block = fitted ? std::move(*fitted) : block_of(piece, mbox::kHeaderPadding);
            new_disks.push_back(on_disk(*piece.message, offset, block.size(), piece.recent, piece.carries_base));
        }
        auto& placed = new_disks.back();
        placed.body_offset = offset + block.size();
        placed.body_end = placed.body_offset + piece.message->body.size();
        placed.end = placed.body_end + 1;
        tail += block;
        tail += piece.message->body;
        tail += '\n';
        cursor = placed.end;
    }
    record.new_size = cursor;
    if (moving)
        record.patches.push_back({tail_start, std::move(tail)});

    bool needs_journal = std::any_of(record.patches.begin(), record.patches.end(),
                                     [](const mbox::FilePatch& patch) { return mbox::patch_may_tear(patch); });
    mbox::PrivilegedGroup group(dir_of(paths_.file));
    if (!temporaries_checked_)
        remove_stale_temporaries();
    std::string journal = redo_journal_path();
    if (needs_journal) {
        record.guard = mbox::prefix_fingerprint(fd, record.first_offset(), paths_.file);
        std::string temp = maildir::join_path(dir_of(paths_.file),
                                              "." + base_of(paths_.file) + ".loft-tmp.redo." + std::to_string(::getpid()));
        mbox::write_redo_journal(journal, temp, record);
    }
    // Without a journal every write is one header block within one page: a kill leaves
    // each message either as it was or as it is now. Like Dovecot, such flag rewrites
    // are not fdatasynced (a power cut may lose the change, never the message); writes
    // under a journal are, before the journal goes.
    mbox::apply_redo(fd, record, paths_.file, needs_journal);
    if (needs_journal && ::unlink(journal.c_str()) < 0)
        throw_errno("unlink " + journal);

    for (size_t i = 0; i < pieces.size(); i++) {
        pieces[i].message->disk = new_disks[i];
        pieces[i].message->seen_by_session = new_disks[i].seen_by_session;
    }
    file_.stored_base = base;
    struct stat st;
    if (::fstat(fd, &st) < 0)
        throw_errno("fstat " + paths_.file);
    for (uint32_t uid : new_recent)
        recent_.insert(uid);
    MboxFile updated = std::move(file_);
    file_.uidvalidity = updated.uidvalidity;
    apply(std::move(updated), stamp_of<Stamp>(st));
    refresh_tail(fd, st.st_size);
}

void MboxMailbox::refresh_tail(int fd, off_t size)
{
    size_t want = std::min(static_cast<size_t>(size), kTailCheckSize);
    tail_.assign(want, '\0');
    size_t done = 0;
    while (done < want) {
        ssize_t n = ::pread(fd, tail_.data() + done, want - done, size - static_cast<off_t>(want - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += static_cast<size_t>(n);
    }
    tail_.resize(done);
}

std::vector<uint32_t> MboxMailbox::expunged_since(uint64_t modseq, bool& complete) const
{
    complete = modseq >= expunge_floor_;
    std::vector<uint32_t> uids;
    for (const auto& [when, uid] : expunged_)
        if (when > modseq)
            uids.push_back(uid);
    std::sort(uids.begin(), uids.end());
    return uids;
}

MailboxStatus MboxMailbox::status() const
{
    MailboxStatus st;
    st.uidvalidity = file_.uidvalidity;
    st.uidnext = file_.next_uid;
    st.messages = static_cast<uint32_t>(messages_.size());
    for (const auto& info : messages_) {
        if (info.flags.system & Recent)
            st.recent++;
        if (!(info.flags.system & Seen))
            st.unseen++;
        st.size += info.virtual_size;
    }
    st.highest_modseq = highest_modseq_;
    return st;
}

const MessageInfo* MboxMailbox::find(uint32_t uid) const
{
    auto it = index_by_uid_.find(uid);
    return it == index_by_uid_.end() ? nullptr : &messages_[it->second];
}

std::string MboxMailbox::message_text(uint32_t uid) const
{
    auto it = index_by_uid_.find(uid);
    if (it == index_by_uid_.end())
        throw StorageError(StorageError::Kind::NotFound, "message " + std::to_string(uid) + " is gone from " + paths_.name);
    return file_.messages[it->second].imap_text();
}

UniqueFd MboxMailbox::open_message(uint32_t uid)
{
    std::string text = message_text(uid);
    UniqueFd fd(::memfd_create("loft-mbox-message", MFD_CLOEXEC));
    if (!fd.valid())
        throw_errno("memfd_create");
    maildir::write_all(fd.get(), text, "message copy");
    if (::lseek(fd.get(), 0, SEEK_SET) < 0)
        throw_errno("lseek");
    return fd;
}

std::vector<MessageInfo> MboxMailbox::store_flags(const std::vector<uint32_t>& uids, FlagOp op, const Flags& flags)
{
    require_writable();
    for (const auto& keyword : flags.keywords)
        validate_keyword(keyword);
    std::set<uint32_t> wanted(uids.begin(), uids.end());
    uint32_t system = flags.system & (Answered | Flagged | Deleted | Seen | Draft);
    modify([&](MboxFile& file, std::vector<uint32_t>&) {
        bool changed = false;
        for (auto& message : file.messages) {
            if (!wanted.count(message.uid))
                continue;
            Flags before = message.flags;
            switch (op) {
            case FlagOp::Replace:
                message.flags.system = system;
                message.flags.keywords.clear();
                add_keywords(message.flags.keywords, flags.keywords);
                break;
            case FlagOp::Add:
                message.flags.system |= system;
                add_keywords(message.flags.keywords, flags.keywords);
                break;
            case FlagOp::Remove:
                message.flags.system &= ~system;
                std::erase_if(message.flags.keywords,
                              [&](const std::string& k) { return has_keyword(flags.keywords, k); });
                break;
            }
            if (message.flags.keywords.size() > options_.limits.max_keywords)
                throw StorageError(StorageError::Kind::Limit, "too many keywords on one message");
            changed |= !(before == message.flags);
        }
        return changed;
    });
    std::vector<MessageInfo> result;
    for (uint32_t uid : wanted)
        if (const MessageInfo* info = find(uid))
            result.push_back(*info);
    return result;
}

std::vector<uint32_t> MboxMailbox::expunge()
{
    require_writable();
    std::vector<uint32_t> removed;
    modify([&](MboxFile& file, std::vector<uint32_t>&) {
        removed.clear();
        for (const auto& message : file.messages)
            if (message.flags.system & Deleted)
                removed.push_back(message.uid);
        std::erase_if(file.messages, [](const MboxMessage& m) { return (m.flags.system & Deleted) != 0; });
        return !removed.empty();
    });
    return removed;
}

std::string MboxMailbox::default_from_sender() const
{
    if (!options_.from_sender.empty())
        return options_.from_sender;
    std::string user = "MAILER-DAEMON";
    struct passwd pw;
    struct passwd* found = nullptr;
    char buf[4096];
    if (::getpwuid_r(::geteuid(), &pw, buf, sizeof buf, &found) == 0 && found)
        user = found->pw_name;
    return user + "@" + maildir::plain_hostname();
}

std::vector<uint32_t> MboxMailbox::append_messages(std::vector<NewMessage> messages)
{
    std::string sender = default_from_sender();
    std::vector<uint32_t> uids;
    modify([&](MboxFile& file, std::vector<uint32_t>& new_recent) {
        uids.clear();
        for (const auto& incoming : messages) {
            MboxMessage message;
            std::string text = mbox::normalize_newlines(incoming.text);
            mbox::split_message(text, message.header, message.body);
            message.from_line = "From " + sender + "  " + mbox::ctime_utc(incoming.internal_date);
            message.internal_date = incoming.internal_date;
            message.flags = incoming.flags;
            message.flags.system &= Answered | Flagged | Deleted | Seen | Draft;
            if (file.next_uid == UINT32_MAX)
                throw StorageError(StorageError::Kind::Limit, "mailbox " + paths_.name + " has run out of UIDs");
            message.uid = file.next_uid++;
            uids.push_back(message.uid);
            new_recent.push_back(message.uid);
            file.messages.push_back(std::move(message));
        }
        return true;
    }, true);
    return uids;
}

std::vector<std::pair<uint32_t, uint32_t>> MboxMailbox::copy_from(MboxMailbox& source, const std::vector<uint32_t>& uids,
                                                                  bool move)
{
    if (move)
        source.require_writable();
    std::vector<NewMessage> copies;
    std::vector<uint32_t> source_uids;
    for (uint32_t uid : uids) {
        const MessageInfo* info = source.find(uid);
        if (!info)
            continue;
        Flags flags = info->flags;
        flags.system &= ~static_cast<uint32_t>(Recent);
        copies.push_back({source.message_text(uid), flags, info->internal_date});
        source_uids.push_back(uid);
    }
    if (copies.empty())
        return {};
    auto new_uids = append_messages(std::move(copies));
    if (move) {
        std::set<uint32_t> gone(source_uids.begin(), source_uids.end());
        source.modify([&](MboxFile& file, std::vector<uint32_t>&) {
            return std::erase_if(file.messages, [&](const MboxMessage& m) { return gone.count(m.uid) != 0; }) > 0;
        });
    }
    std::vector<std::pair<uint32_t, uint32_t>> pairs;
    for (size_t i = 0; i < new_uids.size(); i++)
        pairs.emplace_back(source_uids[i], new_uids[i]);
    return pairs;
}

MboxMailbox::Append MboxMailbox::begin_append(const Flags& flags, int64_t internal_date)
{
    for (const auto& keyword : flags.keywords)
        validate_keyword(keyword);
    return Append(*this, flags, internal_date ? internal_date : static_cast<int64_t>(::time(nullptr)));
}

MboxMailbox::Append::Append(MboxMailbox& box, const Flags& flags, int64_t internal_date)
    : box_(&box), flags_(flags), internal_date_(internal_date)
{
}

void MboxMailbox::Append::write(std::string_view chunk)
{
    if (finished_)
        throw StorageError(StorageError::Kind::NotAllowed, "append already committed");
    if (data_.size() + chunk.size() > box_->options_.max_message_size)
        throw StorageError(StorageError::Kind::Limit, "message too large");
    data_.append(chunk);
}

uint32_t MboxMailbox::Append::commit()
{
    if (finished_)
        throw StorageError(StorageError::Kind::NotAllowed, "append already committed");
    finished_ = true;
    std::vector<NewMessage> messages;
    messages.push_back({std::move(data_), flags_, internal_date_});
    return box_->append_messages(std::move(messages)).at(0);
}

}  // namespace loft::storage
