#include "auth/cached_db.h"

#include "auth/password_scheme.h"
#include "auth/sql_db.h"

#include <ctime>
#include <set>

namespace loft::auth {

namespace {

int64_t now_secs()
{
    return static_cast<int64_t>(time(nullptr));
}

// Cached values: length-prefixed strings, so any byte may appear in passwords and fields.
void put(std::string& out, std::string_view text)
{
    out += std::to_string(text.size());
    out += ':';
    out += text;
}

std::optional<std::string> take(std::string_view& in)
{
    size_t colon = in.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 10)
        return std::nullopt;
    size_t length = 0;
    for (char c : in.substr(0, colon)) {
        if (c < '0' || c > '9')
            return std::nullopt;
        length = length * 10 + static_cast<size_t>(c - '0');
    }
    if (in.size() - colon - 1 < length)
        return std::nullopt;
    std::string text(in.substr(colon + 1, length));
    in.remove_prefix(colon + 1 + length);
    return text;
}

std::string encode_fields(const FieldMap& fields)
{
    std::string out;
    for (const auto& [key, value] : fields) {
        put(out, key);
        put(out, value);
    }
    return out;
}

std::optional<FieldMap> decode_fields(std::string_view in)
{
    FieldMap fields;
    while (!in.empty()) {
        auto key = take(in);
        auto value = key ? take(in) : std::nullopt;
        if (!value)
            return std::nullopt;
        fields[*key] = *value;
    }
    return fields;
}

// Dovecot's "key=value\tkey=value" shape of cached fields in debug lines.
std::string fields_text(const FieldMap& fields)
{
    std::string out;
    for (const auto& [key, value] : fields) {
        if (!out.empty())
            out += '\t';
        out += key + "=" + value;
    }
    return out;
}

}  // namespace

std::string cache_key_template(std::string_view text)
{
    std::vector<std::string> variables;
    std::set<std::string> seen;
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] != '%' || i + 1 >= text.size())
            continue;
        size_t start = i++;
        if (text[i] == '%')
            continue;
        // Modifiers (upper-case letters, digits, '-', '.') come before the variable's
        // lower-case letter or {name}.
        while (i < text.size() && ((text[i] >= 'A' && text[i] <= 'Z') || (text[i] >= '0' && text[i] <= '9') ||
                                   text[i] == '-' || text[i] == '.'))
            i++;
        if (i >= text.size())
            break;
        if (text[i] == '{') {
            size_t close = text.find('}', i);
            if (close == std::string_view::npos)
                break;
            i = close;
        }
        std::string variable(text.substr(start, i - start + 1));
        if (seen.insert(variable).second)
            variables.push_back(variable);
    }
    std::string key;
    for (const std::string& variable : variables) {
        if (!key.empty())
            key += '\t';
        key += variable;
    }
    return key;
}

std::optional<std::string> default_passdb_cache_key(std::string_view driver, std::string_view args)
{
    if (driver == "passwd" || driver == "shadow")
        return std::string("%u");
    if (driver == "sql")
        return cache_key_template(read_sql_settings(std::string(args)).password_query);
    return std::nullopt;
}

std::optional<std::string> default_userdb_cache_key(std::string_view driver, std::string_view args)
{
    if (driver == "passwd")
        return std::string("%u");
    if (driver == "sql")
        return cache_key_template(read_sql_settings(std::string(args)).user_query);
    return std::nullopt;
}

std::string db_log_prefix(std::string_view driver, const AuthRequest& request)
{
    std::string prefix = std::string(driver) + "(" + request.user + "," + request.remote_ip;
    if (!request.session.empty())
        prefix += ",<" + request.session + ">";
    return prefix + "): ";
}

CachedPassdb::CachedPassdb(std::unique_ptr<Passdb> inner, std::shared_ptr<AuthCache> cache, std::string key_template,
                           std::string id, const Logger* log, bool debug_passwords)
    : inner_(std::move(inner)), cache_(std::move(cache)), key_template_(std::move(key_template)), id_(std::move(id)),
      log_(log), debug_passwords_(debug_passwords)
{
    default_scheme_ = inner_->default_scheme_;
}

std::string CachedPassdb::key_for(const AuthRequest& request) const
{
    return "P" + id_ + "\t" + expand_auth_variables(key_template_, request);
}

std::optional<std::optional<PassdbEntry>> CachedPassdb::cached(const AuthRequest& request, const std::string& key)
{
    if (auto hit = cache_->lookup(key, now_secs())) {
        if (hit->negative) {
            if (log_)
                log_->debug(db_log_prefix(driver(), request) + "cache hit: ");
            return std::optional<PassdbEntry>();
        }
        std::string_view in = hit->value;
        auto password = take(in);
        auto fields = password ? decode_fields(in) : std::nullopt;
        if (fields) {
            if (log_) {
                std::string shown = debug_passwords_ || password->empty() ? *password : "<hidden>";
                std::string rest = fields_text(*fields);
                log_->debug(db_log_prefix(driver(), request) + "cache hit: " + shown + (rest.empty() ? "" : "\t") +
                            rest);
            }
            return std::optional<PassdbEntry>(PassdbEntry{std::move(*password), std::move(*fields)});
        }
        cache_->remove(key);
    }
    if (log_)
        log_->debug(db_log_prefix(driver(), request) + "cache miss");
    return std::nullopt;
}

