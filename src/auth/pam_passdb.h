// passdb "pam": the password is checked by the system's PAM stack (plaintext only).
#pragma once

#include "auth/passdb.h"

namespace loft::auth {

// Args as in Dovecot: "[session=yes] [setcred=yes] [failure_show_msg=yes]
// [max_requests=N] [cache_key=KEY] [SERVICE]"; SERVICE "*" means the request's service
// (imap, pop3, ...), the default is "dovecot" so existing /etc/pam.d files apply.
struct PamArgs {
    std::string service = "dovecot";
    bool session = false;
    bool setcred = false;
    bool failure_show_msg = false;
    unsigned max_requests = 100;  // worker restarts after this many (PAM modules leak)
    std::string cache_key;
};
PamArgs parse_pam_args(std::string_view args);

class PamPassdb final : public Passdb {
public:
    explicit PamPassdb(std::string_view args);
    std::string_view driver() const override { return "pam"; }
    const PamArgs& args() const { return args_; }

    PassdbReply verify_plain(const AuthRequest& request, std::string_view password) override;
    // PAM cannot hand out credentials; with an empty scheme it cannot even say whether a
    // user exists, so both answer SchemeNotAvailable.
    PassdbReply lookup_credentials(const AuthRequest& request, std::string_view scheme) override;

protected:
    std::optional<PassdbEntry> lookup(const AuthRequest&) override { return std::nullopt; }

private:
    PamArgs args_;
};

}  // namespace loft::auth
