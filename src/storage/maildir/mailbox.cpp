#include "storage/maildir/mailbox.h"

#include "lib/strings.h"
#include "lib/system_error.h"
#include "storage/maildir/filename.h"
#include "storage/maildir/fs_util.h"
#include "storage/maildir/index_file.h"
#include "storage/maildir/uidvalidity.h"
#include "storage/storage_error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <utime.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <unordered_map>
#include <unordered_set>

namespace loft::storage {

using namespace maildir;

namespace {

// Dovecot deletes tmp/ files that have not been touched for this long.
constexpr time_t tmp_delete_secs = 36 * 60 * 60;
// ... looking at most this often (Dovecot's mail_temp_scan_interval default, 1 week).
constexpr time_t tmp_scan_interval_secs = 7 * 24 * 60 * 60;
constexpr size_t append_buffer_size = 64 * 1024;
constexpr int rename_retries = 5;

uint64_t count_virtual_size(const std::string& path, uint64_t& physical)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw_errno("open(" + path + ")");
    char buf[65536];
    uint64_t vsize = 0;
    physical = 0;
    char prev = 0;
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("read(" + path + ")");
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n' && prev != '\r')
                vsize++;
            vsize++;
            prev = buf[i];
        }
        physical += static_cast<uint64_t>(n);
    }
    return vsize;
}

bool is_message_file_name(std::string_view name)
{
    return !name.empty() && name[0] != '.';
}

}  // namespace

MaildirMailbox::MaildirMailbox(MailboxPaths paths, bool read_only, MailboxOptions options)
    : paths_(std::move(paths)),
      read_only_(read_only),
      options_(options),
      uidlist_path_(join_path(paths_.control, uidlist_name))
{
    if (!is_directory(join_path(paths_.dir, "cur")))
        throw StorageError(StorageError::Kind::NotFound, "Mailbox doesn't exist: " + paths_.name);
    index_path_ = join_path(paths_.index.empty() ? paths_.control : paths_.index, index_file_name);
    load_index();
}

MaildirMailbox::~MaildirMailbox()
{
    if (index_dirty_)
        save_index();
}

namespace {

IndexStamp to_index_stamp(dev_t dev, ino_t ino, off_t size, time_t ms, long mns, time_t cs, long cns)
{
    return {static_cast<uint64_t>(dev), static_cast<uint64_t>(ino), static_cast<uint64_t>(size),
            static_cast<int64_t>(ms), static_cast<int64_t>(mns), static_cast<int64_t>(cs), static_cast<int64_t>(cns)};
}

}  // namespace

void MaildirMailbox::load_index()
{
    auto data = load_index_file(index_path_);
    if (!data)
        return;
    auto from_stamp = [](const IndexStamp& s) {
        return FileStamp{static_cast<dev_t>(s.dev), static_cast<ino_t>(s.ino), static_cast<off_t>(s.size),
                         static_cast<time_t>(s.mtime_sec), static_cast<long>(s.mtime_nsec),
                         static_cast<time_t>(s.ctime_sec), static_cast<long>(s.ctime_nsec)};
    };
    DirSnapshot snap{from_stamp(data->cur), from_stamp(data->new_dir), from_stamp(data->uidlist),
                     from_stamp(data->keywords)};
    uidvalidity_ = data->uidvalidity;
    guid_ = data->guid;
    next_uid_ = data->next_uid;
    highest_modseq_ = data->highest_modseq;
    expunge_floor_ = data->expunge_floor;
    expunged_ = std::move(data->expunged);
    load_keywords();
    messages_.reserve(data->messages.size());
    files_by_base_.reserve(data->messages.size());
    base_by_uid_.reserve(data->messages.size());
    for (auto& m : data->messages) {
        std::string base(maildir_base_name(m.filename.substr(4)));
        files_by_base_.emplace(base, FileState{m.filename, m.mtime, m.size, m.vsize});
        base_by_uid_.emplace(m.uid, base);
        MessageInfo info = make_info(m.uid, base, m.filename);
        info.modseq = m.modseq;
        messages_.push_back(std::move(info));
    }
    last_snapshot_ = snap;
}

void MaildirMailbox::save_index()
{
    if (!last_snapshot_ && uidvalidity_ == 0)
        return;
    IndexData data;
    if (last_snapshot_) {
        auto to = [](const FileStamp& f) {
            return to_index_stamp(f.dev, f.ino, f.size, f.mtime_sec, f.mtime_nsec, f.ctime_sec, f.ctime_nsec);
        };
        data.cur = to(last_snapshot_->cur);
        data.new_dir = to(last_snapshot_->new_dir);
        data.uidlist = to(last_snapshot_->uidlist);
        data.keywords = to(last_snapshot_->keywords);
    }
    data.uidvalidity = uidvalidity_;
    data.guid = guid_;
    data.next_uid = next_uid_;
    data.highest_modseq = highest_modseq_;
    data.expunge_floor = expunge_floor_;
    data.expunged = expunged_;
    data.messages.reserve(messages_.size());
    for (const auto& info : messages_) {
        auto base = base_by_uid_.find(info.uid);
        if (base == base_by_uid_.end())
            continue;
        const FileState& state = files_by_base_.at(base->second);
        data.messages.push_back({info.uid, state.mtime, state.size, state.vsize, info.modseq, state.filename});
    }
    if (save_index_file(index_path_, data))
        index_dirty_ = false;
}

