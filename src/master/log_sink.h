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
void route_logs(const std::string& log_path, const std::string& syslog_facility, bool foreground, Logger& log,
                const std::string& ident = "dovecot");

}  // namespace loft::master
