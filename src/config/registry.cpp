#include "config/registry.h"

#include <algorithm>
#include <array>
#include <vector>

namespace loft::config {
namespace {

#include "config/registry_table.inc"

// Loft's own settings, documented in src/config/loft-settings.md. Top level only.
constexpr SettingDef kLoftSettings[] = {
    {"", "loft_rpc_listen", SettingType::String, "", ""},
    {"", "loft_rpc_max_frame_size", SettingType::Size, "16 M", ""},
    {"", "loft_rpc_ssl_ca", SettingType::String, "", ""},
    {"", "loft_rpc_ssl_cert", SettingType::String, "", ""},
    {"", "loft_rpc_ssl_key", SettingType::String, "", ""},
    {"", "loft_storage_idle_timeout", SettingType::Time, "5 mins", ""},
    {"", "loft_storage_mode", SettingType::Enum, "user", "user:uid:shared"},
    {"", "loft_storage_socket_dir", SettingType::String, "storage", ""},
    {"", "loft_worker_chroot", SettingType::String, "empty", ""},
};

struct Table {
    std::vector<SettingDef> all;
    Table()
    {
        all.assign(std::begin(kDovecotSettings), std::end(kDovecotSettings));
        all.insert(all.end(), std::begin(kLoftSettings), std::end(kLoftSettings));
        std::sort(all.begin(), all.end(), [](const SettingDef& a, const SettingDef& b) {
            return a.section != b.section ? a.section < b.section : a.name < b.name;
        });
    }
};

const Table& table()
{
    static const Table instance;
    return instance;
}

struct Nesting {
    std::string_view parent, child;
};
constexpr Nesting kNesting[] = {
    {"", "service"},        {"", "namespace"},  {"", "passdb"},
    {"", "userdb"},         {"", "plugin"},     {"", "dict"},
    {"", "metric"},         {"", "event_exporter"},
    {"service", "inet_listener"}, {"service", "unix_listener"}, {"service", "fifo_listener"},
    {"namespace", "mailbox"},
};

}  // namespace

std::span<const SettingDef> settings_of(std::string_view section_type)
{
    const auto& all = table().all;
    auto lo = std::lower_bound(all.begin(), all.end(), section_type,
                               [](const SettingDef& d, std::string_view s) { return d.section < s; });
    auto hi = std::upper_bound(lo, all.end(), section_type,
                               [](std::string_view s, const SettingDef& d) { return s < d.section; });
    return {lo, hi};
}

const SettingDef* find_setting(std::string_view section_type, std::string_view name)
{
    auto defs = settings_of(section_type);
    auto it = std::lower_bound(defs.begin(), defs.end(), name,
                               [](const SettingDef& d, std::string_view n) { return d.name < n; });
    if (it == defs.end() || it->name != name)
        return nullptr;
    return &*it;
}

bool is_loft_setting(std::string_view name) { return name.starts_with("loft_"); }

bool is_section_allowed(std::string_view parent_type, std::string_view type)
{
    return std::any_of(std::begin(kNesting), std::end(kNesting),
                       [&](const Nesting& n) { return n.parent == parent_type && n.child == type; });
}

bool is_free_form_section(std::string_view type) { return type == "plugin" || type == "dict"; }

bool is_named_section(std::string_view type)
{
    return type == "service" || type == "namespace" || type == "mailbox" || type == "metric" ||
           type == "event_exporter" || type == "inet_listener" || type == "unix_listener" ||
           type == "fifo_listener";
}

std::string_view builtin_services_text() { return kDovecotServices; }
std::string_view dovecot_version() { return kDovecotVersion; }

}  // namespace loft::config
