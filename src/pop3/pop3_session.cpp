#include "pop3/pop3_session.h"

#include "auth/encoding.h"
#include "lib/strings.h"
#include "rpc/framing.h"
#include "storage/mail_types.h"

#include <openssl/rand.h>
#include <unistd.h>

namespace loft::pop3 {

namespace {

// pop3-login reads commands of up to this much (Dovecot's LOGIN_MAX_INBUF_SIZE region);
// SASL responses may be longer.
constexpr size_t kMaxLoginLine = 4096;
constexpr size_t kMaxAuthLine = 16 * 1024;
// Dovecot's pop3: MAX_INBUF_SIZE.
constexpr size_t kMaxCommandLine = 2048;
// pop3-login: CLIENT_MAX_BAD_COMMANDS; pop3: CLIENT_MAX_BAD_COMMANDS.
constexpr unsigned kMaxLoginBadCommands = 3;
constexpr unsigned kMaxBadCommands = 20;
constexpr unsigned kMaxFailedLogins = 10;
// Output is handed to the kernel before more of a message is read.
constexpr size_t kOutputHighWater = 512 * 1024;

const char* const kCapabilities = "CAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n";
const char* const kPlaintextDisabled = "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.";
const char* const kInternalError = "Internal error occurred. Refer to server log for more information.";

std::string new_session_id()
{
    unsigned char bytes[12];
    RAND_bytes(bytes, sizeof(bytes));
    return auth::base64_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

std::string seconds_since(std::chrono::steady_clock::time_point since)
{
    return std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - since).count());
}

}  // namespace

Pop3Session::Pop3Session(std::shared_ptr<AsyncStream> stream, rpc::Connector& connector, const Logger& log,
                         const Pop3Settings& settings, SessionLocks& locks)
    : stream_(std::move(stream)),
      connector_(connector),
      log_(log),
      settings_(settings),
      locks_(locks),
      session_id_(new_session_id())
{
    const auto& addresses = stream_->addresses();
    secured_ = stream_->tls_active() ||
               (!addresses.remote_ip.empty() &&
                auth::connection_is_secured(false, addresses.remote_ip, addresses.local_ip, settings_.trusted_networks));
}

void Pop3Session::send(std::string_view text)
{
    counters_.output_bytes += text.size();
    stream_->write(text);
}

Task<void> Pop3Session::run()
{
    auto self = shared_from_this();
    try {
        auto auth = co_await connector_.auth();
        auto client = client_info();
        auth_mechanisms_ = co_await auth->mechanisms(client);
    } catch (const std::exception& error) {
        log_.error(std::string("auth unavailable: ") + error.what());
    }
    send_line("+OK " + settings_.greeting);
    co_await authorization();
    if (!user_.empty()) {
        co_await transaction();
        co_await close_storage();
    } else {
        log_login_disconnect();
    }
    co_await stream_->drain();
    stream_->close();
}

// ---- AUTHORIZATION ------------------------------------------------------------------

rpc::ClientInfo Pop3Session::client_info() const
{
    return rpc::client_info_of(*stream_, "pop3", secured_, session_id_);
}

bool Pop3Session::plaintext_allowed() const
{
    return secured_ || (!settings_.disable_plaintext_auth && !settings_.ssl_required);
}

std::string Pop3Session::login_capabilities() const
{
    std::string text = std::string("+OK\r\n") + kCapabilities;
    if (settings_.tls && !stream_->tls_active())
        text += "STLS\r\n";
    if (!settings_.disable_plaintext_auth || secured_)
        text += "USER\r\n";
    text += "SASL";
    bool hide_plaintext = !plaintext_allowed();
    for (const std::string& mechanism : auth_mechanisms_) {
        if (!(hide_plaintext && (mechanism == "PLAIN" || mechanism == "LOGIN")))
            text += " " + mechanism;
    }
    return text + "\r\n.\r\n";
}

Task<void> Pop3Session::authorization()
{
    while (!done_ && user_.empty()) {
        auto line = co_await stream_->read_line(kMaxLoginLine);
        if (line.status == AsyncStream::LineStatus::Closed)
            co_return;
        if (line.status == AsyncStream::LineStatus::TooLong) {
            send_line("-ERR Input line too long.");
            disconnect_reason_ = "Input buffer full";
            co_return;
        }
        counters_.input_bytes += line.text.size() + 2;
        CommandLine command = parse_login_command(line.text);
        bool good = co_await login_command(command);
        if (good) {
            bad_commands_ = 0;
        } else if (++bad_commands_ >= kMaxLoginBadCommands) {
            send_line("-ERR Too many invalid bad commands.");
            disconnect_reason_ = "Disconnected: Too many bad commands";
            co_return;
        }
    }
}

