#include "auth/service/auth_handler.h"

#include "auth/sasl_plain.h"
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
    if (!authenticator_.mechanism_allowed(exchange.mechanism, exchange.client)) {
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
    if (request.__isset.initial_response) {
        step(cob, id, std::move(exchange), request.initial_response);
        return;
    }
    if (exchange.mechanism == "LOGIN") {
        challenge(cob, id, std::move(exchange), "Username:");
        return;
    }
    challenge(cob, id, std::move(exchange), "");
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
    step(cob, request, std::move(exchange), response);
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

void AuthHandler::step(ReplyCob cob, int64_t id, Exchange exchange, const std::string& response)
{
    if (exchange.mechanism == "PLAIN") {
        auto credentials = parse_sasl_plain(response);
        if (!credentials) {
            finish(cob, Outcome{Outcome::Status::Failed, "", "", "Invalid base64 data in continued response"});
            return;
        }
        if (!credentials->authzid.empty() && credentials->authzid != credentials->authcid) {
            // Master users (authzid) come with the master passdb support.
            finish(cob, Outcome{Outcome::Status::Failed, credentials->authcid, "", "Authentication failed."});
            return;
        }
        finish(cob, authenticator_.verify(credentials->authcid, credentials->password, exchange.client));
        return;
    }
    if (exchange.mechanism == "LOGIN") {
        if (exchange.step == 0) {
            exchange.login = response;
            exchange.step = 1;
            challenge(cob, id, std::move(exchange), "Password:");
            return;
        }
        finish(cob, authenticator_.verify(exchange.login, response, exchange.client));
        return;
    }
    finish(cob, Outcome{Outcome::Status::Failed, "", "", "Unsupported authentication mechanism."});
}

void AuthHandler::finish(ReplyCob cob, const Outcome& outcome)
{
    rpc::AuthReply reply;
    reply.user = outcome.user;
    reply.reason = outcome.reason;
    if (outcome.status == Outcome::Status::Ok) {
        reply.status = rpc::AuthStatus::OK;
        reply.grant = outcome.grant;
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
