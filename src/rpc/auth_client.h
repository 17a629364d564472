// The auth API as coroutines for protocol workers.
#pragma once

#include "lib/stream.h"
#include "lib/task.h"
#include "rpc/channel.h"
#include "rpc/gen-cpp/Auth.h"

#include <memory>
#include <string>
#include <vector>

namespace loft::rpc {

// Who a protocol worker's client is, for loft-auth: the connection's addresses and, on
// TLS, the client certificate as the worker verified it (ids 90-92).
ClientInfo client_info_of(const AsyncStream& stream, std::string protocol, bool secured, std::string session_id);

// The client part of a login process's log line, as Dovecot writes it: "user=<u>,
// method=M, rip=, lip=, mpid=, TLS|secured, session=<id>" (method and mpid optional).
std::string login_log_fields(const AsyncStream& stream, const std::string& user, const std::string& method,
                             bool secured, const std::string& session_id, bool with_mpid);

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
