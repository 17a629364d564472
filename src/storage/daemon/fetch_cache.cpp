#include "storage/daemon/fetch_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace loft::storage::daemon {

namespace {

// "LOFTCACHE", a format version byte, then the UIDVALIDITY (little endian).
constexpr std::string_view kMagic = "LOFTCACHE\x01";
constexpr size_t kHeaderSize = kMagic.size() + 4;
constexpr size_t kRecordHeaderSize = 12;  // uid, payload length, checksum

void put_u32(std::string& out, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

uint32_t get_u32(const char* data)
{
    uint32_t value = 0;
    for (int i = 0; i < 4; i++)
        value |= static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << (8 * i);
    return value;
}

// FNV-1a over the uid and the payload: catches torn writes and stray bytes.
uint32_t checksum_of(uint32_t uid, std::string_view payload)
{
    uint32_t hash = 2166136261u;
    auto mix = [&hash](unsigned char byte) {
        hash ^= byte;
        hash *= 16777619u;
    };
    for (int i = 0; i < 4; i++)
        mix(static_cast<unsigned char>((uid >> (8 * i)) & 0xFF));
    for (char c : payload)
        mix(static_cast<unsigned char>(c));
    return hash;
}

bool read_all(int fd, uint64_t offset, char* data, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t n = ::pread(fd, data + done, size - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

bool write_all(int fd, uint64_t offset, std::string_view data)
{
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

void put_string(std::string& out, std::string_view text)
{
    put_u32(out, static_cast<uint32_t>(text.size()));
    out.append(text);
}

}  // namespace

std::string encode_structure(const MessageStructure& structure)
{
    std::string out;
    out.reserve(12 + structure.bytes());
    put_string(out, structure.envelope);
    put_string(out, structure.body);
    put_string(out, structure.bodystructure);
    return out;
}

MessageStructure decode_structure(std::string_view data)
{
    size_t pos = 0;
    auto take = [&]() {
        if (data.size() - pos < 4)
            throw std::runtime_error("fetch cache record is truncated");
        uint32_t size = get_u32(data.data() + pos);
        pos += 4;
        if (size > data.size() - pos)
            throw std::runtime_error("fetch cache record string runs past its end");
        std::string text(data.substr(pos, size));
        pos += size;
        return text;
    };
    MessageStructure structure;
    structure.envelope = take();
    structure.body = take();
    structure.bodystructure = take();
    if (pos != data.size())
        throw std::runtime_error("fetch cache record has trailing bytes");
    return structure;
}

FetchCache::FetchCache(std::string path, size_t byte_cap) : path_(std::move(path)), byte_cap_(byte_cap) {}

FetchCache::~FetchCache()
{
    try {
        flush();
    } catch (...) {
        // The cache is an optimisation: losing unsaved records costs only a re-parse.
    }
}

void FetchCache::open_for(uint32_t uidvalidity)
{
    if (opened_ && uidvalidity == uidvalidity_)
        return;
    // A new UIDVALIDITY makes every UID mean another message: forget everything.
    lru_.clear();
    by_uid_.clear();
    on_disk_.clear();
    pending_.clear();
    memory_bytes_ = 0;
    fd_.reset();
    file_size_ = 0;
    uidvalidity_ = uidvalidity;
    opened_ = true;
    retained_ = false;
    if (!path_.empty())
        load();
}

void FetchCache::load()
{
    UniqueFd fd(::open(path_.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    struct stat st;
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<uint64_t>(st.st_size) > kMaxFetchCacheFile) {
        start_file();
        return;
    }
    std::string header(kHeaderSize, '\0');
    if (!read_all(fd.get(), 0, header.data(), header.size()) ||
        std::string_view(header).substr(0, kMagic.size()) != kMagic ||
        get_u32(header.data() + kMagic.size()) != uidvalidity_) {
        start_file();
        return;
    }
    // Records are read in large pieces; the first bad one ends the valid part.
    uint64_t size = static_cast<uint64_t>(st.st_size);
    uint64_t offset = kHeaderSize;
    std::string buffer;
    uint64_t buffer_start = offset;
    auto ensure = [&](uint64_t at, size_t length) -> const char* {
        if (at + length > size)
            return nullptr;
        if (at < buffer_start || at + length > buffer_start + buffer.size()) {
            size_t chunk = std::max<size_t>(length, 1 << 20);
            chunk = static_cast<size_t>(std::min<uint64_t>(chunk, size - at));
            buffer.assign(chunk, '\0');
            buffer_start = at;
            if (!read_all(fd.get(), at, buffer.data(), chunk))
                return nullptr;
        }
        return buffer.data() + (at - buffer_start);
    };
    while (offset < size) {
        const char* head = ensure(offset, kRecordHeaderSize);
        if (!head)
            break;
        uint32_t uid = get_u32(head);
        uint32_t length = get_u32(head + 4);
        uint32_t checksum = get_u32(head + 8);
        if (length > kMaxFetchCacheRecord)
            break;
        const char* payload = ensure(offset + kRecordHeaderSize, length);
        if (!payload || checksum_of(uid, std::string_view(payload, length)) != checksum)
            break;
        on_disk_[uid] = Stored{offset + kRecordHeaderSize, length, checksum};
        offset += kRecordHeaderSize + length;
    }
    if (offset < size && ::ftruncate(fd.get(), static_cast<off_t>(offset)) != 0) {
        on_disk_.clear();
        start_file();
        return;
    }
    fd_ = std::move(fd);
    file_size_ = offset;
}

bool FetchCache::start_file()
{
    // Written under a temporary name and renamed, so a reader never sees half a header.
    std::string temp = path_ + ".tmp." + std::to_string(::getpid());
    UniqueFd fd(::open(temp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd)
        return false;
    std::string header(kMagic);
    put_u32(header, uidvalidity_);
    if (!write_all(fd.get(), 0, header) || ::rename(temp.c_str(), path_.c_str()) != 0) {
        ::unlink(temp.c_str());
        return false;
    }
    fd_ = std::move(fd);
    file_size_ = header.size();
    return true;
}

const MessageStructure* FetchCache::find(uint32_t uidvalidity, uint32_t uid)
{
    open_for(uidvalidity);
    auto cached = by_uid_.find(uid);
    if (cached != by_uid_.end()) {
        touch(cached->second);
        hits_++;
        return &lru_.front().structure;
    }
    auto stored = on_disk_.find(uid);
    if (stored != on_disk_.end() && fd_) {
        std::string payload(stored->second.length, '\0');
        if (read_all(fd_.get(), stored->second.offset, payload.data(), payload.size()) &&
            checksum_of(uid, payload) == stored->second.checksum) {
            try {
                hits_++;
                return &remember(uid, decode_structure(payload));
            } catch (const std::exception&) {
                hits_--;
            }
        }
        on_disk_.erase(stored);
    }
    misses_++;
    return nullptr;
}

const MessageStructure& FetchCache::insert(uint32_t uidvalidity, uint32_t uid, MessageStructure structure)
{
    open_for(uidvalidity);
    if (fd_ && !on_disk_.count(uid)) {
        std::string payload = encode_structure(structure);
        if (payload.size() <= kMaxFetchCacheRecord) {
            uint32_t checksum = checksum_of(uid, payload);
            on_disk_[uid] = Stored{file_size_ + pending_.size() + kRecordHeaderSize,
                                   static_cast<uint32_t>(payload.size()), checksum};
            put_u32(pending_, uid);
            put_u32(pending_, static_cast<uint32_t>(payload.size()));
            put_u32(pending_, checksum);
            pending_ += payload;
        }
    }
    return remember(uid, std::move(structure));
}

void FetchCache::flush()
{
    if (pending_.empty())
        return;
    if (fd_ && write_all(fd_.get(), file_size_, pending_)) {
        file_size_ += pending_.size();
    } else {
        // Records whose bytes never reached the file must not be looked up there.
        for (auto it = on_disk_.begin(); it != on_disk_.end();) {
            if (it->second.offset >= file_size_)
                it = on_disk_.erase(it);
            else
                ++it;
        }
        fd_.reset();
    }
    pending_.clear();
}

void FetchCache::retain(uint32_t uidvalidity, const std::vector<uint32_t>& live)
{
    open_for(uidvalidity);
    retained_ = true;
    for (auto it = on_disk_.begin(); it != on_disk_.end();) {
        if (std::binary_search(live.begin(), live.end(), it->first)) {
            ++it;
            continue;
        }
        auto cached = by_uid_.find(it->first);
        if (cached != by_uid_.end()) {
            memory_bytes_ -= cached->second->structure.bytes();
            lru_.erase(cached->second);
            by_uid_.erase(cached);
        }
        it = on_disk_.erase(it);
    }
    // Records of expunged messages stay in the file until they are most of it.
    uint64_t live_bytes = 0;
    for (const auto& [uid, stored] : on_disk_)
        live_bytes += kRecordHeaderSize + stored.length;
    if (fd_ && file_size_ > kHeaderSize + 64 * 1024 && live_bytes * 2 < file_size_ - kHeaderSize)
        rewrite();
}

void FetchCache::rewrite()
{
    flush();
    std::string records;
    std::unordered_map<uint32_t, Stored> moved;
    for (const auto& [uid, stored] : on_disk_) {
        std::string payload(stored.length, '\0');
        if (!read_all(fd_.get(), stored.offset, payload.data(), payload.size()) ||
            checksum_of(uid, payload) != stored.checksum)
            continue;
        moved[uid] = Stored{kHeaderSize + records.size() + kRecordHeaderSize, stored.length, stored.checksum};
        put_u32(records, uid);
        put_u32(records, stored.length);
        put_u32(records, stored.checksum);
        records += payload;
    }
    on_disk_.clear();
    if (!start_file())
        return;
    if (!write_all(fd_.get(), file_size_, records)) {
        fd_.reset();
        return;
    }
    file_size_ += records.size();
    on_disk_ = std::move(moved);
}

const MessageStructure& FetchCache::remember(uint32_t uid, MessageStructure structure)
{
    auto existing = by_uid_.find(uid);
    if (existing != by_uid_.end()) {
        memory_bytes_ -= existing->second->structure.bytes();
        lru_.erase(existing->second);
        by_uid_.erase(existing);
    }
    memory_bytes_ += structure.bytes();
    lru_.push_front(Entry{uid, std::move(structure)});
    by_uid_[uid] = lru_.begin();
    evict();
    return lru_.front().structure;
}

void FetchCache::touch(std::list<Entry>::iterator entry)
{
    lru_.splice(lru_.begin(), lru_, entry);
}

void FetchCache::evict()
{
    // The newest entry always stays, even when it alone is over the cap.
    while (memory_bytes_ > byte_cap_ && lru_.size() > 1) {
        Entry& oldest = lru_.back();
        memory_bytes_ -= oldest.structure.bytes();
        by_uid_.erase(oldest.uid);
        lru_.pop_back();
    }
}

}  // namespace loft::storage::daemon
