// TLS for client connections: a server SSL_CTX built from Dovecot's ssl_* settings
// (PEM text, since workers are chrooted and get the files' contents from loftd), and
// what a verified client certificate says about its owner.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace loft {

class TlsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct TlsSettings {
    std::string cert_pem;            // ssl_cert (contents, may include the chain)
    std::string key_pem;             // ssl_key (contents)
    std::string key_password;        // ssl_key_password
    std::string ca_pem;              // ssl_ca: CAs (and CRLs) for client certificates
    bool verify_client_cert = false; // ssl_verify_client_cert
    bool require_crl = true;         // ssl_require_crl
    std::string min_protocol = "TLSv1.2";  // ssl_min_protocol
    std::string cipher_list;         // ssl_cipher_list (TLS <= 1.2)
    std::string cipher_suites;       // ssl_cipher_suites (TLS 1.3)
    std::string curve_list;          // ssl_curve_list
    bool prefer_server_ciphers = false;
    std::string cert_username_field = "commonName";  // ssl_cert_username_field
};

// What the client proved with its certificate.
struct TlsPeer {
    bool has_cert = false;
    bool cert_valid = false;     // chain verified against ssl_ca (and CRLs)
    std::string cert_username;   // ssl_cert_username_field of a valid cert's subject, if any
};

// Longest certificate user name taken; a longer one counts as missing.
inline constexpr size_t kMaxCertUsernameLength = 255;

// The value of field (an OpenSSL short or long name such as "commonName", "CN",
// "emailAddress", "x500UniqueIdentifier", or a dotted OID) in subject, as Dovecot takes
// it: the first entry's raw bytes. Empty when the field is absent, empty, longer than
// kMaxCertUsernameLength or has a NUL inside (a name meant to look like another);
// throws TlsError for a field name OpenSSL does not know.
std::string certificate_username(X509_NAME* subject, const std::string& field);

class TlsContext {
public:
    // Throws TlsError naming the setting that is wrong.
    explicit TlsContext(const TlsSettings& settings);
    SSL_CTX* get() const { return ctx_.get(); }
    const TlsSettings& settings() const { return settings_; }
    // A new server-side SSL object for one connection.
    SSL* new_ssl() const;
    TlsPeer peer_of(SSL* ssl) const;

private:
    struct CtxFree {
        void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
    };
    std::unique_ptr<SSL_CTX, CtxFree> ctx_;
    TlsSettings settings_;
};

// OpenSSL's queued errors as one line ("" when there are none); clears the queue.
std::string openssl_errors();

}  // namespace loft