void MaildirMailbox::note_expunged(uint32_t uid)
{
    expunged_.emplace_back(++highest_modseq_, uid);
    if (expunged_.size() > max_expunge_records) {
        size_t drop = expunged_.size() - max_expunge_records / 2;
        expunge_floor_ = expunged_[drop - 1].first;
        expunged_.erase(expunged_.begin(), expunged_.begin() + static_cast<long>(drop));
    }
    index_dirty_ = true;
}

std::vector<uint32_t> MaildirMailbox::expunged_since(uint64_t modseq, bool& complete) const
{
    complete = modseq >= expunge_floor_;
    std::vector<uint32_t> uids;
    for (const auto& [m, uid] : expunged_)
        if (m > modseq)
            uids.push_back(uid);
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    return uids;
}

std::string MaildirMailbox::path_of(const std::string& relative) const
{
    return join_path(paths_.dir, relative);
}

MaildirMailbox::FileMap MaildirMailbox::scan_dirs() const
{
    FileMap files;
    files.reserve(messages_.size() + 64);
    // new/ first so that a file seen in both (moved while we listed) ends up as cur/.
    for (const char* sub : {"new", "cur"}) {
        auto names = list_dir(path_of(sub));
        if (!names) {
            if (std::string_view(sub) == "cur")
                throw StorageError(StorageError::Kind::NotFound, "Mailbox was deleted: " + paths_.name);
            continue;
        }
        for (auto& name : *names) {
            if (!is_message_file_name(name))
                continue;
            files[std::string(maildir_base_name(name))] = std::string(sub) + "/" + name;
            if (files.size() > options_.max_messages)
                throw StorageError(StorageError::Kind::Limit,
                                   "Mailbox " + paths_.name + " has more than " +
                                       std::to_string(options_.max_messages) + " files");
        }
    }
    return files;
}

void MaildirMailbox::move_new_to_cur(std::unordered_set<std::string>& moved_bases)
{
    auto names = list_dir(path_of("new"));
    if (!names)
        return;
    bool moved_any = false;
    for (const auto& name : *names) {
        if (!is_message_file_name(name))
            continue;
        std::string target = name.find(':') == std::string::npos ? name + ":2," : name;
        std::string from = path_of("new/" + name), to = path_of("cur/" + target);
        if (::rename(from.c_str(), to.c_str()) == 0) {
            moved_bases.insert(std::string(maildir_base_name(name)));
            moved_any = true;
        } else if (errno != ENOENT) {
            throw_errno("rename(" + from + ", " + to + ")");
        }
    }
    if (moved_any)
        fsync_changed_dirs(true, true);
}

void MaildirMailbox::clean_tmp()
{
    // Dovecot's rule: scan tmp/ at most once per interval (tracked in the directory's
    // atime, which the scan updates) and delete files whose ctime is older than 36 h.
    if (tmp_cleaned_)
        return;
    tmp_cleaned_ = true;
    std::string tmp = path_of("tmp");
    struct stat dir_st;
    if (::stat(tmp.c_str(), &dir_st) < 0)
        return;
    time_t now = ::time(nullptr);
    if (dir_st.st_atime > dir_st.st_ctime + tmp_delete_secs || dir_st.st_atime >= now - tmp_scan_interval_secs)
        return;
    ::utime(tmp.c_str(), nullptr);
    auto names = list_dir(tmp);
    if (!names)
        return;
    for (const auto& name : *names) {
        std::string path = join_path(tmp, name);
        struct stat st;
        if (::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode) && st.st_ctime < now - tmp_delete_secs)
            ::unlink(path.c_str());
    }
}

void MaildirMailbox::fsync_changed_dirs(bool cur, bool new_dir)
{
    if (cur)
        fsync_dir(path_of("cur"));
    if (new_dir)
        fsync_dir(path_of("new"));
}

void MaildirMailbox::load_keywords()
{
    auto content = read_file_if_exists(join_path(paths_.control, keywords_file_name), 1024 * 1024);
    keywords_ = content ? KeywordTable::parse(*content) : KeywordTable();
}

std::string MaildirMailbox::letters_for(const std::vector<std::string>& keywords)
{
    for (const auto& keyword : keywords)
        if (!is_valid_keyword(keyword))
            throw StorageError(StorageError::Kind::BadName, "Invalid keyword: " + keyword);
    load_keywords();
    bool missing = false;
    for (const auto& keyword : keywords)
        missing = missing || !keywords_.letter_of(keyword);
    if (missing) {
        std::string path = join_path(paths_.control, keywords_file_name);
        Dotlock lock = Dotlock::acquire(path);
        load_keywords();
        bool added = false;
        for (const auto& keyword : keywords) {
            if (keywords_.letter_of(keyword))
                continue;
            if (!keywords_.add(keyword))
                throw StorageError(StorageError::Kind::Limit,
                                   "Too many keywords in " + paths_.name + " (Maildir allows 26)");
            added = true;
        }
        if (added)
            lock.replace_target(keywords_.format());
    }
    std::string letters;
    for (const auto& keyword : keywords)
        letters += *keywords_.letter_of(keyword);
    std::sort(letters.begin(), letters.end());
    letters.erase(std::unique(letters.begin(), letters.end()), letters.end());
    return letters;
}

