// The worker's side of its control channel to loftd: asks for connections (to
// loft-auth, or to the storage daemon serving a granted user) and receives them as fds.
#pragma once

#include "lib/event_loop.h"
#include "lib/task.h"
#include "lib/unique_fd.h"

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace loft {

class ControlUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Wire format, one SOCK_SEQPACKET message each:
//   worker -> loftd: "<id> AUTH" | "<id> STORAGE <grant>"
//   loftd -> worker: "<id> OK" with the fd attached | "<id> FAIL <reason>"
class ControlClient {
public:
    ControlClient(event_base* base, UniqueFd socket);
    ControlClient(const ControlClient&) = delete;
    ControlClient& operator=(const ControlClient&) = delete;

    Task<UniqueFd> connect_auth();
    Task<UniqueFd> connect_storage(std::string grant);
    // Called when loftd goes away: the worker should finish and exit.
    void set_on_lost(std::function<void()> on_lost) { on_lost_ = std::move(on_lost); }

private:
    Task<UniqueFd> request(std::string what);
    void on_readable();

    UniqueFd socket_;
    std::unique_ptr<ReadWatcher> watcher_;
    uint64_t next_id_ = 1;
    struct Reply {
        bool ok = false;
        std::string reason;
        UniqueFd fd;
    };
    std::map<uint64_t, std::function<void(Reply)>> waiting_;
    std::function<void()> on_lost_;
};

}  // namespace loft
