#include "auth/sasl_mechanism.h"

#include "auth/digest.h"
#include "auth/encoding.h"
#include "auth/legacy_digest.h"
#include "auth/sasl_plain.h"
#include "lib/strings.h"

#include <ctime>
#include <map>
#include <optional>

namespace loft::auth {

namespace {

// Bound on user names and other identities a client may send.
constexpr size_t max_identity = 1024;

SaslOutcome challenge(std::string data)
{
    SaslOutcome outcome;
    outcome.kind = SaslOutcome::Kind::Challenge;
    outcome.data = std::move(data);
    return outcome;
}

SaslOutcome failure(std::string error)
{
    SaslOutcome outcome;
    outcome.kind = SaslOutcome::Kind::Failure;
    outcome.error = std::move(error);
    return outcome;
}

SaslOutcome success(std::string user, std::string authzid = {}, std::string data = {})
{
    SaslOutcome outcome;
    outcome.kind = SaslOutcome::Kind::Success;
    outcome.user = std::move(user);
    outcome.authzid = std::move(authzid);
    outcome.data = std::move(data);
    return outcome;
}

SaslOutcome lookup_credentials(std::string user, std::string scheme, std::string authzid = {})
{
    SaslOutcome outcome;
    outcome.kind = SaslOutcome::Kind::LookupCredentials;
    outcome.user = std::move(user);
    outcome.scheme = std::move(scheme);
    outcome.authzid = std::move(authzid);
    return outcome;
}

bool valid_identity(std::string_view text)
{
    return !text.empty() && text.size() <= max_identity && text.find('\0') == std::string_view::npos;
}

std::string random_nonce(const SaslSettings& settings)
{
    if (!settings.server_nonce.empty())
        return settings.server_nonce;
    // base64 of random bytes: printable and free of ',' and '"', as SCRAM and DIGEST-MD5 need.
    return base64_encode(random_bytes(24));
}

// Base for mechanisms: guards against messages after the end and oversized input.
class MechanismBase : public SaslMechanism {
public:
    SaslOutcome step(std::string_view client_data, bool has_data) final
    {
        if (finished_)
            return failure("unexpected data after the exchange ended");
        if (awaiting_credentials_)
            return finish(failure("client data while waiting for credentials"));
        if (client_data.size() > max_sasl_message)
            return finish(failure("client message too long"));
        return finish(next(client_data, has_data));
    }
    SaslOutcome credentials(const std::optional<std::string>& raw) final
    {
        if (finished_ || !awaiting_credentials_)
            return failure("credentials given without being asked for");
        awaiting_credentials_ = false;
        return finish(with_credentials(raw));
    }

protected:
    virtual SaslOutcome next(std::string_view data, bool has_data) = 0;
    virtual SaslOutcome with_credentials(const std::optional<std::string>&)
    {
        return failure("credentials given without being asked for");
    }

private:
    SaslOutcome finish(SaslOutcome outcome)
    {
        using enum SaslOutcome::Kind;
        if (outcome.kind == LookupCredentials)
            awaiting_credentials_ = true;
        else if (outcome.kind != Challenge)
            finished_ = true;
        return outcome;
    }