Flags MaildirMailbox::flags_from_name(std::string_view filename) const
{
    MaildirFilename parsed = parse_maildir_filename(filename);
    Flags flags;
    flags.system = parsed.system_flags;
    for (char letter : parsed.keyword_letters) {
        const std::string& name = keywords_.name_of(letter);
        if (!name.empty())
            flags.keywords.push_back(name);
    }
    return flags;
}

MessageInfo MaildirMailbox::make_info(uint32_t uid, const std::string& base, const std::string& relative)
{
    auto cached = files_by_base_.find(base);
    if (cached == files_by_base_.end() || cached->second.filename.empty()) {
        FileState state;
        MaildirFilename parsed = parse_maildir_filename(relative.substr(4));
        struct stat st;
        std::string path = path_of(relative);
        if (::stat(path.c_str(), &st) < 0)
            throw_errno("stat(" + path + ")");
        state.mtime = st.st_mtime;
        state.size = parsed.size.value_or(static_cast<uint64_t>(st.st_size));
        if (parsed.vsize) {
            state.vsize = *parsed.vsize;
        } else {
            uint64_t physical = 0;
            state.vsize = count_virtual_size(path, physical);
            if (!parsed.size)
                state.size = physical;
        }
        cached = files_by_base_.insert_or_assign(base, state).first;
    }
    cached->second.filename = relative;
    MessageInfo info;
    info.uid = uid;
    info.flags = flags_from_name(relative.substr(4));
    if (recent_.count(uid))
        info.flags.system |= Recent;
    info.virtual_size = cached->second.vsize;
    info.physical_size = cached->second.size;
    info.internal_date = cached->second.mtime;
    info.path_hint = relative;
    return info;
}

std::optional<Uidlist> MaildirMailbox::read_uidlist() const
{
    auto content = read_file_if_exists(uidlist_path_);
    if (!content)
        return std::nullopt;
    return parse_uidlist(*content, uidlist_path_);
}

Uidlist MaildirMailbox::new_uidlist() const
{
    Uidlist list;
    list.header.uidvalidity = next_uidvalidity(paths_.uidvalidity_dir);
    list.header.next_uid = 1;
    list.header.guid = generate_mailbox_guid();
    return list;
}

MaildirMailbox::DirSnapshot MaildirMailbox::snapshot() const
{
    DirSnapshot snap;
    auto take = [](const std::string& path, FileStamp& stamp) {
        struct stat st;
        if (::stat(path.c_str(), &st) < 0)
            return;
        stamp = {st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_sec,
                 st.st_ctim.tv_nsec};
    };
    take(path_of("cur"), snap.cur);
    take(path_of("new"), snap.new_dir);
    take(uidlist_path_, snap.uidlist);
    take(join_path(paths_.control, keywords_file_name), snap.keywords);
    return snap;
}

bool MaildirMailbox::unchanged_since_last_sync(const DirSnapshot& now_snap) const
{
    if (!last_snapshot_ || !(*last_snapshot_ == now_snap))
        return false;
    // A change within the same timestamp tick would not show; trust only settled times.
    time_t settled = ::time(nullptr) - 1;
    for (const FileStamp* stamp : {&now_snap.cur, &now_snap.new_dir, &now_snap.uidlist, &now_snap.keywords})
        if (stamp->mtime_sec >= settled || stamp->ctime_sec >= settled)
            return false;
    return true;
}

