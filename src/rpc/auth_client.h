// The auth API as coroutines for protocol workers.
#pragma once

#include "lib/task.h"
#include "rpc/channel.h"
#include "rpc/gen-cpp/Auth.h"

#include <memory>
#include <string>
#include <vector>

namespace loft::rpc {

class AsyncAuthClient {
public:
    explicit AsyncAuthClient(std::shared_ptr<RpcChannel> channel) : channel_(std::move(channel)) {}
    bool connected() const { return channel_ && channel_->good(); }

    Task<std::vector<std::string>> mechanisms(ClientInfo client);
    Task<AuthReply> start(AuthRequest request);
    Task<AuthReply> proceed(int64_t request, std::string response);
    Task<void> abort(int64_t request);
    Task<LookupReply> lookup(std::string user, ClientInfo client);

private:
    std::shared_ptr<RpcChannel> channel_;
};

}  // namespace loft::rpc