Task<bool> Pop3Session::login_command(const CommandLine& command)
{
    const std::string& name = command.name;
    if (name == "CAPA") {
        send(login_capabilities());
    } else if (name == "USER") {
        if (!check_plaintext_auth(false)) {
            if (last_auth_user_.empty())
                last_auth_user_ = command.args;
            co_return true;
        }
        pending_user_ = command.args;
        send_line("+OK");
    } else if (name == "PASS") {
        if (!pending_user_) {
            // A client may ignore USER's reply and show only PASS's.
            if (check_plaintext_auth(true))
                send_line("-ERR No username given.");
            co_return true;
        }
        std::string user = *pending_user_;
        pending_user_.reset();
        last_auth_user_ = user;
        // PASS is SASL PLAIN to loft-auth, as in Dovecot (so "user*master" works the same).
        std::optional<std::string> initial = std::string(1, '\0') + user + std::string(1, '\0') + command.args;
        std::string mechanism = "PLAIN";
        co_await authenticate(mechanism, std::move(initial));
    } else if (name == "AUTH") {
        co_await cmd_auth(command.args);
    } else if (name == "APOP") {
        // Loft's loft-auth has no APOP mechanism, so the greeting carries no challenge.
        send_line("-ERR APOP not enabled.");
    } else if (name == "STLS") {
        co_await cmd_stls();
    } else if (name == "QUIT") {
        send_line("+OK Logging out");
        disconnect_reason_ = "Aborted login by logging out";
        done_ = true;
    } else if (name == "XCLIENT" || name == "XOIP") {
        // Loft trusts no proxy to rewrite client addresses.
        send_line("+OK You are not from trusted IP - ignoring");
    } else {
        send_line("-ERR Unknown command.");
        co_return false;
    }
    co_return true;
}

bool Pop3Session::check_plaintext_auth(bool pass_sent)
{
    if (plaintext_allowed())
        return true;
    (void)pass_sent;  // Dovecot's pop3-login has no status line to warn with
    auth_error(kPlaintextDisabled);
    refuse_attempt(LastFail::PlaintextDisabled);
    return false;
}

void Pop3Session::auth_error(const std::string& text)
{
    send_line(text.rfind('[', 0) == 0 ? "-ERR " + text : "-ERR [AUTH] " + text);
}

Task<void> Pop3Session::cmd_stls()
{
    if (stream_->tls_active()) {
        send_line("-ERR TLS is already active.");
        co_return;
    }
    if (!settings_.tls) {
        send_line("-ERR TLS support isn't enabled.");
        co_return;
    }
    send_line("+OK Begin TLS negotiation now.");
    co_await stream_->drain();
    stream_->start_tls(*settings_.tls);
    secured_ = true;
    pending_user_.reset();
    // The mechanisms may differ once the connection is secured.
    try {
        auto auth = co_await connector_.auth();
        auto client = client_info();
        auth_mechanisms_ = co_await auth->mechanisms(client);
    } catch (const std::exception& error) {
        log_.error(std::string("auth unavailable: ") + error.what());
    }
}

Task<void> Pop3Session::cmd_auth(const std::string& args)
{
    size_t space = args.find(' ');
    std::string mechanism = to_upper(args.substr(0, space));
    if (mechanism.empty()) {
        // Old-style SASL discovery (Outlook): AUTH alone lists the mechanisms.
        std::string text = "+OK\r\n";
        bool hide_plaintext = !plaintext_allowed();
        for (const std::string& name : auth_mechanisms_) {
            if (!(hide_plaintext && (name == "PLAIN" || name == "LOGIN")))
                text += name + "\r\n";
        }
        send(text + ".\r\n");
        co_return;
    }
    std::optional<std::string> initial;
    if (space != std::string::npos) {
        std::string encoded = args.substr(space + 1);
        if (encoded == "=") {
            initial = std::string();
        } else {
            auto decoded = auth::base64_decode(encoded, kMaxAuthLine);
            if (!decoded) {
                last_auth_method_ = mechanism;
                auth_error("Invalid base64 data in initial response");
                refuse_attempt(LastFail::InvalidBase64);
                co_return;
            }
            initial = std::move(*decoded);
        }
    }
    co_await authenticate(mechanism, std::move(initial));
}

