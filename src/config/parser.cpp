// Turns dovecot.conf text (and the files it includes) into ConfigData, checking every
// name and value against the registry and collecting all errors before throwing.
#include <arpa/inet.h>
#include <fcntl.h>
#include <glob.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>

#include "config/checks.h"
#include "config/config_data.h"
#include "config/lexer.h"
#include "config/obsolete.h"
#include "config/registry.h"
#include "config/values.h"
#include "lib/strings.h"
#include "lib/unique_fd.h"

namespace loft::config {
namespace {

constexpr size_t kMaxFileSize = 64 * 1024 * 1024;
constexpr size_t kMaxIncludeDepth = 40;
constexpr size_t kMaxFiles = 10000;
constexpr size_t kMaxSectionDepth = 32;
constexpr size_t kMaxErrors = 200;

struct ReadResult {
    std::string text;
    int error = 0;  // errno
    bool opened = false;  // the error came from read(), not open()
};

ReadResult read_whole_file(const std::string& path)
{
    ReadResult r;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        r.error = errno;
        return r;
    }
    r.opened = true;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r.error = errno;
            return r;
        }
        if (n == 0)
            break;
        if (r.text.size() + static_cast<size_t>(n) > kMaxFileSize) {
            r.error = EFBIG;
            return r;
        }
        r.text.append(buf, static_cast<size_t>(n));
    }
    return r;
}

std::string dir_of(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

// Dovecot resolves a relative path against the directory of the file that names it.
std::string relative_to(const std::string& path, const std::string& dir)
{
    if (!path.empty() && path[0] == '/')
        return path;
    return dir + path;
}

// A local/remote filter argument: "IP[/bits]", or like Dovecot a host name looked up in
// DNS (its first address). Returns the error text Dovecot would give, or "".
std::string parse_network(const std::string& value, IpNet& net)
{
    if (auto parsed = IpNet::parse(value)) {
        net = *parsed;
        return {};
    }
    auto slash = value.find('/');
    std::string host = value.substr(0, slash);
    std::optional<IpNet> address = IpNet::parse(host);
    if (!address) {
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* result = nullptr;
        int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
        if (rc != 0)
            return "gethostbyname(" + host + ") failed: " + gai_strerror(rc);
        char text[INET6_ADDRSTRLEN] = "";
        if (result->ai_family == AF_INET)
            inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(result->ai_addr)->sin_addr, text, sizeof(text));
        else if (result->ai_family == AF_INET6)
            inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(result->ai_addr)->sin6_addr, text, sizeof(text));
        freeaddrinfo(result);
        address = IpNet::parse(text);
        if (!address)
            return "gethostbyname(" + host + ") failed: no usable address";
    }
    unsigned max_bits = address->v6 ? 128 : 32;
    if (slash == std::string::npos) {
        address->bits = max_bits;
    } else {
        auto bits = loft::parse_uint(std::string_view(value).substr(slash + 1));
        if (!bits || *bits > max_bits)
            return "Invalid network mask: " + value.substr(slash + 1);
        address->bits = static_cast<unsigned>(*bits);
    }
    net = *address;
    return {};
}

// Dovecot's settings_section_escape(), for section names inside key paths.
std::string section_key_escape(std::string_view name)
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

bool is_filter_keyword(std::string_view key)
{
    return key == "protocol" || key == "local" || key == "remote" || key == "local_name";
}

class Parser : private ObsoleteSink {
public:
    explicit Parser(ConfigData& data, const ParseOptions& options) : data_(data), options_(options)
    {
        auto global = std::make_unique<Scope>();
        global_ = global.get();
        data_.scopes.push_back(std::move(global));
        contexts_.push_back({Context::Root, "", &global_->root, global_, {}, {}, {}});
    }

