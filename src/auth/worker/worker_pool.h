// loft-auth's side of its loft-auth-worker processes: look-ups for blocking passdbs and
// userdbs go to an idle worker (one request at a time each, as Dovecot's client_limit=1)
// and are awaited while loft-auth's loop goes on. Workers are asked from loftd on demand.
#pragma once

#include "auth/worker/worker_protocol.h"
#include "lib/event_loop.h"
#include "lib/log.h"
#include "lib/task.h"
#include "lib/unique_fd.h"

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

namespace loft::auth::worker {

// No worker answered: it died, timed out, none could be started, or too many wait.
class WorkerUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct WorkerPoolLimits {
    size_t process_limit = 100;  // service auth-worker { process_limit } (0: default_process_limit)
    // A look-up that takes longer fails (tempfail); the worker is dropped and, stuck in
    // a PAM module, killed by its own alarm (kWorkerAlarmGrace later). Well under the
    // 60 s a protocol worker waits for loft-auth, so the client gets the tempfail.
    std::chrono::milliseconds request_timeout{30000};
    size_t max_queued = 1024;  // look-ups waiting for a free worker
};

// The worker kills itself (SIGALRM) this long after loft-auth gave up on a request.
inline constexpr std::chrono::seconds kWorkerAlarmGrace{5};

class WorkerPool {
public:
    // Asks loftd for a connection to a new worker; throws when it cannot.
    using Connector = std::function<Task<UniqueFd>()>;
    WorkerPool(event_base* base, Connector connect, WorkerPoolLimits limits, const Logger& log);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // The worker's reply (request.id is set here). Throws WorkerUnavailable.
    Task<WorkerReply> ask(WorkerRequest request);

    size_t connections() const { return connections_.size(); }

private:
    struct Answer {
        std::optional<WorkerReply> reply;
        std::string error;
    };
    struct Job {
        WorkerRequest request;
        std::function<void(Answer)> resolve;
    };
    struct Connection;

    void enqueue(Job job);
    void dispatch();
    Task<void> open_connection();
    void send(Connection& connection, Job job);
    void on_readable(Connection& connection);
    // Fails the connection's job (if any) with why and forgets the connection.
    void retire(Connection& connection, const std::string& why);

    event_base* base_;
    Connector connect_;
    WorkerPoolLimits limits_;
    const Logger& log_;
    std::deque<Job> queue_;
    std::vector<std::unique_ptr<Connection>> connections_;
    // Retired connections are freed from the loop, never inside their own callbacks.
    std::vector<std::unique_ptr<Connection>> retired_;
    std::unique_ptr<Timer> reaper_;
    size_t opening_ = 0;
    uint64_t next_id_ = 1;
    std::shared_ptr<bool> alive_;
};

}  // namespace loft::auth::worker
