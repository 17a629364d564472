// The passdb/userdb chains and user-name rules that dovecot.conf describes, built once so
// loft-auth and loftadm (auth test, user) answer from the same reading of the config.
#pragma once

#include "auth/auth_cache.h"
#include "auth/auth_chain.h"
#include "auth/username.h"
#include "config/config.h"
#include "lib/log.h"

#include <memory>

namespace loft::auth::worker {
class WorkerPool;
}

namespace loft::auth::service {

struct AuthSetup {
    PassdbChain passdbs;
    UserdbChain userdbs;
    UsernameSettings username;
    // auth_cache_size > 0: shared by the passdbs and userdbs Dovecot caches (their
    // drivers have a cache key); doveadm auth cache flush clears it.
    std::shared_ptr<AuthCache> cache;
};

// Throws AuthError for an unknown driver or bad driver args. With workers, the blocking
// drivers (worker_db.h) are stand-ins whose awaited look-ups run in loft-auth-worker.
// debug_log, when set, receives the cache's debug lines (auth_debug).
AuthSetup load_auth_setup(const config::Settings& settings, worker::WorkerPool* workers = nullptr,
                          const Logger* debug_log = nullptr);

}  // namespace loft::auth::service
