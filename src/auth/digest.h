// Hashes, HMAC, PBKDF2 and randomness from OpenSSL, behind a small interface the schemes share.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace loft::auth {

enum class HashAlgorithm { Md5, Sha1, Sha256, Sha512 };

size_t digest_size(HashAlgorithm algorithm);

// Digest of the concatenation of the parts (salted schemes hash password then salt).
std::string digest(HashAlgorithm algorithm, std::string_view data);
std::string digest(HashAlgorithm algorithm, std::string_view first, std::string_view second);

std::string hmac(HashAlgorithm algorithm, std::string_view key, std::string_view data);

std::string pbkdf2(HashAlgorithm algorithm, std::string_view password, std::string_view salt,
                   unsigned iterations, size_t output_size);

// Fresh bytes from the OpenSSL CSPRNG; throws AuthError if it cannot deliver.
std::string random_bytes(size_t count);

// Equal-length inputs are compared in time independent of their contents. Lengths are
// not secret (they follow from the scheme), so a length mismatch returns at once.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace loft::auth
