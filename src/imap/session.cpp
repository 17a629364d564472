#include "imap/session.h"

#include "auth/encoding.h"
#include "imap/protocol/arg_values.h"
#include "imap/protocol/response.h"
#include "lib/strings.h"
#include "rpc/call.h"
#include "rpc/framing.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <cstdio>

namespace loft::imap {

using protocol::ReaderEvent;

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxAuthLine = 16 * 1024;
// Dovecot itself never disconnects for failed logins (only auth penalty slows them);
// a generous bound keeps one connection from guessing forever.
constexpr unsigned kMaxFailedLogins = 10;

std::string new_session_id()
{
    unsigned char bytes[12];
    RAND_bytes(bytes, sizeof(bytes));
    return auth::base64_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

std::string seconds_text(std::chrono::steady_clock::duration elapsed)
{
    char text[64];
    double seconds = std::chrono::duration<double>(elapsed).count();
    snprintf(text, sizeof(text), "(%.3f + 0.000 secs)", seconds);
    return text;
}

protocol::CommandReader new_reader(const ImapSettings& settings)
{
    return protocol::CommandReader(
        protocol::ReaderLimits{settings.max_line_length, 65536, 1u << 20, uint64_t(1) << 32, 32, 10000},
        protocol::stream_append_messages);
}

}  // namespace

ImapSession::ImapSession(std::shared_ptr<AsyncStream> stream, rpc::Connector& connector, const Logger& log,
                         const ImapSettings& settings)
    : stream_(std::move(stream)),
      connector_(connector),
      log_(log),
      settings_(settings),
      reader_(new_reader(settings)),
      session_id_(new_session_id())
{
    const auto& addresses = stream_->addresses();
    // Dovecot's rule: TLS, a client on the server's own address, or one in
    // login_trusted_networks counts as secured.
    secured_ = stream_->tls_active() ||
               (!addresses.remote_ip.empty() &&
                auth::connection_is_secured(false, addresses.remote_ip, addresses.local_ip, settings_.trusted_networks));
}

// Dovecot's rule: LOGIN needs a secured connection unless plaintext auth is allowed and
// TLS is not required.
bool ImapSession::login_disabled() const
{
    if (secured_)
        return false;
    return settings_.disable_plaintext_auth || settings_.ssl_required;
}

Task<void> ImapSession::cmd_starttls(const Command& command, Clock::time_point started)
{
    if (stream_->tls_active()) {
        tagged(command.tag, "BAD", "", "TLS is already active.", started);
        co_return;
    }
    if (!settings_.tls) {
        tagged(command.tag, "BAD", "", "TLS support isn't enabled.", started);
        co_return;
    }
    tagged(command.tag, "OK", "", "Begin TLS negotiation now.", started);
    // Whatever the client pipelined after STARTTLS was sent in plaintext: drop it, so
    // nobody on the path can inject commands into the TLS session.
    reader_ = new_reader(settings_);
    stream_->start_tls(*settings_.tls);
    secured_ = true;
    // Secured now: loft-auth may offer the plaintext mechanisms it held back.
    try {
        auto auth = co_await connector_.auth();
        auto client = client_info();
        auth_mechanisms_ = co_await auth->mechanisms(client);
    } catch (const std::exception& error) {
        log_.error(std::string("auth unavailable: ") + error.what());
    }
}

void ImapSession::send(std::string_view text)
{
    bytes_out_ += text.size();
    stream_->write(text);
}

void ImapSession::untagged(const std::string& text) { send("* " + text + "\r\n"); }

void ImapSession::tagged(const std::string& tag, const std::string& status, const std::string& code,
                         const std::string& text, Clock::time_point started)
{
    // Like Dovecot: completion texts carry the command's timing, final texts
    // (already ending in a period) are sent as they are.
    std::string response_code = code;
    if (pending_highest_modseq_ != 0) {
        // QRESYNC: the sync before this reply moved HIGHESTMODSEQ (see report_changes).
        std::string highest = "HIGHESTMODSEQ " + std::to_string(pending_highest_modseq_);
        pending_highest_modseq_ = 0;
        if (status == "OK" && response_code.empty())
            response_code = highest;
        else
            untagged("OK [" + highest + "] Highest");
    }
    std::string line = tag + " " + status + " " + (response_code.empty() ? "" : "[" + response_code + "] ") + text;
    if (text.empty() || text.back() != '.')
        line += " " + seconds_text(Clock::now() - started) + ".";
    send(line + "\r\n");
}

void ImapSession::bad(const Command& command, const std::string& message, Clock::time_point started)
{
    tagged(command.tag, "BAD", "", "Error in IMAP command " + command.name + ": " + message, started);
}

std::string ImapSession::capabilities() const
{
    if (!settings_.imap_capability.empty() && state_ != State::NotAuthenticated)
        return settings_.imap_capability;
    std::string caps = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE";
    if (state_ == State::NotAuthenticated) {
        caps += " LITERAL+";
        if (settings_.tls && !stream_->tls_active())
            caps += " STARTTLS";
        // As Dovecot: LOGINDISABLED when plaintext is refused here, then the mechanisms
        // loft-auth offers this client (it leaves out the plaintext ones then; so do we
        // before TLS with ssl = required).
        bool no_plaintext = login_disabled();
        if (no_plaintext)
            caps += " LOGINDISABLED";
        for (const std::string& mechanism : auth_mechanisms_) {
            if (!(no_plaintext && (mechanism == "PLAIN" || mechanism == "LOGIN")))
                caps += " AUTH=" + mechanism;
        }
        return caps;
    }
    // Dovecot's order, with only what Loft implements.
    return caps + " SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND UNSELECT"
                  " CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES"
                  " WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE STATUS=SIZE LITERAL+ SPECIAL-USE";
}

Task<bool> ImapSession::pump()
{
    std::string data = co_await stream_->read_some(kReadChunk);
    if (data.empty())
        co_return false;
    bytes_in_ += data.size();
    reader_.feed(data);
    co_return true;
}

Task<std::optional<std::string>> ImapSession::read_continuation_line()
{
    while (true) {
        if (auto line = reader_.take_line(kMaxAuthLine))
            co_return line;
        if (!co_await pump())
            co_return std::nullopt;
    }
}

Task<void> ImapSession::run()
{
    auto self = shared_from_this();
    try {
        auto auth = co_await connector_.auth();
        auto client = client_info();
        auth_mechanisms_ = co_await auth->mechanisms(client);
    } catch (const std::exception& error) {
        // LOGIN still works once loft-auth is back; only the AUTH= list is missing.
        log_.error(std::string("auth unavailable: ") + error.what());
    }
    send("* OK [CAPABILITY " + capabilities() + "] " + settings_.greeting + "\r\n");
    while (state_ != State::Logout) {
        ReaderEvent event = reader_.next();
        if (event.kind == ReaderEvent::Kind::NeedMore) {
            if (!co_await pump())
                break;
            continue;
        }
        co_await handle_event(event);
        if (reader_.failed())
            break;
    }
    if (selected_)
        co_await close_selected();
    if (storage_ && storage_->connected()) {
        try {
            co_await storage_->close_session(storage_session_);
        } catch (const std::exception&) {
        }
    }
    log_disconnect();
    co_await stream_->drain();
    stream_->close();
}

std::string ImapSession::login_fields(bool with_method, bool with_mpid) const
{
    return rpc::login_log_fields(*stream_, last_auth_user_, with_method ? last_auth_method_ : std::string(), secured_,
                                 session_id_, with_mpid);
}

void ImapSession::log_disconnect()
{
    if (!user_.empty()) {
        log_.with_prefix("imap(" + user_ + ")<" + std::to_string(getpid()) + "><" + session_id_ + ">")
            .info(std::string("Disconnected: ") + (state_ == State::Logout ? "Logged out" : "Connection closed") +
                  " in=" + std::to_string(bytes_in_) + " out=" + std::to_string(bytes_out_));
        return;
    }
    // Dovecot's imap-login line; fail2ban's dovecot filter matches the "auth failed" form.
    auto now = Clock::now();
    auto seconds = [](Clock::duration elapsed) {
        return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count());
    };
    std::string detail;
    TlsPeer peer = stream_->tls_active() ? stream_->tls_peer() : TlsPeer{};
    // Dovecot's reasons under auth_ssl_require_client_cert come before the usual ones.
    if (settings_.require_client_cert && stream_->tls_active() && peer.has_cert && !peer.cert_valid)
        detail = "client sent an invalid cert";
    else if (settings_.require_client_cert && stream_->tls_active() && !peer.cert_valid)
        detail = "client didn't send a cert";
    else if (auth_in_progress_)
        detail = "client didn't finish SASL auth, waited " + seconds(now - auth_started_) + " secs";
    else if (failed_logins_ > 0 && settings_.require_client_cert && !stream_->tls_active())
        detail = "cert required, client didn't start TLS";
    else if (failed_logins_ > 0)
        detail = std::string(authorization_failed_ ? "authorization failed, " : "auth failed, ") +
                 std::to_string(failed_logins_) + " attempts in " + seconds(now - connected_at_) + " secs";
    else
        detail = "no auth attempts in " + seconds(now - connected_at_) + " secs";
    std::string reason = disconnect_reason_.empty() ? "Connection closed" : disconnect_reason_;
    log_.info("Disconnected: " + reason + " (" + detail + "): " +
              login_fields(failed_logins_ > 0 || auth_in_progress_, false));
}

