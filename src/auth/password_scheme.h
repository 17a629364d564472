// Dovecot's password schemes: verify "{SCHEME}hash" values from a passdb, and make new ones.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::auth {

// ok: the plaintext matches. When !ok, error is empty for a plain mismatch and says what is
// wrong when the stored value could not be used (unknown scheme, bad encoding, bad length),
// which Dovecot logs as "Invalid password in passdb" rather than "Password mismatch".
struct VerifyResult {
    bool ok;
    std::string error;
};

// stored: "{SCHEME}hash", or a bare hash in default_scheme (a bare "$1$..." is MD5-CRYPT, as
// in Dovecot). The scheme name may carry ".HEX", ".B64" or ".BASE64". user is needed only by
// DIGEST-MD5, whose hash covers "user:realm:password" (realm = after the last '@').
VerifyResult verify_password(std::string_view stored, std::string_view plaintext,
                             std::string_view default_scheme = "CRYPT",
                             std::string_view user = {});

struct HashOptions {
    std::string user;     // for DIGEST-MD5
    unsigned rounds = 0;  // doveadm pw -r: cost for BLF-CRYPT, rounds for SHA*-CRYPT, PBKDF2, SCRAM
};

// "{SCHEME}encoded-hash" like `doveadm pw -s SCHEME`, with a fresh random salt.
// Throws AuthError for an unknown scheme or one that cannot be generated here.
std::string hash_password(std::string_view scheme, std::string_view plaintext);
std::string hash_password(std::string_view scheme, std::string_view plaintext,
                          const HashOptions& options);

// Scheme names this library verifies, in the spelling `doveadm pw -l` uses.
std::vector<std::string> password_scheme_names();
bool is_known_password_scheme(std::string_view scheme);  // accepts the encoding suffixes

// What a challenge-response SASL mechanism (CRAM-MD5, DIGEST-MD5, SCRAM-*) needs from the
// passdb: the stored password as raw credentials of wanted_scheme. That is the decoded value
// when it is stored in that scheme (or an alias, e.g. HMAC-MD5 for CRAM-MD5), or one made
// from it when it is stored in plaintext. Otherwise nullopt, with Dovecot's reason
// ("Requested CRAM-MD5 scheme, but we have only SHA512-CRYPT").
struct CredentialsResult {
    std::optional<std::string> credentials;
    std::string error;
};
CredentialsResult credentials_for_scheme(std::string_view stored, std::string_view wanted_scheme,
                                         std::string_view default_scheme = "CRYPT",
                                         std::string_view user = {});

// Splits "{SCHEME}rest" (or a bare "$1$salt$hash" as MD5-CRYPT). nullopt: no scheme given.
struct SchemeAndHash {
    std::string scheme;
    std::string hash;
};
std::optional<SchemeAndHash> split_password_scheme(std::string_view stored);

}  // namespace loft::auth
