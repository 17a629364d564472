#include "storage/maildir/uidvalidity.h"

#include "lib/system_error.h"
#include "lib/unique_fd.h"
#include "storage/maildir/fs_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <optional>

namespace loft::storage::maildir {

namespace {

constexpr int retry_count = 10;

std::string hex8(uint32_t value)
{
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%08x", value);
    return buf;
}

std::optional<uint32_t> parse_hex32(std::string_view text)
{
    if (text.empty() || text.size() > 8)
        return std::nullopt;
    uint32_t value = 0;
    for (char c : text) {
        int digit;
        if (c >= '0' && c <= '9') digit = c - '0';
        else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        else return std::nullopt;
        value = value * 16 + static_cast<uint32_t>(digit);
    }
    return value;
}

uint32_t fallback_value()
{
    auto now = static_cast<uint32_t>(::time(nullptr));
    return now == 0 ? 1 : now;
}

void write_main_file(const std::string& path, uint32_t value)
{
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd)
        throw_errno("open(" + path + ")");
    std::string text = hex8(value);
    if (::pwrite(fd.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
        throw_errno("pwrite(" + path + ")");
}

// Moves the companion file from value to value+1; the rename is what makes the
// allocation exclusive between concurrent processes.
bool rename_companion(const std::string& path, uint32_t& value)
{
    for (int i = 0; i < retry_count; i++) {
        std::string from = path + "." + hex8(value);
        value += 1;
        if (value == 0)
            value = 1;
        std::string to = path + "." + hex8(value);
        if (::rename(from.c_str(), to.c_str()) == 0)
            return true;
        if (errno != ENOENT)
            throw_errno("rename(" + from + ", " + to + ")");
    }
    return false;
}

uint32_t rescan(const std::string& dir, const std::string& path)
{
    make_dir(dir, 0700);
    auto names = list_dir(dir);
    std::string prefix = std::string(uidvalidity_file_name) + ".";
    uint32_t max_value = 0, min_value = UINT32_MAX;
    if (names) {
        for (const auto& name : *names) {
            if (name.compare(0, prefix.size(), prefix) != 0)
                continue;
            if (auto value = parse_hex32(std::string_view(name).substr(prefix.size()))) {
                min_value = std::min(min_value, *value);
                max_value = std::max(max_value, *value);
            }
        }
    }
    if (max_value == 0) {
        uint32_t value = fallback_value();
        for (int i = 0; i < retry_count; i++, value++) {
            std::string companion = path + "." + hex8(value);
            UniqueFd fd(::open(companion.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
            if (fd)
                break;
            if (errno != EEXIST)
                throw_errno("creat(" + companion + ")");
        }
        write_main_file(path, value);
        return value;
    }
    if (min_value != max_value)
        ::unlink((path + "." + hex8(min_value)).c_str());
    uint32_t value = max_value;
    if (!rename_companion(path, value))
        return fallback_value();
    write_main_file(path, value);
    return value;
}

}  // namespace

uint32_t next_uidvalidity(const std::string& dir)
{
    std::string path = join_path(dir, uidvalidity_file_name);
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) {
        if (errno != ENOENT)
            throw_errno("open(" + path + ")");
        return rescan(dir, path);
    }
    char buf[9] = {};
    ssize_t n = ::read(fd.get(), buf, 8);
    auto current = n > 0 ? parse_hex32(std::string_view(buf, static_cast<size_t>(n))) : std::nullopt;
    if (!current || *current == 0)
        return rescan(dir, path);
    uint32_t value = *current;
    if (!rename_companion(path, value))
        return rescan(dir, path);
    std::string text = hex8(value);
    if (::pwrite(fd.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
        throw_errno("pwrite(" + path + ")");
    return value;
}

}  // namespace loft::storage::maildir
