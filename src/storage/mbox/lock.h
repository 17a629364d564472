// Locking an mbox file the ways Dovecot and MTAs do (mbox_read_locks/mbox_write_locks:
// dotlock, dotlock_try, fcntl, flock, lockf), all taken in the configured order and
// released together, with mbox_lock_timeout and mbox_dotlock_change_timeout.
#pragma once

#include "lib/unique_fd.h"
#include "storage/maildir/dotlock.h"

#include <chrono>
#include <utility>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::storage::mbox {

enum class LockMethod { Dotlock, DotlockTry, Fcntl, Flock, Lockf };

struct LockSettings {
    std::vector<LockMethod> read_locks{LockMethod::Fcntl};
    std::vector<LockMethod> write_locks{LockMethod::Dotlock, LockMethod::Fcntl};
    std::chrono::seconds lock_timeout{300};            // mbox_lock_timeout
    std::chrono::seconds dotlock_change_timeout{120};  // mbox_dotlock_change_timeout
};

// Parses a space-separated list such as "dotlock fcntl"; throws StorageError(BadConfig).
std::vector<LockMethod> parse_lock_methods(std::string_view text);

// Every lock of one kind (read or write) on one open mbox file; released on destruction.
class MboxLock {
public:
    // fd must be open for writing if lockf or a write lock is used. Throws
    // StorageError(Locked) when a lock is not obtained within the timeout.
    static MboxLock acquire(const std::string& path, int fd, bool write, const LockSettings& settings);

    MboxLock(MboxLock&& other) noexcept;
    MboxLock& operator=(MboxLock&&) = delete;
    MboxLock(const MboxLock&) = delete;
    MboxLock& operator=(const MboxLock&) = delete;
    ~MboxLock();

private:
    MboxLock() = default;
    void release_kernel_locks();

    int fd_ = -1;
    bool fcntl_held_ = false;
    bool flock_held_ = false;
    bool lockf_held_ = false;
    std::optional<maildir::Dotlock> dotlock_;
};

}  // namespace loft::storage::mbox
