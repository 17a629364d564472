// The table of every setting Loft accepts: Dovecot 2.3's (names, types, defaults, per
// section type) and Loft's own loft_* settings, plus which sections nest where.
#pragma once

#include <span>
#include <string_view>

namespace loft::config {

enum class SettingType { Bool, Uint, UintOct, Time, TimeMsecs, Size, Port, String, Enum };

struct SettingDef {
    std::string_view section;        // "" top level, else "service", "inet_listener", ...
    std::string_view name;
    SettingType type;
    std::string_view default_value;  // as doveconf -a prints it
    std::string_view enum_values;    // "a:b:c" for Enum, the first is the default
    bool hidden = false;             // doveconf -a leaves it out unless it is set
};

// nullptr when the section type has no such setting.
const SettingDef* find_setting(std::string_view section_type, std::string_view name);
// Every setting of one section type, sorted by name.
std::span<const SettingDef> settings_of(std::string_view section_type);
bool is_loft_setting(std::string_view name);

// Section types that hold settings of their own ("service", "namespace" ...), given the
// type of the enclosing section ("" for top level).
bool is_section_allowed(std::string_view parent_type, std::string_view type);
// plugin { } and dict { } take any key.
bool is_free_form_section(std::string_view type);
// Sections that Dovecot keys by name (a second "service imap" block adds to the first).
bool is_named_section(std::string_view type);

// Dovecot's built-in services as doveconf -a prints them, in dovecot.conf syntax.
std::string_view builtin_services_text();
// The Dovecot version the table was generated from, e.g. "2.3.19.1 (9b53102964)".
std::string_view dovecot_version();

}  // namespace loft::config
