// loft.index: Loft's own per-folder cache (message file names, sizes, dates, modseqs,
// expunged UIDs for VANISHED, and the directory stat data it was taken at). It is
// disposable: a missing or damaged file only costs a rescan, never mail or UIDs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loft::storage::maildir {

inline constexpr const char* index_file_name = "loft.index";
// Expunge records kept for QRESYNC; older ones are summarised by expunge_floor.
inline constexpr size_t max_expunge_records = 200'000;
// Keywords a folder may have beyond the 26 file-name letters (index-only, as in Dovecot).
inline constexpr size_t max_extra_keywords = 1000;

struct IndexStamp {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_sec = 0, mtime_nsec = 0, ctime_sec = 0, ctime_nsec = 0;
    bool operator==(const IndexStamp&) const = default;
};

struct IndexedMessage {
    uint32_t uid = 0;
    int64_t mtime = 0;
    uint64_t size = 0;
    uint64_t vsize = 0;
    uint64_t modseq = 0;
    std::string filename;  // "cur/<name>" or "new/<name>"
};

struct IndexData {
    IndexStamp cur, new_dir, uidlist, keywords;
    uint32_t uidvalidity = 0;
    uint32_t next_uid = 1;
    uint64_t highest_modseq = 0;
    uint64_t expunge_floor = 0;  // expunges at or below this modseq were forgotten
    std::string guid;            // mailbox GUID from dovecot-uidlist (32 hex digits)
    // UIDs from here on are \Recent to the next read-write SELECT (Dovecot's
    // first_recent_uid); 0 when the file did not record it.
    uint32_t first_recent_uid = 0;
    // Keywords beyond dovecot-keywords' 26 letters live only here, as in Dovecot's
    // index: their names in creation order, and which messages carry them.
    std::vector<std::string> extra_keyword_names;
    std::vector<std::pair<uint32_t, std::vector<std::string>>> extra_keywords;  // ascending uid
    std::vector<IndexedMessage> messages;                 // ascending uid
    std::vector<std::pair<uint64_t, uint32_t>> expunged;  // (modseq, uid), ascending modseq
};

std::string format_index(const IndexData& data);
// nullopt for anything unexpected (old version, torn write, garbage).
std::optional<IndexData> parse_index(std::string_view text);

// Best effort: write to a temporary name and rename; no fsync since the file is a cache.
bool save_index_file(const std::string& path, const IndexData& data);
std::optional<IndexData> load_index_file(const std::string& path);

struct IndexRecentMark {
    uint32_t uidvalidity = 0;
    uint32_t first_recent_uid = 0;
};
// Reads only the head of loft.index: what another process claimed as seen by a
// read-write SELECT, without loading the whole file.
std::optional<IndexRecentMark> load_index_recent_mark(const std::string& path);

}  // namespace loft::storage::maildir
