#include "auth/sql_db.h"

#include "auth/errors.h"
#include "lib/strings.h"

#include <sqlite3.h>

#include <fstream>
#include <sstream>

namespace loft::auth {

namespace {

constexpr size_t kMaxSettingsFile = 1u << 20;
constexpr size_t kMaxValue = 64u << 10;       // one column value
constexpr size_t kMaxColumns = 256;
constexpr size_t kMaxListedUsers = 10'000'000;
constexpr int kBusyTimeoutMs = 2000;

bool is_white(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Dovecot's quoted setting values: "..." or '...' with backslash escapes.
std::string unquote(std::string_view value)
{
    if (value.size() < 2 || (value.front() != '"' && value.front() != '\'') || value.back() != value.front())
        return std::string(value);
    std::string out;
    for (size_t i = 1; i + 1 < value.size(); i++) {
        char c = value[i];
        if (c == '\\' && i + 2 < value.size()) {
            c = value[++i];
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
            else if (c == 'r')
                c = '\r';
        }
        out += c;
    }
    return out;
}

void assign_setting(SqlSettings& settings, const std::string& key, std::string value, const std::string& where)
{
    if (key == "driver")
        settings.driver = std::move(value);
    else if (key == "connect")
        settings.connect = std::move(value);
    else if (key == "password_query")
        settings.password_query = std::move(value);
    else if (key == "user_query")
        settings.user_query = std::move(value);
    else if (key == "update_query")
        settings.update_query = std::move(value);
    else if (key == "iterate_query")
        settings.iterate_query = std::move(value);
    else if (key == "default_pass_scheme")
        settings.default_pass_scheme = to_upper(value);
    else if (key == "userdb_warning_disable")
        ;  // only silences a Dovecot startup warning
    else
        throw AuthError(where + ": Unknown setting: " + key);
}

}  // namespace

SqlSettings parse_sql_settings(std::string_view text, const std::string& origin)
{
    SqlSettings settings;
    std::string pending;  // a value continued with '\'
    unsigned line_number = 0, pending_start = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        line_number++;
        while (!line.empty() && is_white(line.front()))
            line.remove_prefix(1);
        while (!line.empty() && is_white(line.back()))
            line.remove_suffix(1);
        if (pending.empty() && (line.empty() || line.front() == '#'))
            continue;
        if (pending.empty())
            pending_start = line_number;
        if (!line.empty() && line.back() == '\\') {
            line.remove_suffix(1);
            while (!line.empty() && is_white(line.back()))
                line.remove_suffix(1);
            pending.append(line);
            pending += ' ';
            if (end == text.size())
                break;
            continue;
        }
        pending.append(line);
        std::string full = std::move(pending);
        pending.clear();
        std::string where = origin + " line " + std::to_string(pending_start);
        if (full.starts_with("!include"))
            throw AuthError(where + ": !include is not supported here");
        size_t equals = full.find('=');
        if (equals == std::string::npos)
            throw AuthError(where + ": Missing value");
        std::string key(trim(std::string_view(full).substr(0, equals)));
        std::string value(trim(std::string_view(full).substr(equals + 1)));
        assign_setting(settings, key, unquote(value), where);
        if (end == text.size())
            break;
    }
    if (!pending.empty()) {
        std::string full = std::move(pending);
        size_t equals = full.find('=');
        std::string where = origin + " line " + std::to_string(pending_start);
        if (equals == std::string::npos)
            throw AuthError(where + ": Missing value");
        assign_setting(settings, std::string(trim(std::string_view(full).substr(0, equals))),
                       unquote(trim(std::string_view(full).substr(equals + 1))), where);
    }
    if (settings.driver.empty())
        throw AuthError(origin + ": Missing driver setting");
    if (settings.driver != "sqlite")
        throw AuthError(origin + ": sql driver '" + settings.driver + "' is not supported (Loft has sqlite only)");
    if (settings.connect.empty())
        throw AuthError(origin + ": Missing connect setting");
    return settings;
}

SqlSettings read_sql_settings(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw AuthError("sql: Can't open configuration file " + path);
    std::string text;
    text.resize(kMaxSettingsFile + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxSettingsFile)
        throw AuthError("sql: " + path + " is too large");
    return parse_sql_settings(text, path);
}

std::string sqlite_escape(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\'')
            out += '\'';
        out += c;
    }
    return out;
}

