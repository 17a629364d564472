// What every process loftd starts does first: take the configuration loftd handed
// over, set up its log the way log_path asks, and leave its loop cleanly on SIGTERM.
// (The fds are described in src/lib/process.h; the protocol in doc/architecture.md.)
#pragma once

#include "config/config.h"
#include "lib/event_loop.h"
#include "lib/fd_passing.h"
#include "lib/log.h"
#include "lib/task.h"
#include "lib/unique_fd.h"

#include <functional>
#include <map>
#include <memory>

namespace loft::master {

// Reads and parses the configuration on child_fd::kConfig, then closes it.
config::Config read_config_from_loftd();
// Timestamps when logging to a file (as Dovecot does), debug from debug_setting or LOFT_DEBUG.
void configure_log(Logger& log, const config::Settings& settings, std::string_view debug_setting);
// Ends the loop on SIGTERM; keep the returned event alive.
EventPtr exit_on_sigterm(event_base* base);

// For loft-auth and loft-storage: takes the connections loftd hands over on the control
// socket ("CONNECTION [service]" + fd); ends the loop when loftd goes away.
class HandoffReceiver {
public:
    using OnConnection = std::function<void(UniqueFd fd, const std::string& service)>;
    HandoffReceiver(event_base* base, UniqueFd control, OnConnection on_connection);
    // A connection already sent but not yet read (checked before idling out).
    bool take_pending();
    // Asks loftd for a connection ("<id> AUTH-WORKER" -> "<id> OK" + fd); throws
    // ControlUnavailable when loftd refuses or is gone.
    Task<UniqueFd> request(std::string what);

private:
    void drain();
    // "<id> OK"/"<id> FAIL reason": the answer to request(); false for other messages.
    bool answer(ReceivedMessage& message);
    std::map<uint64_t, std::function<void(bool ok, std::string reason, UniqueFd fd)>> waiting_;
    uint64_t next_id_ = 1;
    event_base* base_;
    UniqueFd control_;
    OnConnection on_connection_;
    std::unique_ptr<ReadWatcher> watcher_;
};

}  // namespace loft::master
