// The passdb/userdb chains and user-name rules that dovecot.conf describes, built once so
// loft-auth and loftadm (auth test, user) answer from the same reading of the config.
#pragma once

#include "auth/auth_chain.h"
#include "auth/username.h"
#include "config/config.h"

namespace loft::auth::worker {
class WorkerPool;
}

namespace loft::auth::service {

struct AuthSetup {
    PassdbChain passdbs;
    UserdbChain userdbs;
    UsernameSettings username;
};

// Throws AuthError for an unknown driver or bad driver args. With workers, the blocking
// drivers (worker_db.h) are stand-ins whose awaited look-ups run in loft-auth-worker.
AuthSetup load_auth_setup(const config::Settings& settings, worker::WorkerPool* workers = nullptr);

}  // namespace loft::auth::service
