// How a worker reaches loft-auth and storage daemons: it asks loftd over its control
// channel (it cannot open sockets by path from its chroot) and wraps what it gets.
#pragma once

#include "lib/control.h"
#include "rpc/auth_client.h"
#include "rpc/storage_client.h"

#include <memory>
#include <string>

namespace loft::rpc {

class Connector {
public:
    Connector(event_base* base, ControlClient& control) : base_(base), control_(control) {}

    // The worker's shared auth connection, reconnected when it broke.
    Task<std::shared_ptr<AsyncAuthClient>> auth();
    // A fresh connection to the storage daemon that serves the grant's user.
    Task<std::shared_ptr<AsyncStorageClient>> storage(std::string grant);

private:
    event_base* base_;
    ControlClient& control_;
    std::shared_ptr<AsyncAuthClient> auth_;
};

}  // namespace loft::rpc