void MaildirMailbox::sync()
{
    DirSnapshot before = snapshot();
    if (unchanged_since_last_sync(before))
        return;
    last_snapshot_.reset();
    std::unordered_set<std::string> moved;
    if (!read_only_) {
        clean_tmp();
        move_new_to_cur(moved);
    }
    load_keywords();
    auto uidlist = read_uidlist();
    auto files = scan_dirs();
    // readdir() can miss a file that another process renames while we list (a flag
    // change by Dovecot). A message we knew must not look expunged because of that, so
    // when one is missing, list again and take the union.
    bool lost_known = false;
    for (const auto& [uid, base] : base_by_uid_)
        lost_known = lost_known || !files.count(base);
    if (lost_known)
        for (auto& [base, relative] : scan_dirs())
            files.insert_or_assign(base, std::move(relative));

    auto has_unknown = [&](const Uidlist& list) {
        std::unordered_map<std::string_view, bool> known;
        for (const auto& record : list.records)
            known.emplace(record.base_name, true);
        for (const auto& [base, relative] : files)
            if (!known.count(base))
                return true;
        return false;
    };
    auto live_records = [&](const Uidlist& list) {
        size_t live = 0;
        for (const auto& record : list.records)
            live += files.count(record.base_name);
        return live;
    };
    auto wants_compress = [&](const Uidlist& list) {
        return !list.records.empty() &&
               live_records(list) * 100 < list.records.size() * uidlist_compress_percentage;
    };

    std::set<uint32_t> assigned;
    if (!uidlist || has_unknown(*uidlist) || wants_compress(*uidlist) || uidlist->header.version != 3 ||
        uidlist->header.guid.empty()) {
        Dotlock lock = Dotlock::acquire(uidlist_path_);
        // Re-read under the lock: another process may have assigned UIDs meanwhile.
        uidlist = read_uidlist();
        bool existed = uidlist.has_value();
        if (!uidlist)
            uidlist = new_uidlist();
        // Files delivered since we listed need UIDs too; keep the first listing as well
        // so a file renamed during this one is not taken for expunged.
        for (auto& [base, relative] : scan_dirs())
            files.insert_or_assign(base, std::move(relative));
        std::unordered_map<std::string, uint32_t> known;
        for (const auto& record : uidlist->records)
            known.emplace(record.base_name, record.uid);
        std::vector<std::string> unknown;
        for (const auto& [base, relative] : files)
            if (!known.count(base))
                unknown.push_back(base);
        std::sort(unknown.begin(), unknown.end(),
                  [](const std::string& a, const std::string& b) { return maildir_filename_sort_cmp(a, b) < 0; });
        uint32_t next = uidlist->next_uid();
        std::vector<UidlistRecord> added;
        for (const auto& base : unknown) {
            if (next == UINT32_MAX)
                throw StorageError(StorageError::Kind::Limit, "UID space exhausted in " + paths_.name);
            added.push_back({next, "", base});
            assigned.insert(next);
            next++;
        }
        bool rewrite = !existed || uidlist->header.version != 3 || uidlist->header.guid.empty();
        if (!rewrite && wants_compress(*uidlist)) {
            // readdir() may miss a file being renamed; only drop records missing twice.
            auto second = scan_dirs();
            for (const auto& [base, relative] : second)
                files.emplace(base, relative);
            rewrite = wants_compress(*uidlist);
        }
        if (rewrite) {
            Uidlist fresh;
            fresh.header = uidlist->header;
            fresh.header.version = 3;
            if (fresh.header.guid.empty())
                fresh.header.guid = generate_mailbox_guid();
            fresh.header.next_uid = next;
            for (auto& record : uidlist->records)
                if (files.count(record.base_name))
                    fresh.records.push_back(std::move(record));
            for (auto& record : added)
                fresh.records.push_back(std::move(record));
            lock.replace_target(format_uidlist(fresh));
            uidlist = std::move(fresh);
        } else if (!added.empty()) {
            write_new_records(lock, *uidlist, true, added);
        }
    }

    if (uidvalidity_ != 0 && uidvalidity_ != uidlist->header.uidvalidity) {
        // The folder was recreated under us: nothing we remember about its UIDs holds.
        messages_.clear();
        files_by_base_.clear();
        base_by_uid_.clear();
        recent_.clear();
        expunged_.clear();
        expunge_floor_ = highest_modseq_;
    }
    uidvalidity_ = uidlist->header.uidvalidity;
    guid_ = uidlist->header.guid;
    next_uid_ = uidlist->next_uid();

    std::vector<MessageInfo> messages;
    messages.reserve(files.size());
    std::unordered_map<uint32_t, std::string> base_by_uid;
    base_by_uid.reserve(files.size());
    std::unordered_set<std::string_view> live_bases;
    live_bases.reserve(files.size());
    for (const auto& record : uidlist->records) {
        auto file = files.find(record.base_name);
        if (file == files.end())
            continue;
        if (!read_only_ && (moved.count(record.base_name) || assigned.count(record.uid)))
            recent_.insert(record.uid);
        else if (read_only_ && assigned.count(record.uid))
            recent_.insert(record.uid);
        try {
            messages.push_back(make_info(record.uid, record.base_name, file->second));
        } catch (const std::system_error& e) {
            if (e.code().value() != ENOENT)
                throw;
            continue;  // renamed or expunged while we looked: the next sync sees it
        }
        base_by_uid.emplace(record.uid, record.base_name);
        live_bases.insert(record.base_name);
    }
    for (auto it = files_by_base_.begin(); it != files_by_base_.end();)
        it = live_bases.count(it->first) ? std::next(it) : files_by_base_.erase(it);
    // Modseqs: new messages and changed flags get the next value; vanished UIDs are
    // remembered for QRESYNC.
    auto old = messages_.begin();
    for (auto& info : messages) {
        while (old != messages_.end() && old->uid < info.uid) {
            note_expunged(old->uid);
            ++old;
        }
        if (old != messages_.end() && old->uid == info.uid) {
            uint32_t mask = ~static_cast<uint32_t>(Recent);
            bool same = (old->flags.system & mask) == (info.flags.system & mask) &&
                        old->flags.keywords == info.flags.keywords;
            info.modseq = same ? old->modseq : ++highest_modseq_;
            index_dirty_ = index_dirty_ || !same || old->path_hint != info.path_hint;
            ++old;
        } else {
            info.modseq = ++highest_modseq_;
            index_dirty_ = true;
        }
    }
    for (; old != messages_.end(); ++old)
        note_expunged(old->uid);
    messages_ = std::move(messages);
    base_by_uid_ = std::move(base_by_uid);
    // What we saw before listing: anything that changed since then forces a rescan.
    if (moved.empty() && assigned.empty())
        last_snapshot_ = before;
}

