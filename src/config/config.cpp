// Config, Settings and Section: resolving the parsed scopes for one connection, and
// writing them back out for child processes.
#include "config/config.h"

#include <algorithm>
#include <stdexcept>

#include "config/checks.h"
#include "config/config_data.h"
#include "config/registry.h"
#include "config/values.h"

namespace loft::config {
namespace {

std::string join_errors(const std::vector<ConfigErrorItem>& items)
{
    std::string out;
    for (const auto& item : items) {
        if (!out.empty())
            out += '\n';
        out += item.where.file;
        if (item.where.line != 0)
            out += ":" + std::to_string(item.where.line);
        out += ": " + item.message;
    }
    return out;
}

const SettingDef& root_def(std::string_view key)
{
    const SettingDef* def = find_setting("", key);
    if (def == nullptr)
        throw std::out_of_range("Unknown setting: " + std::string(key));
    return *def;
}

std::string quote_for_serialize(std::string_view text)
{
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: out += c; break;
        }
    }
    out += '"';
    return out;
}

void serialize_section(std::string& out, const Section& section, int depth,
                       const std::function<bool(std::string_view)>& skip)
{
    std::string indent(static_cast<size_t>(depth) * 2, ' ');
    for (const auto& [key, value] : section.values()) {
        if (!value.explicit_set || (skip && skip(key)))
            continue;
        out += indent + key + " = " + quote_for_serialize(value.text) + "\n";
    }
    for (const auto& child : section.children()) {
        out += indent + child->type();
        if (!child->name().empty())
            out += " " + quote_for_serialize(child->name());
        out += " {\n";
        serialize_section(out, *child, depth + 1, skip);
        out += indent + "}\n";
    }
}

// Built-in service values such as "$default_internal_user" name a top-level setting;
// Dovecot's master substitutes them when it starts the service.
std::string resolve_reference(const std::string& text, const Settings& settings)
{
    if (!text.starts_with('$'))
        return text;
    try {
        return settings.get(std::string_view(text).substr(1));
    } catch (const std::out_of_range&) {
        return text;
    }
}

}  // namespace

ConfigError::ConfigError(std::vector<ConfigErrorItem> items)
    : std::runtime_error(join_errors(items)), items_(std::move(items))
{
}

// ---- Section ----

std::optional<std::string> Section::get(std::string_view key) const
{
    auto it = values_.find(key);
    if (it == values_.end())
        return std::nullopt;
    return it->second.text;
}

std::string Section::get_or(std::string_view key, std::string_view fallback) const
{
    auto v = get(key);
    return v ? *v : std::string(fallback);
}

std::string Section::value(std::string_view key) const
{
    if (auto v = get(key))
        return *v;
    if (is_free_form_section(type_))
        return {};
    const SettingDef* def = find_setting(type_, key);
    if (def == nullptr)
        throw std::out_of_range("Unknown setting in " + type_ + " section: " + std::string(key));
    return std::string(def->default_value);
}

bool Section::is_set(std::string_view key) const
{
    auto it = values_.find(key);
    return it != values_.end() && it->second.explicit_set;
}

