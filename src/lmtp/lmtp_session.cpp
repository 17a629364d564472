#include "lmtp/lmtp_session.h"

#include "lib/strings.h"
#include "lmtp/dot_decoder.h"
#include "rpc/framing.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <ctime>

namespace loft::lmtp {

namespace {

constexpr size_t kMaxCommandLine = 4096;
constexpr size_t kMaxMessageIdScan = 64 * 1024;

std::string new_session_id()
{
    unsigned char bytes[16];
    RAND_bytes(bytes, sizeof(bytes));
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (size_t i = 0; i < 15; i += 3) {
        uint32_t word = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
        for (int shift = 18; shift >= 0; shift -= 6)
            out += kAlphabet[(word >> shift) & 63];
    }
    out += kAlphabet[bytes[15] >> 2];
    out += kAlphabet[(bytes[15] & 3) << 4];
    return out;  // 22 characters, like Dovecot's GUID-based ids
}

std::string rfc822_date(time_t when)
{
    struct tm local;
    localtime_r(&when, &local);
    char buffer[64];
    strftime(buffer, sizeof(buffer), "%a, %d %b %Y %H:%M:%S %z", &local);
    return buffer;
}

// The path inside "FROM:<path> params" / "TO:<path> params"; nullopt if malformed.
std::optional<std::string> parse_path(std::string_view argument, std::string_view keyword, std::string& error)
{
    if (!starts_with_nocase(argument, keyword)) {
        error = "Invalid parameters";
        return std::nullopt;
    }
    argument.remove_prefix(keyword.size());
    while (!argument.empty() && argument.front() == ' ')
        argument.remove_prefix(1);
    if (argument.empty() || argument.front() != '<') {
        error = "Missing '<' at beginning of path";
        return std::nullopt;
    }
    auto close = argument.find('>');
    if (close == std::string_view::npos) {
        error = "Missing '>' at end of path";
        return std::nullopt;
    }
    return std::string(argument.substr(1, close - 1));
}

std::string find_message_id(std::string_view head)
{
    size_t pos = 0;
    while (pos < head.size()) {
        size_t end = head.find('\n', pos);
        std::string_view line = head.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        if (trim(line).empty())
            break;
        if (starts_with_nocase(line, "message-id:"))
            return std::string(trim(line.substr(11)));
        if (end == std::string_view::npos)
            break;
        pos = end + 1;
    }
    return "";
}

}  // namespace

LmtpSession::LmtpSession(std::shared_ptr<AsyncStream> stream, rpc::Connector& connector, const Logger& log,
                         const LmtpSettings& settings)
    : stream_(std::move(stream)), connector_(connector), log_(log), settings_(settings), session_id_(new_session_id())
{
}

void LmtpSession::reply(const std::string& line) { stream_->write(line + "\r\n"); }

void LmtpSession::reset_transaction()
{
    sender_.reset();
    recipients_.clear();
    rcpt_commands_ = 0;
}

Task<void> LmtpSession::run()
{
    const std::string& rip = stream_->addresses().remote_ip;
    log_.info("Connect from " + (rip.empty() ? std::string("local") : rip));
    reply("220 " + settings_.hostname + " Loft ready.");
    while (true) {
        auto line = co_await stream_->read_line(kMaxCommandLine);
        if (line.status == AsyncStream::LineStatus::Closed)
            break;
        if (line.status == AsyncStream::LineStatus::TooLong) {
            reply("500 5.5.2 Line too long");
            continue;
        }
        std::string text = line.text;
        auto space = text.find(' ');
        std::string verb = to_upper(text.substr(0, space));
        std::string argument = space == std::string::npos ? "" : std::string(trim(text.substr(space + 1)));
        if (verb == "LHLO") {
            if (argument.empty()) {
                reply("501 5.5.4 Missing hostname");
                continue;
            }
            helo_ = argument;
            reset_transaction();
            bool offer_tls = settings_.tls && !stream_->tls_active();
            stream_->write("250-" + settings_.hostname + "\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n" +
                           (offer_tls ? "250-PIPELINING\r\n250 STARTTLS\r\n" : "250 PIPELINING\r\n"));
        } else if (verb == "STARTTLS" && settings_.tls) {
            if (stream_->tls_active()) {
                reply("503 5.5.1 TLS is already active.");
                continue;
            }
            if (!argument.empty()) {
                reply("501 5.5.4 Invalid parameters");
                continue;
            }
            reply("220 2.0.0 Ready to start TLS");
            // RFC 3207: the client starts over, and nothing it pipelined in plaintext counts.
            helo_.clear();
            reset_transaction();
            stream_->start_tls(*settings_.tls);
        } else if (verb == "MAIL") {
            if (sender_) {
                reply("503 5.5.1 MAIL already given");
                continue;
            }
            std::string error;
            auto path = parse_path(argument, "FROM:", error);
            if (!path) {
                reply("501 5.5.4 Invalid FROM: " + error);
                continue;
            }
            sender_ = *path;
            reply("250 2.1.0 OK");
        } else if (verb == "RCPT") {
            co_await handle_rcpt(argument);
        } else if (verb == "DATA") {
            co_await handle_data();
        } else if (verb == "RSET") {
            reset_transaction();
            reply("250 2.0.0 OK");
        } else if (verb == "NOOP") {
            reply("250 2.0.0 OK");
        } else if (verb == "VRFY") {
            reply("252 2.3.3 Try RCPT instead");
        } else if (verb == "QUIT") {
            reply("221 2.0.0 Bye");
            co_await stream_->drain();
            break;
        } else {
            reply("500 5.5.1 Unknown command");
        }
    }
    log_.info("Disconnect from " + (rip.empty() ? std::string("local") : rip) + ": Connection closed");
    stream_->close();
}

Task<void> LmtpSession::handle_rcpt(const std::string& argument)
{
    if (!sender_) {
        reply("503 5.5.0 MAIL needed first");
        co_return;
    }
    std::string error;
    auto path = parse_path(argument, "TO:", error);
    if (!path || path->empty()) {
        reply("501 5.5.4 Invalid TO: " + (path ? std::string("Missing address") : error));
        co_return;
    }
    rcpt_commands_++;
    if (recipients_.size() >= settings_.max_recipients) {
        reply("452 4.5.3 Too many recipients");
        co_return;
    }
    std::string lookup_name = *path;
    if (!settings_.recipient_delimiter.empty()) {
        auto at = lookup_name.find('@');
        std::string local = lookup_name.substr(0, at);
        auto detail = local.find_first_of(settings_.recipient_delimiter);
        if (detail != std::string::npos)
            lookup_name = local.substr(0, detail) + (at == std::string::npos ? "" : lookup_name.substr(at));
    }
    rpc::LookupReply found;
    try {
        auto auth = co_await connector_.auth();
        rpc::ClientInfo client;
        client.protocol = "lmtp";
        client.remote_ip = stream_->addresses().remote_ip;
        client.local_ip = stream_->addresses().local_ip;
        client.session_id = session_id_;
        found = co_await auth->lookup(lookup_name, client);
    } catch (const std::exception& failure) {
        log_.error("user lookup for " + lookup_name + " failed: " + failure.what());
        found.status = rpc::AuthStatus::TEMPFAIL;
    }
    if (found.status == rpc::AuthStatus::FAILED) {
        reply("550 5.1.1 <" + *path + "> User doesn't exist: " + lookup_name);
        co_return;
    }
    if (found.status != rpc::AuthStatus::OK) {
        reply("451 4.3.0 <" + *path + "> Temporary user lookup failure");
        co_return;
    }
    recipients_.push_back(Recipient{*path, found.user, found.grant, rcpt_commands_});
    reply("250 2.1.5 OK");
}

std::string LmtpSession::delivery_id(const Recipient& recipient) const
{
    if (&recipient == &recipients_.front())
        return session_id_;
    return session_id_ + ":R" + std::to_string(recipient.index);
}

std::string LmtpSession::trace_headers(const Recipient& recipient, bool single) const
{
    std::string headers = "Return-Path: <" + *sender_ + ">\r\n";
    if (single)
        headers += "Delivered-To: " + recipient.address + "\r\n";
    const std::string& rip = stream_->addresses().remote_ip;
    headers += "Received: from " + helo_ + " ([" + (rip.empty() ? std::string("local") : rip) + "])\r\n\tby " +
               settings_.hostname + " with LMTP\r\n\tid " + session_id_ + "\r\n\t(envelope-from <" + *sender_ + ">)";
    if (single)
        headers += "\r\n\tfor <" + recipient.address + ">";
    headers += "; " + rfc822_date(time(nullptr)) + "\r\n";
    return headers;
}

Task<void> LmtpSession::open_delivery(Delivery& delivery)
{
    try {
        delivery.storage = co_await connector_.storage(delivery.recipient->grant);
        delivery.session = co_await delivery.storage->open_session(delivery.recipient->grant);
        delivery.append = co_await delivery.storage->begin_append(delivery.session, "INBOX", rpc::Flags(), 0);
        co_await delivery.storage->append_chunk(delivery.session, delivery.append,
                                                trace_headers(*delivery.recipient, recipients_.size() == 1));
    } catch (const rpc::StorageError& failure) {
        delivery.error = failure.message;
    } catch (const std::exception& failure) {
        delivery.error = failure.what();
    }
}

Task<void> LmtpSession::send_chunk(std::vector<Delivery>& deliveries, const std::string& chunk)
{
    for (Delivery& delivery : deliveries) {
        if (!delivery.error.empty())
            continue;
        try {
            co_await delivery.storage->append_chunk(delivery.session, delivery.append, chunk);
        } catch (const rpc::StorageError& failure) {
            delivery.error = failure.message;
        } catch (const std::exception& failure) {
            delivery.error = failure.what();
        }
    }
}

Task<void> LmtpSession::handle_data()
{
    if (!sender_) {
        reply("503 5.5.0 MAIL needed first");
        co_return;
    }
    if (recipients_.empty()) {
        reply("554 5.5.0 No valid recipients");
        co_return;
    }
    reply("354 OK");
    std::vector<Delivery> deliveries;
    for (Recipient& recipient : recipients_)
        deliveries.push_back(Delivery{&recipient, nullptr, 0, 0, ""});
    for (Delivery& delivery : deliveries)
        co_await open_delivery(delivery);

    DotDecoder decoder;
    std::string pending;
    std::string head;  // the start of the message, to log its Message-ID
    bool closed = false;
    while (!decoder.finished()) {
        std::string input = co_await stream_->read_some(rpc::kChunkSize);
        if (input.empty()) {
            closed = true;
            break;
        }
        size_t used = decoder.feed(input, pending);
        if (used < input.size())
            stream_->unread(std::string_view(input).substr(used));  // pipelined commands
        if (head.size() < kMaxMessageIdScan)
            head += pending.substr(0, kMaxMessageIdScan - head.size());
        if (pending.size() >= rpc::kChunkSize) {
            co_await send_chunk(deliveries, pending);
            pending.clear();
        }
    }
    if (closed) {
        // The client went away mid-message: nothing was acknowledged, nothing is kept.
        for (Delivery& delivery : deliveries) {
            if (delivery.error.empty() && delivery.storage) {
                try {
                    co_await delivery.storage->abort_append(delivery.session, delivery.append);
                } catch (const std::exception&) {
                    // The storage daemon drops the unfinished file with the connection.
                }
            }
        }
        reset_transaction();
        co_return;
    }
    if (!pending.empty())
        co_await send_chunk(deliveries, pending);

    std::string message_id = find_message_id(head);
    for (Delivery& delivery : deliveries) {
        const Recipient& recipient = *delivery.recipient;
        Logger user_log = log_.with_prefix("lmtp(" + recipient.user + ")<" + std::to_string(getpid()) + "><" +
                                           session_id_ + ">");
        if (delivery.error.empty()) {
            try {
                co_await delivery.storage->commit_append(delivery.session, delivery.append);
            } catch (const rpc::StorageError& failure) {
                delivery.error = failure.message;
            } catch (const std::exception& failure) {
                delivery.error = failure.what();
            }
        }
        if (delivery.error.empty()) {
            user_log.info("msgid=" + (message_id.empty() ? std::string("<>") : message_id) + ": saved mail to INBOX");
            reply("250 2.0.0 <" + recipient.address + "> " + delivery_id(recipient) + " Saved");
        } else {
            user_log.error("msgid=" + (message_id.empty() ? std::string("<>") : message_id) +
                           ": save failed to INBOX: " + delivery.error);
            reply("451 4.3.0 <" + recipient.address + "> Temporary internal error");
        }
        if (delivery.storage && delivery.storage->connected()) {
            try {
                co_await delivery.storage->close_session(delivery.session);
            } catch (const std::exception&) {
            }
        }
    }
    reset_transaction();
}

}  // namespace loft::lmtp
