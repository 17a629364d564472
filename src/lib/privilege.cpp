#include "lib/privilege.h"

#include "lib/system_error.h"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

namespace loft {

namespace {
std::optional<Identity> from_passwd(const passwd* entry)
{
    if (!entry)
        return std::nullopt;
    return Identity{entry->pw_name, entry->pw_uid, entry->pw_gid, entry->pw_dir ? entry->pw_dir : ""};
}

template <typename Lookup>
std::optional<Identity> lookup_passwd(Lookup lookup)
{
    std::vector<char> buffer(16384);
    passwd entry;
    passwd* result = nullptr;
    if (lookup(&entry, buffer.data(), buffer.size(), &result) != 0)
        return std::nullopt;
    return from_passwd(result);
}
}  // namespace

std::optional<Identity> lookup_user(const std::string& name)
{
    return lookup_passwd([&](passwd* entry, char* buffer, size_t size, passwd** result) {
        return getpwnam_r(name.c_str(), entry, buffer, size, result);
    });
}

std::optional<Identity> lookup_uid(uid_t uid)
{
    return lookup_passwd([&](passwd* entry, char* buffer, size_t size, passwd** result) {
        return getpwuid_r(uid, entry, buffer, size, result);
    });
}

Identity current_identity()
{
    if (auto known = lookup_uid(getuid())) {
        known->gid = getgid();
        return *known;
    }
    return Identity{std::to_string(getuid()), getuid(), getgid(), ""};
}

bool running_as_root() { return geteuid() == 0; }

bool drop_privileges(const Identity& identity, const std::string& chroot_dir)
{
    if (!running_as_root())
        return false;
    if (identity.uid == 0)
        throw std::runtime_error("refusing to run a child process as root");
    if (!chroot_dir.empty()) {
        if (chroot(chroot_dir.c_str()) != 0)
            throw_errno("chroot(" + chroot_dir + ")");
        if (chdir("/") != 0)
            throw_errno("chdir(/) after chroot");
    }
    gid_t group = identity.gid;
    if (setgroups(1, &group) != 0)
        throw_errno("setgroups");
    if (setresgid(identity.gid, identity.gid, identity.gid) != 0)
        throw_errno("setresgid(" + std::to_string(identity.gid) + ")");
    if (setresuid(identity.uid, identity.uid, identity.uid) != 0)
        throw_errno("setresuid(" + std::to_string(identity.uid) + ")");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        throw_errno("prctl(PR_SET_NO_NEW_PRIVS)");
    // A drop that can be undone is no drop.
    if (setuid(0) == 0 || geteuid() == 0)
        throw std::runtime_error("privileges could be regained after dropping them");
    return true;
}

}  // namespace loft
