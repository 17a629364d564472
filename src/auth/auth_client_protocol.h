// Lines of Dovecot's auth-client protocol (version 1.2), which Postfix's
// smtpd_sasl_type = dovecot and the login processes speak to the auth service:
// parsing what clients send and formatting the server's answers. No I/O here.
#pragma once

#include "auth/auth_request.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::auth {

constexpr unsigned auth_protocol_major = 1;
constexpr unsigned auth_protocol_minor = 2;
// Longest line accepted from a client (a base64 SASL message plus parameters).
constexpr size_t max_auth_client_line = 16384;

// Dovecot's tab escaping: \001 -> \0011, \t -> \001t, \r -> \001r, \n -> \001n.
std::string tab_escape(std::string_view text);
std::optional<std::string> tab_unescape(std::string_view text);

struct AuthClientLine {
    enum class Kind { Version, Cpid, Auth, Cont };
    Kind kind = Kind::Version;
    unsigned major = 0, minor = 0;  // VERSION
    uint64_t pid = 0;               // CPID
    unsigned id = 0;                // AUTH, CONT: the client's request id
    std::string mechanism;          // AUTH
    // AUTH parameters: service, lip, rip, lport, rport, secured, nologin, no-penalty,
    // valid-client-cert, cert_username, session, local_name, ... ("flag" -> "").
    FieldMap params;
    std::optional<std::string> response;  // AUTH resp= (base64) or CONT data (base64)
};

// nullopt with error for malformed lines, unknown commands and oversized input.
std::optional<AuthClientLine> parse_auth_client_line(std::string_view line, std::string& error);

struct MechanismInfo {
    std::string name;
    std::vector<std::string> flags;  // "plaintext", "anonymous", "dictionary", "mutual-auth", ...
};
// The server's greeting: VERSION, MECH lines, SPID, CUID, COOKIE, DONE (each ends in \n).
std::string format_auth_handshake(const std::vector<MechanismInfo>& mechanisms, uint64_t server_pid,
                                  unsigned connection_id, std::string_view cookie_hex);
// MECH flags Dovecot announces for the mechanisms of this library.
MechanismInfo mechanism_info(std::string_view name);

std::string format_auth_cont(unsigned id, std::string_view data_base64);
std::string format_auth_ok(unsigned id, std::string_view user, const FieldMap& extra = {});
// temp: an internal failure (the client may retry later) rather than a wrong password.
std::string format_auth_fail(unsigned id, std::string_view user, std::string_view reason, bool temp);

// The request an AUTH line describes, for the passdbs.
AuthRequest auth_request_from(const AuthClientLine& line);

}  // namespace loft::auth
