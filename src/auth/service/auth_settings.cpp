#include "auth/service/auth_settings.h"

#include "auth/worker/worker_db.h"

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

AuthSetup load_auth_setup(const config::Settings& settings, worker::WorkerPool* workers)
{
    AuthSetup setup;
    setup.username.chars = settings.get("auth_username_chars");
    setup.username.translation = settings.get("auth_username_translation");
    setup.username.format = settings.get("auth_username_format");
    setup.username.default_realm = settings.get("auth_default_realm");
    setup.username.master_user_separator = settings.get("auth_master_user_separator");
    uint32_t index = 0;
    for (const config::Section* section : settings.sections("passdb")) {
        std::string driver = section->get_or("driver", "");
        auto passdb = make_passdb(driver, section->get_or("args", ""));
        if (workers && worker::passdb_runs_in_worker(driver))
            passdb = std::make_unique<worker::WorkerPassdb>(std::move(passdb), index, *workers);
        setup.passdbs.add(std::move(passdb), passdb_rule(*section));
        index++;
    }
    index = 0;
    for (const config::Section* section : settings.sections("userdb")) {
        std::string driver = section->get_or("driver", "");
        auto userdb = make_userdb(driver, section->get_or("args", ""));
        if (workers && worker::userdb_runs_in_worker(driver))
            userdb = std::make_unique<worker::WorkerUserdb>(std::move(userdb), index, *workers);
        setup.userdbs.add(std::move(userdb), userdb_rule(*section));
        index++;
    }
    return setup;
}

}  // namespace loft::auth::service
