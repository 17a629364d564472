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

}  // namespace

MaildirMailbox::FileStamp MaildirMailbox::stamp_of(const std::string& path)
{
    struct stat st;
    if (::stat(path.c_str(), &st) < 0)
        return {};
    return {st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_sec,
            st.st_ctim.tv_nsec};
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
    if (data->first_recent_uid != 0) {
        first_recent_uid_ = data->first_recent_uid;
        recent_mark_known_ = true;
    }
    extra_keyword_names_ = std::move(data->extra_keyword_names);
    for (auto& [uid, names] : data->extra_keywords)
        extra_keywords_.emplace(uid, std::move(names));
    load_keywords();
    messages_.reserve(data->messages.size());
    // The warm-open path: one hash insert per message and no file-system access.
    for (auto& m : data->messages) {
        std::string_view name = std::string_view(m.filename).substr(4);
        MessageInfo info;
        info.uid = m.uid;
        info.flags = flags_from_name(name);
        auto extra = extra_keywords_.find(m.uid);
        if (extra != extra_keywords_.end())
            info.flags.keywords.insert(info.flags.keywords.end(), extra->second.begin(), extra->second.end());
        info.virtual_size = m.vsize;
        info.physical_size = m.size;
        info.internal_date = m.mtime;
        info.modseq = m.modseq;
        info.path_hint = std::move(m.filename);  // `name` is not used after this
        messages_.push_back(std::move(info));
    }
    maps_built_ = false;
    last_snapshot_ = snap;
    index_stamp_ = stamp_of(index_path_);
}

void MaildirMailbox::ensure_maps()
{
    if (maps_built_)
        return;
    // Everything FileState holds is in MessageInfo too (path_hint is the file name).
    files_by_base_.reserve(messages_.size());
    base_by_uid_.reserve(messages_.size());
    for (const auto& info : messages_) {
        std::string base(maildir_base_name(std::string_view(info.path_hint).substr(4)));
        base_by_uid_.emplace(info.uid, base);
        files_by_base_.emplace(std::move(base),
                               FileState{info.path_hint, info.internal_date, info.physical_size, info.virtual_size});
    }
    maps_built_ = true;
}

void MaildirMailbox::save_index()
{
    if (!last_snapshot_ && uidvalidity_ == 0)
        return;
    ensure_maps();
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
    merge_recent_mark();
    data.first_recent_uid = first_recent_uid_;
    data.extra_keyword_names = extra_keyword_names_;
    data.messages.reserve(messages_.size());
    for (const auto& info : messages_) {
        auto base = base_by_uid_.find(info.uid);
        if (base == base_by_uid_.end())
            continue;
        const FileState& state = files_by_base_.at(base->second);
        data.messages.push_back({info.uid, state.mtime, state.size, state.vsize, info.modseq, state.filename});
        auto extra = extra_keywords_.find(info.uid);
        if (extra != extra_keywords_.end() && !extra->second.empty())
            data.extra_keywords.emplace_back(info.uid, extra->second);
    }
    if (save_index_file(index_path_, data)) {
        index_dirty_ = false;
        index_stamp_ = stamp_of(index_path_);
    }
}

void MaildirMailbox::merge_recent_mark()
{
    // Another process (or another object in this one) may have claimed \Recent messages
    // and written loft.index since we read it: the mark only ever moves up.
    FileStamp now = stamp_of(index_path_);
    if (now == index_stamp_)
        return;
    index_stamp_ = now;
    auto mark = load_index_recent_mark(index_path_);
    if (mark && mark->uidvalidity == uidvalidity_ && mark->first_recent_uid > first_recent_uid_)
        first_recent_uid_ = mark->first_recent_uid;
}

std::vector<uint32_t> MaildirMailbox::claim_recent()
{
    merge_recent_mark();
    std::vector<uint32_t> claimed;
    for (auto it = messages_.rbegin(); it != messages_.rend() && it->uid >= first_recent_uid_; ++it)
        claimed.push_back(it->uid);
    std::reverse(claimed.begin(), claimed.end());
    if (first_recent_uid_ < next_uid_) {
        first_recent_uid_ = next_uid_;
        index_dirty_ = true;
    }
    return claimed;
}

std::vector<uint32_t> MaildirMailbox::recent_uids() const
{
    std::vector<uint32_t> uids;
    for (auto it = messages_.rbegin(); it != messages_.rend() && it->uid >= first_recent_uid_; ++it)
        uids.push_back(it->uid);
    std::reverse(uids.begin(), uids.end());
    return uids;
}

