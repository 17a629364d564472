// Reading a Dovecot 2.3 dovecot.conf (plus Loft's loft_* settings) and answering "what are
// the effective settings for this connection", the way a running Dovecot would.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace loft::config {

struct SourceLocation {
    std::string file;
    unsigned line = 0;
};

struct ConfigErrorItem {
    SourceLocation where;
    std::string message;
};

// what(): "FILE:LINE: message", one line per error when there are several.
class ConfigError : public std::runtime_error {
public:
    explicit ConfigError(std::vector<ConfigErrorItem> items);
    ConfigError(const SourceLocation& where, const std::string& message)
        : ConfigError(std::vector<ConfigErrorItem>{{where, message}})
    {
    }
    const std::vector<ConfigErrorItem>& items() const { return items_; }

private:
    std::vector<ConfigErrorItem> items_;
};

// Which connection the effective settings are for.
struct Filter {
    std::string protocol;  // "imap", "lmtp", "pop3", "" = none
    std::string local_ip, remote_ip, local_name;
};

class ConfigData;

// One section instance (service, inet_listener, passdb, userdb, namespace, mailbox,
// plugin, unix_listener ...), with filters already applied.
class Section {
public:
    const std::string& type() const { return type_; }
    const std::string& name() const { return name_; }  // "" if anonymous
    // The value set in the config, or for Dovecot's built-in services and their
    // listeners the built-in value (what doveconf -a shows).
    std::optional<std::string> get(std::string_view key) const;
    std::string get_or(std::string_view key, std::string_view fallback) const;
    // get(), else Dovecot's default for this section type; throws std::out_of_range for
    // a key this section type does not have (plugin and dict have no defaults).
    std::string value(std::string_view key) const;
    bool is_set(std::string_view key) const;  // explicitly set in the config
    // value(), typed by the registry: yes/no, numbers (octal modes, ports), sizes in
    // bytes, times in milliseconds. Throw std::out_of_range for unknown keys.
    bool get_bool(std::string_view key) const;
    uint64_t get_uint(std::string_view key) const;
    uint64_t get_size(std::string_view key) const;
    uint64_t get_time_ms(std::string_view key) const;
    std::vector<const Section*> sections(std::string_view type) const;  // file order
    const std::vector<std::unique_ptr<Section>>& children() const { return children_; }
    const SourceLocation& location() const { return location_; }

    struct Value {
        std::string text;      // effective value ($vars and <file expanded)
        std::string raw;       // as doveconf -n shows it
        SourceLocation where;  // line 0: built-in default
        bool explicit_set = true;
    };
    const std::map<std::string, Value, std::less<>>& values() const { return values_; }

private:
    friend class ConfigData;
    std::string type_, name_;
    SourceLocation location_;
    std::map<std::string, Value, std::less<>> values_;
    std::vector<std::string> key_order_;
    std::vector<std::unique_ptr<Section>> children_;
};

// Effective settings for one Filter. The Section pointers it hands out live as long
// as the Settings object.
class Settings {
public:
    // Explicit value or Dovecot's default; throws std::out_of_range for a name no
    // registry knows.
    std::string get(std::string_view key) const;
    bool get_bool(std::string_view key) const;          // yes/no
    uint64_t get_uint(std::string_view key) const;      // also octal modes and ports
    uint64_t get_size(std::string_view key) const;      // bytes ("10M")
    uint64_t get_time_ms(std::string_view key) const;   // "5 mins" -> 300000
    // A list setting split on spaces, tabs and commas ("protocols", "mail_plugins").
    std::vector<std::string> get_list(std::string_view key) const;
    bool is_set(std::string_view key) const;            // explicitly set in the config
    std::vector<const Section*> sections(std::string_view type) const;  // top-level, file order
    const Section* section(std::string_view type, std::string_view name) const;
    std::optional<std::string> plugin(std::string_view key) const;  // plugin { } keys

    // The explicitly set top-level value with its source location; nullptr if unset.
    const Section::Value* find(std::string_view key) const;
    // Every top-level section (built-in services first), file order within a type.
    const std::vector<std::unique_ptr<Section>>& all_sections() const { return sections_; }

private:
    friend class ConfigData;
    std::shared_ptr<const ConfigData> data_;
    std::map<std::string, const Section::Value*, std::less<>> values_;
    std::vector<std::unique_ptr<Section>> sections_;
};

struct ParseOptions {
    // Text produced by Config::serialize(): double-quoted values may contain \n \r \t
    // escapes (dovecot.conf has no way to write a multi-line value).
    bool serialized = false;
    // Read "key = <file" contents and expand every $setting, as a running server must.
    // When false, values stay as doveconf -n shows them: "<file" as written and only
    // "key = $key ..." self-references expanded.
    bool expand_values = true;
    // Run Dovecot's consistency checks after parsing (doveconf does, except when asked
    // for single settings). check_users also requires default_login_user and
    // default_internal_user to exist, as Dovecot does at startup.
    bool check_settings = true;
    bool check_users = false;
};

class Config {
public:
    static Config load_file(const std::string& path, const ParseOptions& options = {});  // throws ConfigError
    static Config load_string(std::string_view text, const std::string& source_name,
                              const std::string& base_dir,
                              const ParseOptions& options = {});  // base_dir: relative includes
    Settings resolve(const Filter& filter) const;
    // Re-parseable dovecot.conf text of everything read (includes inlined, <file values
    // inlined as quoted strings, filters kept as filter sections), for handing the config
    // to child processes; parse it with ParseOptions::serialized. Keys for which
    // skip(key) is true are left out (so a storage daemon never receives ssl_key).
    std::string serialize(const std::function<bool(std::string_view key)>& skip = {}) const;

    // Dovecot's consistency checks (see ParseOptions::check_settings), for callers that
    // loaded with them off and want the problems without an exception.
    std::vector<ConfigErrorItem> check(bool check_users = false) const;

    // Warnings Dovecot would log while reading this config (obsolete settings that were
    // rewritten, ambiguous '#', global settings after filters).
    const std::vector<std::string>& warnings() const;

    const ConfigData& data() const { return *data_; }

private:
    explicit Config(std::shared_ptr<const ConfigData> data) : data_(std::move(data)) {}
    std::shared_ptr<const ConfigData> data_;
};

}  // namespace loft::config
