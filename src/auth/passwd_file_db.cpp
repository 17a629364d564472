#include "auth/passwd_file_db.h"

#include "auth/errors.h"

namespace loft::auth {

namespace {

// Cached files for per-domain paths; beyond this many the cache starts over.
constexpr size_t max_cached_files = 1000;

// Variables in a file path must not walk the tree: values are cut at '/', as Dovecot
// does, and a resulting "." or ".." path segment makes the user unknown.
AuthRequest path_safe_request(const AuthRequest& request)
{
    AuthRequest safe = request;
    for (std::string* value : {&safe.user, &safe.service, &safe.home, &safe.local_ip, &safe.remote_ip})
        value->erase(std::min(value->find('/'), value->size()));
    return safe;
}

bool has_dot_segment(std::string_view path)
{
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string_view::npos)
            end = path.size();
        std::string_view segment = path.substr(start, end - start);
        if (segment == "." || segment == "..")
            return true;
        start = end + 1;
    }
    return false;
}

}  // namespace

FieldMap expand_fields(const FieldMap& fields, const AuthRequest& request)
{
    FieldMap out;
    for (const auto& [key, value] : fields)
        out[key] = value.find('%') == std::string::npos ? value : expand_auth_variables(value, request);
    return out;
}

PasswdFileSource::PasswdFileSource(std::string_view args)
    : args_(parse_passwd_file_args(args)),
      path_has_variables_(args_.path.find('%') != std::string::npos)
{
}

std::optional<UserRecord> PasswdFileSource::find(const AuthRequest& request)
{
    std::string path = args_.path;
    if (path_has_variables_) {
        path = expand_auth_variables(args_.path, path_safe_request(request));
        if (has_dot_segment(path))
            return std::nullopt;
    }
    auto found = files_.find(path);
    if (found == files_.end()) {
        if (files_.size() >= max_cached_files)
            files_.clear();
        found = files_.emplace(path, std::make_unique<PasswdFile>(path)).first;
    }
    std::string key = expand_auth_variables(args_.username_format, request);
    try {
        return found->second->lookup(key);
    } catch (const PasswdFileMissing&) {
        // A per-domain file that does not exist means a domain we do not serve.
        if (path_has_variables_)
            return std::nullopt;
        throw;
    }
}

std::vector<std::string> PasswdFileSource::users()
{
    if (path_has_variables_)
        throw AuthError("passwd-file: cannot list users of " + args_.path + " (the path has variables)");
    auto found = files_.find(args_.path);
    if (found == files_.end())
        found = files_.emplace(args_.path, std::make_unique<PasswdFile>(args_.path)).first;
    return found->second->users();
}

PasswdFilePassdb::PasswdFilePassdb(std::string_view args) : source_(args)
{
    default_scheme_ = source_.args().scheme;
}

std::optional<PassdbEntry> PasswdFilePassdb::lookup(const AuthRequest& request)
{
    std::optional<UserRecord> record = source_.find(request);
    if (!record)
        return std::nullopt;
    return PassdbEntry{record->password, expand_fields(record->extra, request)};
}

PasswdFileUserdb::PasswdFileUserdb(std::string_view args) : source_(args) {}

UserdbReply PasswdFileUserdb::lookup(const AuthRequest& request)
{
    UserdbReply reply;
    try {
        std::optional<UserRecord> record = source_.find(request);
        if (!record) {
            reply.status = UserdbStatus::UserUnknown;
            reply.error = "unknown user";
            return reply;
        }
        FieldMap fields;
        if (record->uid)
            fields["uid"] = std::to_string(*record->uid);
        if (record->gid)
            fields["gid"] = std::to_string(*record->gid);
        if (!record->home.empty())
            fields["home"] = record->home;
        for (const auto& [key, value] : record->extra) {
            if (key.starts_with("userdb_") && key.size() > 7)
                fields[key.substr(7)] = value;
        }
        reply.fields = expand_fields(fields, request);
        reply.status = UserdbStatus::Ok;
    } catch (const std::exception& e) {
        reply.status = UserdbStatus::InternalFailure;
        reply.error = e.what();
    }
    return reply;
}

void PasswdFileUserdb::iterate(const AuthRequest&, const std::function<void(const std::string&)>& each_user)
{
    for (const std::string& user : source_.users())
        each_user(user);
}

}  // namespace loft::auth
