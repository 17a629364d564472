// Who a process runs as, and the one-way drop to that identity (with chroot for workers).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace loft {

struct Identity {
    std::string user;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string home;
};

std::optional<Identity> lookup_user(const std::string& name);
std::optional<Identity> lookup_uid(uid_t uid);
Identity current_identity();
bool running_as_root();

// As root: chroot into chroot_dir (if not empty), then switch irrevocably to identity
// (supplementary groups cleared) and forbid regaining privileges; verifies the drop
// worked. As a normal user: changes nothing and returns false.
bool drop_privileges(const Identity& identity, const std::string& chroot_dir);

}  // namespace loft