Task<void> Pop3Session::authenticate(const std::string& mechanism, std::optional<std::string> initial_response)
{
    last_auth_method_ = mechanism;
    if (!secured_ && settings_.ssl_required) {
        failed_logins_++;
        auth_error("Authentication not allowed until SSL/TLS is enabled.");
        co_return;
    }
    bool offered = false;
    for (const std::string& name : auth_mechanisms_)
        offered = offered || name == mechanism;
    if (!offered && !plaintext_allowed() && (mechanism == "PLAIN" || mechanism == "LOGIN")) {
        auth_error("Plaintext authentication disabled.");
        refuse_attempt(LastFail::PlaintextDisabled);
        co_return;
    }
    rpc::AuthRequest request;
    request.mechanism = mechanism;
    request.client = client_info();
    if (initial_response)
        request.__set_initial_response(*initial_response);
    rpc::AuthReply reply;
    auth_in_progress_ = true;
    auth_started_ = Clock::now();
    try {
        auto auth = co_await connector_.auth();
        reply = co_await auth->start(request);
        while (reply.status == rpc::AuthStatus::CONTINUE ||
               (reply.status == rpc::AuthStatus::OK && !reply.challenge.empty())) {
            // A success with data (SCRAM's server signature) is one more challenge
            // whose answer ends the exchange.
            bool final_message = reply.status == rpc::AuthStatus::OK;
            send_line("+ " + auth::base64_encode(reply.challenge));
            auto line = co_await stream_->read_line(kMaxAuthLine);
            if (line.status != AsyncStream::LineStatus::Ok) {
                if (!final_message) {
                    int64_t pending = reply.request;
                    co_await auth->abort(pending);
                }
                if (line.status == AsyncStream::LineStatus::TooLong)
                    send_line("-ERR [AUTH] Authentication failed.");
                done_ = true;
                co_return;
            }
            counters_.input_bytes += line.text.size() + 2;
            if (line.text == "*") {
                if (!final_message) {
                    int64_t pending = reply.request;
                    co_await auth->abort(pending);
                }
                auth_in_progress_ = false;
                auth_aborted_ = true;
                refuse_attempt(LastFail::None);
                send_line("-ERR Authentication aborted by client.");
                co_return;
            }
            auto decoded = auth::base64_decode(line.text, kMaxAuthLine);
            if (!decoded) {
                if (!final_message) {
                    int64_t pending = reply.request;
                    co_await auth->abort(pending);
                }
                auth_in_progress_ = false;
                auth_error("Invalid base64 in response");
                refuse_attempt(LastFail::InvalidBase64);
                co_return;
            }
            if (final_message) {
                reply.challenge.clear();
                break;
            }
            int64_t pending = reply.request;
            reply = co_await auth->proceed(pending, *decoded);
        }
    } catch (const std::exception& error) {
        log_.error(std::string("auth unavailable: ") + error.what());
        reply.status = rpc::AuthStatus::TEMPFAIL;
    }
    auth_in_progress_ = false;
    co_await finish_login(reply, mechanism);
}

Task<void> Pop3Session::finish_login(const rpc::AuthReply& reply, const std::string& method)
{
    if (!reply.user.empty())
        last_auth_user_ = reply.user;
    if (reply.status != rpc::AuthStatus::OK) {
        if (reply.status == rpc::AuthStatus::TEMPFAIL) {
            refuse_attempt(LastFail::TempFail);
            send_line("-ERR [SYS/TEMP] Temporary authentication failure.");
            co_return;
        }
        if (reply.reason == "Unsupported authentication mechanism.") {
            refuse_attempt(LastFail::MechInvalid);
            auth_error(reply.reason);
        } else {
            refuse_attempt(LastFail::None);
            auth_error("Authentication failed.");
        }
        if (failed_logins_ >= kMaxFailedLogins) {
            send_line("-ERR Too many invalid commands.");
            disconnect_reason_ = "Too many invalid commands.";
            done_ = true;
        }
        co_return;
    }
    try {
        storage_ = co_await connector_.storage(reply.grant);
        storage_session_ = co_await storage_->open_session(reply.grant);
    } catch (const std::exception& error) {
        log_.error("user " + reply.user + ": cannot reach mail storage: " + error.what());
        storage_.reset();
        send_line("-ERR [SYS/TEMP] Temporary authentication failure.");
        co_return;
    }
    last_auth_method_ = method;
    log_.info("Login: " + login_fields(true, true));
    user_ = reply.user;
}