    void parse_text(std::string_view text, const std::string& file, const std::string& dir)
    {
        Input input{file, dir};
        inputs_.push_back(&input);
        Lexer lexer(text, options_.serialized);
        while (auto line = lexer.next()) {
            input.line = line->line;
            handle(*line);
            if (errors_.size() >= kMaxErrors)
                break;
        }
        inputs_.pop_back();
    }

    void finish()
    {
        if (contexts_.size() > 1) {
            const auto& open = contexts_.back().opened;
            error_at({data_.path, 0}, "Missing '}' (section started at " + open.file + ":" +
                                          std::to_string(open.line) + ")");
        }
        if (!errors_.empty())
            throw ConfigError(std::move(errors_));
        warn_ssl_disabled_globally();
    }

    void error(const std::string& message) { error_at(here(), message); }

private:
    struct Input {
        std::string file, dir;
        unsigned line = 0;
    };
    struct Context {
        enum Kind { Root, Filter, Block, Dead } kind;
        std::string type;  // section type for registry look-ups ("" at top level)
        Section* target;   // where settings go
        Scope* scope;
        FilterMask mask;
        SourceLocation opened;
        std::string key_path;  // Dovecot's "service/imap/" prefix, named in some errors
    };


    SourceLocation here() const
    {
        if (inputs_.empty())
            return {};
        return {inputs_.back()->file, inputs_.back()->line};
    }

    void error_at(const SourceLocation& where, const std::string& message)
    {
        if (errors_.size() < kMaxErrors)
            errors_.push_back({where, message});
    }

    void handle(const LogicalLine& line)
    {
        Context& ctx = contexts_.back();
        switch (line.kind) {
        case LineKind::Error:
            error(line.value);
            // A broken section line still opens a block; keep the braces balanced.
            if (line.value.starts_with("Garbage"))
                push_dead();
            return;
        case LineKind::SectionEnd:
            if (contexts_.size() == 1)
                error("Unexpected '}'");
            else
                contexts_.pop_back();
            return;
        case LineKind::Include:
        case LineKind::IncludeTry:
            include(line.value, line.kind == LineKind::IncludeTry);
            return;
        case LineKind::SectionBegin:
            begin_section(line.key, line.value);
            return;
        case LineKind::KeyValue:
        case LineKind::KeyFile:
        case LineKind::KeyVariable:
            if (ctx.kind == Context::Dead)
                return;
            if (line.ambiguous_hash)
                data_.warnings.push_back("Configuration file " + here().file + " line " + std::to_string(here().line) +
                                         ": Ambiguous '#' character in line, treating it as comment. "
                                         "Add a space before it to remove this warning.");
            // Serialized text was written from already-rewritten settings.
            if (line.kind == LineKind::KeyValue && ctx.kind != Context::Block && !options_.serialized &&
                handle_obsolete_setting(line.key, line.value, ctx.mask, *this))
                return;
            set(ctx, line);
            return;
        }
    }

    void push_dead()
    {
        Context dead = contexts_.back();
        dead.kind = Context::Dead;
        dead.opened = here();
        contexts_.push_back(dead);
    }

    std::string section_path(std::string_view key) const
    {
        std::string path;
        for (const auto& c : contexts_) {
            if (c.kind == Context::Block)
                path += c.type + " { ";
        }
        path += key;
        return path;
    }

    bool in_local_or_remote(const Context& ctx) const
    {
        return ctx.mask.local.bits != 0 || ctx.mask.remote.bits != 0 || !ctx.mask.local_name.empty();
    }

