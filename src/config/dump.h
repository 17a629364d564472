// Printing a configuration exactly as doveconf prints it (-n, -N, -a, single settings),
// so that scripts written against doveconf's output work on loftconf's.
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"

namespace loft::config {

enum class DumpScope {
    Changed,  // -n: settings that differ from Dovecot's defaults
    Set,      // -N: -n plus settings explicitly set to their default
    All,      // -a: everything
};

struct DumpOptions {
    DumpScope scope = DumpScope::All;
    Filter filter;               // -f: show the settings a connection like this gets
    bool hide_passwords = true;  // without -P, secrets print as "# hidden, use -P to show it"
    bool expanded = false;       // -x: values with $settings and <file expanded
};

// The settings part of doveconf's human-readable dump (no "#" header lines): top-level
// settings and sections sorted by name, then one block per filter.
std::string dump_settings(const Config& config, const DumpOptions& options);

// doveconf NAME: "name = value" (or only the value with hide_key), or the matching
// sections in dump form when NAME names a section ("service", "namespace/inbox").
// Returns nullopt-like empty string when nothing matches, as doveconf prints nothing.
std::string dump_one(const Config& config, const DumpOptions& options, std::string_view name, bool hide_key);

// Header lines doveconf prints before a dump: "# OS: ..." and "# Hostname: ...".
std::string os_info_line(std::string_view mail_location);
std::string hostname_line();

}  // namespace loft::config
