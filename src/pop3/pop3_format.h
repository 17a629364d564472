// The parts of POP3 (RFC 1939, 2449) that need no connection: command lines, message
// numbers, the RETR/TOP body transform, UIDLs and the logout line, as Dovecot 2.3 does them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::pop3 {

struct CommandLine {
    std::string name;  // upper-cased
    std::string args;
};

// After login (Dovecot's pop3): the name ends at the first space, the arguments start
// after any spaces that follow.
CommandLine parse_command(std::string_view line);
// Before login (pop3-login): the name ends at a space, NUL or its 8th byte; one space
// is skipped; CRs in the name are dropped.
CommandLine parse_login_command(std::string_view line);

// A message number argument ("n" or "n rest"), checked as Dovecot's get_msgnum. On
// failure `error` is the whole -ERR line to send (without CRLF).
struct NumberArg {
    bool ok = false;
    uint64_t value = 0;        // the number as given (1-based for message numbers)
    std::string rest;          // what follows, leading spaces skipped
    std::string error;
};
// then_space: another argument must follow (TOP n lines).
NumberArg parse_message_number(std::string_view args, bool then_space);
NumberArg parse_size(std::string_view args, bool then_space);

// pop3_client_workarounds.
struct Workarounds {
    bool outlook_no_nuls = false;  // NUL bytes go out as 0x80
    bool oe_ns_eoh = false;        // a message without a header/body separator gets one
};
// Throws std::runtime_error on an unknown name (Dovecot refuses to start).
Workarounds parse_workarounds(std::string_view setting);

// Turns a message into RETR/TOP output: CR before a lone LF, a dot before a leading
// dot, and for TOP only the header plus `body_lines` lines of the body. Fed in pieces;
// finish() gives the closing CRLF when the data did not end with one (and the
// oe-ns-eoh separator), but not the terminating ".".
class BodyTransform {
public:
    // body_lines: nullopt for RETR.
    BodyTransform(std::optional<uint64_t> body_lines, Workarounds workarounds);
    // Appends the transformed form of data to out; returns false once TOP has all the
    // lines it wants (the rest of the message is not needed).
    bool feed(std::string_view data, std::string& out);
    void finish(std::string& out);

private:
    bool wants_more() const { return !in_body_ || !remaining_ || *remaining_ > 0; }

    std::optional<uint64_t> remaining_;  // body lines still wanted, counting the separator
    Workarounds workarounds_;
    char last_ = '\0';
    bool in_body_ = false;
};

// pop3_uidl_format expanded for one message (%u uid, %v uidvalidity, %f file name,
// %g GUID, %m header MD5), or the stored backend UIDL when there is one.
struct UidlInputs {
    uint32_t uid = 0;
    uint32_t uidvalidity = 0;
    std::string backend_uidl;
    std::string file_name;
    std::string guid;
    std::string header_md5;
};
std::string make_uidl(const std::string& format, const UidlInputs& inputs);
// Whether the format uses a variable Loft cannot give (%m); such a UIDL is refused.
bool uidl_format_needs_md5(const std::string& format);

// pop3_uidl_duplicates = rename: the second "x" becomes "x-2", and so on.
void rename_duplicate_uidls(std::vector<std::string>& uidls);

// The counters pop3_logout_format reports.
struct SessionCounters {
    uint64_t top_count = 0, top_bytes = 0;
    uint64_t retr_count = 0, retr_bytes = 0;
    uint64_t deleted_count = 0, deleted_bytes = 0;  // only after a successful QUIT
    uint64_t message_count = 0, message_bytes = 0;
    uint64_t input_bytes = 0, output_bytes = 0;
};
std::string logout_text(const std::string& format, const SessionCounters& counters, const std::string& user);

}  // namespace loft::pop3
