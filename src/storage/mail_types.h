// Plain data the storage layer hands to protocol workers: flags, per-message facts,
// mailbox status and LIST entries. Independent of the on-disk format.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace loft::storage {

enum SystemFlag : uint32_t {
    Answered = 1,
    Flagged = 2,
    Deleted = 4,
    Seen = 8,
    Draft = 16,
    Recent = 32,  // session state, never stored in a file name
};

struct Flags {
    uint32_t system = 0;
    std::vector<std::string> keywords;  // by name, as the client spelled them

    bool operator==(const Flags&) const = default;
};

struct MessageInfo {
    uint32_t uid = 0;
    Flags flags;
    uint64_t virtual_size = 0;   // W=: size with CRLF line ends, IMAP RFC822.SIZE
    uint64_t physical_size = 0;  // S=: size on disk (LF line ends)
    int64_t internal_date = 0;   // file mtime, unix seconds
    std::string path_hint;       // file name last seen (relative to the mailbox dir)
    uint64_t modseq = 0;         // CONDSTORE: raised on every flag change Loft sees
};

// What POP3's UIDL can be built from (pop3_uidl_format's %f and %g, and a UIDL kept
// from a migration, which takes precedence over the format as in Dovecot).
struct Pop3Identity {
    std::string backend_uidl;  // the stored POP3 UIDL ("" when there is none)
    std::string file_name;     // Maildir base file name, "" for backends without one
    std::string guid;          // message GUID, "" when the backend has none
};

struct MailboxStatus {
    uint32_t uidvalidity = 0;
    uint32_t uidnext = 0;
    uint32_t messages = 0;
    uint32_t recent = 0;
    uint32_t unseen = 0;
    uint64_t size = 0;  // STATUS SIZE: sum of RFC822.SIZE (W=)
    uint64_t highest_modseq = 0;
};

enum MailboxAttribute : uint32_t {
    NoSelect = 1,
    HasChildren = 2,
    HasNoChildren = 4,
    NonExistent = 8,
};

struct MailboxListEntry {
    std::string name;         // UTF-8, with the namespace's hierarchy separator
    uint32_t attributes = 0;  // MailboxAttribute bits
    std::string special_use;  // e.g. "\\Sent \\Archive" from `mailbox X { special_use }`, or empty
};

}  // namespace loft::storage
