#include "auth/service/auth_client_server.h"

#include "auth/auth_client_protocol.h"
#include "auth/encoding.h"
#include "auth/sasl_mechanism.h"
#include "lib/strings.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <map>

namespace loft::auth::service {

namespace {

// Bounds on what one client may hold open; Postfix uses one request at a time.
constexpr size_t kMaxPendingRequests = 16;
constexpr unsigned kMaxConnections = 1000;
constexpr auto kIdleTimeout = std::chrono::seconds(60 * 10);

std::string random_cookie()
{
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1)
        throw std::runtime_error("cannot generate an auth-client cookie");
    return hex_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

// One AUTH request waiting for the client's next CONT.
struct PendingRequest {
    std::unique_ptr<SaslMechanism> mechanism;
    Client client;
};

Client client_from(const AuthClientLine& line)
{
    AuthRequest request = auth_request_from(line);
    Client client;
    client.protocol = request.service;
    client.remote_ip = request.remote_ip;
    client.local_ip = request.local_ip;
    // As Dovecot: a connection from the server's own address counts as secured.
    client.secured = request.secured || (!request.remote_ip.empty() && request.remote_ip == request.local_ip);
    if (auto session = line.params.find("session"); session != line.params.end())
        client.session_id = session->second;
    client.no_penalty = line.params.contains("no-penalty");
    return client;
}

// The request line for "client in:" debug lines: the SASL response hidden as Dovecot
// does unless auth_debug_passwords is set.
std::string loggable_request(const std::string& line, bool show_passwords)
{
    if (show_passwords)
        return line;
    if (line.starts_with("CONT\t")) {
        size_t id_end = line.find('\t', 5);
        return id_end == std::string::npos ? line : line.substr(0, id_end + 1) + "<hidden>";
    }
    std::string shown;
    for (const std::string& field : split(line, '\t')) {
        if (!shown.empty())
            shown += '\t';
        shown += field.starts_with("resp=") ? std::string("resp=<hidden>") : field;
    }
    return shown;
}

}  // namespace

AuthClientServer::AuthClientServer(event_base* base, Authenticator& authenticator, AuthClientSettings settings,
                                   const Logger& log)
    : base_(base), authenticator_(authenticator), settings_(std::move(settings)), log_(log)
{
}

void AuthClientServer::listen(int listen_fd)
{
    acceptors_.push_back(std::make_unique<Acceptor>(base_, listen_fd, [this](UniqueFd fd) { serve(std::move(fd)); }));
}

void AuthClientServer::serve(UniqueFd connection)
{
    if (open_connections_ >= kMaxConnections) {
        log_.warning("auth-client: too many connections, refusing one");
        return;
    }
    auto stream = std::make_shared<AsyncStream>(base_, std::move(connection));
    stream->set_idle_timeout(std::chrono::duration_cast<std::chrono::seconds>(kIdleTimeout));
    ++open_connections_;
    spawn(run_connection(stream, next_connection_id_++), [this](std::exception_ptr error) {
        --open_connections_;
        if (!error)
            return;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& failure) {
            log_.error(std::string("auth-client connection: ") + failure.what());
        }
    });
}

