#include "master/log_sink.h"

#include "lib/system_error.h"

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

}  // namespace

void route_logs(const std::string& log_path, const std::string& syslog_facility, bool foreground, Logger& log,
                const std::string& ident)
{
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
    if (log_path.empty() || log_path == "/dev/stderr")
        return;
    int fd = open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        throw_errno("open log_path " + log_path);
    dup2(fd, 2);
    close(fd);
    log.set_timestamps(true);
}

}  // namespace loft::master
