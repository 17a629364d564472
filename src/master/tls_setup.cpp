#include "master/tls_setup.h"

namespace loft::master {

TlsSettings tls_settings_from(const config::Settings& settings)
{
    TlsSettings tls;
    tls.cert_pem = settings.get("ssl_cert");
    tls.key_pem = settings.get("ssl_key");
    tls.key_password = settings.get("ssl_key_password");
    tls.ca_pem = settings.get("ssl_ca");
    tls.verify_client_cert = settings.get_bool("ssl_verify_client_cert");
    tls.require_crl = settings.get_bool("ssl_require_crl");
    tls.min_protocol = settings.get("ssl_min_protocol");
    tls.cipher_list = settings.get("ssl_cipher_list");
    tls.cipher_suites = settings.get("ssl_cipher_suites");
    tls.curve_list = settings.get("ssl_curve_list");
    tls.prefer_server_ciphers = settings.get_bool("ssl_prefer_server_ciphers");
    tls.cert_username_field = settings.get("ssl_cert_username_field");
    // ssl_dh is not needed: OpenSSL 3 picks DH parameters itself (and ECDHE is preferred).
    return tls;
}

std::unique_ptr<TlsContext> make_tls_context(const config::Settings& settings)
{
    if (settings.get("ssl") == "no")
        return nullptr;
    return std::make_unique<TlsContext>(tls_settings_from(settings));
}

}  // namespace loft::master
