#include "auth/service/authenticator.h"

#include "auth/digest.h"
#include "auth/encoding.h"
#include "auth/password_scheme.h"
#include "auth/service/auth_settings.h"
#include "auth/session_grant.h"
#include "lib/privilege.h"
#include "lib/strings.h"

#include <grp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <ctime>

namespace loft::auth::service {

namespace {

constexpr int64_t kGrantLifetime = 24 * 60 * 60;

std::optional<uint32_t> resolve_id(const std::string& value, bool group)
{
    if (value.empty())
        return std::nullopt;
    if (auto number = parse_uint(value); number && *number <= UINT32_MAX)
        return static_cast<uint32_t>(*number);
    if (group) {
        struct group* entry = getgrnam(value.c_str());
        if (entry)
            return entry->gr_gid;
        return std::nullopt;
    }
    if (auto identity = lookup_user(value))
        return identity->uid;
    return std::nullopt;
}

std::string session_token()
{
    unsigned char bytes[9];
    RAND_bytes(bytes, sizeof(bytes));
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (size_t i = 0; i < sizeof(bytes); i += 3) {
        uint32_t word = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
        for (int shift = 18; shift >= 0; shift -= 6)
            out += kAlphabet[(word >> shift) & 63];
    }
    return out;
}

}  // namespace

namespace {

Outcome temporary_failure()
{
    return Outcome{Outcome::Status::TempFail, "", "", "Temporary authentication failure."};
}

}  // namespace

Authenticator::Authenticator(const config::Settings& settings, std::string secret, const Logger& log,
                             worker::WorkerPool* workers)
    : log_(log), secret_(std::move(secret))
{
    for (const std::string& mechanism : split_words(settings.get("auth_mechanisms")))
        mechanisms_.push_back(to_upper(mechanism));
    disable_plaintext_auth_ = settings.get_bool("disable_plaintext_auth");
    require_client_cert_ = settings.get_bool("auth_ssl_require_client_cert");
    username_from_cert_ = settings.get_bool("auth_ssl_username_from_cert");
    verbose_ = settings.get_bool("auth_verbose");
    verbose_passwords_ = to_lower(settings.get("auth_verbose_passwords"));
    debug_passwords_ = settings.get_bool("auth_debug_passwords");
    sasl_settings_.hostname = settings.get("hostname");
    if (sasl_settings_.hostname.empty()) {
        char name[256] = {};
        if (gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0')
            sasl_settings_.hostname = name;
        else
            sasl_settings_.hostname = "localhost";
    }
    sasl_settings_.realms = split_words(settings.get("auth_realms"));
    sasl_settings_.anonymous_username = settings.get("auth_anonymous_username");
    mail_uid_ = settings.get("mail_uid");
    mail_gid_ = settings.get("mail_gid");
    AuthSetup setup = load_auth_setup(settings, workers, &log_);
    cache_ = std::move(setup.cache);
    passdbs_ = std::move(setup.passdbs);
    userdbs_ = std::move(setup.userdbs);
    username_ = std::move(setup.username);
}

std::vector<std::string> Authenticator::mechanisms(const Client& client) const
{
    std::vector<std::string> allowed;
    for (const std::string& mechanism : mechanisms_) {
        if (mechanism_allowed(mechanism, client))
            allowed.push_back(mechanism);
    }
    return allowed;
}

bool Authenticator::mechanism_allowed(const std::string& mechanism, const Client& client) const
{
    bool known = false;
    for (const std::string& configured : mechanisms_)
        known = known || configured == mechanism;
    // A configured name this library cannot run (e.g. GSSAPI) is never offered.
    if (!known || !make_sasl_mechanism(mechanism, sasl_settings_))
        return false;
    return !(sasl_mechanism_is_plaintext(mechanism) && disable_plaintext_auth_ && !client.secured);
}

size_t Authenticator::flush_cache()
{
    if (!cache_)
        return 0;
    size_t dropped = cache_->entries();
    cache_->clear();
    return dropped;
}

unsigned Authenticator::penalty_delay_secs(const Client& client)
{
    if (client.no_penalty)
        return 0;
    unsigned penalty = penalty_.lookup(client.remote_ip, static_cast<int64_t>(time(nullptr)));
    return penalty == 0 ? 0 : auth_penalty_to_secs(penalty);
}

void Authenticator::record_penalty(const Client& client, bool failed, const std::string& user,
                                   const std::string& password)
{
    if (client.no_penalty)
        return;
    if (failed)
        penalty_.record_failure(client.remote_ip, user, password, static_cast<int64_t>(time(nullptr)));
    else
        penalty_.record_success(client.remote_ip);
}

SaslSettings Authenticator::sasl_settings_for(const Client& client) const
{
    SaslSettings settings = sasl_settings_;
    settings.certificate_username = certificate_user(client);
    return settings;
}

std::optional<std::string> Authenticator::certificate_refusal(const Client& client) const
{
    if (!require_client_cert_)
        return std::nullopt;
    if (!client.valid_client_cert)
        return "Client didn't present valid SSL certificate";
    if (username_from_cert_ && client.cert_username.empty())
        return "SSL certificate didn't contain username";
    return std::nullopt;
}

std::string Authenticator::certificate_user(const Client& client) const
{
    return username_from_cert_ && client.valid_client_cert ? client.cert_username : std::string();
}

AuthRequest Authenticator::request_for(const std::string& user, const Client& client) const
{
    AuthRequest request;
    request.user = user;
    request.service = client.protocol;
    request.local_ip = client.local_ip;
    request.remote_ip = client.remote_ip;
    request.secured = client.secured;
    request.session = client.session_id;
    request.mechanism = client.mechanism;
    return request;
}

void Authenticator::log_steps(const std::vector<ChainStep>& steps, const std::string& user, const Client& client,
                              bool master, const std::string& note) const
{
    if (!verbose_)
        return;
    for (const ChainStep& step : steps) {
        if (step.status == PassdbStatus::Ok || step.error.empty())
            continue;
        std::string line = step.driver + "(" + user + "," + client.remote_ip + (master ? ",master" : "") + ",<" +
                           client.session_id + ">): " + step.error;
        // Dovecot's wording: the password note follows "unknown user" and "Password
        // mismatch" (an empty note still leaves the space after "unknown user").
        if (step.status == PassdbStatus::UserUnknown)
            line += " " + note;
        else if (step.status == PassdbStatus::PasswordMismatch && !note.empty())
            line += " " + note;
        log_.info(line);
    }
}

void Authenticator::log_mechanism(const std::string& mechanism, const Client& client, const std::string& user,
                                  const std::string& message) const
{
    log_.info(to_lower(mechanism) + "(" + user + "," + client.remote_ip + ",<" + client.session_id + ">): " + message);
}

std::string Authenticator::password_note(const std::string& password) const
{
    if (verbose_passwords_ == "plain" || verbose_passwords_ == "yes")
        return "(given password: " + password + ")";
    if (verbose_passwords_.rfind("sha1", 0) != 0)
        return "";
    std::string hash = hex_encode(digest(HashAlgorithm::Sha1, password));
    if (verbose_passwords_.size() > 5 && verbose_passwords_[4] == ':') {
        if (auto length = parse_uint(verbose_passwords_.substr(5)); length && *length > 0 && *length < hash.size())
            hash.resize(*length);
    }
    return "(SHA1 of given password: " + hash + ")";
}

Task<std::optional<Outcome>> Authenticator::run_passdbs(LoginName name, std::string password, Client client,
                                                        std::string& user, FieldMap* passdb_fields)
{
    Outcome failed{Outcome::Status::Failed, "", "", "Authentication failed."};
    // A failed master login names the master user, as Dovecot's "Disconnected" line does.
    failed.user = name.master_user.empty() ? name.user : name.master_user;
    PassdbChainResult result;
    std::string note = password_note(password);
    try {
        if (name.master_user.empty()) {
            AuthRequest request = request_for(name.user, client);
            result = co_await passdbs_.verify_plain_async(std::move(request), password);
        } else {
            AuthRequest master = request_for(name.master_user, client);
            AuthRequest target = request_for(name.user, client);
            result = co_await passdbs_.verify_master_plain_async(std::move(master), std::move(target), password);
        }
    } catch (const std::exception& failure) {
        log_.error("passdb(" + name.user + "): " + failure.what());
        co_return temporary_failure();
    }
    if (name.master_user.empty())
        log_steps(result.steps, name.user, client, false, note);
    else
        log_steps(result.steps, name.master_user, client, true, note);
    if (result.status == PassdbStatus::InternalFailure)
        co_return temporary_failure();
    if (result.status != PassdbStatus::Ok)
        co_return failed;
    if (!name.master_user.empty() && verbose_)
        log_.info("Master user logging in as " + name.user);
    // The passdb may have changed the user name (user= field).
    user = result.fields.count("user") ? result.fields.at("user") : name.user;
    if (passdb_fields)
        *passdb_fields = result.fields;
    co_return std::optional<Outcome>();
}

Task<Outcome> Authenticator::check_password(std::string login, std::string password, Client client)
{
    std::string error;
    auto name = normalize_login(login, username_, error);
    if (!name) {
        if (verbose_)
            log_.info("auth(" + login + "," + client.remote_ip + "): " + error);
        co_return Outcome{Outcome::Status::Failed, login, "", "Authentication failed."};
    }
    std::string user;
    std::optional<Outcome> refused = co_await run_passdbs(*name, password, client, user);
    if (refused)
        co_return *refused;
    co_return Outcome{Outcome::Status::Ok, user, "", ""};
}

Task<Outcome> Authenticator::lookup_credentials(std::string login, std::string scheme, Client client,
                                                std::string& credentials, std::string authzid)
{
    Outcome failed{Outcome::Status::Failed, login, "", "Authentication failed."};
    std::string error;
    std::optional<LoginName> name;
    if (!authzid.empty() && authzid != login) {
        auto master = normalize_username(login, username_, error);
        auto target = master ? normalize_username(authzid, username_, error) : std::nullopt;
        if (master && target)
            name = LoginName{*target, *master};
    } else if (scheme == "DIGEST-MD5") {
        // Dovecot's DIGEST-MD5 hashes the name as sent: user*master never matches.
        if (auto user = normalize_username(login, username_, error))
            name = LoginName{*user, ""};
    } else {
        name = normalize_login(login, username_, error);
    }
    if (!name) {
        if (verbose_)
            log_mechanism(scheme, client, "?", error);
        co_return failed;
    }
    bool master = !name->master_user.empty();
    failed.user = master ? name->master_user : name->user;
    PassdbChainResult result;
    try {
        if (master) {
            AuthRequest master_request = request_for(name->master_user, client);
            AuthRequest target_request = request_for(name->user, client);
            result = co_await passdbs_.lookup_master_credentials_async(std::move(master_request),
                                                                       std::move(target_request), scheme);
        } else {
            AuthRequest request = request_for(name->user, client);
            result = co_await passdbs_.lookup_credentials_async(std::move(request), scheme);
        }
    } catch (const std::exception& failure) {
        log_.error("passdb(" + failed.user + "): " + failure.what());
        co_return temporary_failure();
    }
    log_steps(result.steps, failed.user, client, master);
    if (result.status == PassdbStatus::InternalFailure)
        co_return temporary_failure();
    if (result.status != PassdbStatus::Ok)
        co_return failed;
    if (master && verbose_)
        log_.info("Master user logging in as " + name->user);
    credentials = result.credentials;
    std::string user = result.fields.count("user") ? result.fields.at("user") : name->user;
    co_return Outcome{Outcome::Status::Ok, user, "", ""};
}

Task<Outcome> Authenticator::verify(std::string login, std::string password, Client client, std::string mechanism)
{
    std::string error;
    auto name = normalize_login(login, username_, error);
    if (!name) {
        if (verbose_)
            log_mechanism(mechanism, client, "?", error);
        co_return Outcome{Outcome::Status::Failed, login, "", "Authentication failed."};
    }
    Outcome outcome = co_await verify_name(*name, password, client);
    co_return outcome;
}

Task<Outcome> Authenticator::verify_as(std::string target, std::string master, std::string password, Client client)
{
    if (target.empty() || target == master) {
        Outcome outcome = co_await verify(master, password, client);
        co_return outcome;
    }
    std::string error;
    auto master_name = normalize_username(master, username_, error);
    auto target_name = master_name ? normalize_username(target, username_, error) : std::nullopt;
    if (!master_name || !target_name) {
        if (verbose_)
            log_mechanism("PLAIN", client, "?", error);
        co_return Outcome{Outcome::Status::Failed, master, "", "Authentication failed."};
    }
    LoginName name{*target_name, *master_name};
    Outcome outcome = co_await verify_name(name, password, client);
    co_return outcome;
}

Task<Outcome> Authenticator::verify_name(LoginName name, std::string password, Client client)
{
    std::string user;
    FieldMap passdb_fields;
    std::optional<Outcome> refused = co_await run_passdbs(name, password, client, user, &passdb_fields);
    if (refused)
        co_return *refused;
    Outcome outcome = co_await grant_login(user, client, std::move(passdb_fields));
    co_return outcome;
}

Task<Outcome> Authenticator::grant_login(std::string user, Client client, FieldMap passdb_fields)
{
    try {
        AuthRequest request = request_for(user, client);
        request.passdb_fields = std::move(passdb_fields);  // for userdb prefetch
        std::optional<UserFields> fields = co_await userdb_lookup(std::move(request));
        if (!fields) {
            log_.error("userdb(" + user + "," + client.remote_ip + ",<" + client.session_id +
                       ">): user not found from any userdb");
            co_return temporary_failure();
        }
        co_return grant_for(*fields, client);
    } catch (const std::exception& failure) {
        log_.error("userdb(" + user + "): " + failure.what());
        co_return temporary_failure();
    }
}

Task<Outcome> Authenticator::lookup(std::string login, Client client)
{
    Outcome outcome;
    std::string error;
    auto name = normalize_username(login, username_, error);
    if (!name) {
        outcome.user = login;
        outcome.reason = "User doesn't exist";
        co_return outcome;
    }
    outcome.user = *name;
    try {
        AuthRequest request = request_for(*name, client);
        std::optional<UserFields> fields = co_await userdb_lookup(std::move(request));
        if (!fields) {
            outcome.reason = "User doesn't exist";
            co_return outcome;
        }
        co_return grant_for(*fields, client);
    } catch (const std::exception& failure) {
        log_.error("userdb(" + *name + "): " + failure.what());
        outcome.status = Outcome::Status::TempFail;
        outcome.reason = "Temporary user lookup failure";
        co_return outcome;
    }
}

Task<std::optional<Authenticator::UserFields>> Authenticator::userdb_lookup(AuthRequest request)
{
    UserdbChainResult result = co_await userdbs_.lookup_async(request);
    if (result.status == UserdbStatus::UserUnknown)
        co_return std::optional<UserFields>();
    if (result.status != UserdbStatus::Ok)
        throw std::runtime_error(result.errors.empty() ? std::string("userdb lookup failed") : result.errors.back());
    UserFields fields;
    fields.user = result.fields.count("user") ? result.fields.at("user") : request.user;
    auto text = [&](const char* key) { return result.fields.count(key) ? result.fields.at(key) : std::string(); };
    fields.uid = resolve_id(text("uid"), false);
    fields.gid = resolve_id(text("gid"), true);
    fields.home = text("home");
    fields.mail = text("mail");
    co_return fields;
}

Outcome Authenticator::grant_for(const UserFields& fields, const Client& client)
{
    Outcome outcome;
    outcome.user = fields.user;
    SessionGrant grant;
    grant.user = fields.user;
    auto uid = fields.uid ? fields.uid : resolve_id(mail_uid_, false);
    auto gid = fields.gid ? fields.gid : resolve_id(mail_gid_, true);
    if (!uid || !gid) {
        log_.error("user " + fields.user + ": no uid/gid (set them in the userdb, or mail_uid/mail_gid)");
        outcome.status = Outcome::Status::TempFail;
        outcome.reason = "Temporary authentication failure.";
        return outcome;
    }
    grant.uid = *uid;
    grant.gid = *gid;
    grant.home = fields.home;
    grant.mail_location = fields.mail;
    grant.scope = client.protocol == "lmtp" ? "lmtp" : "imap";
    grant.session_id = client.session_id.empty() ? session_token() : client.session_id;
    grant.expires = static_cast<int64_t>(time(nullptr)) + kGrantLifetime;
    outcome.grant = sign_grant(grant, secret_);
    outcome.status = Outcome::Status::Ok;
    return outcome;
}

}  // namespace loft::auth::service
