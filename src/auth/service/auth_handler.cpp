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
    // The line Dovecot's auth process logs for the same request from a login process.
    const Client& client = exchange.client;
    authenticator_.debug("client in: AUTH\t" + std::to_string(id) + "\t" + exchange.mechanism +
                         "\tservice=" + client.protocol + (client.secured ? "\tsecured" : "") +
                         "\tsession=" + client.session_id + "\tlip=" + client.local_ip + "\trip=" +
                         client.remote_ip + (has_initial ? "\tresp=<hidden>" : ""));
    std::string initial = has_initial ? request.initial_response : std::string();
    // As Dovecot: an IP with an auth penalty waits before its request is even looked at.
    unsigned penalty_secs = authenticator_.penalty_delay_secs(exchange.client);
    if (penalty_secs == 0) {
        step(cob, id, std::move(exchange), initial, has_initial);
        return;
    }
    auto held = std::make_shared<Exchange>(std::move(exchange));
    after(std::chrono::seconds(penalty_secs), [this, cob, id, held, initial, has_initial] {
        step(cob, id, std::move(*held), initial, has_initial);
    });
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
    SaslOutcome outcome = exchange.sasl->step(response, has_data);
    if (outcome.kind == SaslOutcome::Kind::LookupCredentials) {
        std::string credentials;
        Outcome found = authenticator_.lookup_credentials(outcome.user, outcome.scheme, exchange.client, credentials,
                                                          outcome.authzid);
        if (found.status == Outcome::Status::TempFail) {
            finish(cob, exchange, found);
            return;
        }
        if (found.status != Outcome::Status::Ok) {
            // The passdb step already logged why (unknown user, wrong scheme).
            finish(cob, exchange, Outcome{Outcome::Status::Failed, found.user, "", "Authentication failed."});
            return;
        }
        exchange.user = found.user;
        outcome = exchange.sasl->credentials(credentials);
    }
    switch (outcome.kind) {
    case SaslOutcome::Kind::Challenge:
        challenge(cob, id, std::move(exchange), outcome.data);
        return;
    case SaslOutcome::Kind::VerifyPassword:
        exchange.password = outcome.password;
        if (!outcome.authzid.empty() && outcome.authzid != outcome.user)
            finish(cob, exchange,
                   authenticator_.verify_as(outcome.authzid, outcome.user, outcome.password, exchange.client));
        else
            finish(cob, exchange,
                   authenticator_.verify(outcome.user, outcome.password, exchange.client, exchange.mechanism));
        return;
    case SaslOutcome::Kind::Success:
        succeed(cob, exchange, outcome);
        return;
    case SaslOutcome::Kind::LookupUser:
        // EXTERNAL: only a verified TLS client certificate names the user, and there is none.
        refuse(cob, exchange, outcome.user, "no verified client certificate");
        return;
    case SaslOutcome::Kind::LookupCredentials:
    case SaslOutcome::Kind::Failure:
        refuse(cob, exchange, exchange.user.empty() ? outcome.user : exchange.user, outcome.error);
        return;
    }
}

void AuthHandler::succeed(ReplyCob cob, const Exchange& exchange, const SaslOutcome& outcome)
{
    std::string user = exchange.user.empty() ? outcome.user : exchange.user;
    if (!outcome.authzid.empty() && outcome.authzid != outcome.user && outcome.authzid != user) {
        // A master login's credentials were looked up for the authzid already (exchange.user
        // is then that target); any other authzid was never authorized.
        refuse(cob, exchange, user, "authzid not allowed for this mechanism");
        return;
    }
    if (exchange.mechanism == "ANONYMOUS" && authenticator_.verbose())
        authenticator_.log_mechanism(exchange.mechanism, exchange.client, outcome.user, "login");
    finish(cob, exchange, authenticator_.grant_login(user, exchange.client), outcome.data);
}

void AuthHandler::refuse(ReplyCob cob, const Exchange& exchange, const std::string& user, const std::string& error)
{
    if (authenticator_.verbose() && !error.empty()) {
        // Dovecot capitalizes this one message of the mechanisms.
        authenticator_.log_mechanism(exchange.mechanism, exchange.client, user.empty() ? "?" : user,
                          error == "password mismatch" ? "Password mismatch" : error);
    }
    finish(cob, exchange, Outcome{Outcome::Status::Failed, user, "", "Authentication failed."});
}

void AuthHandler::finish(ReplyCob cob, const Exchange& exchange, const Outcome& outcome,
                         const std::string& final_data)
{
    rpc::AuthReply reply;
    reply.user = outcome.user;
    reply.reason = outcome.reason;
    authenticator_.debug(std::string("client passdb out: ") +
                         (outcome.status == Outcome::Status::Ok ? "OK" : "FAIL") + "\tuser=" + outcome.user +
                         (outcome.status == Outcome::Status::TempFail ? "\tcode=temp_fail" : ""));
    if (outcome.status == Outcome::Status::Ok) {
        authenticator_.record_penalty(exchange.client, false, outcome.user, {});
        reply.status = rpc::AuthStatus::OK;
        reply.grant = outcome.grant;
        reply.challenge = final_data;
        cob(reply);
        return;
    }
    if (outcome.status == Outcome::Status::Failed)
        authenticator_.record_penalty(exchange.client, true, outcome.user, exchange.password);
    reply.status = outcome.status == Outcome::Status::TempFail ? rpc::AuthStatus::TEMPFAIL : rpc::AuthStatus::FAILED;
    // Slow down password guessing: a failure is answered only after the delay.
    after(failure_delay_, [cob, reply] { cob(reply); });
}

void AuthHandler::after(std::chrono::milliseconds delay, std::function<void()> fn)
{
    uint64_t key = next_delay_++;
    auto timer = std::make_unique<Timer>(base_, [this, key, fn] {
        auto keep = std::move(delayed_[key]);
        delayed_.erase(key);
        fn();
    });
    timer->start(delay);
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
    Outcome outcome = authenticator_.lookup(user, client_of(client, service_));
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