void ImapSession::refuse_attempt(const std::string& what, const std::string& reason)
{
    failed_logins_++;
    log_.info(what + " failed: " + reason + ": " + login_fields(what != "Login", false));
}

Task<void> ImapSession::handle_event(ReaderEvent& event)
{
    switch (event.kind) {
    case ReaderEvent::Kind::NeedMore:
        break;
    case ReaderEvent::Kind::Continuation:
        send(protocol::kContinuation);
        break;
    case ReaderEvent::Kind::Command:
        if (append_) {
            co_await append_finish(event.command, Clock::now());
            break;
        }
        co_await execute(std::move(event.command));
        break;
    case ReaderEvent::Kind::LiteralStart:
        co_await append_start(event);
        break;
    case ReaderEvent::Kind::LiteralChunk:
        if (append_ && append_->error.empty()) {
            append_->buffer.append(event.chunk);
            if (append_->buffer.size() >= rpc::kChunkSize)
                co_await append_flush(false);
        }
        break;
    case ReaderEvent::Kind::LiteralEnd:
        if (append_ && append_->error.empty())
            co_await append_flush(true);
        break;
    case ReaderEvent::Kind::Error: {
        std::string text = protocol::error_reply_text(event);
        if (event.fatal) {
            send("* BYE " + text + ".\r\n");
            state_ = State::Logout;
        } else {
            send((event.tag.empty() ? std::string("*") : event.tag) + " BAD " + text + ".\r\n");
        }
        if (append_) {
            co_await append_abort(*append_);
            append_.reset();
        }
        break;
    }
    }
}

