#include "auth/service/auth_settings.h"

#include "auth/cached_db.h"
#include "auth/debug_db.h"
#include "auth/worker/worker_db.h"
#include "lib/strings.h"

#include <algorithm>

namespace loft::auth::service {

namespace {

ChainAction action_or(const config::Section& section, const char* key, ChainAction fallback)
{
    auto parsed = parse_chain_action(section.get_or(key, ""));
    return parsed ? *parsed : fallback;
}

PassdbRule passdb_rule(const config::Section& section)
{
    PassdbRule rule;
    rule.on_success = action_or(section, "result_success", rule.on_success);
    rule.on_failure = action_or(section, "result_failure", rule.on_failure);
    rule.on_internalfail = action_or(section, "result_internalfail", rule.on_internalfail);
    std::string skip = section.get_or("skip", "never");
    rule.skip = skip == "authenticated" ? PassdbSkip::Authenticated
                : skip == "unauthenticated" ? PassdbSkip::Unauthenticated
                                            : PassdbSkip::Never;
    rule.deny = section.get_or("deny", "no") == "yes";
    rule.master = section.get_or("master", "no") == "yes";
    rule.pass = section.get_or("pass", "no") == "yes";
    // Dovecot splits this list at spaces and commas.
    std::string mechanisms = section.get_or("mechanisms", "");
    std::replace(mechanisms.begin(), mechanisms.end(), ',', ' ');
    for (const std::string& mechanism : split_words(mechanisms))
        rule.mechanisms.push_back(to_upper(mechanism));
    return rule;
}

UserdbRule userdb_rule(const config::Section& section)
{
    UserdbRule rule;
    rule.on_success = action_or(section, "result_success", rule.on_success);
    rule.on_failure = action_or(section, "result_failure", rule.on_failure);
    rule.on_internalfail = action_or(section, "result_internalfail", rule.on_internalfail);
    std::string skip = section.get_or("skip", "never");
    rule.skip = skip == "found" ? UserdbSkip::Found : skip == "notfound" ? UserdbSkip::NotFound : UserdbSkip::Never;
    return rule;
}

}  // namespace

AuthSetup load_auth_setup(const config::Settings& settings, worker::WorkerPool* workers, const Logger* debug_log)
{
    AuthSetup setup;
    setup.username.chars = settings.get("auth_username_chars");
    setup.username.translation = settings.get("auth_username_translation");
    setup.username.format = settings.get("auth_username_format");
    setup.username.default_realm = settings.get("auth_default_realm");
    setup.username.master_user_separator = settings.get("auth_master_user_separator");
    if (uint64_t size = settings.get_size("auth_cache_size"); size > 0) {
        setup.cache = std::make_shared<AuthCache>(size, settings.get_time_ms("auth_cache_ttl") / 1000,
                                                  settings.get_time_ms("auth_cache_negative_ttl") / 1000);
    }
    bool debug_passwords = settings.get_bool("auth_debug_passwords");
    // id: a db's own part of the shared cache's keys; worker_index: its place among the
    // passdb { } (or userdb { }) sections, as loft-auth-worker numbers them.
    unsigned id = 0;
    uint32_t worker_index = 0;
    for (const config::Section* section : settings.sections("passdb")) {
        std::string driver = section->get_or("driver", ""), args = section->get_or("args", "");
        std::unique_ptr<Passdb> passdb = make_passdb(driver, args);
        if (workers && worker::passdb_runs_in_worker(driver))
            passdb = std::make_unique<worker::WorkerPassdb>(std::move(passdb), worker_index, *workers);
        auto key = setup.cache ? default_passdb_cache_key(driver, args) : std::nullopt;
        if (key) {
            passdb = std::make_unique<CachedPassdb>(std::move(passdb), setup.cache, *key, std::to_string(id),
                                                    debug_log, debug_passwords);
        }
        if (debug_log && debug_log->debug_enabled())
            passdb = std::make_unique<DebugPassdb>(std::move(passdb), *debug_log);
        setup.passdbs.add(std::move(passdb), passdb_rule(*section));
        id++;
        worker_index++;
    }
    worker_index = 0;
    for (const config::Section* section : settings.sections("userdb")) {
        std::string driver = section->get_or("driver", ""), args = section->get_or("args", "");
        std::unique_ptr<Userdb> userdb = make_userdb(driver, args);
        if (workers && worker::userdb_runs_in_worker(driver))
            userdb = std::make_unique<worker::WorkerUserdb>(std::move(userdb), worker_index, *workers);
        auto key = setup.cache ? default_userdb_cache_key(driver, args) : std::nullopt;
        if (key)
            userdb = std::make_unique<CachedUserdb>(std::move(userdb), setup.cache, *key, std::to_string(id), debug_log);
        if (debug_log && debug_log->debug_enabled())
            userdb = std::make_unique<DebugUserdb>(std::move(userdb), *debug_log);
        setup.userdbs.add(std::move(userdb), userdb_rule(*section));
        id++;
        worker_index++;
    }
    return setup;
}

}  // namespace loft::auth::service
