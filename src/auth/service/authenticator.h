// The decisions of loft-auth: which mechanisms a client may use, whether credentials
// are right (passdbs in order), who the user is (userdbs), and the signed grant.
#pragma once

#include "auth/auth_cache.h"
#include "auth/auth_chain.h"
#include "auth/passdb.h"
#include "auth/penalty.h"
#include "auth/sasl_mechanism.h"
#include "auth/username.h"
#include "config/config.h"
#include "lib/log.h"
#include "lib/task.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace loft::auth::worker {
class WorkerPool;
}

namespace loft::auth::service {

struct Client {
    std::string protocol;  // imap, lmtp, pop3
    std::string remote_ip, local_ip;
    bool secured = false;
    std::string session_id;
    bool no_penalty = false;  // the auth-client AUTH line said no-penalty
    // The TLS client certificate as the worker verified it; only set on TLS connections.
    bool valid_client_cert = false;
    std::string cert_username;  // ssl_cert_username_field of that certificate
    std::string mechanism;      // of the exchange under way, for passdb { mechanisms = }
};

struct Outcome {
    enum class Status { Ok, Failed, TempFail } status = Status::Failed;
    std::string user;
    std::string grant;
    std::string reason;  // for the client
};

class Authenticator {
public:
    // workers: where blocking passdbs/userdbs run (see load_auth_setup); may be null.
    Authenticator(const config::Settings& settings, std::string secret, const Logger& log,
                  worker::WorkerPool* workers = nullptr);

    // The mechanisms this client may use: plaintext ones only on secured connections
    // when disable_plaintext_auth is set.
    std::vector<std::string> mechanisms(const Client& client) const;
    bool mechanism_allowed(const std::string& mechanism, const Client& client) const;
    // mechanism names the exchange in log lines ("plain(?,rip,<session>): ...").
    // These run passdbs and userdbs, some of which answer from loft-auth-worker: await them.
    Task<Outcome> verify(std::string login, std::string password, Client client, std::string mechanism = "PLAIN");
    // SASL PLAIN with an authzid: master authenticates with its password and logs in as
    // target (master=yes passdbs). With target equal to master, a normal login.
    Task<Outcome> verify_as(std::string target, std::string master, std::string password, Client client);
    // A challenge-response mechanism proved the password (or ANONYMOUS ran): the userdb
    // look-up and the grant for user, whose name the passdb already settled.
    // passdb_fields: what the passdb returned, for userdb prefetch.
    Task<Outcome> grant_login(std::string user, Client client, FieldMap passdb_fields = {});
    // The settings SASL mechanisms need (hostname, realms, anonymous user name).
    const SaslSettings& sasl_settings() const { return sasl_settings_; }
    // The same with EXTERNAL's user: the certificate's name under auth_ssl_username_from_cert.
    SaslSettings sasl_settings_for(const Client& client) const;
    // auth_ssl_require_client_cert: why this client may not authenticate at all
    // (Dovecot's words, also for the client), nullopt when it may.
    std::optional<std::string> certificate_refusal(const Client& client) const;
    // auth_ssl_username_from_cert: the name that replaces whatever login the client
    // gave; empty when the setting is off or there is no valid certificate with a name.
    std::string certificate_user(const Client& client) const;
    bool verbose() const { return verbose_; }
    // An auth_debug line ("client in: AUTH ..."), when auth_debug is on.
    void debug(const std::string& line) const { log_.debug(line); }
    // auth_debug_passwords: debug lines may show passwords and SASL responses.
    bool debug_passwords() const { return debug_passwords_; }
    // "cram-md5(user,rip,<session>): message", Dovecot's auth_verbose line for a mechanism.
    void log_mechanism(const std::string& mechanism, const Client& client, const std::string& user,
                       const std::string& message) const;
    // Passdbs only, for SASL clients such as Postfix that need no session: Ok carries
    // the user name the passdb settled on, and no grant.
    Task<Outcome> check_password(std::string login, std::string password, Client client);
    // Challenge-response mechanisms: the user's raw credentials in scheme. Ok with
    // credentials set, Failed for an unknown user or one without usable credentials.
    // A master user logs in as someone else with an authzid (DIGEST-MD5, SCRAM) or
    // user*master (CRAM-MD5, SCRAM; not DIGEST-MD5, as in Dovecot): its credentials come
    // from the master=yes passdbs and Ok names the target user.
    // credentials must outlive the task (a local of the awaiting coroutine).
    Task<Outcome> lookup_credentials(std::string login, std::string scheme, Client client, std::string& credentials,
                                     std::string authzid = {});
    // For LMTP: a delivery grant for an existing user.
    Task<Outcome> lookup(std::string login, Client client);

    // The auth penalty of the client's IP (Dovecot's anvil PENALTY-GET/INC): how long to
    // hold a new request back before its passdb look-up, 0 for none.
    unsigned penalty_delay_secs(const Client& client);
    // After a request ended: a failure raises the IP's penalty (a retry of the same
    // user+password does not), a success clears it.
    void record_penalty(const Client& client, bool failed, const std::string& user, const std::string& password);

    // The chains and name rules, for the auth-userdb/auth-master sockets.
    const PassdbChain& passdbs() const { return passdbs_; }
    const UserdbChain& userdbs() const { return userdbs_; }
    const UsernameSettings& username_settings() const { return username_; }
    // doveadm auth cache flush: how many entries were dropped.
    size_t flush_cache();

private:
    struct UserFields {
        std::string user;
        std::optional<uint32_t> uid, gid;
        std::string home, mail;
    };
    // The passdb part of verify(): nullopt on success (user set to the final name).
    // user and passdb_fields must outlive the task.
    Task<std::optional<Outcome>> run_passdbs(LoginName name, std::string password, Client client, std::string& user,
                                             FieldMap* passdb_fields = nullptr);
    Task<Outcome> verify_name(LoginName name, std::string password, Client client);
    // auth_verbose_passwords: the "(SHA1 of given password: ...)" suffix, empty for "no".
    std::string password_note(const std::string& password) const;
    AuthRequest request_for(const std::string& user, const Client& client) const;
    // nullopt: unknown user; throws for internal failures.
    Task<std::optional<UserFields>> userdb_lookup(AuthRequest request);
    Outcome grant_for(const UserFields& fields, const Client& client);
    // "passwd-file(user,rip,<session>): error" for each passdb that refused, as Dovecot's
    // auth_verbose does; master adds ",master" and note goes after the password errors.
    void log_steps(const std::vector<ChainStep>& steps, const std::string& user, const Client& client,
                   bool master = false, const std::string& note = {}) const;

    const Logger& log_;
    std::string secret_;
    PassdbChain passdbs_;
    UserdbChain userdbs_;
    UsernameSettings username_;
    std::vector<std::string> mechanisms_;
    bool disable_plaintext_auth_;
    bool require_client_cert_;   // auth_ssl_require_client_cert
    bool username_from_cert_;    // auth_ssl_username_from_cert
    bool verbose_;
    std::string verbose_passwords_;
    bool debug_passwords_;
    SaslSettings sasl_settings_;
    std::string mail_uid_, mail_gid_;
    AuthPenalty penalty_;
    std::shared_ptr<AuthCache> cache_;
};

}  // namespace loft::auth::service
