#include "rpc/auth_client.h"

#include "rpc/call.h"

namespace loft::rpc {

using Done = std::function<void(AuthCobClient*)>;

Task<std::vector<std::string>> AsyncAuthClient::mechanisms(ClientInfo client)
{
    co_return co_await call<AuthCobClient>(
        channel_, [&](AuthCobClient& c, Done done) { c.mechanisms(done, client); },
        [](AuthCobClient& c) {
            std::vector<std::string> result;
            c.recv_mechanisms(result);
            return result;
        });
}

Task<AuthReply> AsyncAuthClient::start(AuthRequest request)
{
    co_return co_await call<AuthCobClient>(
        channel_, [&](AuthCobClient& c, Done done) { c.start(done, request); },
        [](AuthCobClient& c) {
            AuthReply result;
            c.recv_start(result);
            return result;
        });
}

Task<AuthReply> AsyncAuthClient::proceed(int64_t request, std::string response)
{
    co_return co_await call<AuthCobClient>(
        channel_, [&](AuthCobClient& c, Done done) { c.proceed(done, request, response); },
        [](AuthCobClient& c) {
            AuthReply result;
            c.recv_proceed(result);
            return result;
        });
}

Task<void> AsyncAuthClient::abort(int64_t request)
{
    co_await call<AuthCobClient>(
        channel_, [&](AuthCobClient& c, Done done) { c.abort(done, request); },
        [](AuthCobClient& c) { c.recv_abort(); });
}

Task<LookupReply> AsyncAuthClient::lookup(std::string user, ClientInfo client)
{
    co_return co_await call<AuthCobClient>(
        channel_, [&](AuthCobClient& c, Done done) { c.lookup(done, user, client); },
        [](AuthCobClient& c) {
            LookupReply result;
            c.recv_lookup(result);
            return result;
        });
}

}  // namespace loft::rpc