Task<void> ImapSession::execute(Command command)
{
    auto started = Clock::now();
    const std::string& name = command.name;
    try {
        if (name == "CAPABILITY") {
            untagged("CAPABILITY " + capabilities());
            tagged(command.tag, "OK", "", state_ == State::NotAuthenticated
                                              ? "Pre-login capabilities listed, post-login capabilities have more."
                                              : "Capability completed",
                   started);
        } else if (name == "NOOP" || name == "CHECK") {
            if (state_ == State::Selected)
                co_await sync_selected(true);
            tagged(command.tag, "OK", "", name == "NOOP" ? "NOOP completed" : "Check completed", started);
        } else if (name == "LOGOUT") {
            untagged("BYE Logging out");
            if (state_ == State::NotAuthenticated) {
                // Dovecot's login process answers without timing.
                tagged(command.tag, "OK", "", "Logout completed.", started);
                disconnect_reason_ = "Aborted login by logging out";
            } else {
                tagged(command.tag, "OK", "", "Logout completed", started);
            }
            state_ = State::Logout;
        } else if (name == "ID") {
            untagged("ID NIL");
            tagged(command.tag, "OK", "", "ID completed", started);
        } else if (name == "ENABLE") {
            if (state_ == State::NotAuthenticated)
                tagged(command.tag, "BAD", "", "Error in IMAP command ENABLE: Not authenticated", started);
            else
                cmd_enable(command, started);
        } else if (state_ == State::NotAuthenticated) {
            if (name == "LOGIN")
                co_await cmd_login(command, started);
            else if (name == "AUTHENTICATE")
                co_await cmd_authenticate(command, started);
            else if (name == "STARTTLS")
                co_await cmd_starttls(command, started);
            else
                tagged(command.tag, "BAD", "", "Error in IMAP command " + name + ": Unknown command", started);
        } else if (name == "LOGIN" || name == "AUTHENTICATE") {
            // Dovecot's imap process does not know these commands at all.
            tagged(command.tag, "BAD", "", "Error in IMAP command " + name + ": Unknown command", started);
        } else if (name == "LIST") {
            co_await cmd_list(command, started);
        } else if (name == "NAMESPACE") {
            rpc::MailboxList list = co_await storage_->list_mailboxes(storage_session_);
            untagged("NAMESPACE ((\"\" " + protocol::string_text(list.separator) + ")) NIL NIL");
            tagged(command.tag, "OK", "", "Namespace completed", started);
        } else if (name == "SELECT" || name == "EXAMINE") {
            co_await cmd_select(command, name == "EXAMINE", started);
        } else if (name == "STATUS") {
            co_await cmd_status(command, started);
        } else if (name == "CREATE" || name == "DELETE" || name == "RENAME") {
            co_await cmd_mailbox_change(command, started);
        } else if (name == "SUBSCRIBE" || name == "UNSUBSCRIBE") {
            co_await cmd_subscribe(command, name == "SUBSCRIBE", started);
        } else if (name == "LSUB") {
            co_await cmd_lsub(command, started);
        } else if (name == "IDLE") {
            co_await cmd_idle(command, started);
        } else if (state_ != State::Selected &&
                   (name == "CLOSE" || name == "UNSELECT" || name == "EXPUNGE" || name == "FETCH" ||
                    name == "STORE" || name == "UID FETCH" || name == "UID STORE" || name == "UID EXPUNGE" ||
                    name == "COPY" || name == "UID COPY" || name == "MOVE" || name == "UID MOVE" ||
                    name == "SEARCH" || name == "UID SEARCH" || name == "SORT" || name == "UID SORT" ||
                    name == "THREAD" || name == "UID THREAD")) {
            bad(command, "No mailbox selected", started);
        } else if (name == "CLOSE" || name == "UNSELECT") {
            co_await cmd_close(command, name == "CLOSE", started);
        } else if (name == "EXPUNGE" || name == "UID EXPUNGE") {
            co_await cmd_expunge(command, name == "UID EXPUNGE", started);
        } else if (name == "FETCH" || name == "UID FETCH") {
            co_await cmd_fetch(command, name == "UID FETCH", started);
        } else if (name == "COPY" || name == "UID COPY" || name == "MOVE" || name == "UID MOVE") {
            co_await cmd_copy(command, name.rfind("UID ", 0) == 0, name.find("MOVE") != std::string::npos, started);
        } else if (name == "SEARCH" || name == "UID SEARCH" || name == "SORT" || name == "UID SORT" ||
                   name == "THREAD" || name == "UID THREAD") {
            bool uid = name.rfind("UID ", 0) == 0;
            // Named, not a temporary in the co_await: GCC 12 destroys such temporaries twice.
            std::string kind = uid ? name.substr(4) : name;
            co_await cmd_search(command, uid, kind, started);
        } else if (name == "STORE" || name == "UID STORE") {
            co_await cmd_store(command, name == "UID STORE", started);
        } else {
            tagged(command.tag, "BAD", "", "Error in IMAP command " + name + ": Unknown command", started);
        }
    } catch (const protocol::CommandError& error) {
        bad(command, error.what(), started);
    } catch (const rpc::StorageError& error) {
        std::string code = error.kind == rpc::ErrorKind::NOT_FOUND ? "NONEXISTENT"
                           : error.kind == rpc::ErrorKind::EXISTS  ? "ALREADYEXISTS"
                           : error.kind == rpc::ErrorKind::LIMIT   ? "LIMIT"
                           : error.kind == rpc::ErrorKind::DENIED  ? "NOPERM"
                           : error.kind == rpc::ErrorKind::INVALID ? "CANNOT"
                                                                   : "SERVERBUG";
        std::string message = error.kind == rpc::ErrorKind::INTERNAL
                                  ? "Internal error occurred. Refer to server log for more information."
                                  : error.message;
        tagged(command.tag, "NO", code, message, started);
    } catch (const rpc::RpcUnavailable& error) {
        log_.error(std::string("storage unavailable: ") + error.what());
        tagged(command.tag, "NO", "UNAVAILABLE", "Temporary failure: mail storage is unavailable.", started);
    } catch (const ControlUnavailable& error) {
        log_.error(std::string("loftd refused a connection: ") + error.what());
        tagged(command.tag, "NO", "UNAVAILABLE", "Temporary failure: mail storage is unavailable.", started);
    }
}

