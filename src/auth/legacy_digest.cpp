#include "auth/legacy_digest.h"

#include "auth/errors.h"

#include <bit>
#include <cstring>

namespace loft::auth {

namespace {

uint32_t load_le32(const unsigned char* p)
{
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

void store_le32(std::string& out, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        out += static_cast<char>(value >> (8 * i) & 0xff);
}

// The MD4/MD5 padding: 0x80, zeros, then the bit length as 64-bit little-endian.
std::string md_padding(uint64_t length)
{
    std::string padding(1, '\x80');
    size_t used = (length + 1) % 64;
    padding.append(used <= 56 ? 56 - used : 120 - used, '\0');
    uint64_t bits = length * 8;
    for (int i = 0; i < 8; i++)
        padding += static_cast<char>(bits >> (8 * i) & 0xff);
    return padding;
}

void md4_compress(uint32_t state[4], const unsigned char* block)
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = load_le32(block + 4 * i);
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    auto f = [](uint32_t x1, uint32_t y, uint32_t z) { return (x1 & y) | (~x1 & z); };
    auto g = [](uint32_t x1, uint32_t y, uint32_t z) { return (x1 & y) | (x1 & z) | (y & z); };
    auto h = [](uint32_t x1, uint32_t y, uint32_t z) { return x1 ^ y ^ z; };
    static constexpr int r1[4] = {3, 7, 11, 19}, r2[4] = {3, 5, 9, 13}, r3[4] = {3, 9, 11, 15};
    for (int i = 0; i < 16; i++) {
        uint32_t t = std::rotl(a + f(b, c, d) + x[i], r1[i % 4]);
        a = d, d = c, c = b, b = t;
    }
    for (int i = 0; i < 16; i++) {
        int k = (i % 4) * 4 + i / 4;
        uint32_t t = std::rotl(a + g(b, c, d) + x[k] + 0x5a827999u, r2[i % 4]);
        a = d, d = c, c = b, b = t;
    }
    static constexpr int order3[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
    for (int i = 0; i < 16; i++) {
        uint32_t t = std::rotl(a + h(b, c, d) + x[order3[i]] + 0x6ed9eba1u, r3[i % 4]);
        a = d, d = c, c = b, b = t;
    }
    state[0] += a, state[1] += b, state[2] += c, state[3] += d;
}

constexpr uint32_t md5_sines[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};
constexpr int md5_shifts[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

constexpr Md5::State md5_initial = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

}  // namespace

std::string md4_digest(std::string_view data)
{
    uint32_t state[4] = {md5_initial[0], md5_initial[1], md5_initial[2], md5_initial[3]};
    std::string message(data);
    message += md_padding(data.size());
    for (size_t offset = 0; offset < message.size(); offset += 64)
        md4_compress(state, reinterpret_cast<const unsigned char*>(message.data()) + offset);
    std::string out;
    for (uint32_t word : state)
        store_le32(out, word);
    return out;
}

Md5::Md5() : state_(md5_initial) {}

Md5::Md5(const State& state, uint64_t block_count) : state_(state), length_(block_count * 64) {}

void Md5::compress(const unsigned char* block)
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = load_le32(block + 4 * i);
    uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
    for (int i = 0; i < 64; i++) {
        int round = i / 16;
        uint32_t f;
        int k;
        switch (round) {
        case 0:
            f = (b & c) | (~b & d);
            k = i;
            break;
        case 1:
            f = (d & b) | (~d & c);
            k = (5 * i + 1) % 16;
            break;
        case 2:
            f = b ^ c ^ d;
            k = (3 * i + 5) % 16;
            break;
        default:
            f = c ^ (b | ~d);
            k = (7 * i) % 16;
            break;
        }
        uint32_t t = d;
        d = c;
        c = b;
        b = b + std::rotl(a + f + md5_sines[i] + x[k], md5_shifts[round][i % 4]);
        a = t;
    }
    state_[0] += a, state_[1] += b, state_[2] += c, state_[3] += d;
}

void Md5::update(std::string_view data)
{
    length_ += data.size();
    auto bytes = reinterpret_cast<const unsigned char*>(data.data());
    size_t left = data.size();
    if (buffered_ > 0) {
        size_t take = std::min(left, 64 - buffered_);
        std::memcpy(buffer_ + buffered_, bytes, take);
        buffered_ += take, bytes += take, left -= take;
        if (buffered_ < 64)
            return;
        compress(buffer_);
        buffered_ = 0;
    }
    for (; left >= 64; bytes += 64, left -= 64)
        compress(bytes);
    std::memcpy(buffer_, bytes, left);
    buffered_ = left;
}

std::string Md5::finish()
{
    std::string padding = md_padding(length_);
    update(padding);
    std::string out;
    for (uint32_t word : state_)
        store_le32(out, word);
    return out;
}

std::string cram_md5_context(std::string_view password)
{
    std::string key(password);
    if (key.size() > 64) {
        Md5 long_key;
        long_key.update(key);
        key = long_key.finish();
    }
    key.resize(64, '\0');
    std::string inner_pad = key, outer_pad = key;
    for (size_t i = 0; i < 64; i++) {
        inner_pad[i] = static_cast<char>(inner_pad[i] ^ 0x36);
        outer_pad[i] = static_cast<char>(outer_pad[i] ^ 0x5c);
    }
    Md5 inner, outer;
    inner.update(inner_pad);
    outer.update(outer_pad);
    std::string context;
    for (uint32_t word : outer.state())
        store_le32(context, word);
    for (uint32_t word : inner.state())
        store_le32(context, word);
    return context;
}

std::string cram_md5_hmac(std::string_view context, std::string_view challenge)
{
    if (context.size() != 32)
        throw AuthError("CRAM-MD5 context must be 32 bytes");
    auto bytes = reinterpret_cast<const unsigned char*>(context.data());
    Md5::State outer_state, inner_state;
    for (int i = 0; i < 4; i++) {
        outer_state[i] = load_le32(bytes + 4 * i);
        inner_state[i] = load_le32(bytes + 16 + 4 * i);
    }
    Md5 inner(inner_state, 1);
    inner.update(challenge);
    Md5 outer(outer_state, 1);
    outer.update(inner.finish());
    return outer.finish();
}

}  // namespace loft::auth
