// One IMAP client connection: the state machine of RFC 3501 (not authenticated,
// authenticated, selected, logout), fed by the protocol reader, executing commands
// as coroutines against loft-auth and the user's storage daemon.
#pragma once

#include "auth/network.h"
#include "imap/protocol/command_reader.h"
#include "imap/protocol/fetch_attributes.h"
#include "imap/protocol/select_params.h"
#include "lib/async_signal.h"
#include "lib/log.h"
#include "lib/stream.h"
#include "lib/task.h"
#include "rpc/connector.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace loft::imap {

struct ImapSettings {
    std::string greeting;          // login_greeting
    bool disable_plaintext_auth = true;
    size_t max_line_length = 65536;
    std::chrono::milliseconds idle_notify_interval{120000};
    std::string imap_capability;   // imap_capability override ("" = ours)
    std::shared_ptr<const TlsContext> tls;  // null when ssl = no
    bool ssl_required = false;              // ssl = required
    std::vector<auth::IpNetwork> trusted_networks;  // login_trusted_networks
    bool require_client_cert = false;       // auth_ssl_require_client_cert
    bool username_from_cert = false;        // auth_ssl_username_from_cert
};

class ImapSession : public std::enable_shared_from_this<ImapSession> {
public:
    ImapSession(std::shared_ptr<AsyncStream> stream, rpc::Connector& connector, const Logger& log,
                const ImapSettings& settings);
    Task<void> run();

private:
    using Command = protocol::Command;
    using Clock = std::chrono::steady_clock;
    enum class State { NotAuthenticated, Authenticated, Selected, Logout };

    struct Selected {
        std::string name;
        int64_t view = 0;
        bool read_only = false;
        std::vector<uint32_t> uids;  // sequence number n is uids[n - 1]
        uint32_t uidvalidity = 0;
        uint32_t uidnext = 0;
        std::vector<uint32_t> deferred_expunges;  // EXPUNGE not allowed yet
        uint32_t recent = 0;  // this session's \Recent count, as last told
        std::vector<std::string> keywords;  // as last told in FLAGS
        // CONDSTORE/QRESYNC: the mailbox's HIGHESTMODSEQ as last heard, and the one
        // the client last heard in full (all expunges included).
        uint64_t highest_modseq = 0;
        uint64_t last_full_modseq = 0;
    };
    struct PendingAppend {
        std::string tag;
        std::string mailbox;
        int64_t id = 0;
        std::string buffer;
        std::string error;  // set once the append failed; the literal is still read
        bool refused = false;
    };

    // Input.
    Task<bool> pump();  // reads more bytes into the reader; false at EOF
    Task<std::optional<std::string>> read_continuation_line();
    Task<void> handle_event(protocol::ReaderEvent& event);

    // Output.
    void send(std::string_view text);
    void untagged(const std::string& text);
    void tagged(const std::string& tag, const std::string& status, const std::string& code, const std::string& text,
                Clock::time_point started);
    void bad(const Command& command, const std::string& message, Clock::time_point started);
    std::string capabilities() const;

    Task<void> execute(Command command);
    rpc::ClientInfo client_info() const;
    // Dovecot's login-side check: with auth_ssl_require_client_cert and
    // auth_ssl_username_from_cert, a valid certificate without the name field is refused
    // before loft-auth is asked. True when it refused (and replied).
    bool refuse_certificate_without_name(const Command& command, const std::string& method);
    Task<void> cmd_login(const Command& command, Clock::time_point started);
    Task<void> cmd_starttls(const Command& command, Clock::time_point started);
    bool login_disabled() const;
    Task<void> cmd_authenticate(const Command& command, Clock::time_point started);
    Task<void> finish_login(const Command& command, const rpc::AuthReply& reply, const std::string& method,
                            Clock::time_point started);
    // A refused attempt that never reached a passdb: counted and logged as Dovecot does
    // ("Authenticate FOO failed: <reason>: user=<>, method=FOO, rip=...").
    void refuse_attempt(const std::string& what, const std::string& reason);
    // "user=<u>, method=M, rip=..., lip=..., [secured, ]session=<...>" for imap-login lines.
    std::string login_fields(bool with_method, bool with_mpid) const;
    void log_disconnect();
    Task<void> cmd_list(const Command& command, Clock::time_point started);
    Task<void> cmd_select(const Command& command, bool read_only, Clock::time_point started);
    Task<void> cmd_status(const Command& command, Clock::time_point started);
    Task<void> cmd_mailbox_change(const Command& command, Clock::time_point started);
    Task<void> cmd_copy(const Command& command, bool uid, bool move, Clock::time_point started);
    Task<void> cmd_subscribe(const Command& command, bool subscribe, Clock::time_point started);
    Task<void> cmd_lsub(const Command& command, Clock::time_point started);
    Task<void> cmd_close(const Command& command, bool expunge, Clock::time_point started);
    Task<void> cmd_expunge(const Command& command, bool uid, Clock::time_point started);
    Task<void> cmd_fetch(const Command& command, bool uid, Clock::time_point started);
    Task<void> cmd_store(const Command& command, bool uid, Clock::time_point started);
    Task<void> cmd_search(const Command& command, bool uid, const std::string& kind, Clock::time_point started);
    Task<void> cmd_idle(const Command& command, Clock::time_point started);
    void cmd_enable(const Command& command, Clock::time_point started);
    Task<void> append_start(protocol::ReaderEvent& event);
    Task<void> append_flush(bool final);
    Task<void> append_finish(const Command& command, Clock::time_point started);