void ImapSession::cmd_enable(const Command& command, Clock::time_point started)
{
    std::string enabled;
    for (const protocol::Arg& arg : command.args) {
        if (!arg.is_atom()) {
            bad(command, "Invalid arguments", started);
            return;
        }
    }
    // Like Dovecot: every known name is echoed, even one already enabled.
    for (const protocol::Arg& arg : command.args) {
        std::string feature = to_upper(arg.value);
        if (feature == "CONDSTORE") {
            enable_condstore();
        } else if (feature == "QRESYNC") {
            enable_condstore();
            qresync_ = true;
        } else {
            continue;
        }
        enabled += " " + feature;
    }
    if (!enabled.empty())
        untagged("ENABLED" + enabled);
    tagged(command.tag, "OK", "", "Enabled", started);
}

rpc::ClientInfo ImapSession::client_info() const
{
    return rpc::client_info_of(*stream_, "imap", secured_, session_id_);
}

bool ImapSession::refuse_certificate_without_name(const Command& command, const std::string& method)
{
    if (!settings_.require_client_cert || !settings_.username_from_cert || !stream_->tls_active())
        return false;
    TlsPeer peer = stream_->tls_peer();
    if (!peer.cert_valid || !peer.cert_username.empty())
        return false;
    last_auth_user_.clear();
    last_auth_method_ = method;
    log_.error("Cannot get username from certificate: Missing username in certificate: " + login_fields(true, false));
    // Dovecot's login process words it without the timing.
    send(command.tag + " NO [AUTHORIZATIONFAILED] Unable to validate certificate\r\n");
    refuse_attempt("Authenticate " + method, "Unable to validate certificate");
    authorization_failed_ = true;
    return true;
}

