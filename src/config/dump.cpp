// doveconf's output, reproduced: settings are first flattened into sorted
// "path/key=value" strings (lists marked with \001, section names with \xff), and the
// sorted list is then printed with sections opened and closed as the paths change.
// Matching doveconf byte for byte depends on keeping that two-step shape.
#include "config/dump.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "config/config_data.h"
#include "config/registry.h"
#include "config/values.h"
#include "lib/strings.h"

namespace loft::config {
namespace {

constexpr char kListPrefix = '\001';
constexpr char kUniqueMark = '\xff';

// Section types that may appear as lists under each parent, in doveconf's order.
const std::vector<std::string_view>& child_list_types(std::string_view parent)
{
    static const std::vector<std::string_view> root = {"dict", "event_exporter", "metric", "namespace",
                                                       "passdb", "plugin", "service", "userdb"};
    static const std::vector<std::string_view> service = {"fifo_listener", "inet_listener", "unix_listener"};
    static const std::vector<std::string_view> ns = {"mailbox"};
    static const std::vector<std::string_view> none;
    if (parent.empty())
        return root;
    if (parent == "service")
        return service;
    if (parent == "namespace")
        return ns;
    return none;
}

std::string section_escape(std::string_view name)
{
    std::string out;
    for (char c : name) {
        switch (c) {
        case '=': out += "\\e"; break;
        case '/': out += "\\s"; break;
        case '\\': out += "\\\\"; break;
        case ' ': out += "\\_"; break;
        case ',': out += "\\c"; break;
        default: out += c; break;
        }
    }
    return out;
}

// Dovecot's str_escape(): a backslash before " ' and \.
std::string str_escape(std::string_view text)
{
    std::string out;
    for (char c : text) {
        if (c == '"' || c == '\'' || c == '\\')
            out += '\\';
        out += c;
    }
    return out;
}

bool is_white(char c) { return c == ' ' || c == '\t'; }

class Exporter {
public:
    Exporter(const DumpOptions& options, DumpScope scope, bool single_lookup = false)
        : options_(options), scope_(scope), single_lookup_(single_lookup)
    {
    }

    std::vector<std::string> strings;

    // A typed value as doveconf shows it.
    std::string display(const SettingDef* def, const Section::Value& v) const
    {
        const std::string& text = options_.expanded ? v.text : v.raw;
        if (def == nullptr || !v.explicit_set)
            return text;
        try {
            return normalize_value(*def, text);
        } catch (const std::invalid_argument&) {
            return text;
        }
    }

    // doveconf -f quirk: when a filter is the most specific match, doveconf starts from
    // that filter's settings (which include the built-in services) and merges the less
    // specific ones in. Named sections it did not have are appended without their
    // "changed" marks, so -n shows nothing set inside them.
    void set_merge_base(const Section* filter_root)
    {
        override_ = true;
        override_root_ = filter_root;
    }

    void root(const std::map<std::string, const Section::Value*, std::less<>>& explicit_values,
              const std::vector<const Section*>& sections)
    {
        for (const SettingDef& def : settings_of("")) {
            auto it = explicit_values.find(def.name);
            bool is_explicit = it != explicit_values.end();
            std::string value = is_explicit ? display(&def, *it->second) : std::string(def.default_value);
            // -a stays identical to doveconf's for a plain dovecot.conf: Loft's own
            // settings show only when set (loftconf NAME shows any of them).
            if (is_loft_setting(def.name) && !is_explicit && !single_lookup_)
                continue;
            // Hidden settings are in -a only when set; a single lookup shows them (-s).
            if (def.hidden && !is_explicit && !single_lookup_ && scope_ == DumpScope::All)
                continue;
            if (wanted(is_explicit, value == def.default_value, false))
                emit(std::string(def.name), value);
        }
        lists("", "", sections, override_root_, &ConfigData::builtin_services(), false);
    }

private:
    bool wanted(bool is_explicit, bool equals_default, bool in_unique_list) const
    {
        if (scope_ == DumpScope::All)
            return true;
        if (in_unique_list)
            return is_explicit;
        if (scope_ == DumpScope::Set && is_explicit)
            return true;
        return !equals_default;
    }