std::string Pop3Session::login_fields(bool with_method, bool with_mpid) const
{
    return rpc::login_log_fields(*stream_, last_auth_user_, with_method ? last_auth_method_ : std::string(), secured_,
                                 session_id_, with_mpid);
}

void Pop3Session::refuse_attempt(LastFail why)
{
    failed_logins_++;
    last_fail_ = why;
}

void Pop3Session::log_login_disconnect()
{
    // Dovecot's client_get_extra_disconnect_reason(), in its order.
    unsigned attempts = failed_logins_ + (auth_in_progress_ ? 1 : 0);
    std::string detail;
    if (attempts == 0)
        detail = "no auth attempts in " + seconds_since(connected_at_) + " secs";
    else if (auth_in_progress_ && attempts == 1)
        detail = "client didn't finish SASL auth, waited " + seconds_since(auth_started_) + " secs";
    else if (auth_aborted_ && attempts == 1)
        detail = "aborted authentication";
    else if (last_fail_ == LastFail::TempFail)
        detail = "auth service reported temporary failure";
    else if (last_fail_ == LastFail::InvalidBase64)
        detail = "sent invalid base64 in response";
    else if (last_fail_ == LastFail::MechInvalid)
        detail = "tried to use unsupported auth mechanism";
    else if (last_fail_ == LastFail::PlaintextDisabled)
        detail = "tried to use disallowed plaintext auth";
    else
        detail = "auth failed, " + std::to_string(attempts) + " attempts in " + seconds_since(connected_at_) + " secs";
    // Dovecot's wording, doubled "Disconnected: " after too many bad commands included.
    std::string reason = disconnect_reason_.empty() ? "Connection closed" : disconnect_reason_;
    log_.info("Disconnected: " + reason + " (" + detail + "): " + login_fields(attempts > 0, false));
}

// ---- TRANSACTION --------------------------------------------------------------------

Task<bool> Pop3Session::open_inbox()
{
    if (settings_.lock_session) {
        if (!locks_.try_lock(user_)) {
            send_line("-ERR [IN-USE] Mailbox is locked by another POP3 session.");
            disconnect_reason_ = "Couldn't lock POP3 session";
            co_return false;
        }
        locked_ = true;
    }
    try {
        std::string inbox = "INBOX";
        rpc::SelectReply selected = co_await storage_->select_mailbox(storage_session_, inbox, false);
        view_ = selected.view;
        view_open_ = true;
        uidvalidity_ = static_cast<uint32_t>(selected.status.uidvalidity);
        std::string hidden = settings_.deleted_flag;
        std::vector<rpc::Pop3Message> listed = co_await storage_->pop3_messages(storage_session_, view_, hidden);
        messages_.reserve(listed.size());
        for (const rpc::Pop3Message& entry : listed) {
            Message message;
            message.uid = static_cast<uint32_t>(entry.uid);
            message.size = static_cast<uint64_t>(entry.virtual_size);
            message.seen = (entry.flags.system & storage::Seen) != 0;
            message.file_name = entry.file_name;
            message.guid = entry.guid;
            message.backend_uidl = entry.backend_uidl;
            total_size_ += message.size;
            messages_.push_back(std::move(message));
            if (messages_.back().seen)
                last_seen_ = messages_.size();
        }
    } catch (const rpc::StorageError& error) {
        log_.with_prefix("pop3(" + user_ + ")<" + std::to_string(getpid()) + "><" + session_id_ + ">")
            .error("Couldn't open INBOX: " + error.message);
        send_line(std::string("-ERR [SYS/TEMP] ") + kInternalError);
        disconnect_reason_ = "Couldn't open INBOX";
        co_return false;
    } catch (const std::exception& error) {
        log_.error(std::string("storage unavailable: ") + error.what());
        send_line(std::string("-ERR [SYS/TEMP] ") + kInternalError);
        disconnect_reason_ = "Couldn't open INBOX";
        co_return false;
    }
    counters_.message_count = messages_.size();
    counters_.message_bytes = total_size_;
    co_return true;
}

