// Where loftd and its children write log lines: stderr, a log_path file, or syslog
// through a small forwarding process (children only ever write to their stderr).
#pragma once

#include "lib/log.h"

#include <string>

namespace loft::master {

// Points fd 2 (inherited by every child) at the configured destination. For
// "syslog", forks a forwarder that reads lines from a pipe and passes them to
// syslog(3) with the level each line names, under ident (Dovecot uses its
// instance_name, "dovecot", which log filters such as fail2ban's expect).
// With info_log_path and/or debug_log_path naming other files, fd 2 becomes a pipe to a
// small process that writes each line to the file of its level, as Dovecot's log
// process does: Info lines to info_log_path, Debug lines to debug_log_path (or
// info_log_path when unset), the others to log_path.
void route_logs(const std::string& log_path, const std::string& syslog_facility, bool foreground, Logger& log,
                const std::string& ident = "dovecot", const std::string& info_log_path = {},
                const std::string& debug_log_path = {});

}  // namespace loft::master