    void emit(const std::string& key, const std::string& value) { strings.push_back(key + "=" + value); }

    static bool has_type(const Section* parent, std::string_view type)
    {
        return parent != nullptr && !parent->sections(type).empty();
    }

    static const Section* find_named(const Section* parent, std::string_view type, std::string_view name)
    {
        if (parent == nullptr || name.empty())
            return nullptr;
        for (const auto& c : parent->children()) {
            if (c->type() == type && c->name() == name)
                return c.get();
        }
        return nullptr;
    }

    void lists(const std::string& prefix, std::string_view parent_type, const std::vector<const Section*>& sections,
               const Section* base_parent, const Section* builtin_parent, bool unmarked)
    {
        for (std::string_view type : child_list_types(parent_type)) {
            std::vector<const Section*> items;
            for (const Section* s : sections) {
                if (s->type() == type)
                    items.push_back(s);
            }
            if (items.empty())
                continue;
            if (is_free_form_section(type)) {
                strings.push_back(std::string(1, kListPrefix) + prefix + std::string(type) + "=");
                for (const Section* s : items) {
                    for (const auto& [key, value] : s->values())
                        emit(prefix + std::string(type) + "/" + key, display(nullptr, value));
                }
                continue;
            }
            bool unique = is_named_section(type);
            std::vector<std::string> names;
            for (size_t i = 0; i < items.size(); i++) {
                names.push_back(unique && !items[i]->name().empty() ? section_escape(items[i]->name())
                                                                    : std::to_string(i));
            }
            std::string list = std::string(1, kListPrefix) + prefix + std::string(type) + "=";
            for (size_t i = 0; i < names.size(); i++)
                list += (i > 0 ? " " : "") + names[i];
            strings.push_back(list);
            for (size_t i = 0; i < items.size(); i++) {
                const Section* base = find_named(base_parent, type, items[i]->name());
                const Section* builtin = find_named(builtin_parent, type, items[i]->name());
                bool from_base = unique ? base != nullptr || builtin != nullptr : has_type(base_parent, type);
                bool child_unmarked = unmarked || (override_ && !from_base);
                section(prefix + std::string(type) + "/" + names[i] + "/", *items[i], unique, base, builtin,
                        child_unmarked);
            }
        }
    }

    void section(const std::string& prefix, const Section& s, bool unique, const Section* base,
                 const Section* builtin, bool unmarked)
    {
        if (unique)
            strings.push_back(prefix + kUniqueMark + "name=" + s.name());
        for (const SettingDef& def : settings_of(s.type())) {
            auto it = s.values().find(def.name);
            // Opening a passdb/userdb block sets its name (to "" when anonymous).
            bool is_explicit = !unmarked && ((it != s.values().end() && it->second.explicit_set) ||
                                             (!unique && def.name == "name"));
            std::string value = it != s.values().end() ? display(&def, it->second) : std::string(def.default_value);
            // doveconf always shows a namespace's location and prefix.
            bool always = s.type() == "namespace" && (def.name == "location" || def.name == "prefix");
            if (always || wanted(is_explicit, value == def.default_value, unique))
                emit(prefix + std::string(def.name), value);
        }
        std::vector<const Section*> children;
        for (const auto& c : s.children())
            children.push_back(c.get());
        lists(prefix, s.type(), children, base, builtin, unmarked);
    }

