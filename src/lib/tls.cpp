#include "lib/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>

namespace loft {

namespace {

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct X509Free {
    void operator()(X509* cert) const { X509_free(cert); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
struct KeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct InfoStackFree {
    void operator()(STACK_OF(X509_INFO) * infos) const { sk_X509_INFO_pop_free(infos, X509_INFO_free); }
};

BioPtr memory_bio(const std::string& text)
{
    BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    if (!bio)
        throw TlsError("BIO_new_mem_buf failed");
    return bio;
}

// Never prompts on a terminal (OpenSSL's default): the password is the setting or nothing.
int password_callback(char* buffer, int size, int, void* user_data)
{
    const auto* password = static_cast<const std::string*>(user_data);
    if (!password || password->empty() || password->size() >= static_cast<size_t>(size))
        return -1;
    std::memcpy(buffer, password->data(), password->size());
    return static_cast<int>(password->size());
}

// The handshake goes on whatever the client's certificate is worth, as in Dovecot:
// validity is looked at when the client authenticates.
int accept_any_certificate(int, X509_STORE_CTX*) { return 1; }

int protocol_version(const std::string& name)
{
    if (name == "ANY" || name == "SSLv3")
        return SSL3_VERSION;
    if (name == "TLSv1")
        return TLS1_VERSION;
    if (name == "TLSv1.1")
        return TLS1_1_VERSION;
    if (name == "TLSv1.2")
        return TLS1_2_VERSION;
    if (name == "TLSv1.3")
        return TLS1_3_VERSION;
    throw TlsError("Unknown ssl_min_protocol setting '" + name + "'");
}

bool looks_encrypted(const std::string& pem)
{
    return pem.find("ENCRYPTED") != std::string::npos;
}

}  // namespace

std::string openssl_errors()
{
    std::string text;
    while (unsigned long code = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof(buffer));
        text += (text.empty() ? "" : ", ") + std::string(buffer);
    }
    return text;
}

std::string certificate_username(X509_NAME* subject, const std::string& field)
{
    int nid = OBJ_txt2nid(field.c_str());
    if (nid == NID_undef)
        throw TlsError("Invalid ssl_cert_username_field: " + field);
    if (!subject)
        return {};
    int index = X509_NAME_get_index_by_NID(subject, nid, -1);
    if (index < 0)
        return {};
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    int length = data ? ASN1_STRING_length(data) : 0;
    if (length <= 0 || static_cast<size_t>(length) > kMaxCertUsernameLength)
        return {};
    std::string name(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)), static_cast<size_t>(length));
    // A NUL inside would make the name read as a shorter one elsewhere.
    if (name.find('\0') != std::string::npos)
        return {};
    return name;
}

