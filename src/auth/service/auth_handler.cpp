#include "auth/service/auth_handler.h"

#include "lib/strings.h"
#include "lib/tls.h"

namespace loft::auth::service {

Client client_of(const rpc::ClientInfo& info, const std::string& service)
{
    Client client;
    client.protocol = service;
    client.remote_ip = info.remote_ip;
    client.local_ip = info.local_ip;
    client.secured = info.secured;
    client.session_id = info.session_id;
    // The worker vouches for its TLS layer's verdict (loftd's workers are trusted for that,
    // as Dovecot's login processes are); without TLS there is no certificate to speak of.
    if (info.tls) {
        client.valid_client_cert = info.valid_client_cert;
        if (client.valid_client_cert && info.cert_username.size() <= kMaxCertUsernameLength &&
            info.cert_username.find('\0') == std::string::npos)
            client.cert_username = info.cert_username;
    }
    return client;
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
    exchange.client.mechanism = exchange.mechanism;
    if (exchange.mechanism.size() <= 64 && authenticator_.mechanism_allowed(exchange.mechanism, exchange.client))
        exchange.sasl = make_sasl_mechanism(exchange.mechanism, authenticator_.sasl_settings_for(exchange.client));
    if (!exchange.sasl) {
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
    if (auto refusal = authenticator_.certificate_refusal(exchange.client)) {
        // auth_ssl_require_client_cert: refused before the mechanism runs, in Dovecot's words.
        refuse(cob, exchange, "", *refusal, *refusal);
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
    spawn(run_step(shared_from_this(), std::move(cob), id, std::move(exchange), response, has_data), nullptr);
}

Task<void> AuthHandler::run_step(std::shared_ptr<AuthHandler>, ReplyCob cob, int64_t id, Exchange exchange,
                                 std::string response, bool has_data)
{
    bool broken = false;
    Client client = exchange.client;
    try {
        co_await advance(cob, id, std::move(exchange), std::move(response), has_data);
    } catch (const std::exception&) {
        broken = true;
    }
    if (broken) {
        Exchange failed;
        failed.client = std::move(client);
        finish(cob, failed, Outcome{Outcome::Status::TempFail, "", "", "Temporary authentication failure."});
    }
}

Task<void> AuthHandler::advance(ReplyCob cob, int64_t id, Exchange exchange, std::string response, bool has_data)
{
    SaslOutcome outcome = exchange.sasl->step(response, has_data);
    // auth_ssl_username_from_cert: the certificate names the user, whatever login the
    // client gave (the password is then checked for that user).
    if (std::string cert_user = authenticator_.certificate_user(exchange.client);
        !cert_user.empty() && (outcome.kind == SaslOutcome::Kind::VerifyPassword ||
                               outcome.kind == SaslOutcome::Kind::LookupCredentials))
        outcome.user = cert_user;
    if (outcome.kind == SaslOutcome::Kind::LookupCredentials) {
        std::string credentials;
        Outcome found = co_await authenticator_.lookup_credentials(outcome.user, outcome.scheme, exchange.client,
                                                                   credentials, outcome.authzid);
        if (found.status == Outcome::Status::TempFail) {
            finish(cob, exchange, found);
            co_return;
        }
        if (found.status != Outcome::Status::Ok) {
            // The passdb step already logged why (unknown user, wrong scheme).
            finish(cob, exchange, Outcome{Outcome::Status::Failed, found.user, "", "Authentication failed."});
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
        exchange.password = outcome.password;
        if (!outcome.authzid.empty() && outcome.authzid != outcome.user) {
            Outcome verdict =
                co_await authenticator_.verify_as(outcome.authzid, outcome.user, outcome.password, exchange.client);
            finish(cob, exchange, verdict);
        } else {
            Outcome verdict =
                co_await authenticator_.verify(outcome.user, outcome.password, exchange.client, exchange.mechanism);
            finish(cob, exchange, verdict);
        }
        co_return;
    }
    case SaslOutcome::Kind::Success:
        co_await succeed(cob, exchange, outcome);
        co_return;
    case SaslOutcome::Kind::LookupUser:
        // EXTERNAL, as Dovecot 2.3: the certificate's user goes through the passdbs with an
        // empty password (so a passdb must say nopassword for it, e.g. a static passdb with
        // mechanisms = external); an authzid naming someone else is a master login.
        if (!outcome.authzid.empty() && outcome.authzid != outcome.user) {
            Outcome verdict = co_await authenticator_.verify_as(outcome.authzid, outcome.user, "", exchange.client);
            finish(cob, exchange, verdict);
        } else {
            Outcome verdict = co_await authenticator_.verify(outcome.user, "", exchange.client, exchange.mechanism);
            finish(cob, exchange, verdict);
        }
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
        // A master login's credentials were looked up for the authzid already (exchange.user
        // is then that target); any other authzid was never authorized.
        refuse(cob, exchange, user, "authzid not allowed for this mechanism");
        co_return;
    }
    if (exchange.mechanism == "ANONYMOUS" && authenticator_.verbose())
        authenticator_.log_mechanism(exchange.mechanism, exchange.client, outcome.user, "login");
    Outcome granted = co_await authenticator_.grant_login(user, exchange.client);
    finish(cob, exchange, granted, outcome.data);
}

void AuthHandler::refuse(ReplyCob cob, const Exchange& exchange, const std::string& user, const std::string& error,
                         const std::string& client_reason)
{
    if (authenticator_.verbose() && !error.empty()) {
        // Dovecot capitalizes this one message of the mechanisms.
        authenticator_.log_mechanism(exchange.mechanism, exchange.client, user.empty() ? "?" : user,
                          error == "password mismatch" ? "Password mismatch" : error);
    }
    finish(cob, exchange, Outcome{Outcome::Status::Failed, user, "", client_reason});
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
