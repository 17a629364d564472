#include "storage/mbox/privileged_group.h"

#include "lib/system_error.h"

#include <fcntl.h>
#include <unistd.h>

namespace loft::storage::mbox {

PrivilegedGroup::PrivilegedGroup(const std::string& dir)
{
    gid_t real = 0, effective = 0, saved = 0;
    if (getresgid(&real, &effective, &saved) != 0 || real == effective)
        return;
    if (faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) == 0)
        return;
    if (setegid(real) != 0)
        return;  // then the operation fails with the user's own permissions, as without it
    previous_ = effective;
    active_ = true;
}

PrivilegedGroup::~PrivilegedGroup()
{
    // Failing to give the group back would leave the process more privileged than meant.
    if (active_ && setegid(previous_) != 0)
        _exit(89);
}

std::string directory_of(const std::string& path)
{
    auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace loft::storage::mbox
