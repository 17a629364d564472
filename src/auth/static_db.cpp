#include "auth/static_db.h"

#include "auth/passwd_file_db.h"
#include "lib/strings.h"

namespace loft::auth {

FieldMap parse_static_args(std::string_view args)
{
    FieldMap fields;
    for (const std::string& word : split_words(args)) {
        size_t equals = word.find('=');
        if (equals == std::string::npos)
            fields[word] = "";
        else
            fields[word.substr(0, equals)] = word.substr(equals + 1);
    }
    return fields;
}

StaticPassdb::StaticPassdb(std::string_view args) : fields_(parse_static_args(args))
{
    if (auto found = fields_.find("password"); found != fields_.end()) {
        password_ = found->second;
        fields_.erase(found);
    }
    // A static password is normally given in plaintext.
    default_scheme_ = "PLAIN";
}

std::optional<PassdbEntry> StaticPassdb::lookup(const AuthRequest& request)
{
    std::string password =
        password_.find('%') == std::string::npos ? password_ : expand_auth_variables(password_, request);
    return PassdbEntry{password, expand_fields(fields_, request)};
}

StaticUserdb::StaticUserdb(std::string_view args) : fields_(parse_static_args(args))
{
    allow_all_users_ = field_is_true(fields_, "allow_all_users");
    fields_.erase("allow_all_users");
}

UserdbReply StaticUserdb::lookup(const AuthRequest& request)
{
    UserdbReply reply;
    try {
        reply.fields = expand_fields(fields_, request);
        reply.status = UserdbStatus::Ok;
    } catch (const std::exception& e) {
        reply.status = UserdbStatus::InternalFailure;
        reply.error = e.what();
    }
    return reply;
}

}  // namespace loft::auth