std::vector<std::string> MaildirMailbox::keyword_names() const
{
    std::vector<std::string> names;
    for (size_t i = 0; i < max_keyword_letters; i++) {
        const std::string& name = keywords_.name_of(static_cast<char>('a' + i));
        if (!name.empty())
            names.push_back(name);
    }
    names.insert(names.end(), extra_keyword_names_.begin(), extra_keyword_names_.end());
    return names;
}

void MaildirMailbox::raise_first_recent_uid(uint32_t uid)
{
    if (uid > first_recent_uid_) {
        first_recent_uid_ = uid;
        index_dirty_ = true;
    }
}

void MaildirMailbox::set_extra_keywords(uint32_t uid, const std::vector<std::string>& names)
{
    auto found = extra_keywords_.find(uid);
    if (names.empty()) {
        if (found != extra_keywords_.end()) {
            extra_keywords_.erase(found);
            index_dirty_ = true;
        }
        return;
    }
    // Keep them in the folder's creation order, as Dovecot lists keywords.
    std::vector<std::string> ordered;
    for (const auto& known : extra_keyword_names_)
        for (const auto& name : names)
            if (iequals(known, name)) {
                ordered.push_back(known);
                break;
            }
    if (found == extra_keywords_.end() || found->second != ordered) {
        extra_keywords_[uid] = std::move(ordered);
        index_dirty_ = true;
    }
}

uint64_t MaildirMailbox::operation_modseq()
{
    if (op_modseq_ == 0) {
        op_modseq_ = highest_modseq_ + 1;
        highest_modseq_ = op_modseq_;
        index_dirty_ = true;
    }
    return op_modseq_;
}

