#include "config/checks.h"

#include <arpa/inet.h>
#include <pwd.h>
#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <set>

#include "config/config_data.h"
#include "config/registry.h"
#include "config/values.h"
#include "lib/strings.h"

namespace loft::config {
namespace {

std::vector<std::string> words(std::string_view text, std::string_view separators)
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

bool user_exists(const std::string& name)
{
    struct passwd pw;
    struct passwd* result = nullptr;
    std::vector<char> buf(16384);
    return getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr;
}

class Checker {
public:
    Checker(const Settings& s, const std::string& main_path, bool check_users, std::vector<ConfigErrorItem>& out,
            std::set<std::string>& seen)
        : s_(s), path_(main_path), check_users_(check_users), out_(out), seen_(seen)
    {
    }

    void run()
    {
        master();
        services();
        auth();
        mail();
        protocols_specific();
        sections();
    }

private:
    // Where the value of key was set, to point the error at it.
    SourceLocation at(std::string_view key) const
    {
        if (const Section::Value* v = s_.find(key))
            return v->where;
        return {path_, 0};
    }
    void fail(const SourceLocation& where, const std::string& message)
    {
        if (seen_.insert(message).second)
            out_.push_back({where.file.empty() ? SourceLocation{path_, 0} : where, message});
    }
    void fail_key(std::string_view key, const std::string& message) { fail(at(key), message); }

    static SourceLocation section_at(const Section& section, std::string_view key)
    {
        auto it = section.values().find(key);
        if (it != section.values().end() && it->second.explicit_set)
            return it->second.where;
        return section.location();
    }

    void master()
    {
        if (s_.get("listen").empty())
            fail_key("listen", "listen can't be set empty");
        if (s_.get_uint("last_valid_uid") != 0 && s_.get_uint("first_valid_uid") > s_.get_uint("last_valid_uid"))
            fail_key("first_valid_uid", "first_valid_uid can't be larger than last_valid_uid");
        if (s_.get_uint("last_valid_gid") != 0 && s_.get_uint("first_valid_gid") > s_.get_uint("last_valid_gid"))
            fail_key("first_valid_gid", "first_valid_gid can't be larger than last_valid_gid");
        for (const char* key : {"default_login_user", "default_internal_user"}) {
            std::string user = s_.get(key);
            if (check_users_ && !user_exists(user))
                fail_key(key, std::string(key) + " doesn't exist: " + user);
        }
    }

    void services()
    {
        static constexpr std::string_view types[] = {"", "log", "config", "anvil", "login", "startup", "worker"};
        std::set<std::string> known_protocols;
        for (const Section* service : s_.sections("service")) {
            std::string type = service->value("type");
            if (std::find(std::begin(types), std::end(types), type) == std::end(types))
                fail(section_at(*service, "type"), "Unknown service type: " + type);
            known_protocols.insert(service->value("protocol"));
        }
        auto protocols = words(s_.get("protocols"), " ");
        if (protocols.size() == 1 && protocols[0] == "none")
            protocols.clear();
        for (const auto& p : protocols) {
            if (known_protocols.count(p) == 0)
                fail_key("protocols", "protocols: Unknown protocol: " + p);
        }
        for (const Section* service : s_.sections("service")) {
            std::string protocol = service->value("protocol");
            if (!protocol.empty() && std::find(protocols.begin(), protocols.end(), protocol) == protocols.end())
                continue;  // protocol not enabled: Dovecot ignores its settings
            const std::string& name = service->name();
            if (parse_bool(service->value("drop_priv_before_exec")) && !service->value("chroot").empty())
                fail(section_at(*service, "drop_priv_before_exec"),
                     "service(" + name + "): drop_priv_before_exec=yes can't be used with chroot");
            uint64_t limit = parse_uint(service->value("process_limit"));
            if (limit == 0)
                limit = s_.get_uint("default_process_limit");
            if (parse_uint(service->value("process_min_avail")) > limit)
                fail(section_at(*service, "process_min_avail"),
                     "service(" + name + "): process_min_avail is higher than process_limit");
            uint64_t vsz = parse_size(service->value("vsz_limit"));
            if (vsz != 0 && vsz < 1024 * 1024)
                fail(section_at(*service, "vsz_limit"), "service(" + name + "): vsz_limit is too low");
        }
    }