MailboxStatus MaildirMailbox::status() const
{
    MailboxStatus st;
    st.uidvalidity = uidvalidity_;
    st.uidnext = next_uid_;
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

const MessageInfo* MaildirMailbox::find(uint32_t uid) const
{
    auto it = std::lower_bound(messages_.begin(), messages_.end(), uid,
                               [](const MessageInfo& info, uint32_t u) { return info.uid < u; });
    return it != messages_.end() && it->uid == uid ? &*it : nullptr;
}

std::string MaildirMailbox::locate(const std::string& base) const
{
    for (const char* sub : {"cur", "new"}) {
        auto names = list_dir(path_of(sub));
        if (!names)
            continue;
        for (const auto& name : *names)
            if (maildir_base_name(name) == base)
                return std::string(sub) + "/" + name;
    }
    return {};
}

UniqueFd MaildirMailbox::open_message(uint32_t uid)
{
    auto base = base_by_uid_.find(uid);
    if (base == base_by_uid_.end())
        throw StorageError(StorageError::Kind::NotFound, "Message UID " + std::to_string(uid) + " not found");
    auto& state = files_by_base_[base->second];
    for (int attempt = 0; attempt < rename_retries; attempt++) {
        UniqueFd fd(::open(path_of(state.filename).c_str(), O_RDONLY | O_CLOEXEC));
        if (fd)
            return fd;
        if (errno != ENOENT)
            throw_errno("open(" + path_of(state.filename) + ")");
        std::string current = locate(base->second);
        if (current.empty())
            break;
        state.filename = current;
    }
    throw StorageError(StorageError::Kind::NotFound,
                       "Message UID " + std::to_string(uid) + " was expunged from " + paths_.name);
}

std::vector<MessageInfo> MaildirMailbox::store_flags(const std::vector<uint32_t>& uids, FlagOp op,
                                                     const Flags& flags)
{
    if (read_only_)
        throw StorageError(StorageError::Kind::NotAllowed, "Mailbox is read-only: " + paths_.name);
    std::string letters = flags.keywords.empty() ? std::string() : letters_for(flags.keywords);
    uint32_t system = flags.system & ~static_cast<uint32_t>(Recent);
    std::vector<MessageInfo> changed;
    bool touched_cur = false, touched_new = false;
    for (uint32_t uid : uids) {
        auto base_it = base_by_uid_.find(uid);
        if (base_it == base_by_uid_.end())
            continue;
        auto& state = files_by_base_[base_it->second];
        bool gone = false;
        for (int attempt = 0;; attempt++) {
            MaildirFilename parsed = parse_maildir_filename(state.filename.substr(4));
            uint32_t new_system = parsed.system_flags;
            std::string new_letters = parsed.keyword_letters;
            // Drop letters with no name in dovecot-keywords: they are not keywords any more.
            new_letters.erase(std::remove_if(new_letters.begin(), new_letters.end(),
                                             [&](char c) { return keywords_.name_of(c).empty(); }),
                              new_letters.end());
            switch (op) {
            case FlagOp::Replace:
                new_system = system;
                new_letters = letters;
                break;
            case FlagOp::Add:
                new_system |= system;
                new_letters += letters;
                break;
            case FlagOp::Remove:
                new_system &= ~system;
                new_letters.erase(std::remove_if(new_letters.begin(), new_letters.end(),
                                                 [&](char c) { return letters.find(c) != std::string::npos; }),
                                  new_letters.end());
                break;
            }
            std::sort(new_letters.begin(), new_letters.end());
            new_letters.erase(std::unique(new_letters.begin(), new_letters.end()), new_letters.end());
            bool in_new = state.filename.compare(0, 4, "new/") == 0;
            if (new_system == parsed.system_flags && new_letters == parsed.keyword_letters && !in_new)
                break;
            if (in_new && new_system == 0 && new_letters.empty() && parsed.unknown_flag_chars.empty())
                break;  // no flags: a message may stay in new/
            std::string target = "cur/" + parsed.base + format_maildir_info(new_system, new_letters,
                                                                            parsed.unknown_flag_chars);
            if (target == state.filename)
                break;
            if (::rename(path_of(state.filename).c_str(), path_of(target).c_str()) == 0) {
                touched_cur = true;
                touched_new = touched_new || in_new;
                state.filename = target;
                break;
            }
            if (errno != ENOENT)
                throw_errno("rename(" + path_of(state.filename) + ", " + path_of(target) + ")");
            std::string current = locate(base_it->second);
            if (current.empty() || attempt + 1 >= rename_retries) {
                gone = true;
                break;
            }
            state.filename = current;  // renamed by someone else: apply our change to its flags
        }
        if (gone)
            continue;
        auto it = std::lower_bound(messages_.begin(), messages_.end(), uid,
                                   [](const MessageInfo& info, uint32_t u) { return info.uid < u; });
        if (it == messages_.end() || it->uid != uid)
            continue;
        uint64_t previous_modseq = it->modseq;
        Flags previous = it->flags;
        *it = make_info(uid, base_it->second, state.filename);
        it->modseq = previous == it->flags ? previous_modseq : ++highest_modseq_;
        index_dirty_ = true;
        changed.push_back(*it);
    }
    if (touched_cur || touched_new)
        fsync_changed_dirs(touched_cur, touched_new);
    return changed;
}

std::vector<uint32_t> MaildirMailbox::expunge()
{
    if (read_only_)
        throw StorageError(StorageError::Kind::NotAllowed, "Mailbox is read-only: " + paths_.name);
    std::vector<uint32_t> deleted;
    for (const auto& info : messages_)
        if (info.flags.system & Deleted)
            deleted.push_back(info.uid);
    remove_messages(deleted);
    return deleted;
}

void MaildirMailbox::remove_messages(const std::vector<uint32_t>& uids)
{
    bool touched_cur = false, touched_new = false;
    int64_t bytes = 0, count = 0;
    for (uint32_t uid : uids) {
        auto base_it = base_by_uid_.find(uid);
        if (base_it == base_by_uid_.end())
            continue;
        const std::string& base = base_it->second;
        auto& state = files_by_base_[base];
        for (int attempt = 0; attempt < rename_retries; attempt++) {
            if (::unlink(path_of(state.filename).c_str()) == 0) {
                (state.filename[0] == 'c' ? touched_cur : touched_new) = true;
                bytes -= static_cast<int64_t>(state.size);
                count--;
                break;
            }
            if (errno != ENOENT)
                throw_errno("unlink(" + path_of(state.filename) + ")");
            std::string current = locate(base);
            if (current.empty())
                break;  // already gone: expunged elsewhere, still report it
            state.filename = current;
        }
    }
    if (touched_cur || touched_new)
        fsync_changed_dirs(touched_cur, touched_new);
    update_quota(bytes, count);
    std::set<uint32_t> gone;
    for (uint32_t uid : uids)
        if (base_by_uid_.count(uid) && gone.insert(uid).second)
            note_expunged(uid);
    std::erase_if(messages_, [&](const MessageInfo& info) { return gone.count(info.uid) != 0; });
    for (uint32_t uid : uids) {
        auto base_it = base_by_uid_.find(uid);
        if (base_it == base_by_uid_.end())
            continue;
        files_by_base_.erase(base_it->second);
        base_by_uid_.erase(base_it);
        recent_.erase(uid);
    }
}

// ---- append ---------------------------------------------------------------------------

std::string MaildirMailbox::unique_tmp_base()
{
    struct timeval tv;
    ::gettimeofday(&tv, nullptr);
    // The counter keeps names unique when two appends land in the same microsecond.
    long usecs = tv.tv_usec + static_cast<long>(tmp_counter_++ % 1000);
    time_t secs = tv.tv_sec + usecs / 1'000'000;
    usecs %= 1'000'000;
    return std::to_string(secs) + ".M" + std::to_string(usecs) + "P" + std::to_string(::getpid()) + "." +
           maildir_hostname();
}

MaildirMailbox::Append MaildirMailbox::begin_append(const Flags& flags, int64_t internal_date)
{
    return Append(*this, flags, internal_date);
}

MaildirMailbox::Append::Append(MaildirMailbox& box, const Flags& flags, int64_t internal_date)
    : box_(&box), flags_(flags), internal_date_(internal_date)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        tmp_base_ = box.unique_tmp_base();
        tmp_path_ = box.path_of("tmp/" + tmp_base_);
        fd_ = UniqueFd(::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (fd_)
            return;
        if (errno != EEXIST)
            throw_errno("open(" + tmp_path_ + ")");
    }
    throw StorageError(StorageError::Kind::Io, "could not create a unique file in " + box.path_of("tmp"));
}