Task<void> AuthClientServer::run_connection(std::shared_ptr<AsyncStream> stream, unsigned connection_id)
{
    std::vector<MechanismInfo> offered;
    for (const std::string& name : settings_.mechanisms) {
        if (make_sasl_mechanism(name, SaslSettings{}))
            offered.push_back(mechanism_info(name));
    }
    stream->write(format_auth_handshake(offered, static_cast<uint64_t>(getpid()), connection_id, random_cookie()));

    SaslSettings sasl;
    sasl.hostname = settings_.hostname;
    sasl.realms = settings_.realms;
    std::map<unsigned, PendingRequest> pending;
    bool version_seen = false;

    // Sends the answer to one step of a mechanism; failures wait auth_failure_delay first
    // to slow down password guessing.
    // Every reply goes through here for auth_debug's "client passdb out:" line.
    auto send = [&](const std::string& reply) {
        log_.debug("client passdb out: " + (reply.ends_with('\n') ? reply.substr(0, reply.size() - 1) : reply));
        stream->write(reply);
    };
    // A failure also raises the client IP's auth penalty (password: what a plaintext
    // mechanism sent, so that retrying the same one does not raise it further).
    // (string_view parameters: no std::string temporaries around the co_await at the
    // call sites, which GCC 12 miscompiles.)
    auto fail = [&](unsigned id, const Client& client, std::string_view user, std::string_view reason, bool temp,
                    std::string_view password) -> Task<void> {
        std::string failed_user(user), failure_reason(reason);
        if (!temp)
            authenticator_.record_penalty(client, true, failed_user, std::string(password));
        if (!temp && settings_.failure_delay.count() > 0)
            co_await sleep_for(base_, settings_.failure_delay);
        send(format_auth_fail(id, failed_user, failure_reason, temp));
    };

    while (!stream->closed()) {
        auto line = co_await stream->read_line(max_auth_client_line);
        if (line.status == AsyncStream::LineStatus::Closed)
            break;
        if (line.status == AsyncStream::LineStatus::TooLong) {
            log_.error("auth-client: line too long, disconnecting");
            break;
        }
        std::string error;
        auto parsed = parse_auth_client_line(line.text, error);
        if (!parsed) {
            log_.error("auth-client: " + error + ", disconnecting");
            break;
        }
        if (parsed->kind == AuthClientLine::Kind::Version) {
            if (parsed->major != auth_protocol_major) {
                log_.error("auth-client: protocol version " + std::to_string(parsed->major) + " not supported");
                break;
            }
            version_seen = true;
            continue;
        }
        if (!version_seen) {
            log_.error("auth-client: request before VERSION, disconnecting");
            break;
        }
        if (parsed->kind == AuthClientLine::Kind::Cpid)
            continue;
        log_.debug("client in: " + loggable_request(line.text, authenticator_.debug_passwords()));

        unsigned id = parsed->id;
        SaslOutcome outcome;
        Client client;
        std::unique_ptr<SaslMechanism> mechanism;
        if (parsed->kind == AuthClientLine::Kind::Auth) {
            if (pending.contains(id)) {
                log_.error("auth-client: request id " + std::to_string(id) + " already in use, disconnecting");
                break;
            }
            client = client_from(*parsed);
            std::string name = to_upper(parsed->mechanism);
            client.mechanism = name;
            bool configured = false;
            for (const std::string& offered_name : settings_.mechanisms)
                configured = configured || offered_name == name;
            mechanism = configured ? make_sasl_mechanism(name, sasl) : nullptr;
            if (!mechanism) {
                send(format_auth_fail(id, "", "Unsupported authentication mechanism", false));
                continue;
            }
            if (sasl_mechanism_is_plaintext(name) && settings_.disable_plaintext_auth && !client.secured) {
                send(format_auth_fail(id, "", "Plaintext authentication disabled", false));
                continue;
            }
            std::string data;
            if (parsed->response) {
                auto decoded = base64_decode(*parsed->response, max_sasl_message * 2);
                if (!decoded) {
                    co_await fail(id, client, "", "Invalid base64 data in initial response", false, "");
                    continue;
                }
                data = std::move(*decoded);
            }
            // As Dovecot: an IP with an auth penalty waits before its request is looked at.
            if (unsigned penalty_secs = authenticator_.penalty_delay_secs(client); penalty_secs > 0)
                co_await sleep_for(base_, std::chrono::seconds(penalty_secs));
            outcome = mechanism->step(data, parsed->response.has_value());
        } else {  // CONT
            auto found = pending.find(id);
            if (found == pending.end()) {
                log_.error("auth-client: CONT for unknown request " + std::to_string(id) + ", disconnecting");
                break;
            }
            mechanism = std::move(found->second.mechanism);
            client = found->second.client;
            pending.erase(found);
            auto decoded = base64_decode(parsed->response.value_or(""), max_sasl_message * 2);
            if (!decoded) {
                co_await fail(id, client, "", "Invalid base64 data in continued response", false, "");
                continue;
            }
            outcome = mechanism->step(*decoded);
        }

        if (outcome.kind == SaslOutcome::Kind::LookupCredentials) {
            std::string credentials;
            Outcome looked_up =
                co_await authenticator_.lookup_credentials(outcome.user, outcome.scheme, client, credentials);
            if (looked_up.status == Outcome::Status::TempFail) {
                send(format_auth_fail(id, outcome.user, looked_up.reason, true));
                continue;
            }
            outcome = mechanism->credentials(looked_up.status == Outcome::Status::Ok
                                                 ? std::optional<std::string>(credentials)
                                                 : std::nullopt);
        }

        switch (outcome.kind) {
        case SaslOutcome::Kind::Challenge:
            if (pending.size() >= kMaxPendingRequests) {
                send(format_auth_fail(id, "", "Too many pending requests", true));
                break;
            }
            pending[id] = PendingRequest{std::move(mechanism), client};
            send(format_auth_cont(id, base64_encode(outcome.data)));
            break;
        case SaslOutcome::Kind::VerifyPassword: {
            // Logging in as someone else needs a master user, which this socket does not offer.
            if (!outcome.authzid.empty() && outcome.authzid != outcome.user) {
                co_await fail(id, client, outcome.user, "", false, outcome.password);
                break;
            }
            Outcome verdict = co_await authenticator_.check_password(outcome.user, outcome.password, client);
            if (verdict.status == Outcome::Status::Ok) {
                authenticator_.record_penalty(client, false, verdict.user, "");
                send(format_auth_ok(id, verdict.user));
            } else if (verdict.status == Outcome::Status::TempFail) {
                send(format_auth_fail(id, verdict.user, verdict.reason, true));
            } else {
                co_await fail(id, client, verdict.user, "", false, outcome.password);
            }
            break;
        }
        case SaslOutcome::Kind::Success:
            if (!outcome.authzid.empty() && outcome.authzid != outcome.user) {
                co_await fail(id, client, outcome.user, "", false, "");
                break;
            }
            authenticator_.record_penalty(client, false, outcome.user, "");
            // A final server message (SCRAM's verifier) travels in the OK line.
            send(format_auth_ok(id, outcome.user,
                                         outcome.data.empty() ? FieldMap{}
                                                              : FieldMap{{"resp", base64_encode(outcome.data)}}));
            break;
        case SaslOutcome::Kind::LookupUser:
            // EXTERNAL needs a TLS client certificate, which a SASL socket client cannot show.
            co_await fail(id, client, outcome.user, "", false, "");
            break;
        case SaslOutcome::Kind::LookupCredentials:
        case SaslOutcome::Kind::Failure:
            co_await fail(id, client, outcome.user, "", false, "");
            break;
        }
    }
    co_await stream->drain();
    stream->close();
}

}  // namespace loft::auth::service