    void auth()
    {
        if (s_.get_uint("auth_worker_max_count") == 0)
            fail_key("auth_worker_max_count", "auth_worker_max_count must be above zero");
        uint64_t cache = s_.get_size("auth_cache_size");
        if (cache > 0 && cache < 1024)
            fail_key("auth_cache_size", "auth_cache_size value is too small (" + std::to_string(cache) + " bytes)");
        std::string verbose = s_.get("auth_verbose_passwords");
        auto colon = verbose.find(':');
        if (colon != std::string::npos) {
            auto n = loft::parse_uint(std::string_view(verbose).substr(colon + 1));
            if (!n || *n == 0 || *n > UINT32_MAX)
                fail_key("auth_verbose_passwords", "auth_verbose_passwords: Invalid truncation number: '" +
                                                       verbose.substr(colon + 1) + "'");
            verbose.resize(colon);
        }
        if (verbose != "no" && verbose != "plain" && verbose != "sha1" && verbose != "yes")
            fail_key("auth_verbose_passwords", "auth_verbose_passwords: Invalid value");
        if (!s_.get("auth_policy_server_url").empty()) {
            if (s_.get("auth_policy_hash_nonce").empty()) {
                fail_key("auth_policy_server_url", "auth_policy_hash_nonce must be set when policy server is used");
            } else {
                const EVP_MD* md = EVP_get_digestbyname(s_.get("auth_policy_hash_mech").c_str());
                if (md == nullptr) {
                    fail_key("auth_policy_hash_mech", "invalid auth_policy_hash_mech given");
                } else {
                    uint64_t truncate = s_.get_uint("auth_policy_hash_truncate");
                    uint64_t bits = static_cast<uint64_t>(EVP_MD_size(md)) * 8;
                    if (truncate > 0 && truncate >= bits)
                        fail_key("auth_policy_hash_truncate",
                                 "policy_hash_truncate is not smaller than digest size (" + std::to_string(truncate) +
                                     " >= " + std::to_string(bits) + ")");
                }
            }
        }
        for (const Section* passdb : s_.sections("passdb")) {
            if (passdb->value("driver").empty())
                fail(passdb->location(), "passdb is missing driver");
            else if (parse_bool(passdb->value("pass")) && passdb->value("result_success") != "return-ok")
                fail(section_at(*passdb, "pass"), "Obsolete pass=yes setting mixed with non-default result_success");
        }
        for (const Section* userdb : s_.sections("userdb")) {
            if (userdb->value("driver").empty())
                fail(userdb->location(), "userdb is missing driver");
        }
    }

    void mail()
    {
        if (s_.get_time_ms("mailbox_idle_check_interval") == 0)
            fail_key("mailbox_idle_check_interval", "mailbox_idle_check_interval must not be 0");
        if (s_.get_bool("mail_nfs_index")) {
            if (!s_.get_bool("mmap_disable"))
                fail_key("mail_nfs_index", "mail_nfs_index=yes requires mmap_disable=yes");
            else if (s_.get("mail_fsync") != "always")
                fail_key("mail_nfs_index", "mail_nfs_index=yes requires mail_fsync=always");
        }
        if (s_.get_size("mail_cache_max_size") > 1024ULL * 1024 * 1024)
            fail_key("mail_cache_max_size", "mail_cache_max_size can't be over 1 GB");
        if (s_.get_uint("mail_cache_purge_delete_percentage") > 100)
            fail_key("mail_cache_purge_delete_percentage", "mail_cache_purge_delete_percentage can't be over 100");
        for (const auto& opt : words(s_.get("mail_attachment_detection_options"), " ")) {
            if (opt != "add-flags" && opt != "add-flags-on-save" && opt != "no-flags-on-fetch" &&
                opt != "exclude-inlined" && !opt.starts_with("content-type="))
                fail_key("mail_attachment_detection_options",
                         "mail_attachment_detection_options: Unknown option: " + opt);
        }
        if (s_.get("ssl") != "no") {
            if (s_.get_bool("ssl_verify_client_cert") && s_.get("ssl_ca").empty())
                fail_key("ssl_verify_client_cert", "ssl_verify_client_cert set, but ssl_ca not");
            for (const auto& opt : words(s_.get("ssl_options"), ", ")) {
                if (!iequals(opt, "compression") && !iequals(opt, "no_compression") && !iequals(opt, "no_ticket"))
                    fail_key("ssl_options", "ssl_options: unknown flag: '" + opt + "'");
            }
        }
    }

    void workarounds(const char* key, std::initializer_list<std::string_view> known)
    {
        for (const auto& w : words(s_.get(key), " ,")) {
            bool ok = std::any_of(known.begin(), known.end(), [&](std::string_view k) { return iequals(w, k); });
            if (!ok)
                fail_key(key, std::string(key) + ": Unknown workaround: " + w);
        }
    }

    void protocols_specific()
    {
        workarounds("imap_client_workarounds", {"delay-newmail", "tb-extra-mailbox-sep", "tb-lsub-flags"});
        workarounds("pop3_client_workarounds", {"outlook-no-nuls", "oe-ns-eoh"});
        workarounds("submission_client_workarounds",
                    {"whitespace-before-path", "mailbox-for-path", "implicit-auth-external", "exotic-backend"});
        if (s_.get("pop3_delete_type") == "flag" && s_.get("pop3_deleted_flag").empty())
            fail_key("pop3_delete_type", "pop3_delete_type=flag, but pop3_deleted_flag not set");
    }