Task<void> Pop3Session::transaction()
{
    // Counters restart for the mail session, as Dovecot's pop3 process starts afresh.
    counters_ = SessionCounters{};
    bool opened = co_await open_inbox();
    if (!opened) {
        log_logout(disconnect_reason_);
        co_return;
    }
    send_line("+OK Logged in.");
    std::string reason = "Connection closed";
    while (!done_) {
        if (stream_->output_pending() > kOutputHighWater)
            co_await stream_->drain();
        auto line = co_await stream_->read_line(kMaxCommandLine);
        if (line.status == AsyncStream::LineStatus::Closed)
            break;
        if (line.status == AsyncStream::LineStatus::TooLong) {
            send_line("-ERR Input line too long.");
            reason = "Input line too long";
            break;
        }
        counters_.input_bytes += line.text.size() + 2;
        bool good;
        if (line.text.empty() || line.text[0] == ' ') {
            send_line("-ERR Unknown command.");
            good = false;
        } else {
            CommandLine parsed = parse_command(line.text);
            try {
                good = co_await command(parsed);
            } catch (const std::exception& error) {
                log_.error(std::string("storage failure: ") + error.what());
                send_line(std::string("-ERR [SYS/TEMP] ") + kInternalError);
                reason = "Storage error";
                done_ = true;
                break;
            }
        }
        if (done_) {
            reason = disconnect_reason_;
            break;
        }
        if (good) {
            bad_commands_ = 0;
        } else if (++bad_commands_ > kMaxBadCommands) {
            send_line("-ERR Too many bad commands.");
            reason = "Too many bad commands.";
            break;
        }
    }
    if (!quit_seen_) {
        // RETR's \Seen is kept even without QUIT; DELE is not.
        try {
            co_await update_mails(false);
        } catch (const std::exception& error) {
            log_.error(std::string("storage failure: ") + error.what());
        }
    }
    log_logout(reason);
}

std::optional<size_t> Pop3Session::message_arg(const std::string& args, bool then_space, std::string* rest)
{
    NumberArg number = parse_message_number(args, then_space);
    if (!number.ok) {
        send_line(number.error);
        return std::nullopt;
    }
    if (number.value == 0 || number.value > messages_.size()) {
        send_line("-ERR There's no message " + std::to_string(number.value) + ".");
        return std::nullopt;
    }
    size_t index = static_cast<size_t>(number.value - 1);
    if (messages_[index].deleted) {
        send_line("-ERR Message is deleted.");
        return std::nullopt;
    }
    if (rest)
        *rest = number.rest;
    return index;
}

Task<bool> Pop3Session::command(const CommandLine& command)
{
    const std::string& name = command.name;
    const std::string& args = command.args;
    if (name == "CAPA") {
        send(std::string("+OK\r\n") + kCapabilities + ".\r\n");
    } else if (name == "NOOP") {
        send_line("+OK");
    } else if (name == "STAT") {
        send_line("+OK " + std::to_string(messages_.size() - deleted_count_) + " " +
                  std::to_string(total_size_ - deleted_size_));
    } else if (name == "LIST") {
        if (args.empty()) {
            std::string text = "+OK " + std::to_string(messages_.size() - deleted_count_) + " messages:\r\n";
            for (size_t i = 0; i < messages_.size(); i++) {
                if (!messages_[i].deleted)
                    text += std::to_string(i + 1) + " " + std::to_string(messages_[i].size) + "\r\n";
            }
            send(text + ".\r\n");
        } else {
            auto index = message_arg(args, false);
            if (!index)
                co_return false;
            send_line("+OK " + std::to_string(*index + 1) + " " + std::to_string(messages_[*index].size));
        }
    } else if (name == "UIDL") {
        co_return co_await cmd_uidl(args);
    } else if (name == "DELE") {
        auto index = message_arg(args, false);
        if (!index)
            co_return false;
        messages_[*index].deleted = true;
        deleted_count_++;
        deleted_size_ += messages_[*index].size;
        send_line("+OK Marked to be deleted.");
    } else if (name == "RETR") {
        auto index = message_arg(args, false);
        if (!index)
            co_return false;
        last_seen_ = std::max(last_seen_, *index + 1);
        counters_.retr_count++;
        co_return co_await cmd_fetch(*index, std::nullopt);
    } else if (name == "TOP") {
        std::string rest;
        auto index = message_arg(args, true, &rest);
        if (!index)
            co_return false;
        NumberArg lines = parse_size(rest, false);
        if (!lines.ok) {
            send_line(lines.error);
            co_return false;
        }
        counters_.top_count++;
        co_return co_await cmd_fetch(*index, lines.value);
    } else if (name == "RSET") {
        co_await cmd_rset();
    } else if (name == "LAST" && settings_.enable_last) {
        send_line("+OK " + std::to_string(last_seen_));
    } else if (name == "QUIT") {
        co_await cmd_quit();
    } else {
        send_line("-ERR Unknown command: " + name);
        co_return false;
    }
    co_return true;
}