SqliteDatabase::SqliteDatabase(std::string connect)
{
    // "connect = /path/db", optionally followed by Dovecot's "readonly=yes".
    std::vector<std::string> words = split_words(connect);
    if (words.empty())
        throw AuthError("sql: empty connect setting");
    path_ = words[0];
    for (size_t i = 1; i < words.size(); i++) {
        if (words[i] == "readonly=yes")
            read_only_ = true;
        else if (words[i] == "readonly=no" || words[i].starts_with("journal_mode="))
            ;
        else
            throw AuthError("sql: unknown connect parameter '" + words[i] + "'");
    }
}

SqliteDatabase::~SqliteDatabase()
{
    if (handle_)
        sqlite3_close_v2(handle_);
}

void SqliteDatabase::open()
{
    if (handle_)
        return;
    // No SQLITE_OPEN_CREATE: a missing database is a setup error, not an empty user list.
    int flags = read_only_ ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    sqlite3* handle = nullptr;
    int code = sqlite3_open_v2(path_.c_str(), &handle, flags, nullptr);
    if (code != SQLITE_OK) {
        std::string error = handle ? sqlite3_errmsg(handle) : sqlite3_errstr(code);
        sqlite3_close_v2(handle);
        throw AuthError("sqlite: open(" + path_ + ") failed: " + error);
    }
    sqlite3_busy_timeout(handle, kBusyTimeoutMs);
    handle_ = handle;
}

void SqliteDatabase::query(const std::string& sql, const std::function<bool(const SqlRow&)>& each_row)
{
    open();
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(handle_, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK)
        throw AuthError(std::string("sqlite: query failed: ") + sqlite3_errmsg(handle_) + " (query: " + sql + ")");
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw, sqlite3_finalize);
    if (!statement)
        throw AuthError("sqlite: empty query");
    int columns = sqlite3_column_count(statement.get());
    if (columns < 0 || static_cast<size_t>(columns) > kMaxColumns)
        throw AuthError("sqlite: query returns too many columns");
    SqlRow row(static_cast<size_t>(columns));
    for (int i = 0; i < columns; i++) {
        const char* name = sqlite3_column_name(statement.get(), i);
        row[static_cast<size_t>(i)].name = name ? name : "";
    }
    for (;;) {
        int code = sqlite3_step(statement.get());
        if (code == SQLITE_DONE)
            return;
        if (code != SQLITE_ROW)
            throw AuthError(std::string("sqlite: query failed: ") + sqlite3_errmsg(handle_));
        for (int i = 0; i < columns; i++) {
            SqlColumn& column = row[static_cast<size_t>(i)];
            if (sqlite3_column_type(statement.get(), i) == SQLITE_NULL) {
                column.value.reset();
                continue;
            }
            const unsigned char* text = sqlite3_column_text(statement.get(), i);
            int size = sqlite3_column_bytes(statement.get(), i);
            if (size < 0 || static_cast<size_t>(size) > kMaxValue)
                throw AuthError("sqlite: value of " + column.name + " is too long");
            column.value.emplace(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
        }
        if (!each_row(row))
            return;
    }
}

std::optional<std::string> updated_username(const std::string& current, const std::string& field,
                                            const std::string& value)
{
    if (field == "user")
        return value;
    size_t at = current.find('@');
    if (field == "username") {
        if (value.find('@') != std::string::npos || at == std::string::npos)
            return value;
        return value + current.substr(at);
    }
    if (field == "domain") {
        if (at == std::string::npos)
            return current + "@" + value;
        return current.substr(0, at + 1) + value;
    }
    return std::nullopt;
}

