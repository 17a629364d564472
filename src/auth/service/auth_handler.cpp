#include "auth/service/auth_handler.h"

#include "lib/strings.h"

namespace loft::auth::service {

Client client_of(const rpc::ClientInfo& info, const std::string& service)
{
    return Client{service, info.remote_ip, info.local_ip, info.secured, info.session_id};
}

void AuthHandler::mechanisms(std::function<void(std::vector<std::string> const&)> cob, const rpc::ClientInfo& client)
{
    cob(authenticator_.mechanisms(client_of(client, service_)));
}

void AuthHandler::start(std::function<void(rpc::AuthReply const&)> cob, const rpc::AuthRequest& request)
{
    Exchange exchange;
    exchange.mechanism = to_upper(request.mechanism);
    exchange.client = client_of(request.client, service_);
    if (exchange.mechanism.size() > 64 || !authenticator_.mechanism_allowed(exchange.mechanism, exchange.client) ||
        !(exchange.sasl = make_sasl_mechanism(exchange.mechanism, authenticator_.sasl_settings()))) {
        rpc::AuthReply reply;
        reply.status = rpc::AuthStatus::FAILED;
        reply.reason = "Unsupported authentication mechanism.";
        cob(reply);
        return;
    }
    if (exchanges_.size() >= kMaxPendingExchanges) {
        rpc::AuthReply reply;
        reply.status = rpc::AuthStatus::TEMPFAIL;
        reply.reason = "Too many authentications in progress.";
        cob(reply);
        return;
    }
    int64_t id = next_id_++;
    bool has_initial = request.__isset.initial_response;
    step(cob, id, std::move(exchange), has_initial ? request.initial_response : std::string(), has_initial);
}

void AuthHandler::proceed(std::function<void(rpc::AuthReply const&)> cob, int64_t request, const std::string& response)
{
    auto found = exchanges_.find(request);
    if (found == exchanges_.end()) {
        rpc::AuthReply reply;
        reply.status = rpc::AuthStatus::FAILED;
        reply.reason = "Authentication failed.";
        cob(reply);
        return;
    }
    Exchange exchange = std::move(found->second);
    exchanges_.erase(found);
    step(cob, request, std::move(exchange), response, true);
}

void AuthHandler::abort(std::function<void()> cob, int64_t request)
{
    exchanges_.erase(request);
    cob();
}

void AuthHandler::challenge(ReplyCob cob, int64_t id, Exchange exchange, const std::string& text)
{
    exchanges_[id] = std::move(exchange);
    rpc::AuthReply reply;
    reply.status = rpc::AuthStatus::CONTINUE;
    reply.request = id;
    reply.challenge = text;
    cob(reply);
}

void AuthHandler::step(ReplyCob cob, int64_t id, Exchange exchange, const std::string& response, bool has_data)
{
    spawn(run_step(shared_from_this(), std::move(cob), id, std::move(exchange), response, has_data), nullptr);
}

Task<void> AuthHandler::run_step(std::shared_ptr<AuthHandler>, ReplyCob cob, int64_t id, Exchange exchange,
                                 std::string response, bool has_data)
{
    bool broken = false;
    try {
        co_await advance(cob, id, std::move(exchange), std::move(response), has_data);
    } catch (const std::exception&) {
        broken = true;
    }
    if (broken)
        finish(cob, Outcome{Outcome::Status::TempFail, "", "", "Temporary authentication failure."});
}

Task<void> AuthHandler::advance(ReplyCob cob, int64_t id, Exchange exchange, std::string response, bool has_data)
{
    SaslOutcome outcome = exchange.sasl->step(response, has_data);
    if (outcome.kind == SaslOutcome::Kind::LookupCredentials) {
        std::string credentials;
        Outcome found =
            co_await authenticator_.lookup_credentials(outcome.user, outcome.scheme, exchange.client, credentials);
        if (found.status == Outcome::Status::TempFail) {
            finish(cob, found);
            co_return;
        }
        if (found.status != Outcome::Status::Ok) {
            // The passdb step already logged why (unknown user, wrong scheme).
            finish(cob, Outcome{Outcome::Status::Failed, found.user, "", "Authentication failed."});
            co_return;
        }
        exchange.user = found.user;
        outcome = exchange.sasl->credentials(credentials);
    }
    switch (outcome.kind) {
    case SaslOutcome::Kind::Challenge:
        challenge(cob, id, std::move(exchange), outcome.data);
        co_return;
    case SaslOutcome::Kind::VerifyPassword: {
        if (!outcome.authzid.empty() && outcome.authzid != outcome.user) {
            Outcome verdict =
                co_await authenticator_.verify_as(outcome.authzid, outcome.user, outcome.password, exchange.client);
            finish(cob, verdict);
        } else {
            Outcome verdict =
                co_await authenticator_.verify(outcome.user, outcome.password, exchange.client, exchange.mechanism);
            finish(cob, verdict);
        }
        co_return;
    }
    case SaslOutcome::Kind::Success:
        co_await succeed(cob, exchange, outcome);
        co_return;
    case SaslOutcome::Kind::LookupUser:
        // EXTERNAL: only a verified TLS client certificate names the user, and there is none.
        refuse(cob, exchange, outcome.user, "no verified client certificate");
        co_return;
    case SaslOutcome::Kind::LookupCredentials:
    case SaslOutcome::Kind::Failure:
        refuse(cob, exchange, exchange.user.empty() ? outcome.user : exchange.user, outcome.error);
        co_return;
    }
}

Task<void> AuthHandler::succeed(ReplyCob cob, const Exchange& exchange, const SaslOutcome& outcome)
{
    std::string user = exchange.user.empty() ? outcome.user : exchange.user;
    if (!outcome.authzid.empty() && outcome.authzid != outcome.user && outcome.authzid != user) {
        // Master logins go through PLAIN/LOGIN (user*master or authzid), where the master
        // passdbs check the master's password.
        refuse(cob, exchange, user, "authzid not allowed for this mechanism");
        co_return;
    }
    if (exchange.mechanism == "ANONYMOUS" && authenticator_.verbose())
        authenticator_.log_mechanism(exchange.mechanism, exchange.client, outcome.user, "login");
    Outcome granted = co_await authenticator_.grant_login(user, exchange.client);
    finish(cob, granted, outcome.data);
}

void AuthHandler::refuse(ReplyCob cob, const Exchange& exchange, const std::string& user, const std::string& error)
{
    if (authenticator_.verbose() && !error.empty()) {
        // Dovecot capitalizes this one message of the mechanisms.
        authenticator_.log_mechanism(exchange.mechanism, exchange.client, user.empty() ? "?" : user,
                          error == "password mismatch" ? "Password mismatch" : error);
    }
    finish(cob, Outcome{Outcome::Status::Failed, user, "", "Authentication failed."});
}

void AuthHandler::finish(ReplyCob cob, const Outcome& outcome, const std::string& final_data)
{
    rpc::AuthReply reply;
    reply.user = outcome.user;
    reply.reason = outcome.reason;
    if (outcome.status == Outcome::Status::Ok) {
        reply.status = rpc::AuthStatus::OK;
        reply.grant = outcome.grant;
        reply.challenge = final_data;
        cob(reply);
        return;
    }
    reply.status = outcome.status == Outcome::Status::TempFail ? rpc::AuthStatus::TEMPFAIL : rpc::AuthStatus::FAILED;
    // Slow down password guessing: a failure is answered only after the delay.
    uint64_t key = next_delay_++;
    auto timer = std::make_unique<Timer>(base_, [this, key, cob, reply] {
        auto keep = std::move(delayed_[key]);
        delayed_.erase(key);
        cob(reply);
    });
    timer->start(failure_delay_);
    delayed_[key] = std::move(timer);
}

void AuthHandler::lookup(std::function<void(rpc::LookupReply const&)> cob, const std::string& user,
                         const rpc::ClientInfo& client)
{
    if (service_ != "lmtp") {
        // Only delivery looks users up without a password.
        rpc::LookupReply refused;
        refused.status = rpc::AuthStatus::FAILED;
        refused.reason = "lookups are only for LMTP";
        cob(refused);
        return;
    }
    spawn(run_lookup(shared_from_this(), std::move(cob), user, client_of(client, service_)), nullptr);
}

Task<void> AuthHandler::run_lookup(std::shared_ptr<AuthHandler>, std::function<void(rpc::LookupReply const&)> cob,
                                   std::string user, Client client)
{
    Outcome outcome = co_await authenticator_.lookup(user, client);
    rpc::LookupReply reply;
    reply.user = outcome.user;
    reply.reason = outcome.reason;
    reply.grant = outcome.grant;
    reply.status = outcome.status == Outcome::Status::Ok       ? rpc::AuthStatus::OK
                   : outcome.status == Outcome::Status::Failed ? rpc::AuthStatus::FAILED
                                                               : rpc::AuthStatus::TEMPFAIL;
    cob(reply);
}

}  // namespace loft::auth::service