Task<void> ImapSession::cmd_login(const Command& command, Clock::time_point started)
{
    if (command.args.size() != 2) {
        bad(command, "Invalid arguments", started);
        co_return;
    }
    std::string user = protocol::astring(command.args[0]);
    std::string password = protocol::astring(command.args[1]);
    if (login_disabled()) {
        untagged("BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. "
                 "If anyone was listening, the password was exposed.");
        tagged(command.tag, "NO", "PRIVACYREQUIRED",
               "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.", started);
        refuse_attempt("Login", "Plaintext authentication disabled");
        last_auth_user_ = user;
        co_return;
    }
    if (refuse_certificate_without_name(command, "PLAIN"))
        co_return;
    last_auth_user_ = user;
    last_auth_method_ = "PLAIN";
    // LOGIN is SASL PLAIN to loft-auth, as in Dovecot (so "user*master" works the same).
    rpc::AuthRequest request;
    request.mechanism = "PLAIN";
    request.client = client_info();
    request.__set_initial_response(std::string(1, '\0') + user + std::string(1, '\0') + password);
    rpc::AuthReply reply;
    try {
        auto auth = co_await connector_.auth();
        reply = co_await auth->start(request);
    } catch (const std::exception& error) {
        log_.error(std::string("auth unavailable: ") + error.what());
        reply.status = rpc::AuthStatus::TEMPFAIL;
    }
    co_await finish_login(command, reply, "PLAIN", started);
}