    void sections()
    {
        static constexpr std::string_view special_uses[] = {"All", "Archive", "Drafts", "Flagged",
                                                            "Important", "Junk", "Sent", "Trash"};
        for (const Section* ns : s_.sections("namespace")) {
            if (ns->value("separator").size() > 1)
                fail(section_at(*ns, "separator"),
                     "Namespace '" + ns->value("prefix") + "': Hierarchy separator must be only one character long");
            for (const Section* box : ns->sections("mailbox")) {
                for (const auto& use : words(box->value("special_use"), " ")) {
                    bool ok = use.size() > 1 && use[0] == '\\' &&
                              std::any_of(std::begin(special_uses), std::end(special_uses),
                                          [&](std::string_view u) { return iequals(use.substr(1), u); });
                    if (!ok)
                        fail(section_at(*box, "special_use"),
                             "mailbox " + box->name() + ": unknown special_use: " + use);
                }
            }
        }
        for (const Section* metric : s_.sections("metric")) {
            if (metric->value("filter").empty())
                fail(metric->location(), "metric " + metric->name() + " { filter } is empty - will not match anything");
        }
        for (const Section* exporter : s_.sections("event_exporter")) {
            if (exporter->value("format").empty())
                fail(exporter->location(), "Exporter format name can't be empty");
            else if (exporter->value("transport").empty())
                fail(exporter->location(), "Exporter transport name can't be empty");
        }
    }

    const Settings& s_;
    const std::string& path_;
    bool check_users_;
    std::vector<ConfigErrorItem>& out_;
    std::set<std::string>& seen_;
};

// Dovecot refuses a config where two filters that can match the same connection both
// set a setting and neither filter contains the other (for example "protocol imap" and
// "remote X { protocol imap }" set differently): it cannot tell which should win.
void check_filter_conflicts(const ConfigData& data, std::vector<ConfigErrorItem>& errors,
                            std::set<std::string>& seen)
{
    for (const auto& target : data.scopes) {
        std::vector<const Scope*> matches;
        for (const auto& s : data.scopes) {
            if (mask_matches_mask(s->mask, target->mask))
                matches.push_back(s.get());
        }
        std::stable_sort(matches.begin(), matches.end(), [](const Scope* a, const Scope* b) {
            return compare_specificity(a->mask, b->mask) < 0;
        });
        std::map<std::string, const Section::Value*, std::less<>> set_so_far;
        for (size_t i = 0; i < matches.size(); i++) {
            bool superset = i == 0 || is_filter_superset(matches[i]->mask, matches[i - 1]->mask);
            for (const auto& [key, value] : matches[i]->root.values()) {
                auto earlier = set_so_far.find(key);
                if (!superset && earlier != set_so_far.end()) {
                    const SourceLocation& at = matches[i]->where;
                    std::string message = "Conflict in setting " + key + " found from filter at " + at.file + ":" +
                                          std::to_string(at.line);
                    if (seen.insert(message).second)
                        errors.push_back({value.where, message});
                }
            }
            for (const auto& [key, value] : matches[i]->root.values())
                set_so_far.emplace(key, &value);
        }
    }
}

// A connection that every filter of mask applies to (for checking that scope).
Filter filter_for(const FilterMask& mask, const IpNet& local, const IpNet& remote)
{
    auto text = [](const IpNet& net) {
        if (net.bits == 0)
            return std::string();
        char buf[64];
        inet_ntop(net.v6 ? AF_INET6 : AF_INET, net.addr.data(), buf, sizeof(buf));
        return std::string(buf);
    };
    Filter f;
    f.protocol = !mask.protocol || mask.protocol->starts_with('!') ? "" : *mask.protocol;
    f.local_ip = text(local);
    f.remote_ip = text(remote);
    f.local_name = mask.local_name.substr(0, mask.local_name.find(' '));
    return f;
}

}  // namespace

std::vector<ConfigErrorItem> check_settings(const std::shared_ptr<const ConfigData>& data, bool check_users)
{
    std::vector<ConfigErrorItem> errors;
    std::set<std::string> seen;
    check_filter_conflicts(*data, errors, seen);
    for (const auto& scope : data->scopes) {
        Filter filter = filter_for(scope->mask, scope->mask.local, scope->mask.remote);
        Settings settings = data->resolve(data, filter);
        Checker(settings, data->path, check_users, errors, seen).run();
    }
    return errors;
}

}  // namespace loft::config