    void begin_section(const std::string& type, const std::string& given_name)
    {
        Context& ctx = contexts_.back();
        std::string name = given_name;
        if (ctx.kind == Context::Root || ctx.kind == Context::Filter) {
            std::string warning;
            std::string renamed = renamed_section(type, name, warning);
            if (!renamed.empty()) {
                warn(warning);
                name = renamed;
            }
        }
        if (ctx.kind == Context::Dead) {
            push_dead();
            return;
        }
        if (contexts_.size() >= kMaxSectionDepth) {
            error("Sections nested too deeply");
            push_dead();
            return;
        }
        if (is_filter_keyword(type)) {
            begin_filter(type, name);
            return;
        }
        if (is_free_form_section(ctx.type)) {
            error("Section not allowed here");
            push_dead();
            return;
        }
        if (!is_section_allowed(ctx.type, type)) {
            // Dovecot names the path including the section being opened.
            error("Unknown setting: " + section_path(type + " { " + type));
            push_dead();
            return;
        }
        if ((type == "passdb" || type == "userdb") && in_local_or_remote(ctx)) {
            error("Auth settings not supported inside local/remote blocks: " + type);
            push_dead();
            return;
        }
        // Dovecot numbers unnamed sections with one counter for the whole config.
        std::string key_path = ctx.key_path + type + "/" +
                               (name.empty() ? std::to_string(anonymous_sections_++) : section_key_escape(name)) + "/";
        Section* child = nullptr;
        if (is_free_form_section(type)) {
            child = ConfigData::find_child(*ctx.target, type, "");
        } else if (is_named_section(type) && !name.empty()) {
            child = ConfigData::find_child(*ctx.target, type, name);
        }
        if (child == nullptr) {
            child = &ConfigData::add_child(*ctx.target, type, is_free_form_section(type) ? "" : name, here());
            // "passdb pam {": the name of an unnamed-list section is its "name" setting.
            if (!name.empty() && !is_named_section(type) && !is_free_form_section(type))
                ConfigData::set_value(*child, "name", Section::Value{name, name, here(), true});
        }
        contexts_.push_back({Context::Block, type, child, ctx.scope, ctx.mask, here(), key_path});
    }

    void begin_filter(const std::string& key, const std::string& value)
    {
        Context& parent = contexts_.back();
        if (parent.kind == Context::Block) {
            error("Unknown setting: " + section_path(key));
            push_dead();
            return;
        }
        FilterMask mask = parent.mask;
        const FilterMask& pm = parent.mask;
        std::string problem;
        if (key == "protocol") {
            if (pm.protocol)
                problem = "Nested protocol { protocol { .. } } block not allowed";
            else
                mask.protocol = value;
        } else if (key == "local") {
            IpNet parsed;
            std::string net_problem = parse_network(value, parsed);
            std::optional<IpNet> net;
            if (net_problem.empty())
                net = parsed;
            if (pm.remote.bits > 0)
                problem = "remote { local { .. } } not allowed (use local { remote { .. } } instead)";
            else if (pm.protocol)
                problem = "protocol { local { .. } } not allowed (use local { protocol { .. } } instead)";
            else if (!pm.local_name.empty())
                problem = "local_name { local { .. } } not allowed (use local { local_name { .. } } instead)";
            else if (!net)
                problem = net_problem;
            else if (pm.local.bits > net->bits || (pm.local.bits > 0 && !pm.local.contains(*net)))
                problem = "local net1 { local net2 { .. } } requires net2 to be inside net1";
            else {
                mask.local = *net;
                mask.local_host = value;
                mask.has_local = true;
            }
        } else if (key == "local_name") {
            if (pm.remote.bits > 0)
                problem = "remote { local_name { .. } } not allowed (use local_name { remote { .. } } instead)";
            else if (pm.protocol)
                problem = "protocol { local_name { .. } } not allowed (use local_name { protocol { .. } } instead)";
            else
                mask.local_name = value;
        } else {  // remote
            IpNet parsed;
            std::string net_problem = parse_network(value, parsed);
            std::optional<IpNet> net;
            if (net_problem.empty())
                net = parsed;
            if (pm.protocol)
                problem = "protocol { remote { .. } } not allowed (use remote { protocol { .. } } instead)";
            else if (!net)
                problem = net_problem;
            else if (pm.remote.bits > net->bits || (pm.remote.bits > 0 && !pm.remote.contains(*net)))
                problem = "remote net1 { remote net2 { .. } } requires net2 to be inside net1";
            else {
                mask.remote = *net;
                mask.remote_host = value;
                mask.has_remote = true;
            }
        }
        if (!problem.empty()) {
            error(problem);
            push_dead();
            return;
        }
        Scope* scope = nullptr;
        for (auto& s : data_.scopes) {
            if (s->mask == mask) {
                scope = s.get();
                break;
            }
        }
        if (scope == nullptr) {
            auto fresh = std::make_unique<Scope>();
            fresh->mask = mask;
            fresh->where = here();
            scope = fresh.get();
            data_.scopes.push_back(std::move(fresh));
        }
        contexts_.push_back({Context::Filter, "", &scope->root, scope, mask, here(), {}});
    }