TlsContext::TlsContext(const TlsSettings& settings) : settings_(settings)
{
    ERR_clear_error();
    ctx_.reset(SSL_CTX_new(TLS_server_method()));
    if (!ctx_)
        throw TlsError("SSL_CTX_new failed: " + openssl_errors());
    SSL_CTX* ctx = ctx_.get();
    if (settings.cert_pem.empty())
        throw TlsError("Can't load SSL certificate (ssl_cert setting): The certificate is empty");
    if (settings.key_pem.empty())
        throw TlsError("Can't load SSL private key (ssl_key setting): The key is empty");
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 (settings.prefer_server_ciphers ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (!SSL_CTX_set_min_proto_version(ctx, protocol_version(settings.min_protocol)))
        throw TlsError("Failed to set ssl_min_protocol: " + openssl_errors());
    if (!settings.cipher_list.empty() && !SSL_CTX_set_cipher_list(ctx, settings.cipher_list.c_str()))
        throw TlsError("Can't set cipher list to '" + settings.cipher_list + "': " + openssl_errors());
    if (!settings.cipher_suites.empty() && !SSL_CTX_set_ciphersuites(ctx, settings.cipher_suites.c_str()))
        throw TlsError("Can't set cipher suites to '" + settings.cipher_suites + "': " + openssl_errors());
    if (!settings.curve_list.empty() && !SSL_CTX_set1_groups_list(ctx, settings.curve_list.c_str()))
        throw TlsError("Failed to set curve list to '" + settings.curve_list + "'");

    // The certificate, then the rest of the chain from the same text.
    {
        auto bio = memory_bio(settings.cert_pem);
        X509Ptr cert(PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr));
        if (!cert || SSL_CTX_use_certificate(ctx, cert.get()) != 1)
            throw TlsError("Can't load SSL certificate (ssl_cert setting): " + openssl_errors());
        while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
            if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
                X509_free(extra);
                throw TlsError("Can't load SSL certificate chain (ssl_cert setting): " + openssl_errors());
            }
        }
        ERR_clear_error();  // the end of the text reads as an error
    }
    {
        if (looks_encrypted(settings.key_pem) && settings.key_password.empty())
            throw TlsError("Can't load private ssl_key: Key is password protected, but ssl_key_password not set");
        auto bio = memory_bio(settings.key_pem);
        std::unique_ptr<EVP_PKEY, KeyFree> key(PEM_read_bio_PrivateKey(
            bio.get(), nullptr, password_callback, const_cast<std::string*>(&settings.key_password)));
        if (!key)
            throw TlsError("Can't load private ssl_key (ssl_key setting): " + openssl_errors());
        if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1)
            throw TlsError("Can't use private ssl_key (ssl_key setting): " + openssl_errors());
        if (SSL_CTX_check_private_key(ctx) != 1)
            throw TlsError("Private key (ssl_key setting) does not match the certificate (ssl_cert setting): " +
                           openssl_errors());
    }

    if (!settings.ca_pem.empty()) {
        auto bio = memory_bio(settings.ca_pem);
        std::unique_ptr<STACK_OF(X509_INFO), InfoStackFree> infos(
            PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr));
        if (!infos)
            throw TlsError("Couldn't parse ssl_ca: " + openssl_errors());
        X509_STORE* store = SSL_CTX_get_cert_store(ctx);
        STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
        for (int i = 0; i < sk_X509_INFO_num(infos.get()); i++) {
            X509_INFO* info = sk_X509_INFO_value(infos.get(), i);
            if (info->x509) {
                X509_STORE_add_cert(store, info->x509);
                if (X509_NAME* name = X509_NAME_dup(X509_get_subject_name(info->x509)))
                    sk_X509_NAME_push(names, name);
            }
            if (info->crl)
                X509_STORE_add_crl(store, info->crl);
        }
        SSL_CTX_set_client_CA_list(ctx, names);
    }
    if (settings.verify_client_cert) {
        if (settings.ca_pem.empty())
            throw TlsError("ssl_verify_client_cert set, but ssl_ca not");
        certificate_username(nullptr, settings.cert_username_field);  // a bad field name is a config error
        if (settings.require_crl)
            X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx), X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, accept_any_certificate);
    }
    // Session resumption with client certificates needs an id context.
    static const unsigned char kSessionContext[] = "loft";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
}

SSL* TlsContext::new_ssl() const
{
    SSL* ssl = SSL_new(ctx_.get());
    if (!ssl)
        throw TlsError("SSL_new failed: " + openssl_errors());
    return ssl;
}

TlsPeer TlsContext::peer_of(SSL* ssl) const
{
    TlsPeer peer;
    X509Ptr cert(SSL_get1_peer_certificate(ssl));
    if (!cert)
        return peer;
    peer.has_cert = true;
    peer.cert_valid = settings_.verify_client_cert && SSL_get_verify_result(ssl) == X509_V_OK;
    // Only a verified certificate names anyone (Dovecot's ssl_iostream_get_peer_name).
    if (peer.cert_valid)
        peer.cert_username = certificate_username(X509_get_subject_name(cert.get()), settings_.cert_username_field);
    ERR_clear_error();
    return peer;
}

}  // namespace loft
