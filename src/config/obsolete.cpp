#include "config/obsolete.h"

#include <arpa/inet.h>

#include "lib/strings.h"

namespace loft::config {
namespace {

std::vector<std::string> split_on(std::string_view text, std::string_view separators)
{
    std::vector<std::string> out;
    std::string cur;
    for (char c : text) {
        if (separators.find(c) != std::string_view::npos) {
            if (!cur.empty())
                out.push_back(std::move(cur));
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty())
        out.push_back(std::move(cur));
    return out;
}

std::string join(const std::vector<std::string>& words, const char* sep = " ")
{
    std::string out;
    for (const auto& w : words) {
        if (!out.empty())
            out += sep;
        out += w;
    }
    return out;
}

bool is_ip(const std::string& text)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

bool listen_has_port(std::string_view value)
{
    if (value.find(':') == std::string_view::npos)
        return false;
    for (const auto& addr : split_on(value, ", ")) {
        if (addr != "*" && addr != "::" && addr != "[::]" && !is_ip(addr))
            return true;
    }
    return false;
}

// Which old per-protocol services a setting written under mask reaches: only plain
// protocol filters do (Dovecot matches the mask against a protocol-only filter).
bool reaches(const FilterMask& mask, std::string_view target)
{
    if (mask.has_local || mask.has_remote || !mask.local_name.empty())
        return false;
    if (!mask.protocol)
        return true;
    const std::string& protocol = *mask.protocol;
    if (!protocol.empty() && protocol[0] == '!')
        return std::string_view(protocol).substr(1) != target;
    return protocol == target;
}

// Dovecot 2.3's conversion of ssl_protocols to the lowest enabled version.
bool min_protocol(std::string_view protocols, std::string& result, std::string& error)
{
    static constexpr std::string_view versions[] = {"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"};
    int state[4] = {0, 0, 0, 0};
    bool explicit_enable = false;
    for (const auto& word : split_on(protocols, ", ")) {
        std::string_view p = word;
        bool enable = true;
        if (!p.empty() && p[0] == '!') {
            enable = false;
            p.remove_prefix(1);
        }
        bool found = false;
        for (int i = 0; i < 4; i++) {
            if (p == versions[i]) {
                state[i] = enable ? 1 : -1;
                explicit_enable = explicit_enable || enable;
                found = true;
            }
        }
        if (!found) {
            error = "Unrecognized protocol '" + std::string(p) + "'";
            return false;
        }
    }
    for (int i = 0; i < 4; i++) {
        if (explicit_enable ? state[i] > 0 : state[i] == 0) {
            result = std::string(versions[i]);
            return true;
        }
    }
    error = "All protocols disabled";
    return false;
}

void login_set(const FilterMask& mask, const std::string& old_key, const std::string& key,
               const std::string& value, ObsoleteSink& sink)
{
    sink.warn(old_key + " has been replaced by service { " + key + " }");
    if (reaches(mask, "imap"))
        sink.set_in_sections({"service", "imap-login"}, key, value);
    if (reaches(mask, "pop3"))
        sink.set_in_sections({"service", "pop3-login"}, key, value);
    // managesieve-login exists only with Pigeonhole's managesieve; Dovecot ignores
    // the failure, and so does Loft.
}

void mail_set(const FilterMask& mask, const std::string& old_key, const std::string& key,
              const std::string& value, ObsoleteSink& sink)
{
    sink.warn(old_key + " has been replaced by service { " + key + " }");
    if (reaches(mask, "imap"))
        sink.set_in_sections({"service", "imap"}, key, value);
    if (reaches(mask, "pop3"))
        sink.set_in_sections({"service", "pop3"}, key, value);
}

void auth_set(const std::string& old_key, const std::string& key, const std::string& value, ObsoleteSink& sink)
{
    sink.warn(old_key + " has been replaced by service auth { " + key + " }");
    sink.set_in_sections({"service", "auth"}, key, value);
}

bool handle_proto(const std::string& key, const std::string& value, const FilterMask& mask,
                  ObsoleteSink& sink)
{
    bool root = mask.empty();
    if (key == "ssl_listen" || (key == "listen" && (listen_has_port(value) || !root))) {
        std::string ssl = key == "ssl_listen" ? "s" : "";
        if (value.empty())
            return true;
        std::string address = value;
        auto colon = value.rfind(':');
        if (colon != std::string::npos && listen_has_port(value)) {
            sink.warn(key + "=..:port has been replaced by service { inet_listener { port } }");
            address = value.substr(0, colon);
            std::string port = value.substr(colon + 1);
            if (reaches(mask, "imap"))
                sink.set_in_sections({"service", "imap-login", "inet_listener", "imap" + ssl}, "port", port);
            if (reaches(mask, "pop3"))
                sink.set_in_sections({"service", "pop3-login", "inet_listener", "pop3" + ssl}, "port", port);
        }
        if (root && ssl.empty()) {
            sink.set_here(key, address, false);
        } else {
            sink.warn("protocol { " + key + " } has been replaced by service { inet_listener { address } }");
            if (reaches(mask, "imap"))
                sink.set_in_sections({"service", "imap-login", "inet_listener", "imap" + ssl}, "address", address);
            if (reaches(mask, "pop3"))
                sink.set_in_sections({"service", "pop3-login", "inet_listener", "pop3" + ssl}, "address", address);
        }
        return true;
    }
    if (key == "login_chroot") {
        login_set(mask, key, "chroot", value == "no" ? "" : "login", sink);
        return true;
    }
    if (key == "login_user") {
        login_set(mask, key, "user", value, sink);
        return true;
    }
    if (key == "login_executable") {
        login_set(mask, key, "executable", value, sink);
        return true;
    }
    if (key == "login_process_size") {
        login_set(mask, key, "vsz_limit", value + " M", sink);
        return true;
    }
    if (key == "login_process_per_connection") {
        login_set(mask, key, "service_count", value == "no" ? "0" : "1", sink);
        return true;
    }
    if (key == "login_processes_count") {
        login_set(mask, key, "process_min_avail", value, sink);
        return true;
    }
    if (key == "login_max_processes_count") {
        login_set(mask, key, "process_limit", value, sink);
        return true;
    }
    if (key == "login_max_connections") {
        login_set(mask, key, "client_limit", value, sink);
        return true;
    }
    if (key == "max_mail_processes") {
        mail_set(mask, key, "process_limit", value, sink);
        return true;
    }
    if (key == "mail_executable") {
        mail_set(mask, key, "executable", value, sink);
        return true;
    }
    if (key == "mail_process_size") {
        mail_set(mask, key, "vsz_limit", value + " M", sink);
        return true;
    }
    if (key == "mail_drop_priv_before_exec") {
        mail_set(mask, key, "drop_priv_before_exec", value, sink);
        return true;
    }
    if (key == "auth_executable") {
        auth_set(key, "executable", value, sink);
        return true;
    }
    if (key == "auth_process_size") {
        auth_set(key, "vsz_limit", value + " M", sink);
        return true;
    }
    if (key == "auth_user") {
        auth_set(key, "user", value, sink);
        return true;
    }
    if (key == "auth_chroot") {
        auth_set(key, "chroot", value, sink);
        return true;
    }
    if (key == "auth_cache_size") {
        auto size = loft::parse_uint(value);
        if (size && *size > 0 && *size < 1024) {
            sink.warn("auth_cache_size value no longer defaults to megabytes. Use " + value + "M");
            sink.set_here(key, value + "M", false);
            return true;
        }
        return false;
    }
    if (key == "auth_count") {
        sink.warn(value == "count" ? "auth_count has been removed"
                                   : "auth_count has been removed, and its value must be 1");
        return true;
    }
    return false;
}

bool handle_root(const std::string& key, const std::string& value, ObsoleteSink& sink)
{
    auto rename = [&](const std::string& new_key, const std::string& new_value) {
        sink.warn(key + " has been renamed to " + new_key);
        sink.set_here(new_key, new_value, false);
    };
    if (key == "protocols") {
        bool have_imap = false, have_imaps = false, have_pop3 = false, have_pop3s = false;
        std::vector<std::string> kept;
        for (auto& p : split_on(value, " ")) {
            if (p == "imap") {
                have_imap = true;
            } else if (p == "imaps") {
                have_imaps = true;
                continue;
            } else if (p == "pop3") {
                have_pop3 = true;
            } else if (p == "pop3s") {
                have_pop3s = true;
                continue;
            } else if (p == "managesieve") {
                p = "sieve";
                sink.warn("protocols=managesieve has been renamed to protocols=sieve");
            }
            kept.push_back(p);
        }
        std::string result = join(kept);
        if (have_imaps && !have_imap) {
            sink.warn("'imaps' protocol can no longer be specified (use protocols=imap). to disable non-ssl imap, "
                      "use service imap-login { inet_listener imap { port=0 } }");
            result += " imap";
            sink.set_in_sections({"service", "imap-login", "inet_listener", "imap"}, "port", "0");
        } else if (have_imaps) {
            sink.warn("'imaps' protocol is no longer necessary, remove it");
        }
        if (have_pop3s && !have_pop3) {
            sink.warn("'pop3s' protocol can no longer be specified (use protocols=pop3). to disable non-ssl pop3, "
                      "use service pop3-login { inet_listener pop3 { port=0 } }");
            result += " pop3";
            sink.set_in_sections({"service", "pop3-login", "inet_listener", "pop3"}, "port", "0");
        } else if (have_pop3s) {
            sink.warn("'pop3s' protocol is no longer necessary, remove it");
        }
        if (!result.empty() && result[0] == ' ')
            result.erase(0, 1);
        sink.set_here(key, result, false);
        return true;
    }
    if (key == "ssl_cert_file" || key == "ssl_key_file" || key == "ssl_ca_file") {
        if (value.empty())
            return true;
        std::string new_key = key.substr(0, key.rfind('_'));
        sink.warn(key + " has been replaced by " + new_key + " = <file");
        sink.set_here(new_key, value, true);
        return true;
    }
    if (key == "ssl_disable") {
        rename("ssl", iequals(value, "yes") ? "no" : iequals(value, "no") ? "yes" : value);
        return true;
    }
    if (key == "ssl_parameters_regenerate" || key == "ssl_dh_parameters_length") {
        sink.warn(key + " is no longer needed");
        return true;
    }
    if (key == "ssl_protocols") {
        sink.warn(key + " has been replaced by ssl_min_protocol");
        std::string result, error;
        if (min_protocol(value, result, error))
            sink.set_here("ssl_min_protocol", result, false);
        else
            sink.warn("Could not find a minimum ssl_min_protocol setting from ssl_protocols = " + value + ": " +
                      error);
        return true;
    }
    if (key == "sieve" || key == "sieve_storage") {
        sink.warn(key == "sieve_storage" ? "sieve_storage has been moved into plugin { sieve_dir }"
                                         : key + " has been moved into plugin {} section");
        sink.set_in_sections({"plugin", ""}, key, value);
        return true;
    }
    if (key == "fsync_disable") {
        rename("mail_fsync", iequals(value, "yes") ? "never" : iequals(value, "no") ? "optimized" : value);
        return true;
    }
    if (key == "dbox_rotate_size") {
        rename("mdbox_rotate_size", value);
        return true;
    }
    if (key.starts_with("mail_cache_compress_")) {
        rename("mail_cache_purge_" + key.substr(20), value);
        return true;
    }
    if (key == "imap_client_workarounds") {
        std::vector<std::string> args = split_on(value, " ,");
        for (auto& arg : args) {
            if (arg == "outlook-idle") {
                arg.clear();
                sink.warn("imap_client_workarounds=outlook-idle is no longer necessary");
            } else if (arg == "netscape-eoh") {
                arg.clear();
                sink.warn("imap_client_workarounds=netscape-eoh is no longer supported");
            }
        }
        // Dovecot joins with the removed words still in place (as empty strings).
        std::string joined;
        for (size_t i = 0; i < args.size(); i++)
            joined += (i > 0 ? " " : "") + args[i];
        sink.set_here(key, joined, false);
        return true;
    }
    if (key == "login_dir" || key == "dbox_rotate_min_size" || key == "dbox_rotate_days" ||
        key == "director_consistent_hashing" || key == "mail_log_max_lines_per_sec" ||
        key == "maildir_copy_preserve_filename") {
        sink.warn(key + " has been removed");
        return true;
    }
    return false;
}

}  // namespace

bool handle_obsolete_setting(const std::string& key, const std::string& value, const FilterMask& mask,
                             ObsoleteSink& sink)
{
    if (handle_proto(key, value, mask, sink))
        return true;
    return handle_root(key, value, sink);
}

std::string renamed_section(std::string_view type, std::string_view name, std::string& warning)
{
    if (type == "protocol" && name == "managesieve") {
        warning = "protocol managesieve {} has been replaced by protocol sieve { }";
        return "sieve";
    }
    if (type == "service" && name == "dns_client") {
        warning = "service dns_client {} has been replaced by service dns-client { }";
        return "dns-client";
    }
    return {};
}

}  // namespace loft::config
