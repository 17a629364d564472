// Several passdbs and userdbs in order, as dovecot.conf lists them, with their
// result_success/result_failure/result_internalfail actions, skip, deny, master and pass.
#pragma once

#include "auth/passdb.h"
#include "lib/task.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace loft::auth {

enum class ChainAction { Return, ReturnOk, ReturnFail, Continue, ContinueOk, ContinueFail };
// "return", "return-ok", "return-fail", "continue", "continue-ok", "continue-fail".
std::optional<ChainAction> parse_chain_action(std::string_view text);

enum class PassdbSkip { Never, Authenticated, Unauthenticated };
enum class UserdbSkip { Never, Found, NotFound };

struct PassdbRule {
    ChainAction on_success = ChainAction::ReturnOk;
    ChainAction on_failure = ChainAction::Continue;
    ChainAction on_internalfail = ChainAction::Continue;
    PassdbSkip skip = PassdbSkip::Never;
    bool deny = false;    // a user found here is refused
    bool master = false;  // used only to check master users' passwords
    bool pass = false;    // master: the target user must then pass the normal passdbs too
    // mechanisms = ...: used only for these SASL mechanisms (upper case; "NONE" for
    // look-ups without one); empty for all.
    std::vector<std::string> mechanisms;
};

// Dovecot's passdb mechanisms filter: does rule let a request by mechanism through?
bool passdb_accepts_mechanism(const PassdbRule& rule, std::string_view mechanism);

struct UserdbRule {
    ChainAction on_success = ChainAction::ReturnOk;
    ChainAction on_failure = ChainAction::Continue;
    ChainAction on_internalfail = ChainAction::Continue;
    UserdbSkip skip = UserdbSkip::Never;
};

struct ChainStep {
    std::string driver;
    PassdbStatus status;
    std::string error;
};

struct PassdbChainResult {
    PassdbStatus status = PassdbStatus::InternalFailure;
    FieldMap fields;          // from every passdb that succeeded, later ones winning
    std::string credentials;  // lookup_credentials(): from the passdb that gave them
    std::vector<ChainStep> steps;  // each passdb asked, for the auth log lines
};

class PassdbChain {
public:
    void add(std::unique_ptr<Passdb> passdb, PassdbRule rule);
    bool empty() const { return entries_.empty(); }

    // PLAIN/LOGIN: check the password along the normal (non-master) passdbs.
    PassdbChainResult verify_plain(const AuthRequest& request, std::string_view password) const;
    // Challenge-response mechanisms; an empty scheme only checks that the user exists.
    PassdbChainResult lookup_credentials(const AuthRequest& request, std::string_view scheme) const;
    // "user*master" logins: the master's password against the master=yes passdbs, then,
    // when the deciding one has pass=yes, the target user through the normal passdbs.
    PassdbChainResult verify_master_plain(const AuthRequest& master, const AuthRequest& target,
                                          std::string_view password) const;
    // The same for challenge-response mechanisms: the master's credentials in scheme
    // from the master=yes passdbs (pass=yes: the target must then exist in the normal ones).
    PassdbChainResult lookup_master_credentials(const AuthRequest& master, const AuthRequest& target,
                                                std::string_view scheme) const;
    // The same as tasks, for loft-auth's loop: a passdb served by loft-auth-worker is
    // awaited there while other requests go on. The synchronous forms above are for
    // callers without a loop (loftadm), whose drivers all answer at once.
    Task<PassdbChainResult> verify_plain_async(AuthRequest request, std::string password) const;
    Task<PassdbChainResult> lookup_credentials_async(AuthRequest request, std::string scheme) const;
    Task<PassdbChainResult> verify_master_plain_async(AuthRequest master, AuthRequest target,
                                                      std::string password) const;
    Task<PassdbChainResult> lookup_master_credentials_async(AuthRequest master, AuthRequest target,
                                                            std::string scheme) const;

private:
    struct Entry {
        std::unique_ptr<Passdb> passdb;
        PassdbRule rule;
    };
    enum class Mode { Plain, Credentials };
    Task<PassdbChainResult> run(AuthRequest request, bool masters, Mode mode, std::string secret,
                                const Entry** decided_by) const;
    // A master=yes passdb with pass=yes decided: the target user must pass the normal passdbs too.
    Task<PassdbChainResult> with_target(PassdbChainResult result, const Entry* decided_by, AuthRequest target) const;

    std::vector<Entry> entries_;
};

struct UserdbChainResult {
    UserdbStatus status = UserdbStatus::InternalFailure;
    FieldMap fields;  // from every userdb that found the user, later ones winning
    std::vector<std::string> errors;
};

class UserdbChain {
public:
    void add(std::unique_ptr<Userdb> userdb, UserdbRule rule);
    bool empty() const { return entries_.empty(); }
    UserdbChainResult lookup(const AuthRequest& request) const;
    Task<UserdbChainResult> lookup_async(AuthRequest request) const;  // see PassdbChain

    // User listing over every userdb that supports it, in chain order (Dovecot's LIST):
    // Failed when one of them failed (the others are still listed; error says why).
    enum class IterateStatus { Done, Failed, Unsupported };
    IterateStatus iterate(const AuthRequest& request, const std::function<void(const std::string&)>& each_user,
                          std::string& error) const;

private:
    struct Entry {
        std::unique_ptr<Userdb> userdb;
        UserdbRule rule;
    };
    std::vector<Entry> entries_;
};

}  // namespace loft::auth
