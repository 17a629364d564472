// dovecot-uidlist: the file that makes Maildir UIDs and UIDVALIDITY persistent. Parses
// versions 1 and 3 and formats version 3 exactly as Dovecot 2.3 writes it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loft::storage::maildir {

inline constexpr const char* uidlist_name = "dovecot-uidlist";
// Dovecot compacts when fewer than this percentage of the records still have a file.
inline constexpr unsigned uidlist_compress_percentage = 75;

struct UidlistHeader {
    unsigned version = 3;
    uint32_t uidvalidity = 0;
    uint32_t next_uid = 1;     // N=, often stale: see Uidlist::next_uid()
    std::string guid;          // 32 hex digits, empty if the file had none
    std::string extensions;    // other header fields, kept verbatim ("P..." etc.)
};

struct UidlistRecord {
    uint32_t uid = 0;
    std::string extensions;    // "S=1 W=2" style fields, kept verbatim (may be empty)
    std::string base_name;     // file name without ":2,..."
};

struct Uidlist {
    UidlistHeader header;
    std::vector<UidlistRecord> records;  // ascending uid

    // Dovecot appends records without rewriting N, so the real next UID is the larger of
    // N and the last record + 1.
    uint32_t next_uid() const;
};

// Throws StorageError(Corrupted) naming path on anything Dovecot would also reject.
// A final line without '\n' (a writer mid-append) is ignored.
Uidlist parse_uidlist(std::string_view content, const std::string& path);

std::string format_uidlist_header(const UidlistHeader& header);
std::string format_uidlist_record(const UidlistRecord& record);
std::string format_uidlist(const Uidlist& uidlist);

// 32 lowercase hex digits from the system random source (a new mailbox GUID).
std::string generate_mailbox_guid();

}  // namespace loft::storage::maildir