MaildirMailbox::Append::Append(Append&& other) noexcept
    : box_(other.box_),
      flags_(std::move(other.flags_)),
      internal_date_(other.internal_date_),
      tmp_base_(std::move(other.tmp_base_)),
      tmp_path_(std::move(other.tmp_path_)),
      fd_(std::move(other.fd_)),
      buffer_(std::move(other.buffer_)),
      size_(other.size_),
      vsize_(other.vsize_),
      pending_cr_(other.pending_cr_),
      finished_(other.finished_)
{
    other.finished_ = true;
}

MaildirMailbox::Append::~Append()
{
    if (!finished_ && !tmp_path_.empty())
        ::unlink(tmp_path_.c_str());
}

void MaildirMailbox::Append::emit(char c)
{
    buffer_ += c;
    size_++;
    vsize_ += c == '\n' ? 2 : 1;
    if (buffer_.size() >= append_buffer_size)
        flush();
}

void MaildirMailbox::Append::flush()
{
    write_all(fd_.get(), buffer_, tmp_path_);
    buffer_.clear();
}

void MaildirMailbox::Append::write(std::string_view chunk)
{
    if (finished_)
        throw StorageError(StorageError::Kind::NotAllowed, "append already finished");
    for (char c : chunk) {
        if (pending_cr_) {
            pending_cr_ = false;
            if (c != '\n')
                emit('\r');
        }
        if (c == '\r')
            pending_cr_ = true;
        else
            emit(c);
    }
    if (size_ > box_->options_.max_message_size)
        throw StorageError(StorageError::Kind::Limit, "Message is larger than " +
                                                          std::to_string(box_->options_.max_message_size) + " bytes");
}