    const DumpOptions& options_;
    DumpScope scope_;
    bool single_lookup_;
    bool override_ = false;
    const Section* override_root_ = nullptr;
};

// doveconf's sort: by key (the part before '='), a key that ends first sorts first,
// and bytes compare as signed chars (so the \xff section-name mark sorts first).
bool string_less(const std::string& a, const std::string& b)
{
    size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) {
        if (a[i] == '=')
            return false;
        i++;
    }
    char ca = i < a.size() ? a[i] : '\0';
    char cb = i < b.size() ? b[i] : '\0';
    if (ca == cb)
        return false;  // both ended
    if (ca == '=' || ca == '\0')
        return true;
    if (cb == '=' || cb == '\0')
        return false;
    return static_cast<signed char>(ca) < static_cast<signed char>(cb);
}

bool value_needs_quote(std::string_view value)
{
    if (value.empty())
        return false;
    return value.find('#') != std::string_view::npos || is_white(value.front()) || is_white(value.back());
}

bool key_ends_with(std::string_view key, std::string_view suffix)
{
    return key.size() > suffix.size() && key.ends_with(suffix);
}

// doveconf's hiding of secrets in values (without -P). Returns false when nothing was
// hidden, leaving the normal printing to the caller.
bool hide_secrets(std::string& out, std::string_view key, std::string_view value)
{
    bool quote = value_needs_quote(value);
    if (!value.empty() && (key_ends_with(key, "_password") || key_ends_with(key, "_key") ||
                           key_ends_with(key, "_nonce") || key.starts_with("ssl_dh"))) {
        out += "# hidden, use -P to show it";
        return true;
    }
    static constexpr std::string_view secrets[] = {"key", "secret", "pass", "http://", "https://", "ftp://"};
    auto append = [&](std::string_view part) { out += quote ? str_escape(part) : std::string(part); };
    bool hidden = false;
    size_t ptr = 0, optr = 0;
    for (;;) {
        size_t best = std::string_view::npos;
        std::string_view secret;
        for (auto s : secrets) {
            size_t at = value.find(s, ptr);
            if (at != std::string_view::npos && (best == std::string_view::npos || at < best)) {
                best = at;
                secret = s;
            }
        }
        if (best == std::string_view::npos)
            break;
        ptr = best;
        if (secret.find("://") != std::string_view::npos) {
            ptr += secret.size();
            size_t start_of_user = ptr;
            size_t start_of_host = std::string_view::npos;
            while (ptr < value.size() && !std::isspace(static_cast<unsigned char>(value[ptr])) && value[ptr] != '/') {
                if (value[ptr] == '@') {
                    start_of_host = ptr;
                    break;
                }
                ptr++;
            }
            append(value.substr(optr, start_of_user - optr));
            if (start_of_host != std::string_view::npos && start_of_host != start_of_user)
                out += "#hidden_use-P_to_show#";
            else
                append(value.substr(start_of_user, ptr - start_of_user));
            optr = ptr;
            hidden = true;
            continue;
        }
        hidden = true;
        if (ptr == 0 || !std::isalnum(static_cast<unsigned char>(value[ptr - 1]))) {
            while (ptr < value.size() && value[ptr] != '=' && !std::isspace(static_cast<unsigned char>(value[ptr])))
                ptr++;
            while (ptr < value.size() && std::isspace(static_cast<unsigned char>(value[ptr])))
                ptr++;
            append(value.substr(optr, ptr - optr));
            if (ptr < value.size() && value[ptr] == '=') {
                out += '=';
                out += "#hidden_use-P_to_show#";
                while (ptr < value.size() && !std::isspace(static_cast<unsigned char>(value[ptr])) &&
                       value[ptr] != ';' && value[ptr] != ':')
                    ptr++;
            }
            optr = ptr;
        } else {
            ptr++;
        }
    }
    if (hidden)
        append(value.substr(optr));
    return hidden;
}

// The second step: print sorted strings as nested sections.
class HumanPrinter {
public:
    HumanPrinter(std::string& out, bool hide_passwords) : out_(out), hide_passwords_(hide_passwords) {}

    std::string pending;  // section headers not yet printed
    bool sent = false;

