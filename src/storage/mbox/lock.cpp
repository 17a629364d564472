#include "storage/mbox/lock.h"

#include "lib/strings.h"
#include "storage/mbox/privileged_group.h"
#include "storage/storage_error.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <thread>

namespace loft::storage::mbox {

namespace {

using Clock = std::chrono::steady_clock;

// Retries a non-blocking lock attempt until it succeeds or the deadline passes.
template <typename Attempt>
void retry_until(Clock::time_point deadline, const std::string& what, const std::string& path, Attempt attempt)
{
    auto delay = std::chrono::milliseconds(5);
    while (true) {
        if (attempt())
            return;
        if (errno != EAGAIN && errno != EACCES && errno != EWOULDBLOCK && errno != EINTR)
            throw StorageError(StorageError::Kind::Io, what + " lock on " + path + " failed: " + strerror(errno));
        if (Clock::now() >= deadline)
            throw StorageError(StorageError::Kind::Locked, "timed out waiting for the " + what + " lock on " + path);
        std::this_thread::sleep_for(delay);
        delay = std::min(delay * 2, std::chrono::milliseconds(200));
    }
}

}  // namespace

std::vector<LockMethod> parse_lock_methods(std::string_view text)
{
    std::vector<LockMethod> methods;
    for (const auto& word : split_words(text)) {
        if (word == "dotlock")
            methods.push_back(LockMethod::Dotlock);
        else if (word == "dotlock_try")
            methods.push_back(LockMethod::DotlockTry);
        else if (word == "fcntl")
            methods.push_back(LockMethod::Fcntl);
        else if (word == "flock")
            methods.push_back(LockMethod::Flock);
        else if (word == "lockf")
            methods.push_back(LockMethod::Lockf);
        else
            throw StorageError(StorageError::Kind::BadConfig, "unknown mbox lock method: " + word);
    }
    return methods;
}

MboxLock MboxLock::acquire(const std::string& path, int fd, bool write, const LockSettings& settings)
{
    MboxLock lock;
    lock.fd_ = fd;
    auto deadline = Clock::now() + settings.lock_timeout;
    for (LockMethod method : write ? settings.write_locks : settings.read_locks) {
        switch (method) {
        case LockMethod::Dotlock:
        case LockMethod::DotlockTry: {
            if (lock.dotlock_)
                break;
            maildir::DotlockSettings dotlock_settings;
            dotlock_settings.stale_timeout = settings.dotlock_change_timeout;
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            dotlock_settings.timeout = std::max(left, std::chrono::milliseconds(0));
            // /var/mail is writable only with mail_privileged_group, as for Dovecot.
            PrivilegedGroup group(directory_of(path));
            if (method == LockMethod::Dotlock) {
                lock.dotlock_ = maildir::Dotlock::acquire(path, dotlock_settings);
                break;
            }
            // dotlock_try: as Dovecot, go on without it on a timeout or when the
            // directory is not writable for us (e.g. /var/mail without the mail group).
            try {
                lock.dotlock_ = maildir::Dotlock::acquire(path, dotlock_settings);
            } catch (const std::exception&) {
            }
            break;
        }
        case LockMethod::Fcntl:
            retry_until(deadline, "fcntl", path, [&] {
                struct flock fl {};
                fl.l_type = write ? F_WRLCK : F_RDLCK;
                fl.l_whence = SEEK_SET;
                return ::fcntl(fd, F_SETLK, &fl) == 0;
            });
            lock.fcntl_held_ = true;
            break;
        case LockMethod::Flock:
            retry_until(deadline, "flock", path, [&] { return ::flock(fd, (write ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0; });
            lock.flock_held_ = true;
            break;
        case LockMethod::Lockf:
            retry_until(deadline, "lockf", path, [&] {
                if (::lseek(fd, 0, SEEK_SET) < 0)
                    return false;
                return ::lockf(fd, F_TLOCK, 0) == 0;
            });
            lock.lockf_held_ = true;
            break;
        }
    }
    return lock;
}

MboxLock::MboxLock(MboxLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      fcntl_held_(std::exchange(other.fcntl_held_, false)),
      flock_held_(std::exchange(other.flock_held_, false)),
      lockf_held_(std::exchange(other.lockf_held_, false)),
      dotlock_(std::move(other.dotlock_))
{
    other.dotlock_.reset();
}

void MboxLock::release_kernel_locks()
{
    if (fd_ < 0)
        return;
    if (lockf_held_ && ::lseek(fd_, 0, SEEK_SET) >= 0)
        (void)::lockf(fd_, F_ULOCK, 0);
    if (flock_held_)
        (void)::flock(fd_, LOCK_UN);
    if (fcntl_held_) {
        struct flock fl {};
        fl.l_type = F_UNLCK;
        fl.l_whence = SEEK_SET;
        (void)::fcntl(fd_, F_SETLK, &fl);
    }
    lockf_held_ = flock_held_ = fcntl_held_ = false;
}

MboxLock::~MboxLock()
{
    release_kernel_locks();
    if (dotlock_) {
        PrivilegedGroup group(directory_of(dotlock_->lock_path()));
        dotlock_.reset();
    }
}

}  // namespace loft::storage::mbox
