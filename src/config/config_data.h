// Internal model of a parsed configuration: one scope per distinct filter (the global
// scope first), each holding the settings and sections written inside it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/filter.h"

namespace loft::config {

struct Scope {
    FilterMask mask;
    SourceLocation where;  // where the filter was first opened
    Section root;          // type "": top-level settings and sections of this scope
};

class ConfigData {
public:
    std::vector<std::unique_ptr<Scope>> scopes;  // scopes[0] is the global scope
    std::string path;                            // main file, or the source name
    std::vector<std::string> files;              // every file read, in order
    std::vector<std::string> warnings;           // as doveconf words them, in file order

    static std::shared_ptr<ConfigData> parse(std::string_view text, const std::string& source_name,
                                             const std::string& base_dir, const ParseOptions& options);
    static std::shared_ptr<ConfigData> parse_file(const std::string& path, const ParseOptions& options);

    Settings resolve(const std::shared_ptr<const ConfigData>& self, const Filter& filter) const;
    std::string serialize(const std::function<bool(std::string_view)>& skip) const;

    // Dovecot's built-in services (type "" section with service children), values not
    // explicitly set and still holding "$default_internal_user" style references.
    static const Section& builtin_services();

    // Building blocks for the parser.
    static Section& add_child(Section& parent, std::string type, std::string name,
                              SourceLocation where);
    static Section* find_child(Section& parent, std::string_view type, std::string_view name);
    static void set_value(Section& section, const std::string& key, Section::Value value);
    static std::unique_ptr<Section> clone(const Section& section);
    // Overlays src's values and children on dst (same type/name children merge).
    static void merge_into(Section& dst, const Section& src);
};

}  // namespace loft::config