    bool finished_ = false;
    bool awaiting_credentials_ = false;
};

class PlainMechanism final : public MechanismBase {
public:
    std::string_view name() const override { return "PLAIN"; }

protected:
    SaslOutcome next(std::string_view data, bool has_data) override
    {
        if (!has_data && !asked_) {
            asked_ = true;
            return challenge({});
        }
        std::optional<PlainCredentials> creds = parse_sasl_plain(data);
        if (!creds || creds->authcid.size() > max_identity || creds->authzid.size() > max_identity)
            return failure("invalid input");
        SaslOutcome outcome;
    outcome.kind = SaslOutcome::Kind::VerifyPassword;
        outcome.user = std::move(creds->authcid);
        outcome.authzid = std::move(creds->authzid);
        outcome.password = std::move(creds->password);
        return outcome;
    }

private:
    bool asked_ = false;
};

class LoginMechanism final : public MechanismBase {
public:
    std::string_view name() const override { return "LOGIN"; }

protected:
    SaslOutcome next(std::string_view data, bool has_data) override
    {
        if (user_.empty()) {
            if (!has_data || (data.empty() && !asked_user_)) {
                asked_user_ = true;
                return challenge("Username:");
            }
            if (!valid_identity(data))
                return failure("invalid input");
            user_ = data;
            return challenge("Password:");
        }
        if (data.empty() || data.find('\0') != std::string_view::npos)
            return failure("invalid input");
        SaslOutcome outcome;
    outcome.kind = SaslOutcome::Kind::VerifyPassword;
        outcome.user = user_;
        outcome.password = data;
        return outcome;
    }

private:
    bool asked_user_ = false;
    std::string user_;
};

class CramMd5Mechanism final : public MechanismBase {
public:
    explicit CramMd5Mechanism(const SaslSettings& settings) : settings_(settings) {}
    std::string_view name() const override { return "CRAM-MD5"; }

protected:
    SaslOutcome next(std::string_view data, bool) override
    {
        if (challenge_.empty()) {
            if (!data.empty())
                return failure("CRAM-MD5 takes no initial response");
            std::string random = random_nonce(settings_);
            challenge_ = "<" + hex_encode(random.substr(0, 8)) + "." + std::to_string(time(nullptr)) +
                         "@" + settings_.hostname + ">";
            return challenge(challenge_);
        }
        // "user SP hex-digest"; the user name may itself contain spaces.
        size_t space = data.rfind(' ');
        if (space == std::string_view::npos)
            return failure("invalid input");
        std::optional<std::string> response = hex_decode(data.substr(space + 1));
        if (!response || response->size() != 16 || !valid_identity(data.substr(0, space)))
            return failure("invalid input");
        response_ = *response;
        user_ = data.substr(0, space);
        return lookup_credentials(user_, "CRAM-MD5");
    }

    SaslOutcome with_credentials(const std::optional<std::string>& raw) override
    {
        if (!raw || raw->size() != 32)
            return failure("no CRAM-MD5 credentials for user");
        if (!constant_time_equals(cram_md5_hmac(*raw, challenge_), response_))
            return failure("password mismatch");
        return success(user_);
    }

private:
    SaslSettings settings_;
    std::string challenge_, response_, user_;
};

// RFC 5802 saslname: ',' and '=' arrive as "=2C" and "=3D"; any other '=' is an error.
std::optional<std::string> decode_saslname(std::string_view text)
{
    std::string out;
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] == ',')
            return std::nullopt;
        if (text[i] != '=') {
            out += text[i];
            continue;
        }
        std::string_view escape = text.substr(i + 1, 2);
        if (escape == "2C")
            out += ',';
        else if (escape == "3D")
            out += '=';
        else
            return std::nullopt;
        i += 2;
    }
    return out;
}

class ScramMechanism final : public MechanismBase {
public:
    ScramMechanism(std::string name, HashAlgorithm algorithm, const SaslSettings& settings)
        : name_(std::move(name)), algorithm_(algorithm), settings_(settings)
    {
    }
    std::string_view name() const override { return name_; }

protected:
    SaslOutcome next(std::string_view data, bool has_data) override
    {
        if (client_first_bare_.empty()) {
            if (!has_data)
                return challenge({});
            return client_first(data);
        }
        if (!server_first_.empty() && !done_)
            return client_final(data);
        return failure("unexpected SCRAM message");
    }

