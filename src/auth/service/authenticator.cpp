#include "auth/service/authenticator.h"

#include "auth/password_scheme.h"
#include "auth/session_grant.h"
#include "config/var_expand.h"
#include "lib/privilege.h"
#include "lib/strings.h"

#include <grp.h>
#include <openssl/rand.h>

#include <ctime>

namespace loft::auth::service {

namespace {

constexpr int64_t kGrantLifetime = 24 * 60 * 60;
constexpr size_t kMaxLoginLength = 512;

config::VarTable user_vars(const std::string& user, const Client& client)
{
    config::VarTable vars;
    vars.set('u', "user", user);
    auto at = user.find('@');
    vars.set('n', "username", user.substr(0, at));
    vars.set('d', "domain", at == std::string::npos ? "" : user.substr(at + 1));
    vars.set('s', "service", client.protocol);
    vars.set('r', "rip", client.remote_ip);
    vars.set('l', "lip", client.local_ip);
    vars.set('\0', "session", client.session_id);
    return vars;
}

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

Authenticator::Authenticator(const config::Settings& settings, std::string secret, const Logger& log)
    : log_(log), secret_(std::move(secret))
{
    for (const std::string& mechanism : split_words(settings.get("auth_mechanisms")))
        mechanisms_.push_back(to_upper(mechanism));
    disable_plaintext_auth_ = settings.get_bool("disable_plaintext_auth");
    verbose_ = settings.get_bool("auth_verbose");
    username_format_ = settings.get("auth_username_format");
    default_realm_ = settings.get("auth_default_realm");
    mail_location_ = settings.get("mail_location");
    mail_uid_ = settings.get("mail_uid");
    mail_gid_ = settings.get("mail_gid");
    auto load = [&](const char* type, std::vector<Database>& into) {
        int index = 0;
        for (const config::Section* section : settings.sections(type)) {
            Database database;
            database.driver = section->get_or("driver", "");
            database.args = section->get_or("args", "");
            database.location = std::string(type) + " #" + std::to_string(++index);
            if (database.driver == "passwd-file") {
                database.passwd_file = parse_passwd_file_args(database.args);
            } else if (database.driver == "static") {
                for (const std::string& word : split_words(database.args)) {
                    auto equals = word.find('=');
                    if (equals != std::string::npos)
                        database.static_fields[word.substr(0, equals)] = word.substr(equals + 1);
                    else
                        database.static_fields[word] = "";
                }
            } else {
                log_.error(database.location + ": driver " + database.driver +
                           " is not supported yet; lookups through it fail temporarily");
            }
            into.push_back(std::move(database));
        }
    };
    load("passdb", passdbs_);
    load("userdb", userdbs_);
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
    if (!known)
        return false;
    bool plaintext = mechanism == "PLAIN" || mechanism == "LOGIN";
    return !(plaintext && disable_plaintext_auth_ && !client.secured);
}

std::string Authenticator::normalize_login(const std::string& login) const
{
    std::string user = login;
    if (!default_realm_.empty() && user.find('@') == std::string::npos)
        user += "@" + default_realm_;
    config::VarTable vars = user_vars(user, Client{});
    return config::expand(username_format_, vars);
}

void Authenticator::verbose(const std::string& driver, const std::string& user, const Client& client,
                            const std::string& message) const
{
    if (verbose_)
        log_.info(driver + "(" + user + "," + client.remote_ip + ",<" + client.session_id + ">): " + message);
}

std::optional<UserRecord> Authenticator::passwd_file_lookup(const Database& database, const std::string& user)
{
    std::string path = config::expand(database.passwd_file.path, user_vars(user, Client{}));
    auto& file = files_[path];
    if (!file)
        file = std::make_unique<PasswdFile>(path);
    try {
        std::string key = config::expand(database.passwd_file.username_format, user_vars(user, Client{}));
        return file->lookup(key);
    } catch (const PasswdFileMissing&) {
        if (database.passwd_file.path.find('%') != std::string::npos)
            return std::nullopt;  // per-domain file for a domain we do not have
        throw;
    }
}

Outcome Authenticator::verify(const std::string& login, const std::string& password, const Client& client)
{
    Outcome outcome;
    outcome.reason = "Authentication failed.";
    if (login.empty() || login.size() > kMaxLoginLength || password.size() > kMaxLoginLength)
        return outcome;
    std::string user;
    try {
        user = normalize_login(login);
    } catch (const std::exception& error) {
        log_.error(std::string("auth_username_format: ") + error.what());
        outcome.status = Outcome::Status::TempFail;
        outcome.reason = "Temporary authentication failure.";
        return outcome;
    }
    outcome.user = user;
    bool verified = false;
    for (const Database& database : passdbs_) {
        try {
            if (database.driver == "passwd-file") {
                auto record = passwd_file_lookup(database, user);
                if (!record) {
                    verbose(database.driver, user, client, "unknown user");
                    continue;
                }
                auto result = verify_password(record->password, password, database.passwd_file.scheme, user);
                if (!result.ok) {
                    verbose(database.driver, user, client,
                            result.error.empty() ? "Password mismatch" : "Invalid password in passdb: " + result.error);
                    continue;
                }
                verified = true;
                break;
            }
            if (database.driver == "static") {
                auto stored = database.static_fields.find("password");
                if (stored == database.static_fields.end())
                    continue;
                if (verify_password(stored->second, password, "PLAIN", user).ok) {
                    verified = true;
                    break;
                }
                verbose(database.driver, user, client, "Password mismatch");
                continue;
            }
            outcome.status = Outcome::Status::TempFail;
            outcome.reason = "Temporary authentication failure.";
            return outcome;
        } catch (const std::exception& error) {
            log_.error(database.location + " (" + database.driver + "): " + error.what());
            outcome.status = Outcome::Status::TempFail;
            outcome.reason = "Temporary authentication failure.";
            return outcome;
        }
    }
    if (!verified)
        return outcome;
    try {
        auto fields = userdb_lookup(user, client);
        if (!fields) {
            log_.error("userdb(" + user + "," + client.remote_ip + "): user not found from any userdb");
            outcome.status = Outcome::Status::TempFail;
            outcome.reason = "Temporary authentication failure.";
            return outcome;
        }
        return grant_for(*fields, client);
    } catch (const std::exception& error) {
        log_.error("userdb(" + user + "): " + error.what());
        outcome.status = Outcome::Status::TempFail;
        outcome.reason = "Temporary authentication failure.";
        return outcome;
    }
}

Outcome Authenticator::lookup(const std::string& login, const Client& client)
{
    Outcome outcome;
    if (login.empty() || login.size() > kMaxLoginLength)
        return outcome;
    try {
        std::string user = normalize_login(login);
        outcome.user = user;
        auto fields = userdb_lookup(user, client);
        if (!fields) {
            outcome.reason = "User doesn't exist";
            return outcome;
        }
        return grant_for(*fields, client);
    } catch (const std::exception& error) {
        log_.error("userdb(" + login + "): " + error.what());
        outcome.status = Outcome::Status::TempFail;
        outcome.reason = "Temporary user lookup failure";
        return outcome;
    }
}

std::optional<Authenticator::UserFields> Authenticator::userdb_lookup(const std::string& user, const Client& client)
{
    for (const Database& database : userdbs_) {
        UserFields fields;
        fields.user = user;
        if (database.driver == "passwd-file") {
            auto record = passwd_file_lookup(database, user);
            if (!record)
                continue;
            fields.uid = record->uid;
            fields.gid = record->gid;
            fields.home = record->home;
            for (const auto& [key, value] : record->extra) {
                std::string name = key.rfind("userdb_", 0) == 0 ? key.substr(7) : key;
                if (name == "mail")
                    fields.mail = value;
                else if (name == "home")
                    fields.home = value;
                else if (name == "uid")
                    fields.uid = resolve_id(value, false);
                else if (name == "gid")
                    fields.gid = resolve_id(value, true);
            }
            return fields;
        }
        if (database.driver == "static") {
            config::VarTable vars = user_vars(user, client);
            for (const auto& [key, value] : database.static_fields) {
                std::string expanded = config::expand(value, vars);
                if (key == "uid")
                    fields.uid = resolve_id(expanded, false);
                else if (key == "gid")
                    fields.gid = resolve_id(expanded, true);
                else if (key == "home")
                    fields.home = expanded;
                else if (key == "mail")
                    fields.mail = expanded;
            }
            return fields;
        }
        throw std::runtime_error(database.location + ": driver " + database.driver + " is not supported yet");
    }
    return std::nullopt;
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
