// Small file-system helpers for the Maildir code: durable writes (fsync of files and of
// the directories holding them), bounded reads, directory listing, host name for file names.
#pragma once

#include "lib/unique_fd.h"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::storage::maildir {

// Largest control file (uidlist, keywords, subscriptions) we agree to read into memory.
inline constexpr size_t max_control_file_size = 256 * 1024 * 1024;

void fsync_dir(const std::string& dir);
void fsync_fd(int fd, const std::string& what);
void write_all(int fd, std::string_view data, const std::string& what);

// The whole file, or nullopt if it does not exist. Throws StorageError(Limit) beyond max_size.
std::optional<std::string> read_file_if_exists(const std::string& path, size_t max_size = max_control_file_size);

// Writes a file next to its target and renames it into place, fsyncing both the file
// and the directory so the new content survives a crash.
void replace_file_durably(const std::string& path, std::string_view content, mode_t mode);

// Entry names in a directory without "." and "..", or nullopt if the directory is missing.
std::optional<std::vector<std::string>> list_dir(const std::string& dir);

bool path_exists(const std::string& path);
bool is_directory(const std::string& path);
// mkdir that tolerates EEXIST; returns true if this call created it.
bool make_dir(const std::string& path, mode_t mode);
// Removes a whole tree (used by mailbox delete). Missing paths are fine.
void remove_tree(const std::string& path);

// gethostname() with '/' and ':' escaped as Dovecot does in Maildir file names.
std::string maildir_hostname();
std::string plain_hostname();

inline std::string join_path(std::string_view dir, std::string_view name)
{
    std::string path(dir);
    if (path.empty() || path.back() != '/')
        path += '/';
    path += name;
    return path;
}

}  // namespace loft::storage::maildir