    SaslOutcome with_credentials(const std::optional<std::string>& raw) override
    {
        if (!raw)
            return failure("no " + name_ + " credentials for user");
        std::vector<std::string> fields = split(*raw, ',');
        if (fields.size() != 4)
            return failure("invalid " + name_ + " credentials in passdb");
        std::optional<uint64_t> iterations = parse_uint(fields[0]);
        std::optional<std::string> salt = base64_decode(fields[1]);
        std::optional<std::string> stored = base64_decode(fields[2]);
        std::optional<std::string> server = base64_decode(fields[3]);
        size_t size = digest_size(algorithm_);
        if (!iterations || *iterations == 0 || !salt || salt->empty() || !stored ||
            stored->size() != size || !server || server->size() != size)
            return failure("invalid " + name_ + " credentials in passdb");
        stored_key_ = *stored;
        server_key_ = *server;
        nonce_ = client_nonce_ + random_nonce(settings_);
        server_first_ = "r=" + nonce_ + ",s=" + fields[1] + ",i=" + std::to_string(*iterations);
        return challenge(server_first_);
    }

private:
    SaslOutcome client_first(std::string_view data)
    {
        // gs2-header: cbind-flag "," [ "a=" authzid ] ","
        size_t first_comma = data.find(',');
        if (first_comma == std::string_view::npos)
            return failure("invalid initial message");
        std::string_view flag = data.substr(0, first_comma);
        if (flag.starts_with("p="))
            return failure("channel binding is not supported");
        if (flag != "n" && flag != "y")
            return failure("invalid GS2 header");
        size_t second_comma = data.find(',', first_comma + 1);
        if (second_comma == std::string_view::npos)
            return failure("invalid initial message");
        std::string_view authzid_field = data.substr(first_comma + 1, second_comma - first_comma - 1);
        if (!authzid_field.empty()) {
            if (!authzid_field.starts_with("a="))
                return failure("invalid authzid");
            auto decoded = decode_saslname(authzid_field.substr(2));
            if (!decoded || !valid_identity(*decoded))
                return failure("invalid authzid");
            authzid_ = *decoded;
        }
        gs2_header_ = data.substr(0, second_comma + 1);
        std::string_view bare = data.substr(second_comma + 1);
        std::vector<std::string> attributes = split(bare, ',');
        if (attributes.size() < 2 || attributes[0].starts_with("m="))
            return failure("invalid initial message");
        if (!attributes[0].starts_with("n=") || !attributes[1].starts_with("r="))
            return failure("invalid initial message");
        auto user = decode_saslname(std::string_view(attributes[0]).substr(2));
        if (!user || !valid_identity(*user))
            return failure("invalid username");
        client_nonce_ = attributes[1].substr(2);
        if (client_nonce_.empty())
            return failure("invalid client nonce");
        for (char c : client_nonce_) {
            if (c < 0x21 || c > 0x7e)
                return failure("invalid client nonce");
        }
        user_ = *user;
        client_first_bare_ = bare;
        return lookup_credentials(user_, name_, authzid_);
    }

    SaslOutcome client_final(std::string_view data)
    {
        done_ = true;
        size_t proof_at = data.rfind(",p=");
        if (proof_at == std::string_view::npos)
            return failure("invalid final message");
        std::string_view without_proof = data.substr(0, proof_at);
        std::vector<std::string> attributes = split(without_proof, ',');
        if (attributes.size() < 2 || !attributes[0].starts_with("c=") || !attributes[1].starts_with("r="))
            return failure("invalid final message");
        if (attributes[0].substr(2) != base64_encode(gs2_header_))
            return failure("channel binding data mismatch");
        if (attributes[1].substr(2) != nonce_)
            return failure("wrong nonce");
        std::optional<std::string> proof = base64_decode(data.substr(proof_at + 3));
        if (!proof || proof->size() != stored_key_.size())
            return failure("invalid client proof");

        std::string auth_message =
            client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
        std::string signature = hmac(algorithm_, stored_key_, auth_message);
        std::string client_key = *proof;
        for (size_t i = 0; i < client_key.size(); i++)
            client_key[i] = static_cast<char>(client_key[i] ^ signature[i]);
        if (!constant_time_equals(digest(algorithm_, client_key), stored_key_))
            return failure("password mismatch");
        std::string server_signature = hmac(algorithm_, server_key_, auth_message);
        return success(user_, authzid_, "v=" + base64_encode(server_signature));
    }

    std::string name_;
    HashAlgorithm algorithm_;
    SaslSettings settings_;
    std::string gs2_header_, client_first_bare_, client_nonce_, nonce_, server_first_;
    std::string user_, authzid_, stored_key_, server_key_;
    bool done_ = false;
};