    void print(std::vector<std::string> strings, unsigned indent, std::string_view name_filter)
    {
        std::stable_sort(strings.begin(), strings.end(), string_less);
        size_t i = 0;
        std::vector<std::string> prefixes;
        for (; i < strings.size() && !strings[i].empty() && strings[i][0] == kListPrefix; i++) {
            const std::string& s = strings[i];
            size_t eq = s.find('=');
            std::string key = s.substr(1, eq - 1);
            std::string_view names = std::string_view(s).substr(eq + 1);
            if (names.empty()) {
                prefixes.push_back(key + "/");
            } else {
                for (const auto& name : split(names, ' '))
                    prefixes.push_back(key + "/" + name + "/");
            }
        }
        const size_t none = SIZE_MAX;
        struct Level {
            size_t prefix_idx;
            size_t str_pos;
        };
        std::vector<Level> stack;
        size_t prefix_idx = none;
        auto pop = [&]() {
            Level top = stack.back();
            stack.pop_back();
            Level result{stack.empty() ? none : stack.back().prefix_idx, top.str_pos};
            return result;
        };
        for (; i < strings.size(); i++) {
            const std::string& s = strings[i];
            size_t eq = s.find('=');
            std::string key = s.substr(0, eq);
            std::string value = s.substr(eq + 1);
            bool unique = false;
            size_t slash = key.rfind('/');
            if (slash != std::string::npos && slash + 1 < key.size() && key[slash + 1] == kUniqueMark) {
                key.erase(slash + 1, 1);
                unique = true;
            }
            if (!name_filter.empty() &&
                !(key.starts_with(name_filter) &&
                  (key.size() == name_filter.size() || key[name_filter.size()] == '/')))
                continue;
            bool skip_string = false;
            for (;;) {  // doveconf's "again" loop
                size_t j = 0;
                while (prefix_idx != none) {
                    if (key.starts_with(prefixes[prefix_idx])) {
                        j = prefix_idx + 1;
                        break;
                    }
                    Level popped = pop();
                    indent--;
                    if (popped.str_pos != none)
                        pending.resize(popped.str_pos);
                    else
                        out_ += std::string(indent * 2, ' ') + "}\n";
                    prefix_idx = popped.prefix_idx;
                }
                bool descended = false;
                for (; j < prefixes.size(); j++) {
                    if (!key.starts_with(prefixes[j]))
                        continue;
                    std::string_view key2 = key;
                    if (prefix_idx != none)
                        key2.remove_prefix(prefixes[prefix_idx].size());
                    stack.push_back({j, unique ? pending.size() : none});
                    prefix_idx = j;
                    pending += std::string(indent * 2, ' ');
                    pending += key2.substr(0, key2.find('/'));
                    if (unique && !value.empty()) {
                        if (value.find(' ') == std::string::npos)
                            pending += " " + value;
                        else
                            pending += " \"" + str_escape(value) + "\"";
                    }
                    pending += " {\n";
                    indent++;
                    descended = true;
                    break;
                }
                if (!descended)
                    break;
                if (unique) {
                    skip_string = true;
                    break;
                }
            }
            if (skip_string)
                continue;
            out_ += pending;
            pending.clear();
            for (auto& level : stack)
                level.str_pos = none;
            sent = true;
            size_t skip_len = prefix_idx == none ? 0 : prefixes[prefix_idx].size();
            std::string_view shown_key = std::string_view(key).substr(skip_len);
            out_ += std::string(indent * 2, ' ');
            out_ += shown_key;
            out_ += " = ";
            if (hide_passwords_ && hide_secrets(out_, shown_key, value)) {
            } else if (!value_needs_quote(value)) {
                out_ += value;
            } else {
                out_ += "\"" + str_escape(value) + "\"";
            }
            out_ += "\n";
        }
        while (prefix_idx != none) {
            Level popped = pop();
            if (popped.str_pos != none)
                break;
            prefix_idx = popped.prefix_idx;
            indent--;
            out_ += std::string(indent * 2, ' ') + "}\n";
        }
    }

private:
    std::string& out_;
    bool hide_passwords_;
};

std::string ip_text(const IpNet& net)
{
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(net.v6 ? AF_INET6 : AF_INET, net.addr.data(), buf, sizeof(buf));
    std::string out = buf;
    if (net.bits != (net.v6 ? 128u : 32u))
        out += "/" + std::to_string(net.bits);
    return out;
}

unsigned filter_header(std::string& out, const FilterMask& m)
{
    unsigned indent = 0;
    auto open = [&](const std::string& line) {
        out += std::string(indent * 2, ' ') + line + " {\n";
        indent++;
    };
    if (m.local.bits != 0)
        open("local " + ip_text(m.local));
    if (!m.local_name.empty())
        open("local_name " + m.local_name);
    if (m.remote.bits != 0)
        open("remote " + ip_text(m.remote));
    if (m.protocol)
        open("protocol " + *m.protocol);
    return indent;
}

// config_filter_find_subset(): the filters that can apply to connections like filter.
bool in_subset(const FilterMask& mask, const Filter& filter)
{
    FilterMask m = mask;
    if (!filter.protocol.empty()) {
        FilterMask proto_only;
        proto_only.protocol = m.protocol;
        Filter f;
        f.protocol = filter.protocol;
        if (!proto_only.matches(f))
            return false;
    }
    m.protocol.reset();
    if (filter.local_name.empty())
        m.local_name.clear();
    if (filter.local_ip.empty())
        m.local.bits = 0;
    if (filter.remote_ip.empty())
        m.remote.bits = 0;
    Filter rest = filter;
    rest.protocol.clear();
    return m.matches(rest);
}

std::vector<std::string> export_global(const Config& config, const DumpOptions& options, bool single_lookup)
{
    Settings settings = config.resolve(options.filter);
    std::map<std::string, const Section::Value*, std::less<>> explicit_values;
    for (const SettingDef& def : settings_of("")) {
        if (const Section::Value* v = settings.find(def.name))
            explicit_values.emplace(std::string(def.name), v);
    }
    std::vector<const Section*> sections;
    for (const auto& s : settings.all_sections())
        sections.push_back(s.get());
    Exporter exporter(options, options.scope, single_lookup);
    const Scope* most_specific = nullptr;
    for (const auto& scope : config.data().scopes) {
        if (scope->mask.matches(options.filter) &&
            (most_specific == nullptr || compare_specificity(scope->mask, most_specific->mask) < 0))
            most_specific = scope.get();
    }
    if (most_specific != nullptr && most_specific != config.data().scopes[0].get())
        exporter.set_merge_base(&most_specific->root);
    exporter.root(explicit_values, sections);
    return std::move(exporter.strings);
}

std::string read_small_file(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        return {};
    char buf[1024];
    in.read(buf, sizeof(buf));
    return std::string(buf, static_cast<size_t>(in.gcount()));
}

std::string distro_name()
{
    std::string lsb = read_small_file("/etc/lsb-release");
    for (const auto& line : split(lsb, '\n')) {
        if (line.starts_with("DISTRIB_DESCRIPTION=")) {
            std::string v = line.substr(20);
            if (!v.empty() && v[0] == '"') {
                auto end = v.rfind('"');
                return v.substr(1, end == 0 ? std::string::npos : end - 1);
            }
            return v;
        }
    }
    static const std::pair<const char*, const char*> files[] = {
        {"", "/etc/redhat-release"},    {"", "/etc/SuSE-release"},       {"", "/etc/mandriva-release"},
        {"", "/etc/fedora-release"},    {"", "/etc/sourcemage-release"}, {"", "/etc/slackware-version"},
        {"", "/etc/gentoo-release"},    {"Debian ", "/etc/debian_version"},
    };
    for (const auto& [prefix, path] : files) {
        std::string data = read_small_file(path);
        if (!data.empty())
            return prefix + data.substr(0, data.find('\n'));
    }
    return {};
}

std::string filesystem_type(std::string_view mail_location)
{
    std::string_view path = mail_location;
    auto colon = path.find(':');
    if (colon != std::string_view::npos) {
        path = path.substr(colon + 1);
        path = path.substr(0, path.find(':'));
    }
    if (!path.empty() && path[0] == '~')
        return {};
    path = path.substr(0, path.find('%'));
    if (path.size() <= 1)
        return {};
    struct stat st;
    if (stat(std::string(path).c_str(), &st) != 0)
        return {};
    std::ifstream mounts("/proc/self/mounts");
    std::string line, found;
    while (std::getline(mounts, line)) {
        auto fields = split_words(line);
        if (fields.size() < 3)
            continue;
        struct stat mst;
        if (stat(fields[1].c_str(), &mst) == 0 && mst.st_dev == st.st_dev)
            found = fields[2];
    }
    return found;
}

}  // namespace

