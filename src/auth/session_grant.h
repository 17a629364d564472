// The session vouching token: loft-auth signs who logged in; loft-storage and loftd verify it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loft::auth {

struct SessionGrant {
    std::string user;
    uint32_t uid = 0, gid = 0;
    std::string home;
    std::string mail_location;  // unexpanded userdb/global value
    // "imap" = mailbox access, "lmtp" = deliver only. Verifiers must compare it with the
    // scope they need; an unknown scope grants nothing.
    std::string scope;
    std::string session_id;
    int64_t expires = 0;  // unix seconds; the grant is valid while now < expires

    bool operator==(const SessionGrant&) const = default;
};

// Keys shorter than this are refused: loftd hands out 32 random bytes.
constexpr size_t min_grant_key_size = 16;
// Every text field is bounded so a token stays small enough to pass around freely.
constexpr size_t max_grant_field_size = 4096;

// 32 fresh random bytes, for loftd to hand to loft-auth and the verifiers.
std::string make_grant_key();

// An opaque printable token (no spaces or control characters), HMAC-SHA256 signed.
// Throws AuthError for a short key or an oversized field.
std::string sign_grant(const SessionGrant& grant, std::string_view key);
// nullopt when the token is forged, tampered with, expired (now >= expires) or malformed.
// Throws AuthError only for a key that is too short (a setup error, not a bad token).
std::optional<SessionGrant> verify_grant(std::string_view token, std::string_view key,
                                         int64_t now);

}  // namespace loft::auth