    // Selected-state helpers. send_uid: flag updates carry UID (UID STORE).
    Task<void> sync_selected(bool allow_expunge, bool send_uid = false);
    void report_changes(const rpc::ViewChanges& changes, bool allow_expunge, bool send_uid = false);
    // Sends FLAGS and PERMANENTFLAGS again when keywords the client has not been told
    // about appear in the selected mailbox (as Dovecot does before the FETCH replies).
    void announce_keywords(const std::vector<std::string>& keywords);
    Task<void> change_mailbox(const Command& command, std::string mailbox, Clock::time_point started);
    // Removes expunged UIDs from the sequence map and tells the client: "* n EXPUNGE"
    // each, or one "* VANISHED uids" once QRESYNC is enabled.
    void report_expunged(std::vector<uint32_t> uids);

    // CONDSTORE/QRESYNC (RFC 7162).
    // Enables CONDSTORE; with a mailbox selected, tells the client its HIGHESTMODSEQ.
    void enable_condstore();
    void note_fetched_modseq(uint64_t modseq);
    // Sends a [HIGHESTMODSEQ] held for the next tagged reply as an untagged OK (IDLE).
    void flush_highest_modseq();
    Task<void> qresync_select(const protocol::QresyncParams& params);
    std::vector<uint32_t> resolve_set(const std::string& set_text, bool uid) const;
    uint32_t sequence_of(uint32_t uid) const;
    // binary: BINARY[section] (decoded, literal8 when the daemon says so) instead of BODY[].
    Task<void> fetch_section(uint32_t uid, const std::string& section, std::optional<uint64_t> offset,
                             std::optional<uint64_t> length, std::string& out, bool binary = false);
    Task<void> close_selected();

    std::shared_ptr<AsyncStream> stream_;
    rpc::Connector& connector_;
    Logger log_;
    const ImapSettings& settings_;
    protocol::CommandReader reader_;
    State state_ = State::NotAuthenticated;
    std::string session_id_;
    bool secured_ = false;

    std::string user_;
    std::string grant_;
    std::shared_ptr<rpc::AsyncStorageClient> storage_;
    int64_t storage_session_ = 0;
    std::optional<Selected> selected_;
    bool condstore_ = false;
    bool qresync_ = false;
    uint64_t pending_highest_modseq_ = 0;  // for the next tagged OK
    // The highest MODSEQ sent in FETCH replies since the last sync. As in Dovecot it
    // belongs to the connection, not the mailbox: a SELECT does not reset it.
    uint64_t highest_fetch_modseq_ = 0;
    std::optional<PendingAppend> append_;
    unsigned failed_logins_ = 0;
    bool authorization_failed_ = false;  // the last refusal was the certificate's, not the password's
    Clock::time_point connected_at_ = Clock::now();
    std::string last_auth_method_;
    std::string last_auth_user_;
    std::vector<std::string> auth_mechanisms_;  // what loft-auth offers this client
    bool auth_in_progress_ = false;              // client left in the middle of AUTHENTICATE
    Clock::time_point auth_started_;
    std::string disconnect_reason_;              // e.g. "Aborted login by logging out"
    uint64_t bytes_in_ = 0, bytes_out_ = 0;
};

}  // namespace loft::imap
