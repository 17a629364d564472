// The passdb/userdb chains and user-name rules that dovecot.conf describes, built once so
// loft-auth and loftadm (auth test, user) answer from the same reading of the config.
#pragma once

#include "auth/auth_chain.h"
#include "auth/username.h"
#include "config/config.h"

namespace loft::auth::service {

struct AuthSetup {
    PassdbChain passdbs;
    UserdbChain userdbs;
    UsernameSettings username;
};

// Throws AuthError for an unknown driver or bad driver args.
AuthSetup load_auth_setup(const config::Settings& settings);

}  // namespace loft::auth::service
