#include "storage/maildir/dotlock.h"

#include "lib/system_error.h"
#include "storage/maildir/fs_util.h"
#include "storage/storage_error.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <thread>

namespace loft::storage::maildir {

namespace detail {

struct ChangeInfo {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    time_t ctime = 0;
    time_t mtime = 0;
};

// What a waiter has observed of a busy lock, to decide when it went stale.
struct DotlockWaitState {
    ChangeInfo lock_info;
    ChangeInfo file_info;
    time_t last_change = 0;
    bool pid_read = false;
    pid_t pid = -1;
};

}  // namespace detail

namespace {

using LockState = detail::DotlockWaitState;
using detail::ChangeInfo;

// A lock younger than this most likely has a live owner; Dovecot skips the PID check too.
constexpr time_t stale_pid_check_secs = 2;

// Tracks when the lock file or the protected file last changed, the way Dovecot
// decides staleness: the first observation uses the file's own times, later ones "now".
bool update_change(const struct stat& st, ChangeInfo& info, time_t& last_change, time_t now)
{
    if (info.ino == st.st_ino && info.dev == st.st_dev && info.ctime == st.st_ctime &&
        info.mtime == st.st_mtime && info.size == st.st_size)
        return false;
    time_t change_time = now;
    if (info.ctime == 0)
        change_time = (st.st_mtime <= now && st.st_mtime > st.st_ctime) ? st.st_mtime : st.st_ctime;
    if (last_change < change_time)
        last_change = change_time;
    info = {st.st_dev, st.st_ino, st.st_size, st.st_ctime, st.st_mtime};
    return true;
}

// PID in a lock file written on this host, or -1.
pid_t read_local_pid(const std::string& lock_path)
{
    UniqueFd fd(::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return -1;
    char buf[512];
    ssize_t n = ::read(fd.get(), buf, sizeof(buf) - 1);
    if (n <= 0)
        return -1;
    std::string_view text(buf, static_cast<size_t>(n));
    if (text.back() == '\n')
        text.remove_suffix(1);
    size_t colon = text.find(':');
    if (colon == std::string_view::npos || text.substr(colon + 1) != plain_hostname())
        return -1;
    pid_t pid = 0;
    for (char c : text.substr(0, colon)) {
        if (c < '0' || c > '9' || pid > 100'000'000)
            return -1;
        pid = pid * 10 + (c - '0');
    }
    return pid > 0 ? pid : -1;
}

// Returns true when a stale lock file was removed and creation should be retried now.
bool break_if_stale(const std::string& target, const std::string& lock_path, const DotlockSettings& settings,
                    LockState& state)
{
    time_t now = ::time(nullptr);
    struct stat st;
    if (::lstat(lock_path.c_str(), &st) < 0) {
        if (errno == ENOENT)
            return true;
        throw_errno("lstat(" + lock_path + ")");
    }
    bool changed = update_change(st, state.lock_info, state.last_change, now);
    if (changed || !state.pid_read) {
        state.pid = -1;
        state.pid_read = false;
        if (st.st_mtime < now - stale_pid_check_secs) {
            state.pid = read_local_pid(lock_path);
            state.pid_read = true;
        }
    } else if (state.pid != -1) {
        state.pid = read_local_pid(lock_path);
    }

    auto override_lock = [&]() {
        if (::unlink(lock_path.c_str()) < 0 && errno != ENOENT)
            throw_errno("unlink(" + lock_path + ")");
        // Give a concurrent overrider time to notice, so we do not delete its fresh lock.
        std::mt19937 rng(static_cast<unsigned>(::getpid() ^ now));
        std::this_thread::sleep_for(std::chrono::microseconds(100'000 + rng() % 100'000));
        return true;
    };

    if (state.pid != -1) {
        if (::kill(state.pid, 0) == 0 || errno != ESRCH) {
            if (state.pid != ::getpid())
                return false;  // owner alive
        }
        struct stat again;
        if (::lstat(lock_path.c_str(), &again) < 0)
            return true;
        if (!update_change(again, state.lock_info, state.last_change, now))
            return override_lock();
        return true;
    }

    if (settings.stale_timeout.count() == 0)
        return false;
    if (now > state.last_change + settings.stale_timeout.count()) {
        struct stat file_st;
        if (::stat(target.c_str(), &file_st) == 0)
            update_change(file_st, state.file_info, state.last_change, now);
        else if (errno != ENOENT)
            throw_errno("stat(" + target + ")");
    }
    if (now > state.last_change + settings.stale_timeout.count())
        return override_lock();
    return false;
}

UniqueFd try_create(const std::string& lock_path, mode_t mode)
{
    UniqueFd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (!fd) {
        if (errno == EEXIST)
            return {};
        throw_errno("open(" + lock_path + ", O_EXCL)");
    }
    std::string owner = std::to_string(::getpid()) + ":" + plain_hostname();
    write_all(fd.get(), owner, lock_path);
    return fd;
}

}  // namespace

Dotlock::Dotlock(std::string target, std::string lock_path, UniqueFd fd, dev_t dev, ino_t ino)
    : target_(std::move(target)), lock_path_(std::move(lock_path)), fd_(std::move(fd)), dev_(dev), ino_(ino)
{
}

Dotlock::Dotlock(Dotlock&& other) noexcept
    : target_(std::move(other.target_)),
      lock_path_(std::move(other.lock_path_)),
      fd_(std::move(other.fd_)),
      dev_(other.dev_),
      ino_(other.ino_)
{
}

Dotlock& Dotlock::operator=(Dotlock&& other) noexcept
{
    if (this != &other) {
        try {
            release();
        } catch (...) {
        }
        target_ = std::move(other.target_);
        lock_path_ = std::move(other.lock_path_);
        fd_ = std::move(other.fd_);
        dev_ = other.dev_;
        ino_ = other.ino_;
    }
    return *this;
}

Dotlock::~Dotlock()
{
    try {
        release();
    } catch (...) {
    }
}

std::optional<Dotlock> Dotlock::attempt(const std::string& target, const DotlockSettings& settings,
                                        detail::DotlockWaitState& state)
{
    std::string lock_path = target + ".lock";
    for (int i = 0; i < 3; i++) {
        UniqueFd fd = try_create(lock_path, settings.mode);
        if (fd) {
            struct stat st;
            if (::fstat(fd.get(), &st) < 0)
                throw_errno("fstat(" + lock_path + ")");
            return Dotlock(target, lock_path, std::move(fd), st.st_dev, st.st_ino);
        }
        if (!break_if_stale(target, lock_path, settings, state))
            return std::nullopt;
    }
    return std::nullopt;
}

std::optional<Dotlock> Dotlock::try_acquire(const std::string& target_path, const DotlockSettings& settings)
{
    LockState state;
    return attempt(target_path, settings, state);
}

Dotlock Dotlock::acquire(const std::string& target_path, const DotlockSettings& settings)
{
    LockState state;
    auto deadline = std::chrono::steady_clock::now() + settings.timeout;
    auto wait = std::chrono::microseconds(1000);
    while (true) {
        if (auto lock = attempt(target_path, settings, state))
            return std::move(*lock);
        if (std::chrono::steady_clock::now() >= deadline)
            throw StorageError(StorageError::Kind::Locked, "Timeout while waiting for lock " + target_path + ".lock");
        std::this_thread::sleep_for(wait);
        wait = std::min(wait * 2, std::chrono::microseconds(200'000));
    }
}

void Dotlock::replace_target(std::string_view content)
{
    if (!fd_)
        throw StorageError(StorageError::Kind::Io, "dotlock " + lock_path_ + " is not held");
    if (::ftruncate(fd_.get(), 0) < 0 || ::lseek(fd_.get(), 0, SEEK_SET) < 0)
        throw_errno("truncate(" + lock_path_ + ")");
    write_all(fd_.get(), content, lock_path_);
    fsync_fd(fd_.get(), lock_path_);
    struct stat st;
    if (::lstat(lock_path_.c_str(), &st) < 0 || st.st_ino != ino_ || st.st_dev != dev_)
        throw StorageError(StorageError::Kind::Locked, "our dotlock " + lock_path_ + " was overridden");
    if (::rename(lock_path_.c_str(), target_.c_str()) < 0)
        throw_errno("rename(" + lock_path_ + ", " + target_ + ")");
    fd_.reset();
    size_t slash = target_.rfind('/');
    fsync_dir(slash == std::string::npos ? "." : (slash == 0 ? "/" : target_.substr(0, slash)));
}

void Dotlock::release()
{
    if (!fd_)
        return;
    fd_.reset();
    struct stat st;
    // Only remove the lock file if it is still the one we created (not overridden).
    if (::lstat(lock_path_.c_str(), &st) == 0 && st.st_ino == ino_ && st.st_dev == dev_) {
        if (::unlink(lock_path_.c_str()) < 0 && errno != ENOENT)
            throw_errno("unlink(" + lock_path_ + ")");
    }
}

}  // namespace loft::storage::maildir