class AnonymousMechanism final : public MechanismBase {
public:
    explicit AnonymousMechanism(std::string username) : username_(std::move(username)) {}
    std::string_view name() const override { return "ANONYMOUS"; }

protected:
    SaslOutcome next(std::string_view data, bool has_data) override
    {
        if (username_.empty())
            return failure("anonymous login is disabled");
        if (!has_data)
            return challenge({});
        // The trace (RFC 4505) is for the log only; it must still be sane text.
        if (data.size() > 255 || data.find('\0') != std::string_view::npos)
            return failure("invalid trace information");
        return success(username_);
    }

private:
    std::string username_;
};

class ExternalMechanism final : public MechanismBase {
public:
    explicit ExternalMechanism(std::string certificate_user) : user_(std::move(certificate_user)) {}
    std::string_view name() const override { return "EXTERNAL"; }

protected:
    SaslOutcome next(std::string_view data, bool has_data) override
    {
        if (user_.empty())
            return failure("username not known");  // Dovecot's words: no certificate user
        if (!has_data)
            return challenge({});
        if (!data.empty() && !valid_identity(data))
            return failure("invalid authzid");
        SaslOutcome outcome;
    outcome.kind = SaslOutcome::Kind::LookupUser;
        outcome.user = user_;
        outcome.authzid = data;
        return outcome;
    }

private:
    std::string user_;
};

// RFC 2831 directives: key=value or key="quoted", comma-separated, with optional spaces.
std::optional<std::map<std::string, std::string>> parse_digest_directives(std::string_view text)
{
    std::map<std::string, std::string> directives;
    size_t i = 0;
    auto skip_space = [&] {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == ','))
            i++;
    };
    skip_space();
    while (i < text.size()) {
        size_t equals = text.find('=', i);
        if (equals == std::string_view::npos)
            return std::nullopt;
        std::string key = to_lower(trim(text.substr(i, equals - i)));
        i = equals + 1;
        std::string value;
        if (i < text.size() && text[i] == '"') {
            i++;
            while (i < text.size() && text[i] != '"') {
                if (text[i] == '\\' && i + 1 < text.size())
                    i++;
                value += text[i++];
            }
            if (i >= text.size())
                return std::nullopt;
            i++;
        } else {
            size_t end = text.find(',', i);
            if (end == std::string_view::npos)
                end = text.size();
            value = trim(text.substr(i, end - i));
            i = end;
        }
        if (key.empty() || directives.contains(key))
            return std::nullopt;  // RFC 2831: each directive at most once
        directives[key] = value;
        skip_space();
    }
    return directives;
}

