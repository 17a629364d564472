#include "storage/maildir/mailbox.h"

#include "lib/system_error.h"
#include "storage/maildir/filename.h"
#include "storage/maildir/fs_util.h"
#include "storage/storage_error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

// Storing messages into a folder: streamed appends, COPY/MOVE, the uidlist records
// for them and the quota log. Scanning and flag changes are in mailbox.cpp.
namespace loft::storage {

using namespace maildir;

namespace {
constexpr size_t append_buffer_size = 64 * 1024;
}  // namespace


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
    std::vector<std::string> extra;
    std::string letters = flags_.keywords.empty() ? std::string() : box.letters_for(flags_.keywords, extra);
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
    box.set_extra_keywords(uid, extra);
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
    ensure_maps();
    uidvalidity_ = header.uidvalidity;
    guid_ = header.guid;
    next_uid_ = std::max(next_uid_, uid + 1);
    // Only when it keeps messages_ sorted; otherwise the next sync() brings it in.
    if (messages_.empty() || messages_.back().uid < uid) {
        std::string relative = state.filename;
        files_by_base_.insert_or_assign(base, std::move(state));
        base_by_uid_[uid] = base;
        messages_.push_back(make_info(uid, base, relative));
        op_modseq_ = 0;
        messages_.back().modseq = operation_modseq();
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
    ensure_maps();
    source.ensure_maps();

    struct Planned {
        uint32_t source_uid;
        std::string source_base;
        Flags flags;
        FileState state;  // in the source
        std::vector<std::string> extra_keywords;  // without a letter in this folder
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
        planned.push_back({uid, base, flags, source.files_by_base_.at(base), {}});
    }
    if (planned.empty())
        return {};
    if (!all_keywords.empty()) {
        std::vector<std::string> beyond_letters;
        letters_for(all_keywords, beyond_letters);
    }

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
        for (const auto& keyword : item.flags.keywords) {
            if (auto letter = keywords_.letter_of(keyword))
                letters += *letter;
            else
                item.extra_keywords.push_back(keyword);
        }
        std::sort(letters.begin(), letters.end());
        bool to_new = item.flags.system == 0 && letters.empty();
        // Dovecot keeps the base name, so the same message is recognisable in both folders;
        // a second copy into one folder needs a name of its own.
        std::string base = item.source_base;
        std::string source_path;
        bool linked = false, gone = false;
        for (int attempt = 0; attempt < max_rename_retries && !linked && !gone; attempt++) {
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
                set_extra_keywords(next, item.extra_keywords);
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
