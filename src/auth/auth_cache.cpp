#include "auth/auth_cache.h"

namespace loft::auth {

AuthCache::AuthCache(size_t max_bytes, int64_t ttl_secs, int64_t negative_ttl_secs)
    : max_bytes_(max_bytes), ttl_(ttl_secs), negative_ttl_(negative_ttl_secs)
{
}

std::optional<CacheHit> AuthCache::lookup(const std::string& key, int64_t now)
{
    auto found = index_.find(key);
    if (found == index_.end())
        return std::nullopt;
    auto entry = found->second;
    int64_t lifetime = entry->negative ? negative_ttl_ : ttl_;
    // An entry from the future means the clock jumped back: do not trust it.
    if (now - entry->created >= lifetime || entry->created > now) {
        erase(entry);
        return std::nullopt;
    }
    order_.splice(order_.begin(), order_, entry);
    return CacheHit{entry->negative, entry->value};
}

void AuthCache::insert(const std::string& key, std::string value, int64_t now)
{
    store(key, std::move(value), false, now);
}

void AuthCache::insert_negative(const std::string& key, int64_t now)
{
    if (negative_ttl_ > 0)
        store(key, {}, true, now);
}

void AuthCache::store(const std::string& key, std::string value, bool negative, int64_t now)
{
    if (max_bytes_ == 0 || (negative ? negative_ttl_ : ttl_) <= 0)
        return;
    remove(key);
    Entry entry{key, std::move(value), negative, now};
    if (entry.bytes() > max_bytes_)
        return;  // would push out everything else
    used_bytes_ += entry.bytes();
    order_.push_front(std::move(entry));
    index_[key] = order_.begin();
    while (used_bytes_ > max_bytes_)
        erase(std::prev(order_.end()));
}

void AuthCache::remove(const std::string& key)
{
    auto found = index_.find(key);
    if (found != index_.end())
        erase(found->second);
}

void AuthCache::clear()
{
    order_.clear();
    index_.clear();
    used_bytes_ = 0;
}

void AuthCache::erase(std::list<Entry>::iterator entry)
{
    used_bytes_ -= entry->bytes();
    index_.erase(entry->key);
    order_.erase(entry);
}

}  // namespace loft::auth
