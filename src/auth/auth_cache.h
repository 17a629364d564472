// The auth cache (auth_cache_size, auth_cache_ttl, auth_cache_negative_ttl): passdb and
// userdb answers kept by key for a while, bounded in bytes, least recently used first out.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace loft::auth {

struct CacheHit {
    bool negative;      // the user was looked up and did not exist
    std::string value;  // what the caller stored (empty for negative entries)
};

// Not thread-safe; the caller passes the time so tests control the clock.
class AuthCache {
public:
    // max_bytes 0 disables the cache, like auth_cache_size = 0. A negative_ttl of 0 means
    // negative answers are not cached.
    AuthCache(size_t max_bytes, int64_t ttl_secs, int64_t negative_ttl_secs);

    std::optional<CacheHit> lookup(const std::string& key, int64_t now);
    void insert(const std::string& key, std::string value, int64_t now);
    void insert_negative(const std::string& key, int64_t now);
    void remove(const std::string& key);
    void clear();  // doveadm auth cache flush

    size_t used_bytes() const { return used_bytes_; }
    size_t entries() const { return index_.size(); }

private:
    struct Entry {
        std::string key;
        std::string value;
        bool negative;
        int64_t created;
        size_t bytes() const { return key.size() + value.size() + sizeof(Entry); }
    };
    void store(const std::string& key, std::string value, bool negative, int64_t now);
    void erase(std::list<Entry>::iterator entry);

    size_t max_bytes_;
    int64_t ttl_, negative_ttl_;
    size_t used_bytes_ = 0;
    std::list<Entry> order_;  // most recently used first
    std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace loft::auth
