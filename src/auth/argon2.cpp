#include "auth/argon2.h"

#include "auth/encoding.h"
#include "auth/errors.h"
#include "lib/strings.h"

#include <array>
#include <bit>
#include <cstring>
#include <vector>

namespace loft::auth {

namespace {

// ---- BLAKE2b (RFC 7693) ----

constexpr uint64_t blake2b_iv[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

constexpr uint8_t blake2b_sigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

uint64_t load_le64(const unsigned char* p)
{
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--)
        value = value << 8 | p[i];
    return value;
}

void append_le32(std::string& out, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        out += static_cast<char>(value >> (8 * i) & 0xff);
}

void append_le64(std::string& out, uint64_t value)
{
    for (int i = 0; i < 8; i++)
        out += static_cast<char>(value >> (8 * i) & 0xff);
}

void blake2b_compress(uint64_t h[8], const unsigned char* block, uint64_t counter, bool last)
{
    uint64_t m[16], v[16];
    for (int i = 0; i < 16; i++)
        m[i] = load_le64(block + 8 * i);
    for (int i = 0; i < 8; i++)
        v[i] = h[i], v[i + 8] = blake2b_iv[i];
    v[12] ^= counter;
    if (last)
        v[14] = ~v[14];
    auto g = [&](int a, int b, int c, int d, uint64_t x, uint64_t y) {
        v[a] = v[a] + v[b] + x;
        v[d] = std::rotr(v[d] ^ v[a], 32);
        v[c] = v[c] + v[d];
        v[b] = std::rotr(v[b] ^ v[c], 24);
        v[a] = v[a] + v[b] + y;
        v[d] = std::rotr(v[d] ^ v[a], 16);
        v[c] = v[c] + v[d];
        v[b] = std::rotr(v[b] ^ v[c], 63);
    };
    for (const auto& s : blake2b_sigma) {
        g(0, 4, 8, 12, m[s[0]], m[s[1]]);
        g(1, 5, 9, 13, m[s[2]], m[s[3]]);
        g(2, 6, 10, 14, m[s[4]], m[s[5]]);
        g(3, 7, 11, 15, m[s[6]], m[s[7]]);
        g(0, 5, 10, 15, m[s[8]], m[s[9]]);
        g(1, 6, 11, 12, m[s[10]], m[s[11]]);
        g(2, 7, 8, 13, m[s[12]], m[s[13]]);
        g(3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for (int i = 0; i < 8; i++)
        h[i] ^= v[i] ^ v[i + 8];
}

// ---- Argon2 (RFC 9106) ----

constexpr size_t block_words = 128;  // 1 KiB
using Block = std::array<uint64_t, block_words>;

// H' of RFC 9106 section 3.3: BLAKE2b stretched to any output length.
std::string variable_hash(std::string_view input, uint32_t size)
{
    std::string prefixed;
    append_le32(prefixed, size);
    prefixed += input;
    if (size <= 64)
        return blake2b(prefixed, size);
    std::string out;
    std::string v = blake2b(prefixed, 64);
    uint32_t whole = (size + 31) / 32 - 2;
    for (uint32_t i = 0; i < whole; i++) {
        out += v.substr(0, 32);
        if (i + 1 < whole)
            v = blake2b(v, 64);
    }
    out += blake2b(v, size - 32 * whole);
    return out;
}

uint64_t blamka(uint64_t x, uint64_t y)
{
    return x + y + 2 * (x & 0xffffffffULL) * (y & 0xffffffffULL);
}

inline void mix(uint64_t& a, uint64_t& b, uint64_t& c, uint64_t& d)
{
    a = blamka(a, b);
    d = std::rotr(d ^ a, 32);
    c = blamka(c, d);
    b = std::rotr(b ^ c, 24);
    a = blamka(a, b);
    d = std::rotr(d ^ a, 16);
    c = blamka(c, d);
    b = std::rotr(b ^ c, 63);
}

// The permutation P over sixteen words; at(k) names the k-th of them, so the same code
// runs over a row (consecutive words) and a column (pairs of words 16 apart).
template <typename At>
inline void permute(At at)
{
    mix(at(0), at(4), at(8), at(12));
    mix(at(1), at(5), at(9), at(13));
    mix(at(2), at(6), at(10), at(14));
    mix(at(3), at(7), at(11), at(15));
    mix(at(0), at(5), at(10), at(15));
    mix(at(1), at(6), at(11), at(12));
    mix(at(2), at(7), at(8), at(13));
    mix(at(3), at(4), at(9), at(14));
}

// G of RFC 9106 section 3.5; with xor_into, the result is XORed into out (later passes).
void compress(const Block& x, const Block& y, Block& out, bool xor_into)
{
    Block r, z;
    for (size_t i = 0; i < block_words; i++)
        r[i] = x[i] ^ y[i];
    z = r;
    for (size_t row = 0; row < 8; row++) {
        uint64_t* words = &z[16 * row];
        permute([words](int k) -> uint64_t& { return words[k]; });
    }
    for (size_t column = 0; column < 8; column++) {
        uint64_t* words = &z[2 * column];
        permute([words](int k) -> uint64_t& { return words[16 * (k / 2) + k % 2]; });
    }
    if (xor_into) {
        for (size_t i = 0; i < block_words; i++)
            out[i] ^= z[i] ^ r[i];
    } else {
        for (size_t i = 0; i < block_words; i++)
            out[i] = z[i] ^ r[i];
    }
}

Block block_from_bytes(std::string_view bytes)
{
    Block block{};
    for (size_t i = 0; i < block_words; i++)
        block[i] = load_le64(reinterpret_cast<const unsigned char*>(bytes.data()) + 8 * i);
    return block;
}

void check_params(const Argon2Params& p, std::string_view salt)
{
    if (p.lanes < 1 || p.lanes > argon2_max_lanes || p.passes < 1 || p.passes > argon2_max_passes ||
        p.memory_kib < 8 * p.lanes || p.memory_kib > argon2_max_memory_kib || p.tag_size < 4 ||
        p.tag_size > 1024 || salt.size() < 8 || salt.size() > 1024 ||
        (p.version != 0x10 && p.version != 0x13))
        throw AuthError("Argon2 parameters out of range");
}

}  // namespace

std::string blake2b(std::string_view data, size_t output_size)
{
    if (output_size < 1 || output_size > 64)
        throw AuthError("BLAKE2b output size must be 1..64");
    uint64_t h[8];
    for (int i = 0; i < 8; i++)
        h[i] = blake2b_iv[i];
    h[0] ^= 0x01010000ULL ^ output_size;
    auto bytes = reinterpret_cast<const unsigned char*>(data.data());
    size_t left = data.size();
    uint64_t counter = 0;
    while (left > 128) {
        counter += 128;
        blake2b_compress(h, bytes, counter, false);
        bytes += 128, left -= 128;
    }
    unsigned char last[128] = {};
    std::memcpy(last, bytes, left);
    counter += left;
    blake2b_compress(h, last, counter, true);
    std::string out;
    for (int i = 0; i < 8; i++)
        append_le64(out, h[i]);
    out.resize(output_size);
    return out;
}

std::string argon2(const Argon2Params& params, std::string_view password, std::string_view salt,
                   std::string_view secret, std::string_view associated_data)
{
    check_params(params, salt);
    const uint32_t lanes = params.lanes;
    const uint32_t segment_length = params.memory_kib / (4 * lanes);
    const uint32_t lane_length = 4 * segment_length;
    const uint32_t memory_blocks = lane_length * lanes;

    std::string h0_input;
    for (uint32_t value : {lanes, params.tag_size, params.memory_kib, params.passes, params.version,
                           static_cast<uint32_t>(params.type)})
        append_le32(h0_input, value);
    for (std::string_view part : {password, salt, secret, associated_data}) {
        append_le32(h0_input, static_cast<uint32_t>(part.size()));
        h0_input += part;
    }
    std::string h0 = blake2b(h0_input, 64);

    std::vector<Block> memory(memory_blocks);
    for (uint32_t lane = 0; lane < lanes; lane++) {
        for (uint32_t column = 0; column < 2; column++) {
            std::string input = h0;
            append_le32(input, column);
            append_le32(input, lane);
            memory[lane * lane_length + column] = block_from_bytes(variable_hash(input, 1024));
        }
    }

    const Block zero{};
    for (uint32_t pass = 0; pass < params.passes; pass++) {
        for (uint32_t slice = 0; slice < 4; slice++) {
            for (uint32_t lane = 0; lane < lanes; lane++) {
                bool independent = params.type == Argon2Type::I ||
                                   (params.type == Argon2Type::ID && pass == 0 && slice < 2);
                Block input{}, addresses{};
                if (independent) {
                    input[0] = pass, input[1] = lane, input[2] = slice, input[3] = memory_blocks;
                    input[4] = params.passes, input[5] = static_cast<uint64_t>(params.type);
                }
                auto next_addresses = [&] {
                    input[6]++;
                    Block temporary;
                    compress(zero, input, temporary, false);
                    compress(zero, temporary, addresses, false);
                };
                uint32_t start = pass == 0 && slice == 0 ? 2 : 0;
                if (independent && start == 2)
                    next_addresses();
                for (uint32_t index = start; index < segment_length; index++) {
                    uint32_t column = slice * segment_length + index;
                    uint32_t previous = column == 0 ? lane_length - 1 : column - 1;
                    uint64_t pseudo_random;
                    if (independent) {
                        if (index % block_words == 0)
                            next_addresses();
                        pseudo_random = addresses[index % block_words];
                    } else {
                        pseudo_random = memory[lane * lane_length + previous][0];
                    }
                    uint32_t ref_lane = static_cast<uint32_t>((pseudo_random >> 32) % lanes);
                    if (pass == 0 && slice == 0)
                        ref_lane = lane;
                    bool same_lane = ref_lane == lane;
                    // How many blocks the reference may come from (RFC 9106 section 3.4.1.2).
                    uint64_t area;
                    if (pass == 0) {
                        if (slice == 0 || same_lane)
                            area = uint64_t(slice) * segment_length + index - 1;
                        else
                            area = uint64_t(slice) * segment_length - (index == 0 ? 1 : 0);
                    } else {
                        area = same_lane ? lane_length - segment_length + index - 1
                                         : lane_length - segment_length - (index == 0 ? 1 : 0);
                    }
                    uint64_t j1 = pseudo_random & 0xffffffffULL;
                    uint64_t x = (j1 * j1) >> 32;
                    uint64_t y = (area * x) >> 32;
                    uint64_t relative = area - 1 - y;
                    uint64_t start_position =
                        pass == 0 || slice == 3 ? 0 : uint64_t(slice + 1) * segment_length;
                    uint32_t ref_index = static_cast<uint32_t>((start_position + relative) % lane_length);
                    bool xor_into = pass > 0 && params.version == 0x13;
                    compress(memory[lane * lane_length + previous], memory[ref_lane * lane_length + ref_index],
                             memory[lane * lane_length + column], xor_into);
                }
            }
        }
    }

    Block final_block = memory[lane_length - 1];
    for (uint32_t lane = 1; lane < lanes; lane++) {
        for (size_t i = 0; i < block_words; i++)
            final_block[i] ^= memory[lane * lane_length + lane_length - 1][i];
    }
    std::string final_bytes;
    for (uint64_t word : final_block)
        append_le64(final_bytes, word);
    return variable_hash(final_bytes, params.tag_size);
}

namespace {

std::string base64_unpadded(std::string_view data)
{
    std::string text = base64_encode(data);
    while (!text.empty() && text.back() == '=')
        text.pop_back();
    return text;
}

}  // namespace

std::optional<Argon2Encoded> parse_argon2_string(std::string_view text)
{
    std::vector<std::string> fields = split(text, '$');
    // "", type, [v=..], params, salt, hash
    if (fields.size() != 5 && fields.size() != 6)
        return std::nullopt;
    if (!fields[0].empty())
        return std::nullopt;
    Argon2Encoded encoded;
    if (fields[1] == "argon2id")
        encoded.params.type = Argon2Type::ID;
    else if (fields[1] == "argon2i")
        encoded.params.type = Argon2Type::I;
    else if (fields[1] == "argon2d")
        encoded.params.type = Argon2Type::D;
    else
        return std::nullopt;
    size_t next = 2;
    encoded.params.version = 0x10;  // absent "v=" means the original version
    if (fields.size() == 6) {
        if (!fields[2].starts_with("v="))
            return std::nullopt;
        auto version = parse_uint(std::string_view(fields[2]).substr(2));
        if (!version || (*version != 0x10 && *version != 0x13))
            return std::nullopt;
        encoded.params.version = static_cast<uint32_t>(*version);
        next = 3;
    }
    std::vector<std::string> settings = split(fields[next], ',');
    if (settings.size() != 3 || !settings[0].starts_with("m=") || !settings[1].starts_with("t=") ||
        !settings[2].starts_with("p="))
        return std::nullopt;
    auto m = parse_uint(std::string_view(settings[0]).substr(2));
    auto t = parse_uint(std::string_view(settings[1]).substr(2));
    auto p = parse_uint(std::string_view(settings[2]).substr(2));
    if (!m || !t || !p || *m > argon2_max_memory_kib || *t < 1 || *t > argon2_max_passes || *p < 1 ||
        *p > argon2_max_lanes || *m < 8 * *p)
        return std::nullopt;
    encoded.params.memory_kib = static_cast<uint32_t>(*m);
    encoded.params.passes = static_cast<uint32_t>(*t);
    encoded.params.lanes = static_cast<uint32_t>(*p);
    auto salt = base64_decode(fields[next + 1]);
    auto hash = base64_decode(fields[next + 2]);
    if (!salt || salt->size() < 8 || salt->size() > 1024 || !hash || hash->size() < 4 || hash->size() > 1024)
        return std::nullopt;
    encoded.salt = *salt;
    encoded.hash = *hash;
    encoded.params.tag_size = static_cast<uint32_t>(hash->size());
    return encoded;
}

std::string format_argon2_string(const Argon2Encoded& encoded)
{
    const Argon2Params& p = encoded.params;
    std::string type = p.type == Argon2Type::ID ? "argon2id" : p.type == Argon2Type::I ? "argon2i" : "argon2d";
    return "$" + type + "$v=" + std::to_string(p.version) + "$m=" + std::to_string(p.memory_kib) +
           ",t=" + std::to_string(p.passes) + ",p=" + std::to_string(p.lanes) + "$" +
           base64_unpadded(encoded.salt) + "$" + base64_unpadded(encoded.hash);
}

}  // namespace loft::auth
