#include "auth/session_grant.h"

#include "auth/digest.h"
#include "auth/encoding.h"
#include "auth/errors.h"
#include "lib/strings.h"

#include <limits>
#include <vector>

namespace loft::auth {

namespace {

// Bumped whenever the field list changes, so old tokens stop verifying instead of
// being read with the wrong meaning.
constexpr std::string_view payload_tag = "loft-grant-1";
constexpr size_t field_count = 8;
constexpr size_t max_token_size = 8 * max_grant_field_size;

void check_key(std::string_view key)
{
    if (key.size() < min_grant_key_size)
        throw AuthError("session grant key must be at least " +
                        std::to_string(min_grant_key_size) + " bytes");
}

// Each field as "<decimal length>:<bytes>", so no value can be confused with a separator.
void append_field(std::string& out, std::string_view value)
{
    if (value.size() > max_grant_field_size)
        throw AuthError("session grant field too long");
    out += std::to_string(value.size());
    out += ':';
    out += value;
}

std::string canonical_payload(const SessionGrant& grant)
{
    std::string payload(payload_tag);
    append_field(payload, grant.user);
    append_field(payload, std::to_string(grant.uid));
    append_field(payload, std::to_string(grant.gid));
    append_field(payload, grant.home);
    append_field(payload, grant.mail_location);
    append_field(payload, grant.scope);
    append_field(payload, grant.session_id);
    append_field(payload, std::to_string(grant.expires));
    return payload;
}

std::optional<std::vector<std::string_view>> parse_payload(std::string_view payload)
{
    if (!payload.starts_with(payload_tag))
        return std::nullopt;
    payload.remove_prefix(payload_tag.size());
    std::vector<std::string_view> fields;
    while (!payload.empty()) {
        if (fields.size() == field_count)
            return std::nullopt;
        size_t colon = payload.find(':');
        // At most 4 digits: fields never exceed max_grant_field_size.
        if (colon == std::string_view::npos || colon == 0 || colon > 4)
            return std::nullopt;
        std::optional<uint64_t> length = parse_uint(payload.substr(0, colon));
        if (!length || *length > max_grant_field_size || payload.size() - colon - 1 < *length)
            return std::nullopt;
        fields.push_back(payload.substr(colon + 1, *length));
        payload.remove_prefix(colon + 1 + *length);
    }
    if (fields.size() != field_count)
        return std::nullopt;
    return fields;
}

std::optional<uint32_t> parse_u32(std::string_view text)
{
    std::optional<uint64_t> value = parse_uint(text);
    if (!value || *value > std::numeric_limits<uint32_t>::max())
        return std::nullopt;
    return static_cast<uint32_t>(*value);
}

std::optional<int64_t> parse_i64(std::string_view text)
{
    bool negative = text.starts_with('-');
    if (negative)
        text.remove_prefix(1);
    std::optional<uint64_t> magnitude = parse_uint(text);
    if (!magnitude || *magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return std::nullopt;
    int64_t value = static_cast<int64_t>(*magnitude);
    return negative ? -value : value;
}

std::string mac(std::string_view key, std::string_view payload)
{
    return hmac(HashAlgorithm::Sha256, key, payload);
}

}  // namespace

std::string make_grant_key()
{
    return random_bytes(32);
}

std::string sign_grant(const SessionGrant& grant, std::string_view key)
{
    check_key(key);
    std::string payload = canonical_payload(grant);
    return base64_encode(payload) + "." + base64_encode(mac(key, payload));
}

std::optional<SessionGrant> verify_grant(std::string_view token, std::string_view key, int64_t now)
{
    check_key(key);
    if (token.size() > max_token_size)
        return std::nullopt;
    size_t dot = token.find('.');
    if (dot == std::string_view::npos)
        return std::nullopt;
    std::optional<std::string> payload = base64_decode(token.substr(0, dot));
    std::optional<std::string> signature = base64_decode(token.substr(dot + 1));
    if (!payload || !signature)
        return std::nullopt;
    // Only the exact text sign_grant() makes is accepted: no second spelling of a token
    // (missing padding, stray low bits) verifies.
    if (base64_encode(*payload).size() != dot || base64_encode(*payload) != token.substr(0, dot) ||
        base64_encode(*signature) != token.substr(dot + 1))
        return std::nullopt;
    // Authenticate before interpreting anything in the payload.
    if (!constant_time_equals(mac(key, *payload), *signature))
        return std::nullopt;

    auto fields = parse_payload(*payload);
    if (!fields)
        return std::nullopt;
    auto uid = parse_u32((*fields)[1]);
    auto gid = parse_u32((*fields)[2]);
    auto expires = parse_i64((*fields)[7]);
    if (!uid || !gid || !expires)
        return std::nullopt;
    if (now >= *expires)
        return std::nullopt;
    SessionGrant grant;
    grant.user = (*fields)[0];
    grant.uid = *uid;
    grant.gid = *gid;
    grant.home = (*fields)[3];
    grant.mail_location = (*fields)[4];
    grant.scope = (*fields)[5];
    grant.session_id = (*fields)[6];
    grant.expires = *expires;
    return grant;
}

}  // namespace loft::auth
