// passdb and userdb "passwd-file": Dovecot's args, per-request file paths (%d ...),
// and which extra fields each side returns.
#pragma once

#include "auth/passdb.h"
#include "auth/passwd_file.h"

#include <map>
#include <memory>

namespace loft::auth {

// The files behind one passwd-file passdb/userdb: one PasswdFile per expanded path.
class PasswdFileSource {
public:
    explicit PasswdFileSource(std::string_view args);

    // nullopt: unknown user (or, for a path with variables, no such file). Throws
    // AuthError when the file cannot be read.
    std::optional<UserRecord> find(const AuthRequest& request);
    // Every user of a file without % in its path; throws AuthError for a per-domain path.
    std::vector<std::string> users();
    bool path_has_variables() const { return path_has_variables_; }
    const PasswdFileArgs& args() const { return args_; }

private:
    PasswdFileArgs args_;
    bool path_has_variables_;
    std::map<std::string, std::unique_ptr<PasswdFile>> files_;
};

class PasswdFilePassdb final : public Passdb {
public:
    explicit PasswdFilePassdb(std::string_view args);
    std::string_view driver() const override { return "passwd-file"; }

protected:
    std::optional<PassdbEntry> lookup(const AuthRequest& request) override;

private:
    PasswdFileSource source_;
};

// uid, gid and home come from their columns; extra fields count only with the userdb_
// prefix, which is removed ("userdb_mail=..." -> mail).
class PasswdFileUserdb final : public Userdb {
public:
    explicit PasswdFileUserdb(std::string_view args);
    std::string_view driver() const override { return "passwd-file"; }
    UserdbReply lookup(const AuthRequest& request) override;
    bool can_iterate() const override { return !source_.path_has_variables(); }
    void iterate(const AuthRequest& request, const std::function<void(const std::string&)>& each_user) override;

private:
    PasswdFileSource source_;
};

// Field values may hold % variables, expanded per request.
FieldMap expand_fields(const FieldMap& fields, const AuthRequest& request);

}  // namespace loft::auth
