// Argon2 (RFC 9106) and the BLAKE2b it is built on: Dovecot's ARGON2I/ARGON2ID schemes come
// from libsodium, which this project does not link, and OpenSSL 3.0 has no Argon2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loft::auth {

// BLAKE2b without a key, output_size 1..64 bytes.
std::string blake2b(std::string_view data, size_t output_size);

enum class Argon2Type { D = 0, I = 1, ID = 2 };

struct Argon2Params {
    Argon2Type type = Argon2Type::ID;
    uint32_t version = 0x13;
    uint32_t memory_kib = 65536;  // m
    uint32_t passes = 3;          // t
    uint32_t lanes = 1;           // p
    uint32_t tag_size = 32;
};

// Bounds on parameters read from a passdb: a hostile or mistaken entry must not be able
// to make one verification take gigabytes or minutes.
constexpr uint32_t argon2_max_memory_kib = 1u << 20;  // 1 GiB
constexpr uint32_t argon2_max_passes = 64;
constexpr uint32_t argon2_max_lanes = 64;

// The raw tag. Throws AuthError for parameters out of range.
std::string argon2(const Argon2Params& params, std::string_view password, std::string_view salt,
                   std::string_view secret = {}, std::string_view associated_data = {});

// The PHC string format libsodium writes: "$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>"
// with unpadded base64.
struct Argon2Encoded {
    Argon2Params params;
    std::string salt, hash;
};
std::optional<Argon2Encoded> parse_argon2_string(std::string_view text);
std::string format_argon2_string(const Argon2Encoded& encoded);

}  // namespace loft::auth