Task<bool> Pop3Session::cmd_fetch(size_t index, std::optional<uint64_t> body_lines)
{
    Message& message = messages_[index];
    BodyTransform transform(body_lines, settings_.workarounds);
    uint64_t& byte_counter = body_lines ? counters_.top_bytes : counters_.retr_bytes;
    int64_t offset = 0;
    rpc::SectionChunk chunk;
    try {
        int32_t uid = static_cast<int32_t>(message.uid);
        int32_t chunk_size = static_cast<int32_t>(rpc::kChunkSize);
        chunk = co_await storage_->pop3_read(storage_session_, view_, uid, offset, chunk_size);
    } catch (const rpc::StorageError& error) {
        if (error.kind != rpc::ErrorKind::NOT_FOUND)
            throw;
        send_line("-ERR Message " + std::to_string(index + 1) + " expunged.");
        // Fetching an expunged message again counts as a bad command, so a looping
        // client is eventually disconnected.
        if (highest_expunged_fetch_ && index <= *highest_expunged_fetch_)
            co_return false;
        highest_expunged_fetch_ = index;
        co_return true;
    }
    if (!body_lines && !settings_.no_flag_updates && !message.seen)
        message.mark_seen = true;
    std::string head = body_lines ? "+OK\r\n" : "+OK " + std::to_string(message.size) + " octets\r\n";
    // Dovecot counts the reply line too, but not the final ".".
    byte_counter += head.size();
    send(head);
    std::string out;
    while (true) {
        bool more = transform.feed(chunk.data, out);
        offset += static_cast<int64_t>(chunk.data.size());
        byte_counter += out.size();
        send(out);
        out.clear();
        if (!more || chunk.data.empty() || offset >= chunk.total_size)
            break;
        if (stream_->output_pending() > kOutputHighWater)
            co_await stream_->drain();
        int32_t uid = static_cast<int32_t>(message.uid);
        int32_t chunk_size = static_cast<int32_t>(rpc::kChunkSize);
        chunk = co_await storage_->pop3_read(storage_session_, view_, uid, offset, chunk_size);
    }
    transform.finish(out);
    byte_counter += out.size();
    send(out + ".\r\n");
    co_return true;
}

Task<bool> Pop3Session::ensure_uidls()
{
    if (uidls_)
        co_return true;
    if (uidl_format_needs_md5(settings_.uidl_format)) {
        bool all_stored = true;
        for (const Message& message : messages_)
            all_stored = all_stored && !message.backend_uidl.empty();
        if (!all_stored) {
            log_.with_prefix("pop3(" + user_ + ")<" + std::to_string(getpid()) + "><" + session_id_ + ">")
                .error("UIDL: Header MD5 not found (pop3_uidl_format=%m not supported by storage?)");
            co_return false;
        }
    }
    std::vector<std::string> uidls;
    uidls.reserve(messages_.size());
    for (const Message& message : messages_) {
        UidlInputs inputs;
        inputs.uid = message.uid;
        inputs.uidvalidity = uidvalidity_;
        inputs.backend_uidl = message.backend_uidl;
        inputs.file_name = message.file_name;
        inputs.guid = message.guid;
        uidls.push_back(make_uidl(settings_.uidl_format, inputs));
    }
    if (settings_.rename_duplicate_uidls)
        rename_duplicate_uidls(uidls);
    uidls_ = std::move(uidls);
    co_return true;
}

