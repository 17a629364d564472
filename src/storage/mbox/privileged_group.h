// Dovecot's mail_privileged_group for mbox spools: loftd starts the storage daemon with
// that group as its real gid, and mbox code takes it as the effective gid only while it
// creates or removes a dotlock, temporary file or INBOX in a directory the user cannot
// write (/var/mail, root:mail 2775). The daemon is single-threaded, so this is safe.
#pragma once

#include <sys/types.h>

#include <string>

namespace loft::storage::mbox {

class PrivilegedGroup {
public:
    // Switches to the real gid when `dir` is not writable with the current effective gid
    // and the real gid differs; otherwise changes nothing.
    explicit PrivilegedGroup(const std::string& dir);
    ~PrivilegedGroup();
    PrivilegedGroup(const PrivilegedGroup&) = delete;
    PrivilegedGroup& operator=(const PrivilegedGroup&) = delete;

    bool active() const { return active_; }

private:
    gid_t previous_ = 0;
    bool active_ = false;
};

// The directory part of a path ("." for none).
std::string directory_of(const std::string& path);

}  // namespace loft::storage::mbox
