#include "auth/auth_chain.h"

#include "auth/errors.h"
#include "lib/strings.h"

#include <memory>

namespace loft::auth {

namespace {

template <typename T>
Task<void> store_result(Task<T> task, std::shared_ptr<std::optional<T>> out)
{
    T value = co_await task;
    out->emplace(std::move(value));
}

// The synchronous face of the chains: with drivers that answer at once the task has
// finished when spawn() returns. (The result lives on the heap so that a task that did
// suspend, a bug, cannot write into a gone stack frame later.)
template <typename T>
T finished_result(Task<T> task)
{
    auto result = std::make_shared<std::optional<T>>();
    auto error = std::make_shared<std::exception_ptr>();
    spawn(store_result(std::move(task), result), [error](std::exception_ptr failure) { *error = failure; });
    if (*error)
        std::rethrow_exception(*error);
    if (!*result)
        throw AuthError("a passdb/userdb needs loft-auth's event loop but was called synchronously");
    return std::move(**result);
}

}  // namespace

std::optional<ChainAction> parse_chain_action(std::string_view text)
{
    if (text == "return")
        return ChainAction::Return;
    if (text == "return-ok")
        return ChainAction::ReturnOk;
    if (text == "return-fail")
        return ChainAction::ReturnFail;
    if (text == "continue")
        return ChainAction::Continue;
    if (text == "continue-ok")
        return ChainAction::ContinueOk;
    if (text == "continue-fail")
        return ChainAction::ContinueFail;
    return std::nullopt;
}

bool passdb_accepts_mechanism(const PassdbRule& rule, std::string_view mechanism)
{
    if (rule.mechanisms.empty())
        return true;
    std::string wanted = mechanism.empty() ? "NONE" : to_upper(mechanism);
    for (const std::string& accepted : rule.mechanisms) {
        if (accepted == wanted)
            return true;
    }
    return false;
}

void PassdbChain::add(std::unique_ptr<Passdb> passdb, PassdbRule rule)
{
    entries_.push_back(Entry{std::move(passdb), rule});
}

// Follows Dovecot's passdb callback: the action for the result decides whether to go on;
// "ok" sticks once a continue-ok/return-ok gave it; after a passdb verified the password
// with plain "continue", later passdbs only look the user up; and when nothing succeeded
// but some passdb failed internally, the answer is an internal failure (that passdb might
// have accepted the password).
Task<PassdbChainResult> PassdbChain::run(AuthRequest request, bool masters, Mode mode, std::string secret,
                                         const Entry** decided_by) const
{
    PassdbChainResult result;
    bool success = false;
    bool seen_internal_failure = false;
    bool password_checked = false;
    std::vector<const Entry*> chain;
    for (const Entry& entry : entries_) {
        // A passdb filtered out by mechanism is not there for this request, as in Dovecot.
        if (entry.rule.master == masters && passdb_accepts_mechanism(entry.rule, request.mechanism))
            chain.push_back(&entry);
    }
    if (chain.empty()) {
        result.status = PassdbStatus::UserUnknown;
        co_return result;
    }
    for (size_t i = 0; i < chain.size(); i++) {
        const Entry& entry = *chain[i];
        bool last = i + 1 == chain.size();
        if ((entry.rule.skip == PassdbSkip::Authenticated && success) ||
            (entry.rule.skip == PassdbSkip::Unauthenticated && !success)) {
            if (!last)
                continue;
            result.status = success ? PassdbStatus::Ok
                                    : seen_internal_failure ? PassdbStatus::InternalFailure
                                                            : PassdbStatus::UserUnknown;
            co_return result;
        }

        PassdbReply reply;
        if (entry.rule.deny) {
            std::string exists_only;
            reply = co_await entry.passdb->lookup_credentials_async(request, exists_only);
            result.steps.push_back({std::string(entry.passdb->driver()), reply.status, reply.error});
            if (reply.status != PassdbStatus::UserUnknown) {
                result.status = reply.status == PassdbStatus::InternalFailure ? PassdbStatus::InternalFailure
                                                                              : PassdbStatus::UserDisabled;
                if (result.status == PassdbStatus::UserDisabled)
                    result.steps.back().error = "User found from deny passdb";
                co_return result;
            }
        } else if (mode == Mode::Credentials) {
            reply = co_await entry.passdb->lookup_credentials_async(request, secret);
            result.steps.push_back({std::string(entry.passdb->driver()), reply.status, reply.error});
        } else if (password_checked) {
            std::string exists_only;
            reply = co_await entry.passdb->lookup_credentials_async(request, exists_only);
            result.steps.push_back({std::string(entry.passdb->driver()), reply.status, reply.error});
        } else {
            reply = co_await entry.passdb->verify_plain_async(request, secret);
            result.steps.push_back({std::string(entry.passdb->driver()), reply.status, reply.error});
        }

        bool ok = reply.status == PassdbStatus::Ok;
        bool internal = reply.status == PassdbStatus::InternalFailure;
        if (ok) {
            for (auto& [key, value] : reply.fields)
                result.fields[key] = value;
            if (!reply.credentials.empty())
                result.credentials = reply.credentials;
        }
        ChainAction action = ok ? entry.rule.on_success
                                : internal ? entry.rule.on_internalfail : entry.rule.on_failure;
        bool go_on = false;
        switch (action) {
        case ChainAction::Return:
            if (ok)
                success = true;
            break;
        case ChainAction::ReturnOk:
            success = true;
            break;
        case ChainAction::ReturnFail:
            success = false;
            break;
        case ChainAction::Continue:
            go_on = true;
            password_checked = password_checked || ok;
            break;
        case ChainAction::ContinueOk:
            go_on = true;
            success = true;
            password_checked = true;
            break;
        case ChainAction::ContinueFail:
            go_on = true;
            success = false;
            break;
        }
        if (decided_by)
            *decided_by = &entry;
        if (go_on && !last) {
            seen_internal_failure = seen_internal_failure || internal;
            continue;
        }
        if (success)
            result.status = PassdbStatus::Ok;
        else if (seen_internal_failure || internal)
            result.status = PassdbStatus::InternalFailure;
        else
            result.status = ok ? PassdbStatus::PasswordMismatch : reply.status;
        co_return result;
    }
    co_return result;
}

PassdbChainResult PassdbChain::verify_plain(const AuthRequest& request, std::string_view password) const
{
    return finished_result(verify_plain_async(request, std::string(password)));
}

PassdbChainResult PassdbChain::lookup_credentials(const AuthRequest& request, std::string_view scheme) const
{
    return finished_result(lookup_credentials_async(request, std::string(scheme)));
}

PassdbChainResult PassdbChain::lookup_master_credentials(const AuthRequest& master, const AuthRequest& target,
                                                         std::string_view scheme) const
{
    return finished_result(lookup_master_credentials_async(master, target, std::string(scheme)));
}

PassdbChainResult PassdbChain::verify_master_plain(const AuthRequest& master, const AuthRequest& target,
                                                   std::string_view password) const
{
    return finished_result(verify_master_plain_async(master, target, std::string(password)));
}

Task<PassdbChainResult> PassdbChain::verify_plain_async(AuthRequest request, std::string password) const
{
    PassdbChainResult result = co_await run(std::move(request), false, Mode::Plain, std::move(password), nullptr);
    co_return result;
}

Task<PassdbChainResult> PassdbChain::lookup_credentials_async(AuthRequest request, std::string scheme) const
{
    PassdbChainResult result = co_await run(std::move(request), false, Mode::Credentials, std::move(scheme), nullptr);
    co_return result;
}

Task<PassdbChainResult> PassdbChain::verify_master_plain_async(AuthRequest master, AuthRequest target,
                                                               std::string password) const
{
    const Entry* decided_by = nullptr;
    PassdbChainResult result = co_await run(std::move(master), true, Mode::Plain, std::move(password), &decided_by);
    PassdbChainResult with_target_result = co_await with_target(std::move(result), decided_by, std::move(target));
    co_return with_target_result;
}

Task<PassdbChainResult> PassdbChain::lookup_master_credentials_async(AuthRequest master, AuthRequest target,
                                                                     std::string scheme) const
{
    const Entry* decided_by = nullptr;
    PassdbChainResult result = co_await run(std::move(master), true, Mode::Credentials, std::move(scheme), &decided_by);
    PassdbChainResult with_target_result = co_await with_target(std::move(result), decided_by, std::move(target));
    co_return with_target_result;
}

Task<PassdbChainResult> PassdbChain::with_target(PassdbChainResult result, const Entry* decided_by,
                                                 AuthRequest target) const
{
    if (result.status != PassdbStatus::Ok || decided_by == nullptr || !decided_by->rule.pass)
        co_return result;
    std::string exists_only;
    PassdbChainResult target_result =
        co_await run(std::move(target), false, Mode::Credentials, std::move(exists_only), nullptr);
    for (ChainStep& step : target_result.steps)
        result.steps.push_back(std::move(step));
    result.status = target_result.status;
    for (auto& [key, value] : target_result.fields)
        result.fields[key] = value;
    co_return result;
}

void UserdbChain::add(std::unique_ptr<Userdb> userdb, UserdbRule rule)
{
    entries_.push_back(Entry{std::move(userdb), rule});
}

UserdbChain::IterateStatus UserdbChain::iterate(const AuthRequest& request,
                                                const std::function<void(const std::string&)>& each_user,
                                                std::string& error) const
{
    bool any = false, failed = false;
    for (const Entry& entry : entries_) {
        if (!entry.userdb->can_iterate())
            continue;
        any = true;
        try {
            entry.userdb->iterate(request, each_user);
        } catch (const AuthError& failure) {
            failed = true;
            error = std::string(entry.userdb->driver()) + ": " + failure.what();
        }
    }
    if (!any) {
        error = "Trying to iterate users, but userdbs don't support it";
        return IterateStatus::Unsupported;
    }
    return failed ? IterateStatus::Failed : IterateStatus::Done;
}

UserdbChainResult UserdbChain::lookup(const AuthRequest& request) const
{
    return finished_result(lookup_async(request));
}

Task<UserdbChainResult> UserdbChain::lookup_async(AuthRequest request) const
{
    UserdbChainResult result;
    bool found = false;
    bool seen_internal_failure = false;
    if (entries_.empty()) {
        result.status = UserdbStatus::UserUnknown;
        co_return result;
    }
    for (size_t i = 0; i < entries_.size(); i++) {
        const Entry& entry = entries_[i];
        bool last = i + 1 == entries_.size();
        if ((entry.rule.skip == UserdbSkip::Found && found) ||
            (entry.rule.skip == UserdbSkip::NotFound && !found)) {
            if (!last)
                continue;
            break;
        }
        UserdbReply reply = co_await entry.userdb->lookup_async(request);
        bool ok = reply.status == UserdbStatus::Ok;
        bool internal = reply.status == UserdbStatus::InternalFailure;
        if (!reply.error.empty())
            result.errors.push_back(std::string(entry.userdb->driver()) + ": " + reply.error);
        if (ok) {
            for (auto& [key, value] : reply.fields)
                result.fields[key] = value;
        }
        ChainAction action = ok ? entry.rule.on_success
                                : internal ? entry.rule.on_internalfail : entry.rule.on_failure;
        bool go_on = false;
        switch (action) {
        case ChainAction::Return:
            found = found || ok;
            break;
        case ChainAction::ReturnOk:
            found = true;
            break;
        case ChainAction::ReturnFail:
            found = false;
            break;
        case ChainAction::Continue:
            go_on = true;
            found = found || ok;
            break;
        case ChainAction::ContinueOk:
            go_on = true;
            found = true;
            break;
        case ChainAction::ContinueFail:
            go_on = true;
            found = false;
            break;
        }
        seen_internal_failure = seen_internal_failure || internal;
        if (!go_on || last)
            break;
    }
    result.status = found ? UserdbStatus::Ok
                          : seen_internal_failure ? UserdbStatus::InternalFailure : UserdbStatus::UserUnknown;
    co_return result;
}

}  // namespace loft::auth
