// Lines of Dovecot's auth-master protocol (the auth-userdb and auth-master sockets that
// dovecot-lda, doveadm and Postfix's virtual delivery agents query): USER, PASS and
// LIST requests and their USER/NOTFOUND/FAIL/PASS/LIST/DONE answers. No I/O here.
#pragma once

#include "auth/auth_request.h"

#include <optional>
#include <string>
#include <string_view>

namespace loft::auth {

constexpr unsigned auth_master_major = 1;
constexpr unsigned auth_master_minor = 1;
// Dovecot reads at most 1024 bytes per line on these sockets; a little room on top.
constexpr size_t max_auth_master_line = 8192;

// Which protocol a service auth unix_listener speaks, by its name as Dovecot decides:
// "...-userdb" (USER, PASS, LIST) or "...-master" (the same; REQUEST is not served).
enum class AuthMasterSocket { Userdb, Master };
std::optional<AuthMasterSocket> auth_master_socket_kind(std::string_view path);

struct AuthMasterLine {
    enum class Kind { Version, User, Pass, List, CacheFlush, Unknown };
    Kind kind = Kind::Unknown;
    unsigned major = 0, minor = 0;  // VERSION
    unsigned id = 0;
    std::string user;               // USER, PASS (LIST: the user= mask, if any)
    FieldMap params;                // service=, lip=, rip=, secured, ...
    std::string command;            // the first word, for error messages
};

// nullopt with error for a malformed line (Dovecot disconnects on those).
std::optional<AuthMasterLine> parse_auth_master_line(std::string_view line, std::string& error);

// The request USER/PASS parameters describe (service, lip, rip, secured).
AuthRequest auth_request_from(const AuthMasterLine& line);

std::string format_master_handshake(uint64_t server_pid);
// "USER\tid\tuser\tkey=value..." (values tab-escaped).
std::string format_master_user(unsigned id, std::string_view user, const FieldMap& fields);
std::string format_master_pass(unsigned id, std::string_view user, const FieldMap& fields);
std::string format_master_notfound(unsigned id);
std::string format_master_fail(unsigned id, std::string_view reason = {});
std::string format_master_list(unsigned id, std::string_view user);
std::string format_master_done(unsigned id, bool failed);

}  // namespace loft::auth