Task<bool> Pop3Session::cmd_uidl(const std::string& args)
{
    std::optional<size_t> index;
    if (!args.empty()) {
        index = message_arg(args, false);
        if (!index)
            co_return false;
    }
    bool ready = co_await ensure_uidls();
    if (!ready) {
        if (!index)
            send_line("+OK");
        disconnect_reason_ = "POP3 UIDLs couldn't be listed";
        done_ = true;
        co_return true;
    }
    if (index) {
        send_line("+OK " + std::to_string(*index + 1) + " " + (*uidls_)[*index]);
        co_return true;
    }
    std::string text = "+OK\r\n";
    for (size_t i = 0; i < messages_.size(); i++) {
        if (!messages_[i].deleted)
            text += std::to_string(i + 1) + " " + (*uidls_)[i] + "\r\n";
    }
    send(text + ".\r\n");
    co_return true;
}

Task<void> Pop3Session::cmd_rset()
{
    last_seen_ = 0;
    for (Message& message : messages_) {
        message.deleted = false;
        message.mark_seen = false;
    }
    deleted_count_ = 0;
    deleted_size_ = 0;
    if (settings_.enable_last && !messages_.empty()) {
        // RFC 1460's LAST: RSET takes \Seen away from every message.
        std::vector<int32_t> uids;
        for (const Message& message : messages_)
            uids.push_back(static_cast<int32_t>(message.uid));
        rpc::Flags seen;
        seen.system = storage::Seen;
        co_await storage_->store_flags(storage_session_, view_, uids, rpc::StoreMode::REMOVE, seen);
        for (Message& message : messages_)
            message.seen = false;
    }
    send_line("+OK");
}

Task<bool> Pop3Session::update_mails(bool quitting)
{
    std::vector<int32_t> deleted, seen;
    for (const Message& message : messages_) {
        if (quitting && message.deleted)
            deleted.push_back(static_cast<int32_t>(message.uid));
        else if (message.mark_seen)
            seen.push_back(static_cast<int32_t>(message.uid));
    }
    if (!deleted.empty()) {
        rpc::Flags flags;
        if (settings_.delete_by_flag) {
            flags.keywords.push_back(settings_.deleted_flag);
            co_await storage_->store_flags(storage_session_, view_, deleted, rpc::StoreMode::ADD, flags);
        } else {
            flags.system = storage::Deleted;
            co_await storage_->store_flags(storage_session_, view_, deleted, rpc::StoreMode::ADD, flags);
            co_await storage_->expunge(storage_session_, view_, deleted);
        }
    }
    if (!seen.empty()) {
        rpc::Flags flags;
        flags.system = storage::Seen;
        co_await storage_->store_flags(storage_session_, view_, seen, rpc::StoreMode::ADD, flags);
    }
    for (Message& message : messages_)
        message.mark_seen = false;
    co_return true;
}

Task<void> Pop3Session::cmd_quit()
{
    quit_seen_ = true;
    done_ = true;
    try {
        co_await update_mails(true);
    } catch (const std::exception& error) {
        log_.error(std::string("storage failure at QUIT: ") + error.what());
        send_line(std::string("-ERR [SYS/TEMP] ") + kInternalError);
        disconnect_reason_ = "Storage error during logout.";
        co_return;
    }
    delete_success_ = true;
    send_line(deleted_count_ == 0 ? "+OK Logging out." : "+OK Logging out, messages deleted.");
    disconnect_reason_ = "Logged out";
}

void Pop3Session::log_logout(const std::string& reason)
{
    counters_.deleted_count = delete_success_ ? deleted_count_ : 0;
    counters_.deleted_bytes = delete_success_ ? deleted_size_ : 0;
    counters_.message_count = messages_.size();
    counters_.message_bytes = total_size_;
    log_.with_prefix("pop3(" + user_ + ")<" + std::to_string(getpid()) + "><" + session_id_ + ">")
        .info("Disconnected: " + reason + " " + logout_text(settings_.logout_format, counters_, user_));
}

Task<void> Pop3Session::close_storage()
{
    if (locked_) {
        locks_.unlock(user_);
        locked_ = false;
    }
    if (!storage_ || !storage_->connected())
        co_return;
    try {
        if (view_open_) {
            int64_t view = view_;
            co_await storage_->close_view(storage_session_, view);
        }
        co_await storage_->close_session(storage_session_);
    } catch (const std::exception&) {
    }
}

}  // namespace loft::pop3
