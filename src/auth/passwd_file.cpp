#include "auth/passwd_file.h"

#include "lib/strings.h"
#include "lib/system_error.h"
#include "lib/unique_fd.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace loft::auth {

namespace {

// uid/gid fields may hold a number or a system user/group name.
std::optional<uint32_t> parse_uid(const std::string& text)
{
    if (auto number = parse_uint(text))
        return *number <= UINT32_MAX - 1 ? std::optional<uint32_t>(static_cast<uint32_t>(*number))
                                         : std::nullopt;
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    if (getpwnam_r(text.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
        return std::nullopt;
    return static_cast<uint32_t>(found->pw_uid);
}

std::optional<uint32_t> parse_gid(const std::string& text)
{
    if (auto number = parse_uint(text))
        return *number <= UINT32_MAX - 1 ? std::optional<uint32_t>(static_cast<uint32_t>(*number))
                                         : std::nullopt;
    group entry{};
    group* found = nullptr;
    std::vector<char> buffer(65536);
    if (getgrnam_r(text.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
        return std::nullopt;
    return static_cast<uint32_t>(found->gr_gid);
}

// libpam-pwdfile marks its hashes with a "[NN]" suffix: 34 = MD5, 56 = DIGEST-MD5,
// anything else crypt(3). Dovecot reads those files, so we do too.
std::string normalize_password(const std::string& password)
{
    size_t n = password.size();
    if (n > 4 && password[0] != '{' && password[0] != '$' && password[n - 1] == ']' &&
        password[n - 4] == '[') {
        std::string hash = password.substr(0, n - 4);
        std::string_view type = std::string_view(password).substr(n - 3, 2);
        if (type == "34")
            return "{PLAIN-MD5}" + hash;
        if (type == "56")
            return "{DIGEST-MD5}" + hash;
        return "{CRYPT}" + hash;
    }
    return password;
}

void add_extra_fields(UserRecord& record, std::string_view text)
{
    for (const std::string& word : split_words(text)) {
        size_t equals = word.find('=');
        if (equals == std::string::npos)
            record.extra[word] = "";
        else
            record.extra[word.substr(0, equals)] = word.substr(equals + 1);
    }
}

std::string join_from(const std::vector<std::string>& fields, size_t first)
{
    std::string joined;
    for (size_t i = first; i < fields.size(); i++) {
        if (i > first)
            joined += ':';
        joined += fields[i];
    }
    return joined;
}

}  // namespace

PasswdFileArgs parse_passwd_file_args(std::string_view args)
{
    PasswdFileArgs parsed;
    for (const std::string& word : split_words(args)) {
        if (starts_with_nocase(word, "scheme="))
            parsed.scheme = word.substr(7);
        else if (starts_with_nocase(word, "username_format="))
            parsed.username_format = word.substr(16);
        else if (!parsed.path.empty())
            throw AuthError("passwd-file: unexpected argument '" + word + "'");
        else if (word.find('=') != std::string::npos && word.find('/') == std::string::npos)
            throw AuthError("passwd-file: unknown option '" + word + "'");
        else
            parsed.path = word;
    }
    if (parsed.path.empty())
        throw AuthError("passwd-file: no file path given in args");
    return parsed;
}

std::optional<UserRecord> parse_passwd_file_line(std::string_view line, std::string& error)
{
    error.clear();
    if (line.ends_with('\r'))
        line.remove_suffix(1);
    if (line.empty() || line[0] == ':' || line[0] == '#')
        return std::nullopt;
    if (line.size() > max_passwd_file_line) {
        error = "line too long";
        return std::nullopt;
    }
    std::vector<std::string> fields = split(line, ':');
    UserRecord record;
    record.user = fields[0];
    if (record.user.find_first_of(" \t") != std::string::npos) {
        error = "User " + record.user + " has whitespace in its name";
        return std::nullopt;
    }
    if (fields.size() > 1)
        record.password = normalize_password(fields[1]);
    if (fields.size() > 2 && !fields[2].empty()) {
        record.uid = parse_uid(fields[2]);
        if (!record.uid) {
            error = "User " + record.user + " has invalid UID " + fields[2];
            return std::nullopt;
        }
    }
    if (fields.size() > 3 && !fields[3].empty()) {
        record.gid = parse_gid(fields[3]);
        if (!record.gid) {
            error = "User " + record.user + " has invalid GID " + fields[3];
            return std::nullopt;
        }
    }
    // fields[4] is the gecos (user info): Dovecot ignores it.
    if (fields.size() > 5)
        record.home = fields[5];
    if (fields.size() > 6)
        record.shell = fields[6];
    if (fields.size() > 7) {
        if (fields[7].empty()) {
            // Old layout: empty 8th field, then the mail location (which may contain ':').
            if (fields.size() > 8 && !fields[8].empty())
                record.extra["userdb_mail"] = join_from(fields, 8);
        } else {
            // Extra field values may contain ':' (mail=maildir:~/Maildir).
            add_extra_fields(record, join_from(fields, 7));
        }
    }
    return record;
}

bool PasswdFile::Stamp::operator==(const Stamp& other) const
{
    return device == other.device && inode == other.inode && size == other.size &&
           mtime.tv_sec == other.mtime.tv_sec && mtime.tv_nsec == other.mtime.tv_nsec;
}

PasswdFile::PasswdFile(std::string path) : path_(std::move(path)) {}

std::optional<UserRecord> PasswdFile::lookup(std::string_view user)
{
    sync();
    auto found = users_.find(std::string(user));
    if (found == users_.end())
        return std::nullopt;
    return found->second;
}

std::vector<std::string> PasswdFile::users()
{
    sync();
    return order_;
}

void PasswdFile::sync()
{
    UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        int error = errno;
        if (error == ENOENT) {
            stamp_.reset();
            users_.clear();
            order_.clear();
            throw PasswdFileMissing("passwd-file " + path_ + ": file does not exist");
        }
        throw AuthError("passwd-file " + path_ + ": Can't open file: " +
                        std::generic_category().message(error));
    }
    struct stat st {};
    if (fstat(fd.get(), &st) != 0)
        throw AuthError("passwd-file " + path_ + ": fstat() failed: " +
                        std::generic_category().message(errno));
    if (!S_ISREG(st.st_mode))
        throw AuthError("passwd-file " + path_ + ": not a regular file");
    Stamp stamp{st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    if (stamp_ && *stamp_ == stamp)
        return;
    if (static_cast<uint64_t>(st.st_size) > max_passwd_file_size)
        throw AuthError("passwd-file " + path_ + ": file is larger than " +
                        std::to_string(max_passwd_file_size) + " bytes");
    load(fd.get(), stamp);
}

void PasswdFile::load(int fd, const Stamp& stamp)
{
    std::string content;
    content.reserve(static_cast<size_t>(stamp.size));
    char buffer[65536];
    while (true) {
        ssize_t got = ::read(fd, buffer, sizeof(buffer));
        if (got < 0) {
            if (errno == EINTR)
                continue;
            throw AuthError("passwd-file " + path_ + ": read() failed: " +
                            std::generic_category().message(errno));
        }
        if (got == 0)
            break;
        content.append(buffer, static_cast<size_t>(got));
        // The file may have grown since fstat().
        if (content.size() > max_passwd_file_size)
            throw AuthError("passwd-file " + path_ + ": file is larger than " +
                            std::to_string(max_passwd_file_size) + " bytes");
    }

    std::unordered_map<std::string, UserRecord> users;
    std::vector<std::string> order;
    std::vector<std::string> warnings;
    std::string_view rest = content;
    size_t line_number = 0;
    while (!rest.empty()) {
        size_t newline = rest.find('\n');
        std::string_view line = rest.substr(0, newline);
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        line_number++;
        std::string error;
        std::optional<UserRecord> record = parse_passwd_file_line(line, error);
        if (!record) {
            if (!error.empty())
                warnings.push_back("passwd-file " + path_ + ": line " +
                                   std::to_string(line_number) + ": " + error);
            continue;
        }
        if (users.contains(record->user)) {
            warnings.push_back("passwd-file " + path_ + ": User " + record->user +
                               " exists more than once");
            continue;
        }
        order.push_back(record->user);
        std::string name = record->user;
        users.emplace(std::move(name), std::move(*record));
    }
    users_ = std::move(users);
    order_ = std::move(order);
    warnings_ = std::move(warnings);
    stamp_ = stamp;
}

}  // namespace loft::auth
