// What loft-auth-worker does with one request: runs the named blocking passdb or userdb
// of dovecot.conf and answers with its reply; counts PAM requests for max_requests.
#pragma once

#include "auth/passdb.h"
#include "auth/worker/worker_protocol.h"
#include "config/config.h"

#include <memory>
#include <vector>

namespace loft::auth::worker {

class WorkerService {
public:
    // The passdb/userdb sections whose drivers run in a worker; others stay empty.
    // Throws AuthError for bad driver args.
    explicit WorkerService(const config::Settings& settings);

    // Never throws for a bad request: it is answered as an internal failure.
    WorkerReply handle(const WorkerRequest& request);
    // True once a PAM passdb has served its max_requests (the worker then exits).
    bool exhausted() const { return exhausted_; }
    // Whether any configured passdb needs the worker to run as root.
    static bool needs_root(const config::Settings& settings);
    // Whether any configured passdb/userdb runs in a worker at all.
    static bool needed(const config::Settings& settings);

private:
    std::vector<std::unique_ptr<Passdb>> passdbs_;
    std::vector<std::unique_ptr<Userdb>> userdbs_;
    std::vector<unsigned> pam_limits_;  // max_requests of each passdb, 0 for non-PAM
    uint64_t pam_requests_ = 0;
    bool exhausted_ = false;
};

}  // namespace loft::auth::worker
