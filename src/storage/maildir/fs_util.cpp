#include "storage/maildir/fs_util.h"

#include "lib/system_error.h"
#include "storage/storage_error.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace loft::storage::maildir {

void fsync_fd(int fd, const std::string& what)
{
    if (::fsync(fd) < 0)
        throw_errno("fsync(" + what + ")");
}

void fsync_dir(const std::string& dir)
{
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd)
        throw_errno("open(" + dir + ") for fsync");
    fsync_fd(fd.get(), dir);
}

void write_all(int fd, std::string_view data, const std::string& what)
{
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("write(" + what + ")");
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
}

std::optional<std::string> read_file_if_exists(const std::string& path, size_t max_size)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT)
            return std::nullopt;
        throw_errno("open(" + path + ")");
    }
    std::string content;
    char buf[65536];
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("read(" + path + ")");
        }
        if (n == 0)
            break;
        if (content.size() + static_cast<size_t>(n) > max_size)
            throw StorageError(StorageError::Kind::Limit, path + " is larger than " + std::to_string(max_size) + " bytes");
        content.append(buf, static_cast<size_t>(n));
    }
    return content;
}

static std::string dir_of(const std::string& path)
{
    size_t slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    if (slash == 0)
        return "/";
    return path.substr(0, slash);
}

void replace_file_durably(const std::string& path, std::string_view content, mode_t mode)
{
    std::string temp = path + ".loft-tmp." + std::to_string(::getpid());
    {
        UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
        if (!fd)
            throw_errno("open(" + temp + ")");
        try {
            write_all(fd.get(), content, temp);
            fsync_fd(fd.get(), temp);
        } catch (...) {
            ::unlink(temp.c_str());
            throw;
        }
    }
    if (::rename(temp.c_str(), path.c_str()) < 0) {
        int saved = errno;
        ::unlink(temp.c_str());
        throw_errno("rename(" + temp + ", " + path + ")", saved);
    }
    fsync_dir(dir_of(path));
}

std::optional<std::vector<std::string>> list_dir(const std::string& dir)
{
    std::unique_ptr<DIR, int (*)(DIR*)> handle(::opendir(dir.c_str()), ::closedir);
    if (!handle) {
        if (errno == ENOENT || errno == ENOTDIR)
            return std::nullopt;
        throw_errno("opendir(" + dir + ")");
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* entry = ::readdir(handle.get())) {
        std::string_view name(entry->d_name);
        if (name != "." && name != "..")
            names.emplace_back(name);
        errno = 0;
    }
    if (errno != 0)
        throw_errno("readdir(" + dir + ")");
    return names;
}

bool path_exists(const std::string& path)
{
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path)
{
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool make_dir(const std::string& path, mode_t mode)
{
    if (::mkdir(path.c_str(), mode) == 0)
        return true;
    if (errno == EEXIST)
        return false;
    throw_errno("mkdir(" + path + ")");
}

void remove_tree(const std::string& path)
{
    struct stat st;
    if (::lstat(path.c_str(), &st) < 0) {
        if (errno == ENOENT)
            return;
        throw_errno("lstat(" + path + ")");
    }
    if (S_ISDIR(st.st_mode)) {
        if (auto names = list_dir(path)) {
            for (const auto& name : *names)
                remove_tree(join_path(path, name));
        }
        if (::rmdir(path.c_str()) < 0 && errno != ENOENT)
            throw_errno("rmdir(" + path + ")");
    } else if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
        throw_errno("unlink(" + path + ")");
    }
}

std::string plain_hostname()
{
    char buf[256] = {};
    if (::gethostname(buf, sizeof(buf) - 1) < 0)
        throw_errno("gethostname");
    return buf;
}

std::string maildir_hostname()
{
    std::string escaped;
    for (char c : plain_hostname()) {
        if (c == '/')
            escaped += "\\057";
        else if (c == ':')
            escaped += "\\072";
        else
            escaped += c;
    }
    return escaped;
}

}  // namespace loft::storage::maildir