std::string dump_settings(const Config& config, const DumpOptions& options)
{
    std::string out;
    {
        HumanPrinter printer(out, options.hide_passwords);
        printer.print(export_global(config, options, false), 0, {});
    }
    const ConfigData& data = config.data();
    std::vector<const Scope*> filters;
    for (size_t i = 1; i < data.scopes.size(); i++) {
        if (in_subset(data.scopes[i]->mask, options.filter))
            filters.push_back(data.scopes[i].get());
    }
    std::stable_sort(filters.begin(), filters.end(), [](const Scope* a, const Scope* b) {
        return compare_specificity(a->mask, b->mask) > 0;
    });
    for (const Scope* scope : filters) {
        Exporter exporter(options, DumpScope::Set);
        std::map<std::string, const Section::Value*, std::less<>> values;
        for (const auto& [key, value] : scope->root.values())
            values.emplace(key, &value);
        std::vector<const Section*> sections;
        for (const auto& s : scope->root.children())
            sections.push_back(s.get());
        exporter.root(values, sections);
        HumanPrinter printer(out, options.hide_passwords);
        unsigned indent = filter_header(printer.pending, scope->mask);
        printer.print(std::move(exporter.strings), indent, {});
        if (printer.sent) {
            while (indent > 0) {
                indent--;
                out += std::string(indent * 2, ' ') + "}\n";
            }
        }
    }
    return out;
}