std::string quote_digest_value(std::string_view value)
{
    std::string out = "\"";
    for (char c : value) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

class DigestMd5Mechanism final : public MechanismBase {
public:
    explicit DigestMd5Mechanism(const SaslSettings& settings) : settings_(settings) {}
    std::string_view name() const override { return "DIGEST-MD5"; }

protected:
    SaslOutcome next(std::string_view data, bool) override
    {
        switch (state_) {
        case State::Start: {
            if (!data.empty())
                return failure("DIGEST-MD5 takes no initial response");
            nonce_ = random_nonce(settings_);
            std::string text;
            for (const std::string& realm : settings_.realms)
                text += "realm=" + quote_digest_value(realm) + ",";
            text += "nonce=" + quote_digest_value(nonce_) +
                    ",qop=\"auth\",charset=\"utf-8\",algorithm=\"md5-sess\"";
            state_ = State::ChallengeSent;
            return challenge(text);
        }
        case State::ChallengeSent:
            return response(data);
        case State::RspauthSent:
            if (!data.empty())
                return failure("unexpected data after rspauth");
            return success(user_, authzid_);
        }
        return failure("unexpected DIGEST-MD5 state");
    }

    SaslOutcome with_credentials(const std::optional<std::string>& raw) override
    {
        if (!raw || raw->size() != 16)
            return failure("no DIGEST-MD5 credentials for user");
        auto md5_hex = [](std::string_view text) { return hex_encode(digest(HashAlgorithm::Md5, text)); };
        std::string a1 = *raw + ":" + nonce_ + ":" + cnonce_;
        if (!authzid_.empty())
            a1 += ":" + authzid_;
        std::string prefix = md5_hex(a1) + ":" + nonce_ + ":" + nc_ + ":" + cnonce_ + ":auth:";
        std::string expected = md5_hex(prefix + md5_hex("AUTHENTICATE:" + digest_uri_));
        if (!constant_time_equals(expected, to_lower(response_)))
            return failure("password mismatch");
        state_ = State::RspauthSent;
        return challenge("rspauth=" + md5_hex(prefix + md5_hex(":" + digest_uri_)));
    }

private:
    SaslOutcome response(std::string_view data)
    {
        auto directives = parse_digest_directives(data);
        if (!directives)
            return failure("invalid response syntax");
        auto get = [&](const char* key) -> std::string {
            auto found = directives->find(key);
            return found == directives->end() ? std::string() : found->second;
        };
        std::string qop = get("qop");
        if (!qop.empty() && qop != "auth")
            return failure("only qop=auth is supported");
        if (get("nonce") != nonce_)
            return failure("wrong nonce");
        if (get("nc") != "00000001")
            return failure("nonce count must be 00000001");
        std::string charset = get("charset");
        if (!charset.empty() && !iequals(charset, "utf-8"))
            return failure("unsupported charset");
        std::string username = get("username");
        std::string realm = get("realm");
        cnonce_ = get("cnonce");
        digest_uri_ = get("digest-uri");
        response_ = get("response");
        authzid_ = get("authzid");
        nc_ = get("nc");
        if (!valid_identity(username) || cnonce_.empty() || digest_uri_.empty() ||
            response_.size() != 32 || authzid_.size() > max_identity || realm.size() > max_identity)
            return failure("missing or invalid fields in response");
        if (!settings_.realms.empty() && !realm.empty()) {
            bool known = false;
            for (const std::string& offered : settings_.realms)
                known = known || offered == realm;
            if (!known)
                return failure("unknown realm");
        }
        // The passdb user is user@realm, the form DIGEST-MD5 credentials are made for.
        user_ = realm.empty() ? username : username + "@" + realm;
        return lookup_credentials(user_, "DIGEST-MD5", authzid_);
    }

    enum class State { Start, ChallengeSent, RspauthSent };
    SaslSettings settings_;
    State state_ = State::Start;
    std::string nonce_, cnonce_, nc_, digest_uri_, response_, user_, authzid_;
};

}  // namespace

SaslOutcome SaslMechanism::credentials(const std::optional<std::string>&)
{
    SaslOutcome outcome;
    outcome.kind = SaslOutcome::Kind::Failure;
    outcome.error = "credentials given without being asked for";
    return outcome;
}

std::unique_ptr<SaslMechanism> make_sasl_mechanism(std::string_view name, const SaslSettings& settings)
{
    std::string upper = to_upper(name);
    if (upper == "PLAIN")
        return std::make_unique<PlainMechanism>();
    if (upper == "LOGIN")
        return std::make_unique<LoginMechanism>();
    if (upper == "CRAM-MD5")
        return std::make_unique<CramMd5Mechanism>(settings);
    if (upper == "DIGEST-MD5")
        return std::make_unique<DigestMd5Mechanism>(settings);
    if (upper == "SCRAM-SHA-1")
        return std::make_unique<ScramMechanism>(upper, HashAlgorithm::Sha1, settings);
    if (upper == "SCRAM-SHA-256")
        return std::make_unique<ScramMechanism>(upper, HashAlgorithm::Sha256, settings);
    if (upper == "ANONYMOUS")
        return std::make_unique<AnonymousMechanism>(settings.anonymous_username);
    if (upper == "EXTERNAL")
        return std::make_unique<ExternalMechanism>(settings.certificate_username);
    return nullptr;
}

bool sasl_mechanism_is_plaintext(std::string_view name)
{
    return iequals(name, "PLAIN") || iequals(name, "LOGIN");
}

std::vector<std::string> sasl_mechanism_names()
{
    return {"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "ANONYMOUS",
            "EXTERNAL"};
}

}  // namespace loft::auth