Task<void> ImapSession::cmd_authenticate(const Command& command, Clock::time_point started)
{
    if (command.args.empty() || command.args.size() > 2 || !command.args[0].is_atom()) {
        bad(command, "Invalid arguments", started);
        co_return;
    }
    std::string mechanism = to_upper(command.args[0].value);
    last_auth_method_ = mechanism;
    if (!secured_ && settings_.ssl_required) {
        tagged(command.tag, "NO", "PRIVACYREQUIRED", "Authentication not allowed until SSL/TLS is enabled.", started);
        co_return;
    }
    bool offered = false;
    for (const std::string& name : auth_mechanisms_)
        offered = offered || name == mechanism;
    if (!offered && !secured_ && settings_.disable_plaintext_auth && (mechanism == "PLAIN" || mechanism == "LOGIN")) {
        tagged(command.tag, "NO", "PRIVACYREQUIRED", "Plaintext authentication disabled.", started);
        refuse_attempt("Authenticate " + mechanism, "Plaintext authentication disabled.");
        co_return;
    }
    if (refuse_certificate_without_name(command, mechanism))
        co_return;
    rpc::AuthRequest request;
    request.mechanism = mechanism;
    request.client = client_info();
    if (command.args.size() == 2) {
        // SASL-IR: "=" stands for an empty initial response.
        std::string initial = protocol::astring(command.args[1]);
        if (initial != "=") {
            auto decoded = auth::base64_decode(initial, kMaxAuthLine);
            if (!decoded) {
                failed_logins_++;
                // Dovecot's login process words these without the timing.
                send(command.tag + " BAD Invalid base64 data in initial response\r\n");
                co_return;
            }
            request.__set_initial_response(*decoded);
        } else {
            request.__set_initial_response("");
        }
    }
    rpc::AuthReply reply;
    auth_in_progress_ = true;
    auth_started_ = Clock::now();
    try {
        auto auth = co_await connector_.auth();
        reply = co_await auth->start(request);
        while (reply.status == rpc::AuthStatus::CONTINUE ||
               (reply.status == rpc::AuthStatus::OK && !reply.challenge.empty())) {
            // A success with data (SCRAM's server signature) goes out as one more
            // continuation whose answer ends the exchange, as in Dovecot.
            bool final_message = reply.status == rpc::AuthStatus::OK;
            send("+ " + auth::base64_encode(reply.challenge) + "\r\n");
            auto line = co_await read_continuation_line();
            if (!line) {
                state_ = State::Logout;
                co_return;
            }
            if (*line == "*") {
                if (!final_message)
                    co_await auth->abort(reply.request);
                auth_in_progress_ = false;
                failed_logins_++;
                tagged(command.tag, "BAD", "", "Authentication aborted by client.", started);
                co_return;
            }
            auto decoded = auth::base64_decode(*line, kMaxAuthLine);
            if (!decoded) {
                if (!final_message)
                    co_await auth->abort(reply.request);
                auth_in_progress_ = false;
                send(command.tag + " NO [ALERT] Invalid base64 in response\r\n");
                refuse_attempt("Authenticate " + mechanism, "Invalid base64 in response");
                co_return;
            }
            if (final_message) {
                reply.challenge.clear();
                break;
            }
            reply = co_await auth->proceed(reply.request, *decoded);
        }
    } catch (const std::exception& error) {
        log_.error(std::string("auth unavailable: ") + error.what());
        reply.status = rpc::AuthStatus::TEMPFAIL;
    }
    auth_in_progress_ = false;
    co_await finish_login(command, reply, mechanism, started);
}

Task<void> ImapSession::finish_login(const Command& command, const rpc::AuthReply& reply, const std::string& method,
                                     Clock::time_point started)
{
    if (!reply.user.empty())
        last_auth_user_ = reply.user;
    if (reply.status != rpc::AuthStatus::OK) {
        if (reply.status == rpc::AuthStatus::TEMPFAIL) {
            tagged(command.tag, "NO", "UNAVAILABLE", "Temporary authentication failure.", started);
            co_return;
        }
        if (reply.reason == "Unsupported authentication mechanism.") {
            tagged(command.tag, "NO", "ALERT", "Unsupported authentication mechanism.", started);
            refuse_attempt("Authenticate " + method, "Unsupported authentication mechanism.");
        } else if (!reply.reason.empty() && reply.reason != "Authentication failed.") {
            // A refusal loft-auth words for the client (auth_ssl_require_client_cert), as
            // Dovecot's login process passes the auth server's reason on.
            failed_logins_++;
            authorization_failed_ = false;
            send(command.tag + " NO [ALERT] " + reply.reason + "\r\n");
        } else {
            failed_logins_++;
            authorization_failed_ = false;
            tagged(command.tag, "NO", "AUTHENTICATIONFAILED", "Authentication failed.", started);
        }
        if (failed_logins_ >= kMaxFailedLogins) {
            untagged("BYE Too many invalid commands.");
            disconnect_reason_ = "Too many invalid commands.";
            state_ = State::Logout;
        }
        co_return;
    }
    try {
        storage_ = co_await connector_.storage(reply.grant);
        storage_session_ = co_await storage_->open_session(reply.grant);
    } catch (const std::exception& error) {
        log_.error("user " + reply.user + ": cannot reach mail storage: " + error.what());
        storage_.reset();
        tagged(command.tag, "NO", "UNAVAILABLE", "Temporary failure: mail storage is unavailable.", started);
        co_return;
    }
    user_ = reply.user;
    grant_ = reply.grant;
    state_ = State::Authenticated;
    last_auth_method_ = method;
    log_.info("Login: " + login_fields(true, true));
    tagged(command.tag, "OK", "CAPABILITY " + capabilities(), "Logged in", started);
}

}  // namespace loft::imap
