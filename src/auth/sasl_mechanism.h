// SASL mechanisms as Dovecot offers them, as pure state machines: they never do I/O or
// passdb look-ups themselves but say what they need, so the auth service can run them
// from its event loop and answer look-ups asynchronously.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::auth {

// What the mechanism wants next. Data is raw bytes; the protocol layer base64-encodes it.
struct SaslOutcome {
    enum class Kind {
        Challenge,          // send data to the client and call step() with its answer
        VerifyPassword,     // check password for user against the passdb: the mechanism is done
        LookupCredentials,  // fetch user's credentials in scheme, then call credentials()
        LookupUser,         // passdb look-up without a password (EXTERNAL): the mechanism is done
        Success,            // authenticated as user; data (may be empty) is the server's final message
        Failure,            // error says why, in words fit for the log
    };
    Kind kind = Kind::Failure;
    std::string data;
    std::string user;     // authentication identity (authcid)
    std::string authzid;  // requested authorization identity, empty if none
    std::string password; // VerifyPassword only
    std::string scheme;   // LookupCredentials only, e.g. "CRAM-MD5", "SCRAM-SHA-256"
    std::string error;    // Failure only
};

// Settings a mechanism may need from the auth configuration and the connection.
struct SaslSettings {
    std::string hostname = "localhost";    // in CRAM-MD5 challenges, DIGEST-MD5 default realm
    std::vector<std::string> realms;       // auth_realms, offered by DIGEST-MD5
    std::string anonymous_username;        // auth_anonymous_username; empty disables ANONYMOUS
    std::string certificate_username;      // from the client's verified TLS certificate, for EXTERNAL
    std::string server_nonce;              // tests only: fixed instead of random
};

// Bound on one client message; Dovecot's auth protocol limits whole requests to about 8 KiB.
constexpr size_t max_sasl_message = 8192;

class SaslMechanism {
public:
    virtual ~SaslMechanism() = default;
    virtual std::string_view name() const = 0;

    // The client's next message. The first call carries the initial response, if any
    // (has_data = false when the client sent none, as opposed to an empty one).
    virtual SaslOutcome step(std::string_view client_data, bool has_data = true) = 0;
    // Answer to LookupCredentials: the raw credentials in the requested scheme (see
    // credentials_for_scheme()), or nullopt when the user is unknown or has none.
    virtual SaslOutcome credentials(const std::optional<std::string>& raw);
};

// nullptr for a mechanism this library does not know. Names are case-insensitive.
std::unique_ptr<SaslMechanism> make_sasl_mechanism(std::string_view name,
                                                   const SaslSettings& settings);
// Mechanisms that show the password to the server (disable_plaintext_auth hides them).
bool sasl_mechanism_is_plaintext(std::string_view name);
std::vector<std::string> sasl_mechanism_names();

}  // namespace loft::auth
