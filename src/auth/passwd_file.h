// Dovecot's passwd-file format: a cached, self-reloading table of users read from one file.
#pragma once

#include "auth/errors.h"

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace loft::auth {

// One line: user:password:uid:gid:gecos:home:shell:extra_fields. extra holds the
// space-separated extra fields as written ("userdb_quota_rule" keeps its prefix); a bare
// word such as "nopassword" maps to "". The old layout with an empty 8th field and the
// mail location in the 9th is read as extra["userdb_mail"].
struct UserRecord {
    std::string user, password;
    std::optional<uint32_t> uid, gid;
    std::string home, shell;
    std::map<std::string, std::string> extra;
};

// The driver args of a passwd-file passdb/userdb: "[scheme=X] [username_format=%u] PATH".
struct PasswdFileArgs {
    std::string scheme = "CRYPT";
    std::string username_format = "%u";
    std::string path;  // may hold % variables; the caller expands it per request
};
// Throws AuthError for an unknown option or a missing path.
PasswdFileArgs parse_passwd_file_args(std::string_view args);

// Thrown when the file does not exist; per-domain files ("%d") are allowed to be missing,
// which the caller then treats as "unknown user".
class PasswdFileMissing : public AuthError {
public:
    using AuthError::AuthError;
};

// Parses one line. nullopt for blank lines, comments ('#'), lines without a user name
// (starting with ':'); also for malformed lines, with the reason in error.
std::optional<UserRecord> parse_passwd_file_line(std::string_view line, std::string& error);

// Limits on what a passwd-file may hold.
constexpr size_t max_passwd_file_size = 256u << 20;
constexpr size_t max_passwd_file_line = 64u << 10;

// Not thread-safe: lookups may reload the table. One instance per process (per path) is
// enough; the whole file is parsed once per change, then looked up by exact user name.
class PasswdFile {
public:
    explicit PasswdFile(std::string path);

    // Reloads first when the file's mtime, size or inode changed since the last read.
    // Throws PasswdFileMissing if it does not exist, AuthError for other read failures.
    std::optional<UserRecord> lookup(std::string_view user);

    // All user names, for iteration (doveadm -A style); reloads like lookup.
    std::vector<std::string> users();

    const std::string& path() const { return path_; }
    // What was wrong in the file at the last load ("passwd-file PATH: User x has invalid
    // UID y"), in file order, ready for the caller's log.
    const std::vector<std::string>& warnings() const { return warnings_; }

private:
    struct Stamp {
        dev_t device = 0;
        ino_t inode = 0;
        off_t size = -1;
        timespec mtime{};
        bool operator==(const Stamp& other) const;
    };

    void sync();
    void load(int fd, const Stamp& stamp);

    std::string path_;
    std::optional<Stamp> stamp_;
    std::unordered_map<std::string, UserRecord> users_;
    std::vector<std::string> order_;
    std::vector<std::string> warnings_;
};

}  // namespace loft::auth
