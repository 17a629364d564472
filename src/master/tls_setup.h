// Dovecot's ssl_* settings as a TLS context, for the workers (from the config loftd
// hands them, certificate and key contents included) and for loftd's check at start.
#pragma once

#include "config/config.h"
#include "lib/tls.h"

#include <memory>

namespace loft::master {

TlsSettings tls_settings_from(const config::Settings& settings);
// nullptr when ssl = no; throws TlsError when the settings cannot make a context.
std::unique_ptr<TlsContext> make_tls_context(const config::Settings& settings);

}  // namespace loft::master
