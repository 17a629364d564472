// The Thrift face of loft-auth for one worker connection: runs SASL exchanges (every
// mechanism of sasl_mechanism.h) step by step and answers failures only after
// auth_failure_delay.
#pragma once

#include "auth/sasl_mechanism.h"
#include "auth/service/authenticator.h"
#include "lib/event_loop.h"
#include "lib/task.h"
#include "rpc/gen-cpp/Auth.h"

#include <chrono>
#include <map>
#include <memory>

namespace loft::auth::service {

inline constexpr size_t kMaxPendingExchanges = 1024;

// Held by shared_ptr: an exchange waiting for loft-auth-worker keeps its handler alive.
class AuthHandler : public rpc::AuthCobSvIf, public std::enable_shared_from_this<AuthHandler> {
public:
    // service: what the worker on this connection serves ("imap", "lmtp"); it decides
    // the scope of the grants issued here, whatever the worker claims in ClientInfo.
    AuthHandler(event_base* base, Authenticator& authenticator, std::chrono::milliseconds failure_delay,
                std::string service)
        : base_(base), authenticator_(authenticator), failure_delay_(failure_delay), service_(std::move(service))
    {
    }

    void mechanisms(std::function<void(std::vector<std::string> const&)> cob, const rpc::ClientInfo& client) override;
    void start(std::function<void(rpc::AuthReply const&)> cob, const rpc::AuthRequest& request) override;
    void proceed(std::function<void(rpc::AuthReply const&)> cob, int64_t request, const std::string& response) override;
    void abort(std::function<void()> cob, int64_t request) override;
    void lookup(std::function<void(rpc::LookupReply const&)> cob, const std::string& user,
                const rpc::ClientInfo& client) override;

private:
    struct Exchange {
        std::string mechanism;
        Client client;
        std::unique_ptr<SaslMechanism> sasl;
        std::string user;  // as the passdb named it, once credentials were looked up
        std::string password;  // a plaintext mechanism's password, for the penalty's retry check
    };
    using ReplyCob = std::function<void(rpc::AuthReply const&)>;
    void step(ReplyCob cob, int64_t id, Exchange exchange, const std::string& response, bool has_data);
    // step() as a task: passdbs may answer later. keep_alive is this handler.
    Task<void> run_step(std::shared_ptr<AuthHandler> keep_alive, ReplyCob cob, int64_t id, Exchange exchange,
                        std::string response, bool has_data);
    Task<void> advance(ReplyCob cob, int64_t id, Exchange exchange, std::string response, bool has_data);
    Task<void> run_lookup(std::shared_ptr<AuthHandler> keep_alive, std::function<void(rpc::LookupReply const&)> cob,
                          std::string user, Client client);
    // Success of a mechanism that proved the password itself: userdb, grant, and the
    // mechanism's final server message (SCRAM's verifier) in the reply's challenge.
    Task<void> succeed(ReplyCob cob, const Exchange& exchange, const SaslOutcome& outcome);
    // client_reason other than Dovecot's generic text reaches the client as NO [ALERT].
    void refuse(ReplyCob cob, const Exchange& exchange, const std::string& user, const std::string& error,
                const std::string& client_reason = "Authentication failed.");
    // Answers the worker and updates the client IP's auth penalty.
    void finish(ReplyCob cob, const Exchange& exchange, const Outcome& outcome, const std::string& final_data = {});
    // Runs fn after seconds (the penalty delay, the failure delay).
    void after(std::chrono::milliseconds delay, std::function<void()> fn);
    void challenge(ReplyCob cob, int64_t id, Exchange exchange, const std::string& text);

    event_base* base_;
    Authenticator& authenticator_;
    std::chrono::milliseconds failure_delay_;
    std::string service_;
    std::map<int64_t, Exchange> exchanges_;
    std::map<uint64_t, std::unique_ptr<Timer>> delayed_;
    int64_t next_id_ = 1;
    uint64_t next_delay_ = 1;
};

Client client_of(const rpc::ClientInfo& info, const std::string& service);

}  // namespace loft::auth::service
