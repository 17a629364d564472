#include "auth/passdb.h"

#include "auth/errors.h"
#include "auth/password_scheme.h"
#include "lib/strings.h"

namespace loft::auth {

namespace {

PassdbReply reply(PassdbStatus status, std::string error = {})
{
    PassdbReply out;
    out.status = status;
    out.error = std::move(error);
    return out;
}

}  // namespace

bool field_is_true(const FieldMap& fields, const std::string& key)
{
    auto found = fields.find(key);
    if (found == fields.end())
        return false;
    const std::string& value = found->second;
    return value.empty() || iequals(value, "yes") || iequals(value, "y") || value == "1";
}

Task<UserdbReply> Userdb::lookup_async(const AuthRequest& request)
{
    co_return lookup(request);
}

Task<PassdbReply> Passdb::verify_plain_async(const AuthRequest& request, std::string password)
{
    co_return verify_plain(request, password);
}

Task<PassdbReply> Passdb::lookup_credentials_async(const AuthRequest& request, std::string scheme)
{
    co_return lookup_credentials(request, scheme);
}

void Userdb::iterate(const AuthRequest&, const std::function<void(const std::string&)>&)
{
    throw AuthError("userdb " + std::string(driver()) + " cannot list users");
}

PassdbReply Passdb::verify_plain(const AuthRequest& request, std::string_view password)
{
    std::optional<PassdbEntry> entry;
    try {
        entry = lookup(request);
    } catch (const std::exception& e) {
        return reply(PassdbStatus::InternalFailure, e.what());
    }
    return verify_entry(request, entry, password);
}

PassdbReply Passdb::verify_entry(const AuthRequest& request, const std::optional<PassdbEntry>& entry,
                                 std::string_view password) const
{
    if (!entry)
        return reply(PassdbStatus::UserUnknown, "unknown user");

    PassdbReply out;
    out.fields = entry->fields;
    if (field_is_true(entry->fields, "nopassword")) {
        out.status = PassdbStatus::Ok;
        return out;
    }
    if (entry->password.empty()) {
        out.status = PassdbStatus::PasswordMismatch;
        out.error = "No password in passdb (and no nopassword field)";
        return out;
    }
    VerifyResult result = verify_password(entry->password, password, default_scheme_, request.user);
    if (result.ok) {
        out.status = PassdbStatus::Ok;
    } else if (result.error.empty()) {
        out.status = PassdbStatus::PasswordMismatch;
        out.error = "Password mismatch";
    } else {
        out.status = PassdbStatus::InternalFailure;
        out.error = "Invalid password in passdb: " + result.error;
    }
    return out;
}

PassdbReply Passdb::lookup_credentials(const AuthRequest& request, std::string_view scheme)
{
    std::optional<PassdbEntry> entry;
    try {
        entry = lookup(request);
    } catch (const std::exception& e) {
        return reply(PassdbStatus::InternalFailure, e.what());
    }
    return credentials_of_entry(request, entry, scheme);
}

PassdbReply Passdb::credentials_of_entry(const AuthRequest& request, const std::optional<PassdbEntry>& entry,
                                         std::string_view scheme) const
{
    if (!entry)
        return reply(PassdbStatus::UserUnknown, "unknown user");

    PassdbReply out;
    out.fields = entry->fields;
    if (scheme.empty()) {
        out.status = PassdbStatus::Ok;
        return out;
    }
    if (entry->password.empty()) {
        out.status = PassdbStatus::SchemeNotAvailable;
        out.error = "No password in passdb";
        return out;
    }
    CredentialsResult credentials =
        credentials_for_scheme(entry->password, scheme, default_scheme_, request.user);
    if (!credentials.credentials) {
        out.status = PassdbStatus::SchemeNotAvailable;
        out.error = credentials.error;
        return out;
    }
    out.status = PassdbStatus::Ok;
    out.credentials = std::move(*credentials.credentials);
    return out;
}

}  // namespace loft::auth
