#include "auth/service/auth_settings.h"

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

AuthSetup load_auth_setup(const config::Settings& settings)
{
    AuthSetup setup;
    setup.username.chars = settings.get("auth_username_chars");
    setup.username.translation = settings.get("auth_username_translation");
    setup.username.format = settings.get("auth_username_format");
    setup.username.default_realm = settings.get("auth_default_realm");
    setup.username.master_user_separator = settings.get("auth_master_user_separator");
    for (const config::Section* section : settings.sections("passdb"))
        setup.passdbs.add(make_passdb(section->get_or("driver", ""), section->get_or("args", "")),
                          passdb_rule(*section));
    for (const config::Section* section : settings.sections("userdb"))
        setup.userdbs.add(make_userdb(section->get_or("driver", ""), section->get_or("args", "")),
                          userdb_rule(*section));
    return setup;
}

}  // namespace loft::auth::service