    // The value of top-level setting name as seen from the current position, the way
    // Dovecot's config_get_value() finds it: a self-reference ("key = $key more") walks
    // out to the nearest scope that set it; any other reference reads the innermost
    // scope, which inside a filter holds the default unless the filter set it.
    std::optional<std::string> variable_value(const std::string& name, bool self_reference, bool raw)
    {
        const SettingDef* def = find_setting("", name);
        if (def == nullptr)
            return std::nullopt;
        for (auto it = contexts_.rbegin(); it != contexts_.rend(); ++it) {
            if (it->kind == Context::Block || it->kind == Context::Dead)
                continue;
            const Section& root = it->scope->root;
            auto found = root.values().find(name);
            if (found != root.values().end()) {
                const std::string& v = raw ? found->second.raw : found->second.text;
                try {
                    return normalize_value(*def, v);
                } catch (const std::invalid_argument&) {
                    return v;
                }
            }
            if (!self_reference || it->kind == Context::Root)
                break;
        }
        return std::string(def->default_value);
    }

    // config_write_keyvariable(): space-separated words; "$name" words are replaced.
    // With expand_all false only "key = $key ..." is expanded, as doveconf does.
    std::string expand_variables(const std::string& key, const std::string& value, bool expand_all,
                                 std::string& problem)
    {
        std::string out;
        size_t pos = 0;
        bool first = true;
        while (pos <= value.size()) {
            size_t end = value.find(' ', pos);
            std::string word = value.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
            if (!first)
                out += ' ';
            first = false;
            std::string_view bare = std::string_view(word).substr(word.starts_with('$') ? 1 : 0);
            bool self_reference = bare == key;
            if (!word.starts_with('$') || (!expand_all && !self_reference)) {
                out += word;
            } else if (word.starts_with("$ENV:")) {
                if (const char* env = std::getenv(word.c_str() + 5))
                    out += env;
            } else {
                auto v = variable_value(std::string(bare), self_reference, !expand_all);
                if (!v) {
                    problem = "Unknown variable: " + word;
                    return {};
                }
                out += *v;
            }
            if (end == std::string::npos)
                break;
            pos = end;
            while (pos < value.size() && (value[pos] == ' ' || value[pos] == '\t'))
                pos++;
            if (pos == value.size()) {
                out += ' ';
                break;
            }
        }
        return out;
    }

