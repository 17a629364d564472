#include "master/log_sink.h"

#include "lib/system_error.h"
#include "lib/unique_fd.h"

#include <fcntl.h>
#include <signal.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string_view>

namespace loft::master {

namespace {

int facility_value(const std::string& name)
{
    struct Entry {
        const char* name;
        int value;
    };
    static constexpr Entry kFacilities[] = {
        {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
        {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
        {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}, {"user", LOG_USER},
    };
    for (const auto& entry : kFacilities) {
        if (name == entry.name)
            return entry.value;
    }
    return LOG_MAIL;
}

int priority_of(std::string_view line)
{
    if (line.find(": Fatal: ") != std::string_view::npos)
        return LOG_CRIT;
    if (line.find(": Error: ") != std::string_view::npos)
        return LOG_ERR;
    if (line.find(": Warning: ") != std::string_view::npos)
        return LOG_WARNING;
    if (line.find(": Debug: ") != std::string_view::npos)
        return LOG_DEBUG;
    return LOG_INFO;
}

[[noreturn]] void forward_to_syslog(int input, int facility, const std::string& ident)
{
    signal(SIGTERM, SIG_IGN);  // stay until every writer has closed the pipe
    signal(SIGINT, SIG_IGN);
    openlog(ident.c_str(), LOG_NDELAY, facility);
    FILE* in = fdopen(input, "r");
    char line[8192];
    while (in && fgets(line, sizeof(line), in)) {
        size_t length = strlen(line);
        if (length > 0 && line[length - 1] == '\n')
            line[length - 1] = '\0';
        syslog(priority_of(line), "%s", line);
    }
    _exit(0);
}

void write_all(int fd, const char* data, size_t length)
{
    while (length > 0) {
        ssize_t written = write(fd, data, length);
        if (written <= 0)
            return;
        data += written;
        length -= static_cast<size_t>(written);
    }
}

// The level split: reads whole lines from input and writes each to its level's file.
[[noreturn]] void split_by_level(int input, int main_fd, int info_fd, int debug_fd)
{
    signal(SIGTERM, SIG_IGN);  // stay until every writer has closed the pipe
    signal(SIGINT, SIG_IGN);
    FILE* in = fdopen(input, "r");
    char line[8192];
    int target = main_fd;
    bool at_line_start = true;
    while (in && fgets(line, sizeof(line), in)) {
        size_t length = strlen(line);
        // A line longer than the buffer goes on to where its start went.
        if (at_line_start) {
            int priority = priority_of(line);
            target = priority == LOG_DEBUG ? debug_fd : priority == LOG_INFO ? info_fd : main_fd;
        }
        write_all(target, line, length);
        at_line_start = length > 0 && line[length - 1] == '\n';
    }
    _exit(0);
}

UniqueFd open_log_file(const std::string& path, const char* setting)
{
    UniqueFd fd(open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (fd.get() < 0)
        throw_errno(std::string("open ") + setting + " " + path);
    return fd;
}

// Points fd 2 at a level-splitting process writing to main_fd and the level files.
void split_levels(int main_fd, const std::string& info_log_path, const std::string& debug_log_path)
{
    UniqueFd info = info_log_path.empty() ? UniqueFd(dup(main_fd)) : open_log_file(info_log_path, "info_log_path");
    UniqueFd debug = debug_log_path.empty() ? UniqueFd(dup(info.get()))
                                            : open_log_file(debug_log_path, "debug_log_path");
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        throw_errno("pipe");
    UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    pid_t pid = fork();
    if (pid < 0)
        throw_errno("fork");
    if (pid == 0) {
        write_end.reset();
        split_by_level(read_end.get(), main_fd, info.get(), debug.get());
    }
    dup2(write_end.get(), 2);
}

}  // namespace

void route_logs(const std::string& log_path, const std::string& syslog_facility, bool foreground, Logger& log,
                const std::string& ident, const std::string& info_log_path, const std::string& debug_log_path)
{
    // Level files only when they name somewhere other than log_path (and not syslog).
    auto own_file = [&](const std::string& path) {
        return path != log_path && path != "syslog" && path != "/dev/stderr" ? path : std::string();
    };
    std::string info_path = own_file(info_log_path), debug_path = own_file(debug_log_path);
    bool split = log_path != "syslog" && (!info_path.empty() || !debug_path.empty());
    if (log_path == "syslog") {
        if (foreground)
            return;  // keep the terminal: -F is for watching
        int pipe_fds[2];
        if (pipe2(pipe_fds, O_CLOEXEC) != 0)
            throw_errno("pipe");
        pid_t pid = fork();
        if (pid < 0)
            throw_errno("fork");
        if (pid == 0) {
            close(pipe_fds[1]);
            forward_to_syslog(pipe_fds[0], facility_value(syslog_facility), ident.empty() ? "dovecot" : ident);
        }
        close(pipe_fds[0]);
        dup2(pipe_fds[1], 2);
        close(pipe_fds[1]);
        return;
    }
    if (log_path.empty() || log_path == "/dev/stderr") {
        if (split) {
            UniqueFd main_fd(fcntl(2, F_DUPFD_CLOEXEC, 3));
            split_levels(main_fd.get(), info_path, debug_path);
        }
        return;
    }
    UniqueFd fd = open_log_file(log_path, "log_path");
    if (split)
        split_levels(fd.get(), info_path, debug_path);
    else
        dup2(fd.get(), 2);
    log.set_timestamps(true);
}

}  // namespace loft::master
