// Turns one generated cob-style Thrift call into a coroutine: co_await call<Client>(...)
// sends on the shared channel and resumes with the decoded reply or throws.
#pragma once

#include "lib/task.h"
#include "rpc/channel.h"

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TTransportException.h>

#include <memory>
#include <stdexcept>

namespace loft::rpc {

// The connection to a daemon broke or a call timed out; the caller decides whether
// to reconnect (the worker answers the client with a temporary failure).
class RpcUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// send(client, done) starts the generated call; receive(client) decodes its reply.
// One generated client per call: each holds a single request/reply buffer pair.
template <typename Client, typename Send, typename Receive>
auto call(std::shared_ptr<RpcChannel> channel, Send send, Receive receive,
          std::chrono::milliseconds timeout = RpcChannel::kDefaultTimeout)
    -> Task<decltype(receive(std::declval<Client&>()))>
{
    using Result = decltype(receive(std::declval<Client&>()));
    if (!channel || !channel->good())
        throw RpcUnavailable("connection closed");
    apache::thrift::protocol::TBinaryProtocolFactory protocols;
    Client client(channel, &protocols);
    channel->set_next_timeout(timeout);
    co_await CallbackAwaiter<bool>([&](CallbackAwaiter<bool>::Resolver resolve) {
        send(client, [resolve](Client*) { resolve(true); });
    });
    try {
        if constexpr (std::is_void_v<Result>) {
            receive(client);
            co_return;
        } else {
            co_return receive(client);
        }
    } catch (const apache::thrift::transport::TTransportException&) {
        // The channel hands an empty reply to a call that timed out or whose
        // connection broke; decoding it is what fails.
        throw RpcUnavailable(channel->good() ? "call timed out" : "connection lost");
    }
}

}  // namespace loft::rpc