namespace {

std::string query_for(const std::string& templ, const AuthRequest& request)
{
    return expand_auth_variables(templ, request, sqlite_escape);
}

}  // namespace

SqlPassdb::SqlPassdb(std::string_view args)
    : settings_(read_sql_settings(std::string(trim(args)))),
      database_(std::make_unique<SqliteDatabase>(settings_.connect))
{
    default_scheme_ = settings_.default_pass_scheme;
}

std::optional<PassdbEntry> SqlPassdb::lookup(const AuthRequest& request)
{
    std::vector<SqlRow> rows;
    database_->query(query_for(settings_.password_query, request), [&](const SqlRow& row) {
        rows.push_back(row);
        return rows.size() < 2;
    });
    if (rows.empty())
        return std::nullopt;
    const SqlRow& row = rows.front();
    bool has_password_column = false;
    for (const SqlColumn& column : row)
        has_password_column = has_password_column || column.name == "password" || column.name == "password_noscheme";
    if (!has_password_column)
        throw AuthError("Password query must return a field named 'password'");
    if (rows.size() > 1)
        throw AuthError("Password query returned multiple matches");

    PassdbEntry entry;
    std::string user = request.user;
    for (const SqlColumn& column : row) {
        if (column.name.empty() || !column.value)
            continue;
        const std::string& value = *column.value;
        if (column.name == "password") {
            entry.password = value;
        } else if (column.name == "password_noscheme") {
            // A password that may itself start with '{': never read a scheme from it.
            entry.password = value.empty() ? value : "{" + default_scheme_ + "}" + value;
        } else if (auto renamed = updated_username(user, column.name, value)) {
            if (renamed->empty())
                throw AuthError("username attempted to be changed to empty");
            user = *renamed;
        } else {
            entry.fields[column.name] = value;
        }
    }
    if (user != request.user)
        entry.fields["user"] = user;
    return entry;
}

SqlUserdb::SqlUserdb(std::string_view args)
    : settings_(read_sql_settings(std::string(trim(args)))),
      database_(std::make_unique<SqliteDatabase>(settings_.connect))
{
}

UserdbReply SqlUserdb::lookup(const AuthRequest& request)
{
    UserdbReply reply;
    try {
        std::optional<SqlRow> first;
        database_->query(query_for(settings_.user_query, request), [&](const SqlRow& row) {
            first = row;
            return false;
        });
        if (!first) {
            reply.status = UserdbStatus::UserUnknown;
            reply.error = "unknown user";
            return reply;
        }
        std::string user = request.user;
        for (const SqlColumn& column : *first) {
            if (column.name.empty() || !column.value)
                continue;
            if (auto renamed = updated_username(user, column.name, *column.value)) {
                user = *renamed;
                continue;
            }
            reply.fields[column.name] = *column.value;
        }
        if (user != request.user)
            reply.fields["user"] = user;
        reply.status = UserdbStatus::Ok;
    } catch (const std::exception& failure) {
        reply.status = UserdbStatus::InternalFailure;
        reply.error = failure.what();
    }
    return reply;
}

void SqlUserdb::iterate(const AuthRequest& request, const std::function<void(const std::string&)>& each_user)
{
    size_t listed = 0;
    database_->query(query_for(settings_.iterate_query, request), [&](const SqlRow& row) {
        const std::string* user = nullptr;
        const std::string* username = nullptr;
        const std::string* domain = nullptr;
        for (const SqlColumn& column : row) {
            if (!column.value)
                continue;
            if (column.name == "user")
                user = &*column.value;
            else if (column.name == "username")
                username = &*column.value;
            else if (column.name == "domain")
                domain = &*column.value;
        }
        if (user) {
            each_user(*user);
        } else if (username) {
            each_user(domain ? *username + "@" + *domain : *username);
        } else {
            throw AuthError("sql: Iterate query didn't return 'user' field");
        }
        if (++listed >= kMaxListedUsers)
            throw AuthError("sql: Iterate query returned too many users");
        return true;
    });
}

}  // namespace loft::auth
