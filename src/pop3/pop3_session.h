// One POP3 client connection, as Dovecot 2.3's pop3-login (AUTHORIZATION: USER/PASS,
// AUTH, STLS, CAPA) and then pop3 (TRANSACTION over INBOX, changes applied at QUIT),
// with loft-auth for logins and the user's storage daemon for the mail.
#pragma once

#include "auth/network.h"
#include "lib/log.h"
#include "lib/stream.h"
#include "lib/task.h"
#include "pop3/pop3_format.h"
#include "rpc/connector.h"

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace loft::pop3 {

struct Pop3Settings {
    std::string greeting;  // login_greeting
    bool disable_plaintext_auth = true;
    bool ssl_required = false;
    std::shared_ptr<const TlsContext> tls;  // null when ssl = no
    std::vector<auth::IpNetwork> trusted_networks;
    std::string uidl_format = "%08Xu%08Xv";
    std::string logout_format = "top=%t/%p, retr=%r/%b, del=%d/%m, size=%s";
    bool enable_last = false;
    bool no_flag_updates = false;
    bool lock_session = false;
    bool rename_duplicate_uidls = false;
    std::string deleted_flag;   // pop3_deleted_flag: hides flagged messages
    bool delete_by_flag = false;  // pop3_delete_type = flag (default when deleted_flag is set)
    Workarounds workarounds;
};

// pop3_lock_session among this worker's sessions: one transaction per user at a time.
class SessionLocks {
public:
    bool try_lock(const std::string& user) { return users_.insert(user).second; }
    void unlock(const std::string& user) { users_.erase(user); }

private:
    std::set<std::string> users_;
};

class Pop3Session : public std::enable_shared_from_this<Pop3Session> {
public:
    Pop3Session(std::shared_ptr<AsyncStream> stream, rpc::Connector& connector, const Logger& log,
                const Pop3Settings& settings, SessionLocks& locks);
    Task<void> run();

private:
    using Clock = std::chrono::steady_clock;
    struct Message {
        uint32_t uid = 0;
        uint64_t size = 0;
        bool seen = false;
        bool deleted = false;     // DELE in this session
        bool mark_seen = false;   // RETR of an unseen message: \Seen at the end
        std::string file_name, guid, backend_uidl;
    };

    void send(std::string_view text);
    void send_line(const std::string& line) { send(line + "\r\n"); }

    // AUTHORIZATION state. Each returns false when the command counts as a bad one.
    Task<void> authorization();
    Task<bool> login_command(const CommandLine& command);
    std::string login_capabilities() const;
    bool plaintext_allowed() const;
    bool check_plaintext_auth(bool pass_sent);
    Task<void> cmd_auth(const std::string& args);
    Task<void> authenticate(const std::string& mechanism, std::optional<std::string> initial_response);
    Task<void> finish_login(const rpc::AuthReply& reply, const std::string& method);
    void auth_error(const std::string& text);  // -ERR [AUTH] unless the text has its own code
    Task<void> cmd_stls();
    rpc::ClientInfo client_info() const;
    std::string login_fields(bool with_method, bool with_mpid) const;
    // Why the last login attempt failed, for the disconnect line (Dovecot's last_auth_fail).
    enum class LastFail { None, MechInvalid, PlaintextDisabled, InvalidBase64, TempFail };
    // A failed attempt; Dovecot logs nothing for it unless auth_verbose is set.
    void refuse_attempt(LastFail why);
    void log_login_disconnect();

    // TRANSACTION state.
    Task<bool> open_inbox();
    Task<void> transaction();
    Task<bool> command(const CommandLine& command);
    // The message a number argument names, or nullopt after sending the -ERR.
    std::optional<size_t> message_arg(const std::string& args, bool then_space, std::string* rest = nullptr);
    Task<bool> cmd_fetch(size_t index, std::optional<uint64_t> body_lines);
    Task<bool> cmd_uidl(const std::string& args);
    Task<bool> ensure_uidls();
    Task<void> cmd_rset();
    Task<void> cmd_quit();
    // Applies DELE (when quitting) and RETR's \Seen; false on a storage failure.
    Task<bool> update_mails(bool quitting);
    void log_logout(const std::string& reason);
    Task<void> close_storage();

    std::shared_ptr<AsyncStream> stream_;
    rpc::Connector& connector_;
    Logger log_;
    const Pop3Settings& settings_;
    SessionLocks& locks_;
    std::string session_id_;
    bool secured_ = false;
    bool done_ = false;  // the connection ends after this command

    // Login.
    std::vector<std::string> auth_mechanisms_;
    std::optional<std::string> pending_user_;  // USER given, PASS awaited
    std::string last_auth_user_, last_auth_method_;
    unsigned failed_logins_ = 0;
    unsigned bad_commands_ = 0;
    bool auth_in_progress_ = false;
    bool auth_aborted_ = false;
    LastFail last_fail_ = LastFail::None;
    Clock::time_point connected_at_ = Clock::now();
    Clock::time_point auth_started_;
    std::string disconnect_reason_;

    // Transaction.
    std::string user_;
    bool locked_ = false;
    std::shared_ptr<rpc::AsyncStorageClient> storage_;
    int64_t storage_session_ = 0;
    int64_t view_ = 0;
    bool view_open_ = false;
    uint32_t uidvalidity_ = 0;
    std::vector<Message> messages_;
    std::optional<std::vector<std::string>> uidls_;
    size_t deleted_count_ = 0;
    uint64_t deleted_size_ = 0;
    uint64_t total_size_ = 0;
    size_t last_seen_ = 0;  // LAST: the highest message number seen
    std::optional<size_t> highest_expunged_fetch_;
    bool quit_seen_ = false;
    bool delete_success_ = false;
    SessionCounters counters_;
};

}  // namespace loft::pop3
