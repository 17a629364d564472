// Reading typed values (astring, nstring, mailbox names, numbers, flags) out of
// parsed arguments, with Dovecot's error texts on mismatch.
#pragma once

#include "imap/protocol/arg.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::imap::protocol {

// The string value of an atom, quoted string or literal (RFC 3501 astring).
// Throws CommandError("Invalid arguments") for lists, NIL-less checks are the caller's.
std::string astring(const Arg& arg);
// string: quoted or literal only.
std::string string_value(const Arg& arg);
// nstring: NIL gives nullopt.
std::optional<std::string> nstring(const Arg& arg);
std::string_view atom(const Arg& arg);

// "INBOX" is case-insensitive (RFC 3501 5.1); with a hierarchy separator, so is the
// "INBOX" prefix of its children, as Dovecot does for its inbox namespace.
std::string canonical_mailbox_name(std::string_view name, char separator = '\0');
// astring argument of a mailbox name, INBOX-normalised (still mUTF-7 encoded).
std::string mailbox_name(const Arg& arg, char separator = '\0');

// number: 0..4294967295; nz-number: 1..4294967295; mod-sequence: 1..2^63-1.
std::optional<uint32_t> parse_number(std::string_view text);
std::optional<uint32_t> parse_nz_number(std::string_view text);
std::optional<uint64_t> parse_mod_sequence(std::string_view text, bool allow_zero = false);

enum SystemFlag : uint8_t {
    kFlagAnswered = 1 << 0,
    kFlagFlagged = 1 << 1,
    kFlagDeleted = 1 << 2,
    kFlagSeen = 1 << 3,
    kFlagDraft = 1 << 4,
    kFlagRecent = 1 << 5,  // only in responses and SEARCH, never stored by clients
};

struct FlagSet {
    uint8_t system = 0;                 // SystemFlag bits
    std::vector<std::string> keywords;  // in the client's spelling, duplicates removed

    bool operator==(const FlagSet&) const = default;
};

// Keyword syntax Dovecot accepts: a non-empty atom (at most 50 bytes, its
// mail_max_keyword_length default). keyword_error() gives Dovecot's text for a
// bad one, which it sends as "NO [CANNOT] <text>" (not BAD).
std::optional<std::string> keyword_error(std::string_view keyword);
bool is_valid_keyword(std::string_view keyword);

// Flags as in STORE/APPEND: one list "(\Seen $Forwarded)", or (for STORE) a bare
// sequence of flag atoms. \Recent and unknown \Flags are rejected like Dovecot:
// "Invalid system flag \FOO"; non-atoms give "Flags list contains non-atoms".
// Keywords are not validated here (see keyword_error()).
FlagSet parse_flags(const ArgList& args);
FlagSet parse_flag_list(const Arg& list);

// "\Answered" etc. for one bit.
std::string_view system_flag_name(SystemFlag flag);

}  // namespace loft::imap::protocol