    // ObsoleteSink: where Dovecot's rewrites of old settings go.
    void set_here(const std::string& key, const std::string& value, bool file_value) override
    {
        LogicalLine line{file_value ? LineKind::KeyFile : LineKind::KeyValue, key, value, here().line};
        set(contexts_.back(), line);
    }
    void set_in_sections(const std::vector<std::string>& path, const std::string& key,
                         const std::string& value) override
    {
        Section* target = &global_->root;
        std::string type;
        for (size_t i = 0; i + 1 < path.size(); i += 2) {
            type = path[i];
            Section* child = ConfigData::find_child(*target, type, path[i + 1]);
            if (child == nullptr)
                child = &ConfigData::add_child(*target, type, path[i + 1], here());
            target = child;
        }
        if (!is_free_form_section(type)) {
            const SettingDef* def = find_setting(type, key);
            if (def == nullptr) {
                error("Unknown setting: " + key);
                return;
            }
            try {
                (void)normalize_value(*def, value);
            } catch (const std::invalid_argument& e) {
                error(e.what());
                return;
            }
        }
        ConfigData::set_value(*target, key, Section::Value{value, value, here(), true});
    }
    void warn(const std::string& message) override
    {
        if (!obsolete_warned_) {
            data_.warnings.push_back("NOTE: You can get a new clean config file with: loftconf -Pn > dovecot-new.conf");
            obsolete_warned_ = true;
        }
        data_.warnings.push_back("Obsolete setting in " + here().file + ":" + std::to_string(here().line) + ": " +
                                 message);
    }
    void fail(const std::string& message) override { error(message); }

    // ssl = no at top level switches TLS off everywhere, whatever a filter says.
    void warn_ssl_disabled_globally()
    {
        auto explicit_ssl = [](const Scope& scope, const std::string& fallback) {
            auto it = scope.root.values().find("ssl");
            return it == scope.root.values().end() ? fallback : it->second.text;
        };
        std::string global = explicit_ssl(*data_.scopes[0], "");
        if (global != "no")
            return;
        for (const auto& scope : data_.scopes) {
            std::string ssl = explicit_ssl(*scope, global);
            if (ssl != "no") {
                data_.warnings.push_back("SSL is disabled because global ssl=no, ignoring ssl=" + ssl +
                                         " for subsection");
                return;
            }
        }
    }

    // Dovecot warns when a global setting comes after a filter already set it: the
    // filter keeps its own value, which surprises people.
    void note_filter_order(const Context& ctx, const std::string& key)
    {
        if (ctx.kind == Context::Filter) {
            seen_in_filter_.emplace(key, here().file + " line " + std::to_string(here().line));
        } else if (ctx.kind == Context::Root) {
            auto it = seen_in_filter_.find(key);
            if (it != seen_in_filter_.end())
                data_.warnings.push_back(here().file + " line " + std::to_string(here().line) + ": Global setting " +
                                         key + " won't change the setting inside an earlier filter at " +
                                         it->second + " (if this is intentional, avoid this warning by moving "
                                         "the global setting before " + it->second + ")");
        }
    }

    void set(Context& ctx, const LogicalLine& line)
    {
        note_filter_order(ctx, line.key);
        const std::string& key = line.key;
        const SettingDef* def = nullptr;
        bool free_form = is_free_form_section(ctx.type);
        if (free_form && key.find('/') != std::string::npos) {
            error("Unknown setting: " + section_path(key));
            return;
        }
        if (key.empty() && ctx.type.empty()) {
            error("Missing key name ('=' at the beginning of line)");
            return;
        }
        if (!free_form) {
            def = find_setting(ctx.type, key);
            if (def == nullptr) {
                error("Unknown setting: " + section_path(key));
                return;
            }
            if (ctx.type.empty() && in_local_or_remote(ctx) && key.starts_with("auth_")) {
                error("Auth settings not supported inside local/remote blocks: " + key);
                return;
            }
        }
        Section::Value v;
        v.where = here();
        switch (line.kind) {
        case LineKind::KeyValue:
            v.text = v.raw = line.value;
            break;
        case LineKind::KeyFile: {
            v.raw = "<" + line.value;
            if (!options_.expand_values) {
                v.text = v.raw;
                break;
            }
            std::string path = relative_to(line.value, inputs_.back()->dir);
            auto r = read_whole_file(path);
            if (r.error != 0) {
                error(ctx.key_path + key + (r.opened ? ": read(" + path + ") failed: " : ": Can't open file " + path + ": ") +
                      std::strerror(r.error));
                return;
            }
            v.text = std::move(r.text);
            break;
        }
        case LineKind::KeyVariable: {
            std::string problem;
            v.raw = expand_variables(key, line.value, false, problem);
            if (problem.empty())
                v.text = options_.expand_values ? expand_variables(key, line.value, true, problem) : v.raw;
            if (!problem.empty()) {
                error(problem);
                return;
            }
            break;
        }
        default:
            return;
        }
        // File contents are taken as they are (certificates, greetings).
        if (def != nullptr && line.kind != LineKind::KeyFile) {
            try {
                (void)normalize_value(*def, v.text);
            } catch (const std::invalid_argument& e) {
                error(e.what());
                return;
            }
        }
        ConfigData::set_value(*ctx.target, key, std::move(v));
    }