namespace {

const SettingDef& section_def(std::string_view type, std::string_view key)
{
    const SettingDef* def = find_setting(type, key);
    if (def == nullptr)
        throw std::out_of_range("Unknown setting in " + std::string(type) + " section: " + std::string(key));
    return *def;
}

uint64_t typed_uint(const SettingDef& def, const std::string& v)
{
    switch (def.type) {
    case SettingType::UintOct: return parse_octal(v);
    case SettingType::Port: return parse_port(v);
    default: return parse_uint(v);
    }
}

std::vector<std::string> split_list(std::string_view text)
{
    std::vector<std::string> out;
    std::string cur;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == ',') {
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

}  // namespace

bool Section::get_bool(std::string_view key) const
{
    (void)section_def(type_, key);
    return parse_bool(value(key));
}

uint64_t Section::get_uint(std::string_view key) const { return typed_uint(section_def(type_, key), value(key)); }

uint64_t Section::get_size(std::string_view key) const
{
    (void)section_def(type_, key);
    return parse_size(value(key));
}

uint64_t Section::get_time_ms(std::string_view key) const
{
    (void)section_def(type_, key);
    return parse_time_ms(value(key), true);
}

std::vector<const Section*> Section::sections(std::string_view type) const
{
    std::vector<const Section*> out;
    for (const auto& child : children_) {
        if (child->type_ == type)
            out.push_back(child.get());
    }
    return out;
}

// ---- ConfigData helpers ----

Section& ConfigData::add_child(Section& parent, std::string type, std::string name, SourceLocation where)
{
    auto child = std::make_unique<Section>();
    child->type_ = std::move(type);
    child->name_ = std::move(name);
    child->location_ = std::move(where);
    parent.children_.push_back(std::move(child));
    return *parent.children_.back();
}

Section* ConfigData::find_child(Section& parent, std::string_view type, std::string_view name)
{
    for (auto& child : parent.children_) {
        if (child->type_ == type && child->name_ == name)
            return child.get();
    }
    return nullptr;
}

void ConfigData::set_value(Section& section, const std::string& key, Section::Value value)
{
    auto it = section.values_.find(key);
    if (it == section.values_.end()) {
        section.key_order_.push_back(key);
        section.values_.emplace(key, std::move(value));
    } else {
        it->second = std::move(value);
    }
}

std::unique_ptr<Section> ConfigData::clone(const Section& section)
{
    auto copy = std::make_unique<Section>();
    copy->type_ = section.type_;
    copy->name_ = section.name_;
    copy->location_ = section.location_;
    copy->values_ = section.values_;
    copy->key_order_ = section.key_order_;
    for (const auto& child : section.children_)
        copy->children_.push_back(clone(*child));
    return copy;
}

void ConfigData::merge_into(Section& dst, const Section& src)
{
    for (const auto& key : src.key_order_)
        set_value(dst, key, src.values_.at(key));
    for (const auto& child : src.children_) {
        Section* existing = nullptr;
        if (is_free_form_section(child->type_) || (is_named_section(child->type_) && !child->name_.empty()))
            existing = find_child(dst, child->type_, child->name_);
        if (existing != nullptr)
            merge_into(*existing, *child);
        else
            dst.children_.push_back(clone(*child));
    }
}

const Section& ConfigData::builtin_services()
{
    // Parsed once; a constant table afterwards.
    static const std::shared_ptr<ConfigData> parsed = [] {
        ParseOptions options;
        options.expand_values = false;
        options.check_settings = false;
        auto data = parse(builtin_services_text(), "<built-in services>", "", options);
        for (auto& service : data->scopes[0]->root.children_) {
            for (auto& [key, value] : service->values_)
                value.explicit_set = false, value.where = {};
            for (auto& listener : service->children_) {
                for (auto& [key, value] : listener->values_)
                    value.explicit_set = false, value.where = {};
            }
        }
        return data;
    }();
    return parsed->scopes[0]->root;
}

Settings ConfigData::resolve(const std::shared_ptr<const ConfigData>& self, const Filter& filter) const
{
    std::vector<const Scope*> matches;
    for (const auto& scope : scopes) {
        if (scope->mask.matches(filter))
            matches.push_back(scope.get());
    }
    // Least specific first, so that more specific scopes overwrite.
    std::stable_sort(matches.begin(), matches.end(), [](const Scope* a, const Scope* b) {
        return compare_specificity(a->mask, b->mask) > 0;
    });

    Settings settings;
    settings.data_ = self;
    Section merged;
    for (const auto& builtin : builtin_services().children())
        merged.children_.push_back(clone(*builtin));
    for (const Scope* scope : matches) {
        for (const auto& [key, value] : scope->root.values())
            settings.values_[key] = &value;
        Section plain;  // the scope's sections, without its top-level values
        for (const auto& child : scope->root.children())
            plain.children_.push_back(clone(*child));
        merge_into(merged, plain);
    }
    // Built-in service values such as "$default_internal_user" follow this config.
    for (auto& section : merged.children_) {
        for (auto& [key, value] : section->values_)
            value.text = resolve_reference(value.text, settings);
        for (auto& child : section->children_) {
            for (auto& [key, value] : child->values_)
                value.text = resolve_reference(value.text, settings);
        }
    }
    settings.sections_ = std::move(merged.children_);
    return settings;
}

std::string ConfigData::serialize(const std::function<bool(std::string_view)>& skip) const
{
    std::string out = "# Loft configuration, serialized from " + path + "\n";
    serialize_section(out, scopes[0]->root, 0, skip);
    for (size_t i = 1; i < scopes.size(); i++) {
        const Scope& scope = *scopes[i];
        const FilterMask& m = scope.mask;
        int depth = 0;
        auto open = [&](const std::string& kind, const std::string& arg) {
            out += std::string(static_cast<size_t>(depth) * 2, ' ') + kind + " " +
                   quote_for_serialize(arg) + " {\n";
            depth++;
        };
        if (m.has_local)
            open("local", m.local_host);
        if (!m.local_name.empty())
            open("local_name", m.local_name);
        if (m.has_remote)
            open("remote", m.remote_host);
        if (m.protocol)
            open("protocol", *m.protocol);
        std::string body;
        serialize_section(body, scope.root, 0, skip);
        std::string indent(static_cast<size_t>(depth) * 2, ' ');
        size_t pos = 0;
        while (pos < body.size()) {
            size_t end = body.find('\n', pos);
            out += indent + body.substr(pos, end - pos + 1);
            pos = end + 1;
        }
        while (depth > 0) {
            depth--;
            out += std::string(static_cast<size_t>(depth) * 2, ' ') + "}\n";
        }
    }
    return out;
}

// ---- Settings ----

std::string Settings::get(std::string_view key) const
{
    auto it = values_.find(key);
    if (it != values_.end())
        return it->second->text;
    return std::string(root_def(key).default_value);
}

bool Settings::get_bool(std::string_view key) const { return parse_bool(get(key)); }

uint64_t Settings::get_uint(std::string_view key) const { return typed_uint(root_def(key), get(key)); }

std::vector<std::string> Settings::get_list(std::string_view key) const { return split_list(get(key)); }

uint64_t Settings::get_size(std::string_view key) const { return parse_size(get(key)); }

uint64_t Settings::get_time_ms(std::string_view key) const
{
    const SettingDef& def = root_def(key);
    return parse_time_ms(get(key), def.type == SettingType::TimeMsecs || def.type == SettingType::Time);
}

bool Settings::is_set(std::string_view key) const
{
    (void)root_def(key);
    return values_.find(key) != values_.end();
}

std::vector<const Section*> Settings::sections(std::string_view type) const
{
    std::vector<const Section*> out;
    for (const auto& s : sections_) {
        if (s->type() == type)
            out.push_back(s.get());
    }
    return out;
}

const Section* Settings::section(std::string_view type, std::string_view name) const
{
    for (const auto& s : sections_) {
        if (s->type() == type && s->name() == name)
            return s.get();
    }
    return nullptr;
}

std::optional<std::string> Settings::plugin(std::string_view key) const
{
    const Section* p = section("plugin", "");
    if (p == nullptr)
        return std::nullopt;
    return p->get(key);
}

const Section::Value* Settings::find(std::string_view key) const
{
    auto it = values_.find(key);
    return it == values_.end() ? nullptr : it->second;
}

// ---- Config ----

Config Config::load_file(const std::string& path, const ParseOptions& options)
{
    return Config(ConfigData::parse_file(path, options));
}

Config Config::load_string(std::string_view text, const std::string& source_name,
                           const std::string& base_dir, const ParseOptions& options)
{
    return Config(ConfigData::parse(text, source_name, base_dir, options));
}

const std::vector<std::string>& Config::warnings() const { return data_->warnings; }

std::vector<ConfigErrorItem> Config::check(bool check_users) const { return check_settings(data_, check_users); }

Settings Config::resolve(const Filter& filter) const { return data_->resolve(data_, filter); }

std::string Config::serialize(const std::function<bool(std::string_view)>& skip) const
{
    return data_->serialize(skip);
}

}  // namespace loft::config
