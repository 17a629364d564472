// passdb and userdb "sql" with Dovecot's dovecot-sql.conf.ext (driver = sqlite only):
// password_query, user_query and iterate_query with SQL-escaped % variables.
#pragma once

#include "auth/passdb.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace loft::auth {

// The settings of a dovecot-sql.conf.ext file, with Dovecot's defaults.
struct SqlSettings {
    std::string driver;
    std::string connect;
    std::string password_query = "SELECT username, domain, password FROM users WHERE username = '%n' AND domain = '%d'";
    std::string user_query = "SELECT home, uid, gid FROM users WHERE username = '%n' AND domain = '%d'";
    std::string update_query = "UPDATE users SET password = '%w' WHERE username = '%n' AND domain = '%d'";
    std::string iterate_query = "SELECT username, domain FROM users";
    std::string default_pass_scheme = "MD5";
};

// "key = value" lines, '#' comments, a trailing '\' continues the value on the next line,
// values may be quoted. origin names the file in error messages. Throws AuthError for
// unknown settings, a missing driver/connect, or a driver other than sqlite.
SqlSettings parse_sql_settings(std::string_view text, const std::string& origin);
SqlSettings read_sql_settings(const std::string& path);

// Doubles single quotes, as Dovecot's sqlite driver escapes % values in queries.
std::string sqlite_escape(std::string_view value);

struct SqlColumn {
    std::string name;
    std::optional<std::string> value;  // nullopt: SQL NULL
};
using SqlRow = std::vector<SqlColumn>;

// One sqlite database file ("connect = /path/db"), opened on first use. Queries block
// for their duration (a busy database is waited for at most busy_timeout_ms).
class SqliteDatabase {
public:
    explicit SqliteDatabase(std::string connect);
    ~SqliteDatabase();
    SqliteDatabase(const SqliteDatabase&) = delete;
    SqliteDatabase& operator=(const SqliteDatabase&) = delete;

    // Calls each_row for every result row until it returns false. Throws AuthError
    // for SQL errors and for values beyond the size limit.
    void query(const std::string& sql, const std::function<bool(const SqlRow&)>& each_row);

private:
    void open();

    std::string path_;
    bool read_only_ = false;
    sqlite3* handle_ = nullptr;
};

class SqlPassdb final : public Passdb {
public:
    explicit SqlPassdb(std::string_view args);
    std::string_view driver() const override { return "sql"; }

protected:
    std::optional<PassdbEntry> lookup(const AuthRequest& request) override;

private:
    SqlSettings settings_;
    std::unique_ptr<SqliteDatabase> database_;
};

class SqlUserdb final : public Userdb {
public:
    explicit SqlUserdb(std::string_view args);
    std::string_view driver() const override { return "sql"; }
    UserdbReply lookup(const AuthRequest& request) override;
    bool can_iterate() const override { return true; }
    void iterate(const AuthRequest& request, const std::function<void(const std::string&)>& each_user) override;

private:
    SqlSettings settings_;
    std::unique_ptr<SqliteDatabase> database_;
};

// Dovecot's rule for a "user", "username" or "domain" field: the user name it gives,
// or nullopt for any other field name.
std::optional<std::string> updated_username(const std::string& current, const std::string& field,
                                            const std::string& value);

}  // namespace loft::auth
