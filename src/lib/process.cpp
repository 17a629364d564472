#include "lib/process.h"

#include "lib/system_error.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <stdexcept>

namespace loft {

namespace {
[[noreturn]] void child_fail(const char* what)
{
    // Only async-signal-safe calls between fork and exec.
    char message[256];
    size_t length = 0;
    const char* prefix = "loftd: starting child failed: ";
    for (const char* p = prefix; *p && length < sizeof(message) - 2; p++)
        message[length++] = *p;
    for (const char* p = what; *p && length < sizeof(message) - 2; p++)
        message[length++] = *p;
    message[length++] = '\n';
    ssize_t ignored = write(2, message, length);
    (void)ignored;
    _exit(127);
}
}  // namespace

pid_t spawn_child(const ChildSpec& spec)
{
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(spec.program.c_str()));
    for (const auto& arg : spec.args)
        argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& entry : spec.environment)
        envp.push_back(const_cast<char*>(entry.c_str()));
    envp.push_back(nullptr);

    pid_t pid = fork();
    if (pid < 0)
        throw_errno("fork");
    if (pid > 0)
        return pid;

    // Child. Move every source fd above the target range first, so dup2 into
    // targets cannot clobber a source that is still needed.
    constexpr int kScratch = 100;
    std::vector<int> moved;
    for (size_t i = 0; i < spec.fds.size(); i++) {
        int copy = fcntl(spec.fds[i].second, F_DUPFD_CLOEXEC, kScratch);
        if (copy < 0)
            child_fail("F_DUPFD");
        moved.push_back(copy);
    }
    for (size_t i = 0; i < spec.fds.size(); i++) {
        if (dup2(moved[i], spec.fds[i].first) < 0)
            child_fail("dup2");
    }
    for (int fd = 3; fd < 1024; fd++) {
        bool keep = false;
        for (const auto& mapping : spec.fds)
            keep = keep || mapping.first == fd;
        if (!keep)
            close(fd);
    }
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE})
        signal(sig, SIG_DFL);
    if (spec.run_as && geteuid() == 0) {
        gid_t group = spec.run_as->gid;
        if (setgroups(1, &group) != 0)
            child_fail("setgroups");
        if (setresgid(spec.privileged_gid.value_or(spec.run_as->gid), spec.run_as->gid, spec.run_as->gid) != 0)
            child_fail("setresgid");
        if (setresuid(spec.run_as->uid, spec.run_as->uid, spec.run_as->uid) != 0)
            child_fail("setresuid");
    }
    execve(spec.program.c_str(), argv.data(), envp.data());
    child_fail(strerror(errno));
}

std::string find_helper(const std::string& name, const std::string& installed_dir)
{
    // Packagers and tests may point loftd at another set of helpers.
    if (const char* dir = getenv("LOFT_HELPER_DIR"); dir && *dir)
        return std::string(dir) + "/" + name;
    char self[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (length > 0) {
        std::string dir(self, static_cast<size_t>(length));
        dir.resize(dir.rfind('/'));
        std::string beside = dir + "/" + name;
        if (access(beside.c_str(), X_OK) == 0)
            return beside;
    }
    return installed_dir + "/" + name;
}

std::string read_all(int fd, size_t limit)
{
    std::string data;
    char buffer[65536];
    while (true) {
        ssize_t got = read(fd, buffer, sizeof(buffer));
        if (got < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("read");
        }
        if (got == 0)
            return data;
        data.append(buffer, static_cast<size_t>(got));
        if (data.size() > limit)
            throw std::length_error("input larger than " + std::to_string(limit) + " bytes");
    }
}

}  // namespace loft
