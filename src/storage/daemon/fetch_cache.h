// The computed FETCH strings of a mailbox's messages (ENVELOPE, BODY, BODYSTRUCTURE),
// so repeat FETCHes do not read and parse messages again: an LRU in memory with a byte
// cap, backed by Loft's own append-only file loft.cache next to loft.index.
//
// The file is disposable: deleting it loses nothing, a foreign version, another
// UIDVALIDITY or a corrupt tail is ignored (and rewritten). Entries are keyed by
// (uidvalidity, uid): a Maildir message's bytes never change under its UID.
#pragma once

#include "lib/unique_fd.h"

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

namespace loft::storage::daemon {

inline constexpr const char* kFetchCacheFileName = "loft.cache";
inline constexpr size_t kDefaultFetchCacheBytes = 16 * 1024 * 1024;
// Larger files are not read (rebuilt instead): the file only saves parsing time.
inline constexpr uint64_t kMaxFetchCacheFile = 1ull << 30;
// One message's strings; bigger records are corrupt (and never written).
inline constexpr uint32_t kMaxFetchCacheRecord = 16 * 1024 * 1024;

struct MessageStructure {
    std::string envelope;
    std::string body;           // BODY (non-extensible)
    std::string bodystructure;

    size_t bytes() const { return envelope.size() + body.size() + bodystructure.size(); }
};

class FetchCache {
public:
    // path: the loft.cache file; "" keeps the cache in memory only.
    explicit FetchCache(std::string path, size_t byte_cap = kDefaultFetchCacheBytes);
    ~FetchCache();  // flushes; write errors are swallowed (the cache is optional)
    FetchCache(const FetchCache&) = delete;
    FetchCache& operator=(const FetchCache&) = delete;

    // nullptr when not cached. The pointer is valid until the next insert or find.
    const MessageStructure* find(uint32_t uidvalidity, uint32_t uid);
    const MessageStructure& insert(uint32_t uidvalidity, uint32_t uid, MessageStructure structure);
    // Appends the records inserted since the last flush to the file.
    void flush();
    // Forgets expunged messages; rewrites the file when most of it is dead records.
    // live: the mailbox's UIDs, ascending.
    void retain(uint32_t uidvalidity, const std::vector<uint32_t>& live);
    // Whether retain() ran for this UIDVALIDITY (the file is read on first use, not on
    // open: deliveries and STATUS open mailboxes too).
    bool retained(uint32_t uidvalidity) const { return opened_ && retained_ && uidvalidity == uidvalidity_; }

    size_t memory_bytes() const { return memory_bytes_; }
    size_t memory_entries() const { return lru_.size(); }
    size_t file_entries() const { return on_disk_.size(); }
    uint64_t hits() const { return hits_; }
    uint64_t misses() const { return misses_; }

private:
    struct Entry {
        uint32_t uid;
        MessageStructure structure;
    };
    struct Stored {
        uint64_t offset;  // of the payload
        uint32_t length;
        uint32_t checksum;
    };

    // Reads the file for this uidvalidity (first use); starts it over if it does not fit.
    void open_for(uint32_t uidvalidity);
    void load();
    bool start_file();
    void rewrite();
    const MessageStructure& remember(uint32_t uid, MessageStructure structure);
    void touch(std::list<Entry>::iterator entry);
    void evict();

    std::string path_;
    size_t byte_cap_;
    uint32_t uidvalidity_ = 0;
    bool opened_ = false;
    bool retained_ = false;
    UniqueFd fd_;               // read-write, when the file is usable
    uint64_t file_size_ = 0;
    std::list<Entry> lru_;      // front = most recently used
    std::unordered_map<uint32_t, std::list<Entry>::iterator> by_uid_;
    std::unordered_map<uint32_t, Stored> on_disk_;
    std::string pending_;       // records not yet appended
    size_t memory_bytes_ = 0;
    uint64_t hits_ = 0;
    uint64_t misses_ = 0;
};

// Serialized forms, exposed for tests.
std::string encode_structure(const MessageStructure& structure);
// Throws std::runtime_error on malformed data.
MessageStructure decode_structure(std::string_view data);

}  // namespace loft::storage::daemon
