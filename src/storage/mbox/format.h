// The mbox file format as Dovecot 2.3 reads and writes it: "From " separators,
// Content-Length, and the X-IMAPbase/X-IMAP/X-UID/Status/X-Status/X-Keywords headers
// that carry UIDs and flags and are hidden from IMAP clients.
#pragma once

#include "storage/mail_types.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::storage::mbox {

// Spaces left at the end of X-Keywords (X-IMAP in the pseudo message) so later flag and
// keyword changes fit in place; Dovecot 2.3 reserves the same amount (MBOX_HEADER_PADDING).
constexpr size_t kHeaderPadding = 50;

struct FormatLimits {
    size_t max_messages = 10'000'000;
    size_t max_keywords = 1024;
    size_t max_header_line = 1024 * 1024;
};

// Where a message sits in the file and what its hidden headers there say, so a change
// rewrites only the header blocks that differ. Offsets are absolute file offsets.
struct OnDisk {
    bool known = false;        // false: the message is not in the file (yet)
    uint64_t offset = 0;       // its From line
    uint64_t body_offset = 0;  // just after the blank line that ends the header
    uint64_t body_end = 0;     // end of the body, before the separating blank line
    uint64_t end = 0;          // the next message's From line, or the end of the file
    uint32_t uid = 0;          // X-UID as stored, 0 if none
    Flags flags;               // as stored
    bool seen_by_session = false;  // 'O' stored in Status
    bool carries_base = false;     // holds the X-IMAPbase header
};

// One message of an mbox file. header holds the headers clients see (hidden ones
// removed), LF line ends, without the blank line that ends the header.
struct MboxMessage {
    std::string from_line;  // "From sender  Thu Feb 01 09:00:00 2024", no newline
    std::string header;
    std::string body;
    uint32_t uid = 0;       // X-UID, 0 if absent or unusable
    Flags flags;            // from Status, X-Status, X-Keywords (never \Recent)
    bool seen_by_session = false;  // 'O' in Status: not \Recent any more
    int64_t internal_date = 0;     // the From line date, read as UTC
    OnDisk disk;

    // The message as IMAP shows it: visible header, blank line, body.
    std::string imap_text() const { return header + "\n" + body; }
};

struct MboxFile {
    uint32_t uidvalidity = 0;  // 0: no X-IMAPbase/X-IMAP found
    uint32_t next_uid = 0;     // the file stores the last UID given out (next_uid - 1)
    std::vector<std::string> keywords;  // from X-IMAPbase/X-IMAP, in order
    bool has_pseudo = false;            // the first message is Dovecot's X-IMAP pseudo message
    MboxMessage pseudo;                 // that pseudo message, if has_pseudo
    std::string stored_base;            // base_value() of the X-IMAPbase/X-IMAP as parsed; empty: none
    std::vector<MboxMessage> messages;  // real messages only
};

// The X-IMAPbase/X-IMAP value for the file's state: "UIDVALIDITY LAST-UID(10 digits) KEYWORDS".
std::string base_value(const MboxFile& file);

// Throws StorageError(Corrupted) if data is not an mbox, Limit if it has too much.
MboxFile parse_mbox(std::string_view data, const FormatLimits& limits = {});

// The whole file: the pseudo message if has_pseudo (X-IMAP) or else X-IMAPbase on the
// first message, then every message with its X-UID/Status/X-Keywords/Content-Length/X-Status.
// A message is "not recent" (Status O) unless its uid is in `recent`.
std::string format_mbox(const MboxFile& file, const std::vector<uint32_t>& recent, std::string_view hostname);

// One message as format_mbox writes it (From line to the blank line after the body),
// appended to out; imapbase (the X-IMAPbase value) only for the first message of a file.
// The X-Keywords header gets kHeaderPadding spaces.
void append_message(std::string& out, const MboxMessage& message, bool recent, std::string_view imapbase = {});

// The header block of a message: From line, visible header, X-IMAPbase (if imapbase is
// not empty), X-UID, Status, X-Keywords with `padding` trailing spaces, Content-Length,
// X-Status, and the blank line.
std::string header_block(const MboxMessage& message, bool recent, std::string_view imapbase, size_t padding);

// A new pseudo message (Dovecot's "DON'T DELETE THIS MESSAGE"), without X-IMAP.
MboxMessage new_pseudo_message(std::string_view hostname, int64_t now);

// The pseudo message's header block (From line to blank line) with X-IMAP padded.
std::string pseudo_header_block(const MboxMessage& pseudo, std::string_view base, size_t padding);

// "Thu Feb 01 09:00:00 2024" in UTC, as in From lines; and back (nullopt if malformed).
std::string ctime_utc(int64_t when);
std::optional<int64_t> parse_from_line_date(std::string_view from_line);

// Dovecot's visible size (CRLF line ends) of LF text.
uint64_t crlf_size(std::string_view text);

// Converts CRLF to LF and makes sure the text ends with a newline, as Dovecot stores it.
std::string normalize_newlines(std::string_view text);

// Splits a whole message (as appended) into visible header and body, dropping any of the
// hidden headers a client tried to smuggle in.
void split_message(std::string_view text, std::string& header, std::string& body);

}  // namespace loft::storage::mbox
