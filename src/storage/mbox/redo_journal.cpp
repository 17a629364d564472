#include "storage/mbox/redo_journal.h"

#include "lib/strings.h"
#include "lib/system_error.h"
#include "lib/unique_fd.h"
#include "storage/maildir/fs_util.h"
#include "storage/storage_error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace loft::storage::mbox {

namespace {

constexpr std::string_view kMagic = "loft-redo 1";
constexpr std::string_view kTrailer = "end\n";
constexpr size_t kMaxPatches = 10'000'000;

std::string dir_of(const std::string& path)
{
    auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

void pwrite_all(int fd, std::string_view data, uint64_t offset, const std::string& what)
{
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw_errno("write " + what);
        done += static_cast<size_t>(n);
    }
}

std::string pread_all(int fd, uint64_t offset, size_t size, const std::string& what)
{
    std::string data(size, '\0');
    size_t done = 0;
    while (done < size) {
        ssize_t n = ::pread(fd, data.data() + done, size - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw_errno("read " + what);
        if (n == 0)
            break;
        done += static_cast<size_t>(n);
    }
    data.resize(done);
    return data;
}

}  // namespace

void write_redo_journal(const std::string& path, const std::string& temp_path, const RedoRecord& record)
{
    std::string head = std::string(kMagic) + " " + std::to_string(record.dev) + " " + std::to_string(record.ino) + " " +
                       std::to_string(record.old_size) + " " + std::to_string(record.new_size) + " " +
                       std::to_string(record.guard) + " " + std::to_string(record.patches.size()) + "\n";
    UniqueFd fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid())
        throw StorageError(StorageError::Kind::Io, "cannot create " + temp_path + ": " + strerror(errno));
    try {
        maildir::write_all(fd.get(), head, temp_path);
        for (const auto& patch : record.patches) {
            maildir::write_all(fd.get(),
                               std::to_string(patch.offset) + " " + std::to_string(patch.data.size()) + "\n",
                               temp_path);
            maildir::write_all(fd.get(), patch.data, temp_path);
        }
        maildir::write_all(fd.get(), kTrailer, temp_path);
        maildir::fsync_fd(fd.get(), temp_path);
        if (::rename(temp_path.c_str(), path.c_str()) < 0)
            throw_errno("rename " + temp_path);
    } catch (...) {
        (void)::unlink(temp_path.c_str());
        throw;
    }
    maildir::fsync_dir(dir_of(path));
}

std::optional<RedoRecord> read_redo_journal(const std::string& path, uint64_t max_size)
{
    auto text = maildir::read_file_if_exists(path, static_cast<size_t>(max_size));
    if (!text)
        return std::nullopt;
    std::string_view rest = *text;
    auto next_line = [&](std::string& line) {
        auto eol = rest.find('\n');
        if (eol == std::string_view::npos || eol > 256)
            return false;
        line = std::string(rest.substr(0, eol));
        rest.remove_prefix(eol + 1);
        return true;
    };
    std::string line;
    if (!next_line(line))
        return std::nullopt;
    auto words = split_words(line);
    if (words.size() != 8 || words[0] + " " + words[1] != kMagic)
        return std::nullopt;
    std::vector<std::optional<uint64_t>> numbers;
    for (size_t i = 2; i < words.size(); i++)
        numbers.push_back(parse_uint(words[i]));
    if (std::any_of(numbers.begin(), numbers.end(), [](const auto& n) { return !n.has_value(); }) ||
        *numbers[5] > kMaxPatches)
        return std::nullopt;
    RedoRecord record;
    record.dev = static_cast<dev_t>(*numbers[0]);
    record.ino = static_cast<ino_t>(*numbers[1]);
    record.old_size = *numbers[2];
    record.new_size = *numbers[3];
    record.guard = *numbers[4];
    for (uint64_t i = 0; i < *numbers[5]; i++) {
        if (!next_line(line))
            return std::nullopt;
        auto fields = split_words(line);
        if (fields.size() != 2)
            return std::nullopt;
        auto offset = parse_uint(fields[0]);
        auto size = parse_uint(fields[1]);
        if (!offset || !size || *size > rest.size() || *offset + *size > record.new_size)
            return std::nullopt;
        record.patches.push_back({*offset, std::string(rest.substr(0, *size))});
        rest.remove_prefix(*size);
    }
    if (rest != kTrailer)
        return std::nullopt;
    return record;
}

uint64_t RedoRecord::first_offset() const
{
    uint64_t first = new_size;
    for (const auto& patch : patches)
        first = std::min(first, patch.offset);
    return first;
}

uint64_t prefix_fingerprint(int fd, uint64_t end, const std::string& file_name)
{
    constexpr uint64_t head = 4096, window = 64 * 1024;
    std::string bytes = pread_all(fd, 0, static_cast<size_t>(std::min(end, head)), file_name);
    if (end > head) {
        uint64_t from = std::max(head, end > window ? end - window : 0);
        bytes += pread_all(fd, from, static_cast<size_t>(end - from), file_name);
    }
    uint64_t hash = 1469598103934665603ULL;  // FNV-1a
    for (unsigned char c : bytes) {
        hash ^= c;
        hash *= 1099511628211ULL;
    }
    return hash ^ end;
}

bool redo_applies(int fd, const struct stat& st, const RedoRecord& record, const std::string& file_name)
{
    return record.dev == st.st_dev && record.ino == st.st_ino &&
           prefix_fingerprint(fd, record.first_offset(), file_name) == record.guard;
}

void apply_redo(int fd, const RedoRecord& record, const std::string& file_name, bool durable)
{
    struct stat st;
    if (::fstat(fd, &st) < 0)
        throw_errno("fstat " + file_name);
    uint64_t high = std::max(record.old_size, record.new_size);
    std::string later;
    if (static_cast<uint64_t>(st.st_size) > high)
        later = pread_all(fd, high, static_cast<size_t>(static_cast<uint64_t>(st.st_size) - high), file_name);
    for (const auto& patch : record.patches)
        pwrite_all(fd, patch.data, patch.offset, file_name);
    if (!later.empty())
        pwrite_all(fd, later, record.new_size, file_name);
    uint64_t size = record.new_size + later.size();
    if (static_cast<uint64_t>(st.st_size) != size || record.new_size < high) {
        if (::ftruncate(fd, static_cast<off_t>(size)) < 0)
            throw_errno("truncate " + file_name);
    }
    if (durable && ::fdatasync(fd) < 0)
        throw_errno("fdatasync " + file_name);
}

bool patch_may_tear(const FilePatch& patch)
{
    static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE) > 0 ? ::sysconf(_SC_PAGESIZE) : 4096);
    if (patch.data.empty())
        return false;
    return patch.offset / page != (patch.offset + patch.data.size() - 1) / page;
}

}  // namespace loft::storage::mbox