std::string dump_one(const Config& config, const DumpOptions& options, std::string_view name, bool hide_key)
{
    auto strings = export_global(config, options, true);
    bool as_section = false;
    for (const auto& s : strings) {
        if (!s.starts_with(name) || s.size() == name.size())
            continue;
        char next = s[name.size()];
        if (next == '=') {
            std::string value = s.substr(name.size() + 1);
            return hide_key ? value + "\n" : std::string(name) + " = " + value + "\n";
        }
        if (next == '/')
            as_section = true;
    }
    if (!as_section)
        return {};
    std::string out;
    HumanPrinter printer(out, options.hide_passwords);
    printer.print(std::move(strings), 0, name);
    return out;
}

std::string os_info_line(std::string_view mail_location)
{
    struct utsname u;
    if (uname(&u) != 0)
        return {};
    std::string distro;
    if (std::strcmp(u.sysname, "Linux") == 0)
        distro = distro_name();
    return std::string("# OS: ") + u.sysname + " " + u.release + " " + u.machine + " " + distro + " " +
           filesystem_type(mail_location) + "\n";
}

std::string hostname_line()
{
    char host[256];
    if (gethostname(host, sizeof(host) - 1) != 0)
        std::strcpy(host, "localhost");
    host[sizeof(host) - 1] = '\0';
    std::string name = host;
    if (const char* env = std::getenv("DOVECOT_HOSTDOMAIN")) {
        name = env;
    } else {
        addrinfo hints{};
        hints.ai_flags = AI_CANONNAME;
        addrinfo* result = nullptr;
        if (getaddrinfo(host, nullptr, &hints, &result) == 0 && result != nullptr) {
            if (result->ai_canonname != nullptr)
                name = result->ai_canonname;
            freeaddrinfo(result);
        }
    }
    return "# Hostname: " + name + "\n";
}

}  // namespace loft::config
