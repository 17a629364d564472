// Starting child processes with a chosen set of inherited fds and, optionally, an
// identity to switch to before exec; and finding Loft's helper binaries.
#pragma once

#include "lib/privilege.h"

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace loft {

struct ChildSpec {
    std::string program;                       // absolute path
    std::vector<std::string> args;             // argv[1..]
    std::vector<std::pair<int, int>> fds;      // (fd number in the child, fd in the parent)
    std::optional<Identity> run_as;            // switch before exec (root only)
    // With run_as: becomes the real gid (execve resets the saved one), which the child
    // may take as its effective gid for a moment (mail_privileged_group, for dotlocks
    // in /var/mail); the effective gid stays run_as->gid.
    std::optional<gid_t> privileged_gid;
    std::vector<std::string> environment;      // "NAME=value"; empty = inherit nothing but these
};

// fork + exec; only the fds in spec.fds (plus 0-2) survive into the child.
pid_t spawn_child(const ChildSpec& spec);

// Where a helper such as "loft-imap" lives: $LOFT_HELPER_DIR if set, else beside the
// running executable (so the build tree works), else the installed pkglibexecdir.
std::string find_helper(const std::string& name, const std::string& installed_dir);

// Minimal startup for children: the fd numbers loftd passes (see doc/architecture.md).
namespace child_fd {
inline constexpr int kControl = 3;   // SOCK_SEQPACKET to loftd
inline constexpr int kConfig = 4;    // pipe: the configuration text, then EOF
inline constexpr int kSecret = 5;    // pipe: the grant signing key (auth, storage only)
inline constexpr int kFirstListener = 6;
}  // namespace child_fd

// Reads a pipe to EOF with a size cap.
std::string read_all(int fd, size_t limit);

}  // namespace loft