uint32_t MaildirMailbox::Append::commit()
{
    if (finished_)
        throw StorageError(StorageError::Kind::NotAllowed, "append already finished");
    if (pending_cr_) {
        pending_cr_ = false;
        emit('\r');
    }
    flush();
    fsync_fd(fd_.get(), tmp_path_);
    if (internal_date_ != 0) {
        struct timespec times[2];
        times[0].tv_sec = times[1].tv_sec = static_cast<time_t>(internal_date_);
        times[0].tv_nsec = times[1].tv_nsec = 0;
        if (::futimens(fd_.get(), times) < 0)
            throw_errno("futimens(" + tmp_path_ + ")");
    }
    struct stat st;
    if (::fstat(fd_.get(), &st) < 0)
        throw_errno("fstat(" + tmp_path_ + ")");
    fd_.reset();

    MaildirMailbox& box = *box_;
    std::string letters = flags_.keywords.empty() ? std::string() : box.letters_for(flags_.keywords);
    uint32_t system = flags_.system & ~static_cast<uint32_t>(Recent);
    std::string base = tmp_base_ + ",S=" + std::to_string(size_) + ",W=" + std::to_string(vsize_);
    bool to_new = system == 0 && letters.empty();
    std::string relative = to_new ? "new/" + base : "cur/" + base + format_maildir_info(system, letters);

    // Hold the uidlist lock while the file appears, as Dovecot does, so no concurrent
    // sync can give it a UID first.
    Dotlock lock = Dotlock::acquire(box.uidlist_path_);
    auto uidlist = box.read_uidlist();
    bool existed = uidlist.has_value();
    if (!uidlist)
        uidlist = box.new_uidlist();
    uint32_t uid = uidlist->next_uid();
    if (uid == UINT32_MAX)
        throw StorageError(StorageError::Kind::Limit, "UID space exhausted in " + box.paths_.name);

    std::string dest = box.path_of(relative);
    if (::link(tmp_path_.c_str(), dest.c_str()) < 0)
        throw_errno("link(" + tmp_path_ + ", " + dest + ")");
    ::unlink(tmp_path_.c_str());
    finished_ = true;
    fsync_dir(box.path_of(to_new ? "new" : "cur"));

    box.write_new_records(lock, *uidlist, existed, {UidlistRecord{uid, "", base}});
    // No file-system access from here on but the quota log: the message is stored, and
    // another process may already be moving it from new/ to cur/.
    box.remember_stored(uidlist->header, uid, base, FileState{relative, st.st_mtime, size_, vsize_});
    box.update_quota(static_cast<int64_t>(size_), 1);
    return uid;
}

void MaildirMailbox::drop_partial_last_line(int fd)
{
    // Writers append whole lines under the lock we hold, so an unterminated last line is
    // what a writer that died mid-write left behind. Readers already ignore it; cut it off
    // so our records do not get glued to it (and its UID is not reused next to it).
    struct stat st;
    if (::fstat(fd, &st) < 0 || st.st_size == 0)
        return;
    off_t size = st.st_size;
    char last = '\n';
    if (::pread(fd, &last, 1, size - 1) != 1 || last == '\n')
        return;
    std::string tail(static_cast<size_t>(std::min<off_t>(size, 65536)), '\0');
    off_t start = size - static_cast<off_t>(tail.size());
    if (::pread(fd, tail.data(), tail.size(), start) != static_cast<ssize_t>(tail.size()))
        throw_errno("pread(" + uidlist_path_ + ")");
    size_t newline = tail.rfind('\n');
    if (newline == std::string::npos)
        throw StorageError(StorageError::Kind::Corrupted, "Broken file " + uidlist_path_ + ": overlong last line");
    if (::ftruncate(fd, start + static_cast<off_t>(newline) + 1) < 0)
        throw_errno("ftruncate(" + uidlist_path_ + ")");
}

void MaildirMailbox::write_new_records(Dotlock& lock, Uidlist& uidlist, bool existed,
                                       const std::vector<UidlistRecord>& records)
{
    if (existed) {
        std::string text;
        for (const auto& record : records)
            text += format_uidlist_record(record);
        UniqueFd fd(::open(uidlist_path_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC));
        if (!fd)
            throw_errno("open(" + uidlist_path_ + ")");
        drop_partial_last_line(fd.get());
        write_all(fd.get(), text, uidlist_path_);
        fsync_fd(fd.get(), uidlist_path_);
        lock.release();
        for (const auto& record : records)
            uidlist.records.push_back(record);
    } else {
        for (const auto& record : records)
            uidlist.records.push_back(record);
        lock.replace_target(format_uidlist(uidlist));
    }
}

void MaildirMailbox::remember_stored(const UidlistHeader& header, uint32_t uid, const std::string& base,
                                     FileState state)
{
    uidvalidity_ = header.uidvalidity;
    guid_ = header.guid;
    next_uid_ = std::max(next_uid_, uid + 1);
    recent_.insert(uid);
    // Only when it keeps messages_ sorted; otherwise the next sync() brings it in.
    if (messages_.empty() || messages_.back().uid < uid) {
        std::string relative = state.filename;
        files_by_base_.insert_or_assign(base, std::move(state));
        base_by_uid_[uid] = base;
        messages_.push_back(make_info(uid, base, relative));
        messages_.back().modseq = ++highest_modseq_;
        index_dirty_ = true;
    }
}

