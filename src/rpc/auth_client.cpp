#include "rpc/auth_client.h"

#include "rpc/call.h"

#include <unistd.h>

namespace loft::rpc {

ClientInfo client_info_of(const AsyncStream& stream, std::string protocol, bool secured, std::string session_id)
{
    ClientInfo client;
    client.protocol = std::move(protocol);
    client.remote_ip = stream.addresses().remote_ip;
    client.local_ip = stream.addresses().local_ip;
    client.remote_port = stream.addresses().remote_port;
    client.local_port = stream.addresses().local_port;
    client.secured = secured;
    client.session_id = std::move(session_id);
    if (stream.tls_active()) {
        TlsPeer peer = stream.tls_peer();
        client.tls = true;
        client.valid_client_cert = peer.cert_valid;
        client.cert_username = peer.cert_username;
    }
    return client;
}

std::string login_log_fields(const AsyncStream& stream, const std::string& user, const std::string& method,
                             bool secured, const std::string& session_id, bool with_mpid)
{
    const auto& addresses = stream.addresses();
    std::string fields = "user=<" + user + ">";
    if (!method.empty())
        fields += ", method=" + method;
    fields += ", rip=" + addresses.remote_ip + ", lip=" + addresses.local_ip;
    if (with_mpid)
        fields += ", mpid=" + std::to_string(getpid());
    // Dovecot's %c: "TLS" on a TLS connection, else "secured" when secured.
    if (stream.tls_active())
        fields += ", TLS";
    else if (secured)
        fields += ", secured";
    return fields + ", session=<" + session_id + ">";
}

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