void CachedPassdb::store(const std::string& key, const std::optional<PassdbEntry>& entry)
{
    if (!entry) {
        cache_->insert_negative(key, now_secs());
        return;
    }
    std::string value;
    put(value, entry->password);
    value += encode_fields(entry->fields);
    cache_->insert(key, std::move(value), now_secs());
}

std::optional<PassdbEntry> CachedPassdb::lookup(const AuthRequest& request)
{
    std::string key = key_for(request);
    last_from_cache_ = false;
    if (auto hit = cached(request, key)) {
        last_from_cache_ = true;
        return std::move(*hit);
    }
    std::optional<PassdbEntry> entry = inner_->lookup(request);
    store(key, entry);
    return entry;
}

PassdbReply CachedPassdb::verify_plain(const AuthRequest& request, std::string_view password)
{
    PassdbReply reply = Passdb::verify_plain(request, password);
    if (reply.status == PassdbStatus::PasswordMismatch && last_from_cache_) {
        cache_->remove(key_for(request));
        reply = Passdb::verify_plain(request, password);
    }
    return reply;
}

Task<PassdbReply> CachedPassdb::verify_plain_async(const AuthRequest& request, std::string password)
{
    if (inner_->looks_up_locally())
        co_return verify_plain(request, password);
    std::string key = key_for(request);
    if (auto hit = cached(request, key)) {
        PassdbReply from_cache = verify_entry(request, *hit, password);
        if (from_cache.status != PassdbStatus::PasswordMismatch)
            co_return from_cache;
        // The password may have changed since it was cached: ask the passdb.
        cache_->remove(key);
        if (log_)
            log_->debug(db_log_prefix(driver(), request) + "cache miss");
    }
    PassdbReply reply = co_await inner_->verify_plain_async(request, password);
    if (reply.status == PassdbStatus::UserUnknown) {
        store(key, std::nullopt);
    } else if (reply.status == PassdbStatus::Ok) {
        PassdbEntry entry;
        entry.password = hash_password("SSHA512", password);
        entry.fields = reply.fields;
        store(key, entry);
    }
    co_return reply;
}

Task<PassdbReply> CachedPassdb::lookup_credentials_async(const AuthRequest& request, std::string scheme)
{
    if (inner_->looks_up_locally())
        co_return lookup_credentials(request, scheme);
    std::string key = key_for(request);
    if (auto hit = cached(request, key)) {
        PassdbReply from_cache = credentials_of_entry(request, *hit, scheme);
        if (from_cache.status != PassdbStatus::SchemeNotAvailable)
            co_return from_cache;
    }
    PassdbReply reply = co_await inner_->lookup_credentials_async(request, scheme);
    if (reply.status == PassdbStatus::UserUnknown)
        store(key, std::nullopt);
    co_return reply;
}

CachedUserdb::CachedUserdb(std::unique_ptr<Userdb> inner, std::shared_ptr<AuthCache> cache, std::string key_template,
                           std::string id, const Logger* log)
    : UserdbWrapper(std::move(inner)), cache_(std::move(cache)), key_template_(std::move(key_template)),
      id_(std::move(id)), log_(log)
{
}

std::string CachedUserdb::key_for(const AuthRequest& request) const
{
    return "U" + id_ + "\t" + expand_auth_variables(key_template_, request);
}

std::optional<UserdbReply> CachedUserdb::cached(const AuthRequest& request, const std::string& key)
{
    std::string prefix = log_ ? db_log_prefix(driver(), request) : std::string();
    if (auto hit = cache_->lookup(key, now_secs())) {
        if (hit->negative) {
            if (log_)
                log_->debug(prefix + "userdb cache hit: ");
            return UserdbReply{UserdbStatus::UserUnknown, {}, {}};
        }
        if (auto fields = decode_fields(hit->value)) {
            if (log_)
                log_->debug(prefix + "userdb cache hit: " + fields_text(*fields));
            return UserdbReply{UserdbStatus::Ok, std::move(*fields), {}};
        }
        cache_->remove(key);
    }
    if (log_)
        log_->debug(prefix + "userdb cache miss");
    return std::nullopt;
}

void CachedUserdb::store(const std::string& key, const UserdbReply& reply)
{
    if (reply.status == UserdbStatus::Ok)
        cache_->insert(key, encode_fields(reply.fields), now_secs());
    else if (reply.status == UserdbStatus::UserUnknown)
        cache_->insert_negative(key, now_secs());
}

UserdbReply CachedUserdb::lookup(const AuthRequest& request)
{
    std::string key = key_for(request);
    if (auto hit = cached(request, key))
        return std::move(*hit);
    UserdbReply reply = inner_->lookup(request);
    store(key, reply);
    return reply;
}

Task<UserdbReply> CachedUserdb::lookup_async(const AuthRequest& request)
{
    std::string key = key_for(request);
    if (auto hit = cached(request, key))
        co_return std::move(*hit);
    UserdbReply reply = co_await inner_->lookup_async(request);
    store(key, reply);
    co_return reply;
}

}  // namespace loft::auth