void MaildirMailbox::note_expunged(uint32_t uid)
{
    expunged_.emplace_back(operation_modseq(), uid);
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

std::string MaildirMailbox::letters_for(const std::vector<std::string>& keywords,
                                        std::vector<std::string>& beyond_letters)
{
    for (const auto& keyword : keywords)
        if (!is_valid_keyword(keyword))
            throw StorageError(StorageError::Kind::BadName, "Invalid keyword: " + keyword);
    load_keywords();
    auto is_extra = [&](const std::string& keyword) {
        return std::any_of(extra_keyword_names_.begin(), extra_keyword_names_.end(),
                           [&](const std::string& known) { return iequals(known, keyword); });
    };
    bool missing = false;
    for (const auto& keyword : keywords)
        missing = missing || (!keywords_.letter_of(keyword) && !is_extra(keyword));
    if (missing) {
        // Dovecot adds keywords only while it holds dovecot-uidlist.lock, and relying on
        // that it deletes any dovecot-keywords.lock it finds before creating its own
        // (maildir_keywords_commit()): the keywords dotlock alone excludes nobody. So the
        // uidlist lock is what serialises keyword additions; take it first, as Dovecot
        // does, and then replace a leftover keywords lock the way Dovecot does.
        Dotlock uidlist_lock = Dotlock::acquire(uidlist_path_);
        std::string path = join_path(paths_.control, keywords_file_name);
        std::string keywords_lock_path = path + ".lock";
        if (::unlink(keywords_lock_path.c_str()) < 0 && errno != ENOENT)
            throw_errno("unlink(" + keywords_lock_path + ")");
        Dotlock lock = Dotlock::acquire(path);
        load_keywords();
        bool added = false;
        for (const auto& keyword : keywords) {
            if (keywords_.letter_of(keyword) || is_extra(keyword))
                continue;
            if (keywords_.add(keyword)) {
                added = true;
                continue;
            }
            // All 26 letters are taken: like Dovecot, keep the keyword in our index only.
            if (extra_keyword_names_.size() >= max_extra_keywords)
                throw StorageError(StorageError::Kind::Limit, "Too many keywords in " + paths_.name);
            extra_keyword_names_.push_back(keyword);
            index_dirty_ = true;
        }
        if (added)
            lock.replace_target(keywords_.format());
    }
    std::string letters;
    for (const auto& keyword : keywords) {
        if (auto letter = keywords_.letter_of(keyword))
            letters += *letter;
        else
            beyond_letters.push_back(keyword);
    }
    std::sort(letters.begin(), letters.end());
    letters.erase(std::unique(letters.begin(), letters.end()), letters.end());
    return letters;
}

Flags MaildirMailbox::flags_from_name(std::string_view filename) const
{
    MaildirInfoFlags parsed = parse_maildir_flags(filename);
    Flags flags;
    flags.system = parsed.system_flags;
    for (uint32_t i = 0; parsed.keyword_mask >> i; i++) {
        if (!(parsed.keyword_mask & (1u << i)))
            continue;
        const std::string& name = keywords_.name_of(static_cast<char>('a' + i));
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
    auto extra = extra_keywords_.find(uid);
    if (extra != extra_keywords_.end())
        info.flags.keywords.insert(info.flags.keywords.end(), extra->second.begin(), extra->second.end());
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
    op_modseq_ = 0;
    DirSnapshot before = snapshot();
    if (unchanged_since_last_sync(before)) {
        merge_recent_mark();
        return;
    }
    ensure_maps();
    last_snapshot_.reset();
    std::unordered_set<std::string> moved;
    if (!read_only_) {
        clean_tmp();
        move_new_to_cur(moved);
    }
    load_keywords();
    auto uidlist = read_uidlist();
    bool mark_from_scan = !recent_mark_known_;
    if (mark_from_scan) {
        // Without a loft.index (first run, or a site coming from Dovecot): messages that
        // already have UIDs were seen, unless they are still in new/, where only a SELECT
        // would have moved them from; those and the ones numbered now are \Recent.
        first_recent_uid_ = uidlist ? uidlist->next_uid() : 1;
        recent_mark_known_ = true;
        index_dirty_ = true;
    }
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
        extra_keywords_.clear();
        extra_keyword_names_.clear();
        first_recent_uid_ = 1;
        recent_mark_known_ = true;
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
        if (mark_from_scan && record.uid < first_recent_uid_ &&
            (file->second.compare(0, 4, "new/") == 0 || moved.count(record.base_name)))
            first_recent_uid_ = record.uid;
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
    for (auto it = extra_keywords_.begin(); it != extra_keywords_.end();)
        it = base_by_uid.count(it->first) ? std::next(it) : extra_keywords_.erase(it);
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
            info.modseq = same ? old->modseq : operation_modseq();
            index_dirty_ = index_dirty_ || !same || old->path_hint != info.path_hint;
            // Someone else moved it from new/ to cur/: a read-write SELECT elsewhere (Dovecot)
            // has seen it, so it is no longer \Recent for us either.
            if (old->path_hint.compare(0, 4, "new/") == 0 && info.path_hint.compare(0, 4, "cur/") == 0 &&
                !moved.count(base_by_uid.at(info.uid)))
                raise_first_recent_uid(info.uid + 1);
            ++old;
        } else {
            info.modseq = operation_modseq();
            index_dirty_ = true;
        }
    }
    for (; old != messages_.end(); ++old)
        note_expunged(old->uid);
    messages_ = std::move(messages);
    base_by_uid_ = std::move(base_by_uid);
    merge_recent_mark();
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
        if (info.uid >= first_recent_uid_)
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
    ensure_maps();
    auto base = base_by_uid_.find(uid);
    if (base == base_by_uid_.end())
        throw StorageError(StorageError::Kind::NotFound, "Message UID " + std::to_string(uid) + " not found");
    auto& state = files_by_base_[base->second];
    for (int attempt = 0; attempt < max_rename_retries; attempt++) {
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

std::vector<Pop3Identity> MaildirMailbox::pop3_identities(const std::vector<uint32_t>& uids)
{
    ensure_maps();
    std::optional<Uidlist> uidlist = read_uidlist();
    std::unordered_map<uint32_t, const UidlistRecord*> records;
    if (uidlist) {
        for (const UidlistRecord& record : uidlist->records)
            records[record.uid] = &record;
    }
    std::vector<Pop3Identity> identities;
    identities.reserve(uids.size());
    for (uint32_t uid : uids) {
        Pop3Identity identity;
        auto base = base_by_uid_.find(uid);
        if (base != base_by_uid_.end())
            identity.file_name = base->second;
        identity.guid = identity.file_name;
        auto record = records.find(uid);
        if (record != records.end()) {
            if (identity.file_name.empty())
                identity.file_name = record->second->base_name;
            identity.guid = identity.file_name;
            for (std::string_view field : split(record->second->extensions, ' ')) {
                if (field.empty())
                    continue;
                std::string_view value = field.substr(1);
                if (field[0] == 'P')
                    identity.backend_uidl = value.empty() ? identity.file_name : std::string(value);
                else if (field[0] == 'G' && !value.empty())
                    identity.guid = std::string(value);
            }
        }
        identities.push_back(std::move(identity));
    }
    return identities;
}

std::vector<MessageInfo> MaildirMailbox::store_flags(const std::vector<uint32_t>& uids, FlagOp op,
                                                     const Flags& flags)
{
    return change_flags(uids, op, flags, std::nullopt, nullptr);
}

std::vector<MessageInfo> MaildirMailbox::store_flags_unchanged_since(const std::vector<uint32_t>& uids, FlagOp op,
                                                                     const Flags& flags, uint64_t limit,
                                                                     std::vector<uint32_t>& modified)
{
    return change_flags(uids, op, flags, limit, &modified);
}

std::vector<MessageInfo> MaildirMailbox::change_flags(const std::vector<uint32_t>& uids, FlagOp op, const Flags& flags,
                                                      std::optional<uint64_t> limit, std::vector<uint32_t>* modified)
{
    op_modseq_ = 0;
    if (read_only_)
        throw StorageError(StorageError::Kind::NotAllowed, "Mailbox is read-only: " + paths_.name);
    ensure_maps();
    std::vector<std::string> extra;
    std::string letters = flags.keywords.empty() ? std::string() : letters_for(flags.keywords, extra);
    uint32_t system = flags.system & ~static_cast<uint32_t>(Recent);
    std::vector<MessageInfo> changed;
    bool touched_cur = false, touched_new = false;
    for (uint32_t uid : uids) {
        auto base_it = base_by_uid_.find(uid);
        if (base_it == base_by_uid_.end())
            continue;
        auto& state = files_by_base_[base_it->second];
        if (limit) {
            const MessageInfo* current = find(uid);
            if (current && current->modseq > *limit) {
                modified->push_back(uid);
                continue;
            }
        }
        bool gone = false;
        bool changed_elsewhere = false;
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
            if (current.empty() || attempt + 1 >= max_rename_retries) {
                gone = true;
                break;
            }
            state.filename = current;  // renamed by someone else: apply our change to its flags
            if (limit) {
                // ... unless the change is conditional: their change came first.
                changed_elsewhere = true;
                break;
            }
        }
        if (changed_elsewhere)
            modified->push_back(uid);
        if (gone || changed_elsewhere)
            continue;
        if (!extra.empty() || (op == FlagOp::Replace && extra_keywords_.count(uid))) {
            std::vector<std::string> names;
            auto current = extra_keywords_.find(uid);
            if (op != FlagOp::Replace && current != extra_keywords_.end())
                names = current->second;
            for (const auto& keyword : extra) {
                auto same = [&](const std::string& n) { return iequals(n, keyword); };
                if (op == FlagOp::Remove)
                    std::erase_if(names, same);
                else if (std::none_of(names.begin(), names.end(), same))
                    names.push_back(keyword);
            }
            set_extra_keywords(uid, names);
        }
        auto it = std::lower_bound(messages_.begin(), messages_.end(), uid,
                                   [](const MessageInfo& info, uint32_t u) { return info.uid < u; });
        if (it == messages_.end() || it->uid != uid)
            continue;
        uint64_t previous_modseq = it->modseq;
        Flags previous = it->flags;
        *it = make_info(uid, base_it->second, state.filename);
        it->modseq = previous == it->flags ? previous_modseq : operation_modseq();
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

std::vector<uint32_t> MaildirMailbox::expunge_uids(const std::vector<uint32_t>& uids)
{
    if (read_only_)
        throw StorageError(StorageError::Kind::NotAllowed, "Mailbox is read-only: " + paths_.name);
    std::set<uint32_t> allowed(uids.begin(), uids.end());
    std::vector<uint32_t> deleted;
    for (const auto& info : messages_)
        if ((info.flags.system & Deleted) && allowed.count(info.uid))
            deleted.push_back(info.uid);
    remove_messages(deleted);
    return deleted;
}

void MaildirMailbox::remove_messages(const std::vector<uint32_t>& uids)
{
    op_modseq_ = 0;
    ensure_maps();
    bool touched_cur = false, touched_new = false;
    int64_t bytes = 0, count = 0;
    for (uint32_t uid : uids) {
        auto base_it = base_by_uid_.find(uid);
        if (base_it == base_by_uid_.end())
            continue;
        const std::string& base = base_it->second;
        auto& state = files_by_base_[base];
        for (int attempt = 0; attempt < max_rename_retries; attempt++) {
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
        extra_keywords_.erase(uid);
    }
}

}  // namespace loft::storage
