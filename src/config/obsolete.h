// Settings from older Dovecot versions that Dovecot 2.3 still accepts by rewriting them
// (ssl_protocols, login_process_size, protocols = imaps ...), rewritten the same way
// and with the same "Obsolete setting" warnings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/filter.h"

namespace loft::config {

// Where a rewritten setting goes.
class ObsoleteSink {
public:
    virtual ~ObsoleteSink() = default;
    // key = value in the current scope (as if written on this line).
    virtual void set_here(const std::string& key, const std::string& value, bool file_value) = 0;
    // A setting inside sections of the global scope, e.g. {"service", "imap-login",
    // "inet_listener", "imap"} + port = 0.
    virtual void set_in_sections(const std::vector<std::string>& path, const std::string& key,
                                 const std::string& value) = 0;
    virtual void warn(const std::string& message) = 0;  // "Obsolete setting in F:L: " is added
    virtual void fail(const std::string& message) = 0;  // an error on this line
};

// Handles a top-level "key = value" line written in the scope with filter mask (empty
// for the global scope). Returns false when key is not obsolete.
bool handle_obsolete_setting(const std::string& key, const std::string& value, const FilterMask& mask,
                             ObsoleteSink& sink);
// "protocol managesieve {" and "service dns_client {": the new section name, or ""
// when the section is not an obsolete one.
std::string renamed_section(std::string_view type, std::string_view name, std::string& warning);

}  // namespace loft::config
