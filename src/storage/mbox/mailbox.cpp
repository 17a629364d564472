#include "storage/mbox/mailbox.h"

#include "lib/strings.h"
#include "lib/system_error.h"
#include "storage/maildir/fs_util.h"
#include "storage/maildir/uidvalidity.h"
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

}  // namespace

MboxMailbox::MboxMailbox(mbox::MboxPaths paths, bool read_only, mbox::MboxOptions options)
    : paths_(std::move(paths)), read_only_(read_only), options_(std::move(options))
{
    sync();
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

    if (parsed.uidvalidity == 0) {
        if (loaded_ && file_.uidvalidity != 0) {
            parsed.uidvalidity = file_.uidvalidity;
        } else if (!read_only_) {
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
        if (!parsed.messages.empty())
            needs_write = true;
    }
    for (const auto& message : parsed.messages)
        add_keywords(parsed.keywords, message.flags.keywords);

    // Work out expunges, new messages and flag changes against what we had.
    std::set<uint32_t> present;
    for (const auto& message : parsed.messages)
        present.insert(message.uid);
    if (loaded_) {
        if (parsed.uidvalidity != file_.uidvalidity) {
            for (const auto& info : messages_)
                note_expunged(info.uid);
            last_flags_.clear();
            modseq_by_uid_.clear();
        } else {
            for (const auto& info : messages_)
                if (!present.count(info.uid))
                    note_expunged(info.uid);
        }
    }
    std::map<uint32_t, Flags> flags_now;
    for (const auto& message : parsed.messages) {
        auto old = last_flags_.find(message.uid);
        Flags flags = message.flags;
        std::sort(flags.keywords.begin(), flags.keywords.end());
        if (old == last_flags_.end() || !(old->second == flags)) {
            if (loaded_)
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
    rebuild_infos();
    return needs_write;
}

void MboxMailbox::rebuild_infos()
{
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
}

void MboxMailbox::sync()
{
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
        std::string content = read_all(fd.get());
        needs_write = load(content, stamp_of<Stamp>(st));
    }
    if (needs_write && !read_only_)
        modify([](MboxFile&, std::vector<uint32_t>&) { return false; });
}

template <typename Change>
void MboxMailbox::modify(Change change)
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
        std::string content = read_all(fd.get());
        bool needs_write = load(content, stamp_of<Stamp>(by_fd));
        std::vector<uint32_t> new_recent;
        bool changed = change(file_, new_recent);
        if (!changed && !needs_write)
            return;
        add_keywords(file_.keywords, {});
        for (const auto& message : file_.messages)
            add_keywords(file_.keywords, message.flags.keywords);
        std::string formatted = mbox::format_mbox(file_, new_recent, maildir::plain_hostname());
        write_file(fd.get(), formatted);
        struct stat st;
        if (::stat(paths_.file.c_str(), &st) < 0)
            throw_errno("stat " + paths_.file);
        for (uint32_t uid : new_recent)
            recent_.insert(uid);
        load(formatted, stamp_of<Stamp>(st));
        return;
    }
}

void MboxMailbox::write_file(int fd, const std::string& content)
{
    struct stat st;
    if (::fstat(fd, &st) < 0)
        throw_errno("fstat " + paths_.file);
    std::string dir = dir_of(paths_.file);
    std::string tmp_prefix = "." + base_of(paths_.file) + ".loft-tmp.";
    // We hold the write locks, so a temporary file of this mbox is left from a writer that died.
    if (auto names = maildir::list_dir(dir))
        for (const auto& name : *names)
            if (name.compare(0, tmp_prefix.size(), tmp_prefix) == 0)
                (void)::unlink(maildir::join_path(dir, name).c_str());
    std::string tmp = maildir::join_path(dir, tmp_prefix + std::to_string(::getpid()));
    UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777));
    if (!out.valid())
        throw StorageError(StorageError::Kind::Io, "cannot create " + tmp + ": " + strerror(errno));
    try {
        if (::fchown(out.get(), st.st_uid, st.st_gid) < 0 && errno != EPERM)
            throw_errno("fchown " + tmp);
        (void)::fchmod(out.get(), st.st_mode & 07777);
        maildir::write_all(out.get(), content, tmp);
        maildir::fsync_fd(out.get(), tmp);
        if (::rename(tmp.c_str(), paths_.file.c_str()) < 0)
            throw_errno("rename " + tmp);
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
    maildir::fsync_dir(dir);
}

std::vector<uint32_t> MboxMailbox::expunged_since(uint64_t modseq, bool& complete) const
{
    complete = true;
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
    });
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