    void include(const std::string& pattern, bool optional)
    {
        if (inputs_.size() >= kMaxIncludeDepth) {
            error("Includes nested too deeply");
            return;
        }
        std::string full = relative_to(pattern, inputs_.back()->dir);
        glob_t g{};
        int rc = ::glob(full.c_str(), GLOB_BRACE, nullptr, &g);
        struct GlobFree {
            glob_t* g;
            ~GlobFree() { globfree(g); }
        } freer{&g};
        if (rc == GLOB_NOMATCH) {
            if (!optional)
                error("No matches");
            return;
        }
        if (rc != 0) {
            error(rc == GLOB_NOSPACE ? "glob() failed: Not enough memory" : "glob() failed: Read error");
            return;
        }
        std::vector<std::string> paths(g.gl_pathv, g.gl_pathv + g.gl_pathc);
        for (const auto& path : paths) {
            for (const Input* in : inputs_) {
                if (in->file == path) {
                    error("Recursive include file: " + path);
                    return;
                }
            }
            auto r = read_whole_file(path);
            if (r.error == EISDIR)
                r = {};  // Dovecot opens a directory and reads nothing from it
            if (r.error != 0) {
                if (!optional)
                    error("Couldn't open include file " + path + ": " + std::strerror(r.error));
                if (!optional)
                    return;
                continue;
            }
            if (data_.files.size() >= kMaxFiles) {
                error("Too many included files");
                return;
            }
            data_.files.push_back(path);
            parse_text(r.text, path, dir_of(path));
        }
    }

    ConfigData& data_;
    const ParseOptions& options_;
    Scope* global_;
    std::vector<Context> contexts_;
    std::vector<Input*> inputs_;
    std::vector<ConfigErrorItem> errors_;
    std::map<std::string, std::string> seen_in_filter_;
    unsigned anonymous_sections_ = 0;
    bool obsolete_warned_ = false;
};

void run_checks(const std::shared_ptr<ConfigData>& data, const ParseOptions& options)
{
    if (!options.check_settings)
        return;
    auto errors = check_settings(data, options.check_users);
    if (!errors.empty())
        throw ConfigError(std::move(errors));
}

}  // namespace

std::shared_ptr<ConfigData> ConfigData::parse(std::string_view text, const std::string& source_name,
                                              const std::string& base_dir, const ParseOptions& options)
{
    auto data = std::make_shared<ConfigData>();
    data->path = source_name;
    Parser parser(*data, options);
    std::string dir = base_dir;
    if (!dir.empty() && dir.back() != '/')
        dir += '/';
    parser.parse_text(text, source_name, dir);
    parser.finish();
    run_checks(data, options);
    return data;
}

std::shared_ptr<ConfigData> ConfigData::parse_file(const std::string& path, const ParseOptions& options)
{
    auto r = read_whole_file(path);
    if (r.error != 0)
        throw ConfigError({path, 0}, "Can't open configuration file: " + std::string(std::strerror(r.error)));
    auto data = std::make_shared<ConfigData>();
    data->path = path;
    data->files.push_back(path);
    Parser parser(*data, options);
    parser.parse_text(r.text, path, dir_of(path));
    parser.finish();
    run_checks(data, options);
    return data;
}

}  // namespace loft::config