void MaildirMailbox::update_quota(int64_t bytes, int64_t count)
{
    // Dovecot's Maildir++ quota keeps a log of "<bytes> <count>" deltas in maildirsize;
    // we only add to a file Dovecot created, so sites without quota get no new file.
    if (paths_.quota_file.empty() || (bytes == 0 && count == 0))
        return;
    try {
        UniqueFd fd(::open(paths_.quota_file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
        if (!fd)
            return;
        write_all(fd.get(), std::to_string(bytes) + " " + std::to_string(count) + "\n", paths_.quota_file);
    } catch (const std::exception&) {
        // Quota accounting is advisory: Dovecot recalculates a damaged maildirsize.
    }
}

std::vector<std::pair<uint32_t, uint32_t>> MaildirMailbox::copy_from(MaildirMailbox& source,
                                                                     const std::vector<uint32_t>& uids, bool move)
{
    if (move && (&source == this))
        throw StorageError(StorageError::Kind::NotAllowed, "Can't move a message to the same mailbox");
    if (move && source.read_only_)
        throw StorageError(StorageError::Kind::NotAllowed, "Mailbox is read-only: " + source.paths_.name);

    struct Planned {
        uint32_t source_uid;
        std::string source_base;
        Flags flags;
        FileState state;  // in the source
    };
    std::vector<Planned> planned;
    std::vector<std::string> all_keywords;
    for (uint32_t uid : uids) {
        const MessageInfo* info = source.find(uid);
        if (!info)
            continue;
        const std::string& base = source.base_by_uid_.at(uid);
        Flags flags = info->flags;
        flags.system &= ~static_cast<uint32_t>(Recent);
        for (const auto& keyword : flags.keywords)
            all_keywords.push_back(keyword);
        planned.push_back({uid, base, flags, source.files_by_base_.at(base)});
    }
    if (planned.empty())
        return {};
    if (!all_keywords.empty())
        letters_for(all_keywords);

    Dotlock lock = Dotlock::acquire(uidlist_path_);
    auto uidlist = read_uidlist();
    bool existed = uidlist.has_value();
    if (!uidlist)
        uidlist = new_uidlist();
    std::set<std::string> taken;
    for (const auto& record : uidlist->records)
        taken.insert(record.base_name);
    uint32_t next = uidlist->next_uid();

    std::vector<std::pair<uint32_t, uint32_t>> mapping;
    std::vector<UidlistRecord> records;
    std::vector<std::pair<std::string, FileState>> stored;
    std::vector<Planned*> moved;
    bool touched_cur = false, touched_new = false;
    for (auto& item : planned) {
        std::string letters;
        for (const auto& keyword : item.flags.keywords)
            letters += *keywords_.letter_of(keyword);
        std::sort(letters.begin(), letters.end());
        bool to_new = item.flags.system == 0 && letters.empty();
        // Dovecot keeps the base name, so the same message is recognisable in both folders;
        // a second copy into one folder needs a name of its own.
        std::string base = item.source_base;
        std::string source_path;
        bool linked = false, gone = false;
        for (int attempt = 0; attempt < rename_retries && !linked && !gone; attempt++) {
            if (taken.count(base))
                base = unique_tmp_base() + ",S=" + std::to_string(item.state.size) + ",W=" +
                       std::to_string(item.state.vsize);
            std::string relative = to_new ? "new/" + base : "cur/" + base + format_maildir_info(item.flags.system, letters);
            source_path = source.path_of(item.state.filename);
            std::string dest = path_of(relative);
            if (::link(source_path.c_str(), dest.c_str()) == 0) {
                linked = true;
            } else if (errno == ENOENT) {
                std::string current = source.locate(item.source_base);
                if (current.empty())
                    gone = true;
                else
                    item.state.filename = current;
            } else if (errno == EEXIST) {
                taken.insert(base);
            } else if (errno == EXDEV || errno == EPERM || errno == EMLINK || errno == ENOTSUP) {
                copy_file_durably(source_path, dest, item.state.mtime);
                linked = true;
            } else {
                throw_errno("link(" + source_path + ", " + dest + ")");
            }
            if (linked) {
                (to_new ? touched_new : touched_cur) = true;
                taken.insert(base);
                if (next == UINT32_MAX)
                    throw StorageError(StorageError::Kind::Limit, "UID space exhausted in " + paths_.name);
                records.push_back({next, "", base});
                mapping.emplace_back(item.source_uid, next);
                FileState state = item.state;
                state.filename = relative;
                stored.emplace_back(base, state);
                next++;
                if (move)
                    moved.push_back(&item);
            }
        }
    }
    if (touched_cur || touched_new)
        fsync_changed_dirs(touched_cur, touched_new);
    if (!records.empty())
        write_new_records(lock, *uidlist, existed, records);
    else
        lock.release();

    int64_t bytes = 0;
    for (size_t i = 0; i < records.size(); i++) {
        remember_stored(uidlist->header, records[i].uid, stored[i].first, stored[i].second);
        bytes += static_cast<int64_t>(stored[i].second.size);
    }
    update_quota(bytes, static_cast<int64_t>(records.size()));

    if (move && !moved.empty()) {
        std::vector<uint32_t> source_uids;
        for (const Planned* item : moved)
            source_uids.push_back(item->source_uid);
        source.remove_messages(source_uids);
    }
    return mapping;
}

void MaildirMailbox::copy_file_durably(const std::string& from, const std::string& to, int64_t mtime)
{
    UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in)
        throw_errno("open(" + from + ")");
    std::string tmp = path_of("tmp/" + unique_tmp_base());
    UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!out)
        throw_errno("open(" + tmp + ")");
    try {
        char buf[65536];
        while (true) {
            ssize_t n = ::read(in.get(), buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                throw_errno("read(" + from + ")");
            if (n == 0)
                break;
            write_all(out.get(), std::string_view(buf, static_cast<size_t>(n)), tmp);
        }
        fsync_fd(out.get(), tmp);
        struct timespec times[2] = {{static_cast<time_t>(mtime), 0}, {static_cast<time_t>(mtime), 0}};
        ::futimens(out.get(), times);
        if (::link(tmp.c_str(), to.c_str()) < 0)
            throw_errno("link(" + tmp + ", " + to + ")");
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
    ::unlink(tmp.c_str());
}

}  // namespace loft::storage
