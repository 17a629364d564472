// One LMTP client (RFC 2033): envelope, recipient look-ups through loft-auth, and a
// DATA phase that streams the message to each recipient's storage daemon, answering
// 250 per recipient only once that copy is durably stored.
#pragma once

#include "config/config.h"
#include "lib/log.h"
#include "lib/stream.h"
#include "lib/task.h"
#include "rpc/connector.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace loft::lmtp {

struct LmtpSettings {
    std::string hostname;
    std::string recipient_delimiter;
    uint64_t max_recipients = 1000;
    std::shared_ptr<const TlsContext> tls;  // STARTTLS offered when set (ssl != no)
};

class LmtpSession {
public:
    LmtpSession(std::shared_ptr<AsyncStream> stream, rpc::Connector& connector, const Logger& log,
                const LmtpSettings& settings);
    Task<void> run();

private:
    struct Recipient {
        std::string address;  // as given in RCPT TO
        std::string user;     // as loft-auth canonicalised it
        std::string grant;
        unsigned index = 0;   // which RCPT command of the transaction it was
    };
    struct Delivery {
        Recipient* recipient;
        std::shared_ptr<rpc::AsyncStorageClient> storage;
        int64_t session = 0;
        int64_t append = 0;
        std::string error;  // non-empty: this copy failed
    };

    Task<void> handle_rcpt(const std::string& argument);
    Task<void> handle_data();
    Task<void> open_delivery(Delivery& delivery);
    Task<void> send_chunk(std::vector<Delivery>& deliveries, const std::string& chunk);
    std::string trace_headers(const Recipient& recipient, bool single) const;
    std::string delivery_id(const Recipient& recipient) const;
    void reset_transaction();
    void reply(const std::string& line);

    std::shared_ptr<AsyncStream> stream_;
    rpc::Connector& connector_;
    Logger log_;
    const LmtpSettings& settings_;
    std::string helo_;
    std::string session_id_;
    std::optional<std::string> sender_;
    std::vector<Recipient> recipients_;
    unsigned rcpt_commands_ = 0;
};

}  // namespace loft::lmtp
