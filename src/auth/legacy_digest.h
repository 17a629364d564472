// MD4 and MD5 with access to MD5's inner state: what CRAM-MD5's stored HMAC contexts and
// PLAIN-MD4 need, and what OpenSSL 3 no longer exposes (MD4 is in its legacy provider).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace loft::auth {

std::string md4_digest(std::string_view data);

// MD5 that can be stopped at a block boundary and resumed from its four state words.
class Md5 {
public:
    using State = std::array<uint32_t, 4>;

    Md5();
    // Resumes a hash whose first block_count * 64 bytes left it in state.
    Md5(const State& state, uint64_t block_count);

    void update(std::string_view data);
    std::string finish();  // 16 bytes; the object is spent afterwards
    // Only meaningful when the bytes fed so far are a whole number of blocks.
    const State& state() const { return state_; }

private:
    void compress(const unsigned char* block);

    State state_;
    uint64_t length_ = 0;
    unsigned char buffer_[64];
    size_t buffered_ = 0;
};

// Dovecot's CRAM-MD5 scheme value: the MD5 states after the HMAC outer and inner pad
// blocks, each as four little-endian words (32 bytes in all).
std::string cram_md5_context(std::string_view password);
// HMAC-MD5(password, challenge) computed from such a context; nullopt-free: the context
// must be 32 bytes (throws AuthError otherwise).
std::string cram_md5_hmac(std::string_view context, std::string_view challenge);

}  // namespace loft::auth
