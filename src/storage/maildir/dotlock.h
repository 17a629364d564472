// Dovecot-compatible dot-locking: "<file>.lock" created with O_EXCL and holding
// "<pid>:<host>", with Dovecot's rules for breaking stale locks, so Loft and Dovecot
// (imap, dovecot-lda, doveadm) exclude each other on dovecot-uidlist, dovecot-keywords
// and subscriptions.
#pragma once

#include "lib/unique_fd.h"

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace loft::storage::maildir {

namespace detail {
struct DotlockWaitState;
}

struct DotlockSettings {
    // How long to wait for another holder before giving up (Dovecot: stale + 2 s).
    std::chrono::milliseconds timeout{122'000};
    // A lock whose file and protected file did not change for this long is stale.
    std::chrono::seconds stale_timeout{120};
    mode_t mode = 0600;
};

class Dotlock {
public:
    // Waits up to settings.timeout; throws StorageError(Locked) if the lock stays busy.
    static Dotlock acquire(const std::string& target_path, const DotlockSettings& settings = {});
    // One attempt (after breaking a stale lock if there is one); nullopt if busy.
    static std::optional<Dotlock> try_acquire(const std::string& target_path, const DotlockSettings& settings = {});

    Dotlock(Dotlock&& other) noexcept;
    Dotlock& operator=(Dotlock&& other) noexcept;
    Dotlock(const Dotlock&) = delete;
    Dotlock& operator=(const Dotlock&) = delete;
    ~Dotlock();  // releases (unlinks the lock file if it is still ours)

    // Writes content into the lock file, fsyncs it and renames it over the target:
    // Dovecot's file_dotlock_replace(). The lock is released afterwards.
    void replace_target(std::string_view content);
    void release();
    bool held() const { return fd_.valid(); }
    const std::string& lock_path() const { return lock_path_; }

private:
    Dotlock(std::string target, std::string lock_path, UniqueFd fd, dev_t dev, ino_t ino);
    // One creation attempt, breaking a stale lock first; state tracks staleness across
    // attempts.
    static std::optional<Dotlock> attempt(const std::string& target, const DotlockSettings& settings,
                                          detail::DotlockWaitState& state);
    std::string target_;
    std::string lock_path_;
    UniqueFd fd_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
};

}  // namespace loft::storage::maildir
