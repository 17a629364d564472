// passdb and userdb "checkpassword": an external program checks the password, in the
// qmail checkpassword convention as Dovecot runs it (user\0password\0 on fd 3, fields
// back on fd 4 through the reply helper, exit code = verdict).
#pragma once

#include "auth/passdb.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace loft::auth {

struct CheckpasswordOutcome {
    enum class Status { Ok, Failure, InternalFailure } status = Status::InternalFailure;
    std::vector<std::string> fields;  // "key=value" as the reply helper wrote them
    std::string error;                // Dovecot's wording for the log
};

// Runs "args reply_helper" (args split on spaces after % expansion) once per request.
// The program's environment: AUTHORIZED=1 for look-ups without a password (and
// CREDENTIALS_LOOKUP=1, SCHEME=...), PROTO=TCP, ORIG_UID, SERVICE, TCPLOCALIP/LOCAL_IP,
// TCPREMOTEIP/REMOTE_IP, AUTH_USER and the other AUTH_* variables. Blocks the caller for
// the program's run time, at most timeout (then the program is killed: internal failure).
class CheckpasswordProgram {
public:
    CheckpasswordProgram(std::string args, std::string reply_helper,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

    // password given: authenticate (exit 0 = ok, 1 and vpopmail's codes = wrong password).
    // nullopt: look-up (exit 2 = found, 3 = unknown user). scheme: for credentials look-ups.
    CheckpasswordOutcome run(const AuthRequest& request, const std::optional<std::string_view>& password,
                             std::string_view scheme = {}) const;

private:
    std::string args_;
    std::string reply_helper_;
    std::chrono::milliseconds timeout_;
};

// Where Loft's checkpassword-reply equivalent is installed (beside the running program in
// a build tree).
std::string default_checkpassword_reply_path();

class CheckpasswordPassdb final : public Passdb {
public:
    explicit CheckpasswordPassdb(std::string_view args, std::string reply_helper = default_checkpassword_reply_path());
    std::string_view driver() const override { return "checkpassword"; }
    PassdbReply verify_plain(const AuthRequest& request, std::string_view password) override;
    PassdbReply lookup_credentials(const AuthRequest& request, std::string_view scheme) override;

protected:
    std::optional<PassdbEntry> lookup(const AuthRequest& request) override;

private:
    CheckpasswordProgram program_;
    std::string pending_scheme_;  // the scheme of the credentials look-up in progress
};

// Only the reply's userdb_ fields count, with the prefix removed.
class CheckpasswordUserdb final : public Userdb {
public:
    explicit CheckpasswordUserdb(std::string_view args, std::string reply_helper = default_checkpassword_reply_path());
    std::string_view driver() const override { return "checkpassword"; }
    UserdbReply lookup(const AuthRequest& request) override;

private:
    CheckpasswordProgram program_;
};

// "a\tb" fields with Dovecot's tab escaping (see tab_escape in auth_client_protocol.h).
std::vector<std::string> split_tab_escaped(std::string_view text);

}  // namespace loft::auth
