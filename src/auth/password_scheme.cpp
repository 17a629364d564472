#include "auth/password_scheme.h"

#include "auth/argon2.h"
#include "auth/digest.h"
#include "auth/encoding.h"
#include "auth/errors.h"
#include "auth/legacy_digest.h"
#include "lib/strings.h"

#include <crypt.h>

#include <memory>

namespace loft::auth {

namespace {

// Bounds on input we are handed; real hashes and passwords are far below them.
constexpr size_t max_stored_size = 8192;
constexpr size_t max_plaintext_size = 4096;
// Iteration counts come from the passdb; bound them so one entry cannot stall the process.
constexpr unsigned max_iterations = 10'000'000;
constexpr unsigned scram_min_iterations = 4096;  // Dovecot rejects fewer

enum class Encoding { None, Base64, Hex };

enum class Kind {
    Plain,
    PlainTrunc,
    Crypt,       // crypt(3) with the stored value as setting
    Md5,         // "MD5": MD5-CRYPT when it starts with $1$, else PLAIN-MD5
    Unsalted,    // digest(password)
    Salted,      // digest(password + salt) followed by salt
    DigestMd5,   // MD5("user:realm:password")
    Scram,       // "iterations,salt,stored-key,server-key"
    Pbkdf2,      // "$1$salt$rounds$hex(PBKDF2-HMAC-SHA1)"
    CramMd5,     // HMAC-MD5 outer and inner states after the key blocks
    PlainMd4,    // MD4(password)
    Argon2,      // libsodium's "$argon2id$v=19$m=..,t=..,p=..$salt$hash"
    Otp,         // RFC 2289 state "algorithm sequence seed hex-hash"
};

struct Scheme {
    std::string_view name;
    Encoding encoding;
    size_t raw_size;  // decoded size every value must have; 0 when it varies
    Kind kind;
    HashAlgorithm algorithm;
    // For crypt schemes: the crypt_gensalt prefix used to make new hashes.
    std::string_view crypt_prefix = {};
    unsigned default_rounds = 0;
};

using enum HashAlgorithm;

// Same names, encodings and sizes as Dovecot 2.3's table, so a value any of its tools
// made decodes the same way here.
constexpr Scheme schemes[] = {
    {"PLAIN", Encoding::None, 0, Kind::Plain, Md5},
    {"CLEAR", Encoding::None, 0, Kind::Plain, Md5},
    {"CLEARTEXT", Encoding::None, 0, Kind::Plain, Md5},
    {"PLAIN-TRUNC", Encoding::None, 0, Kind::PlainTrunc, Md5},
    // Dovecot 2.3.19 makes bcrypt hashes for plain CRYPT (observed with doveadm pw).
    {"CRYPT", Encoding::None, 0, Kind::Crypt, Md5, "$2y$", 5},
    {"DES-CRYPT", Encoding::None, 0, Kind::Crypt, Md5, "", 0},
    {"MD5-CRYPT", Encoding::None, 0, Kind::Crypt, Md5, "$1$", 0},
    {"MD5", Encoding::None, 0, Kind::Md5, Md5, "$1$", 0},
    {"SHA256-CRYPT", Encoding::None, 0, Kind::Crypt, Md5, "$5$", 0},
    {"SHA512-CRYPT", Encoding::None, 0, Kind::Crypt, Md5, "$6$", 0},
    {"BLF-CRYPT", Encoding::None, 0, Kind::Crypt, Md5, "$2y$", 5},
    {"SHA", Encoding::Base64, 20, Kind::Unsalted, Sha1},
    {"SHA1", Encoding::Base64, 20, Kind::Unsalted, Sha1},
    {"SHA256", Encoding::Base64, 32, Kind::Unsalted, Sha256},
    {"SHA512", Encoding::Base64, 64, Kind::Unsalted, Sha512},
    {"SMD5", Encoding::Base64, 0, Kind::Salted, Md5},
    {"SSHA", Encoding::Base64, 0, Kind::Salted, Sha1},
    {"SSHA256", Encoding::Base64, 0, Kind::Salted, Sha256},
    {"SSHA512", Encoding::Base64, 0, Kind::Salted, Sha512},
    {"PLAIN-MD5", Encoding::Hex, 16, Kind::Unsalted, Md5},
    {"LDAP-MD5", Encoding::Base64, 16, Kind::Unsalted, Md5},
    {"DIGEST-MD5", Encoding::Hex, 16, Kind::DigestMd5, Md5},
    {"CRAM-MD5", Encoding::Hex, 32, Kind::CramMd5, Md5},
    {"HMAC-MD5", Encoding::Hex, 32, Kind::CramMd5, Md5},
    {"PLAIN-MD4", Encoding::Hex, 16, Kind::PlainMd4, Md5},
    {"SCRAM-SHA-1", Encoding::None, 0, Kind::Scram, Sha1, {}, 4096},
    {"SCRAM-SHA-256", Encoding::None, 0, Kind::Scram, Sha256, {}, 4096},
    {"PBKDF2", Encoding::None, 0, Kind::Pbkdf2, Sha1, {}, 5000},
    // Generated with the costs doveadm pw was seen to use (rounds = passes).
    {"ARGON2I", Encoding::None, 0, Kind::Argon2, Md5, {}, 4},
    {"ARGON2ID", Encoding::None, 0, Kind::Argon2, Md5, {}, 3},
    {"OTP", Encoding::None, 0, Kind::Otp, Sha1, {}, 1024},
};

struct SchemeLookup {
    const Scheme* scheme;
    Encoding encoding;
    bool encoding_given;
};

std::optional<SchemeLookup> lookup_scheme(std::string_view name)
{
    std::string_view base = name;
    std::optional<Encoding> suffix;
    if (size_t dot = name.find('.'); dot != std::string_view::npos) {
        base = name.substr(0, dot);
        std::string_view encoding = name.substr(dot + 1);
        if (iequals(encoding, "b64") || iequals(encoding, "base64"))
            suffix = Encoding::Base64;
        else if (iequals(encoding, "hex"))
            suffix = Encoding::Hex;
        else
            return std::nullopt;
    }
    for (const Scheme& scheme : schemes) {
        if (iequals(scheme.name, base))
            return SchemeLookup{&scheme, suffix.value_or(scheme.encoding), suffix.has_value()};
    }
    return std::nullopt;
}

// Outcome of one scheme's check: Match, Mismatch, or Invalid with a reason.
struct Check {
    enum { Match, Mismatch, Invalid } outcome;
    std::string error;
};

Check match_if(bool equal)
{
    return Check{equal ? Check::Match : Check::Mismatch, {}};
}

Check invalid(std::string error)
{
    return Check{Check::Invalid, std::move(error)};
}

// Turns the stored text into the bytes the scheme compares, guessing hex against base64
// when the scheme has a fixed size and no explicit encoding, as Dovecot does.
std::optional<std::string> decode_stored(const SchemeLookup& lookup, std::string_view text,
                                         std::string& error)
{
    Encoding encoding = lookup.encoding;
    bool guessed = false;
    if (encoding != Encoding::None && lookup.scheme->raw_size != 0 && !lookup.encoding_given) {
        encoding = text.size() == lookup.scheme->raw_size * 2 ? Encoding::Hex : Encoding::Base64;
        guessed = true;
    }
    std::optional<std::string> raw;
    switch (encoding) {
    case Encoding::None:
        raw = std::string(text);
        break;
    case Encoding::Hex:
        raw = hex_decode(text);
        if (raw || !guessed) {
            if (!raw)
                error = "Input isn't valid HEX encoded data";
            break;
        }
        // Some lengths are valid hex and valid base64 alike: try base64 too.
        [[fallthrough]];
    case Encoding::Base64:
        raw = base64_decode(text);
        if (!raw)
            error = "Input isn't valid base64 encoded data";
        break;
    }
    if (raw && lookup.scheme->raw_size != 0 && raw->size() != lookup.scheme->raw_size) {
        error = "Input length isn't valid (" + std::to_string(raw->size()) + " instead of " +
                std::to_string(lookup.scheme->raw_size) + ")";
        return std::nullopt;
    }
    return raw;
}

std::string encode_raw(Encoding encoding, std::string_view raw)
{
    switch (encoding) {
    case Encoding::Base64:
        return base64_encode(raw);
    case Encoding::Hex:
        return hex_encode(raw);
    case Encoding::None:
        break;
    }
    return std::string(raw);
}

// crypt(3) through libxcrypt's reentrant call; its state is large, so it lives on the heap.
std::optional<std::string> run_crypt(const std::string& phrase, const std::string& setting)
{
    auto data = std::make_unique<crypt_data>();
    const char* result = crypt_r(phrase.c_str(), setting.c_str(), data.get());
    // libxcrypt reports failure with a string starting with '*' rather than NULL.
    if (result == nullptr || result[0] == '*')
        return std::nullopt;
    return std::string(result);
}

Check verify_crypt(std::string_view plaintext, std::string_view hash)
{
    if (hash.empty())
        return match_if(false);  // crypt() would accept any password for an empty setting
    std::optional<std::string> computed = run_crypt(std::string(plaintext), std::string(hash));
    if (!computed)
        return invalid("crypt() does not support this hash");
    return match_if(constant_time_equals(*computed, hash));
}

Check verify_plain_trunc(std::string_view plaintext, std::string_view raw)
{
    // "<length>-<password>": the password was cut to <length> characters when stored,
    // so a longer plaintext matches when its prefix does.
    size_t dash = raw.find('-');
    std::optional<uint64_t> length =
        dash == std::string_view::npos ? std::nullopt : parse_uint(raw.substr(0, dash));
    if (!length)
        return invalid("PLAIN-TRUNC missing length: prefix");
    std::string_view password = raw.substr(dash + 1);
    if (password.size() == *length && plaintext.size() >= *length)
        return match_if(constant_time_equals(plaintext.substr(0, password.size()), password));
    return match_if(constant_time_equals(plaintext, password));
}

std::string digest_md5_input(std::string_view user, std::string_view plaintext)
{
    // "user@realm" (the realm after the last '@'), hashed as "user:realm:password".
    size_t at = user.rfind('@');
    std::string_view name = at == std::string_view::npos ? user : user.substr(0, at);
    std::string_view realm = at == std::string_view::npos ? std::string_view{} : user.substr(at + 1);
    std::string input;
    input.append(name).append(":").append(realm).append(":").append(plaintext);
    return input;
}

struct ScramParts {
    unsigned iterations;
    std::string salt, stored_key, server_key;
};

std::optional<ScramParts> parse_scram(std::string_view raw, HashAlgorithm algorithm,
                                      std::string& error)
{
    std::vector<std::string> fields = split(raw, ',');
    if (fields.size() != 4) {
        error = "Invalid SCRAM password: expected 4 fields";
        return std::nullopt;
    }
    std::optional<uint64_t> iterations = parse_uint(fields[0]);
    if (!iterations || *iterations < scram_min_iterations || *iterations > max_iterations) {
        error = "Invalid SCRAM password: iteration count out of range";
        return std::nullopt;
    }
    auto salt = base64_decode(fields[1]);
    auto stored_key = base64_decode(fields[2]);
    auto server_key = base64_decode(fields[3]);
    size_t size = digest_size(algorithm);
    if (!salt || salt->empty() || !stored_key || stored_key->size() != size || !server_key ||
        server_key->size() != size) {
        error = "Invalid SCRAM password: bad salt or key";
        return std::nullopt;
    }
    return ScramParts{static_cast<unsigned>(*iterations), *salt, *stored_key, *server_key};
}

struct ScramKeys {
    std::string stored_key, server_key;
};

ScramKeys scram_keys(HashAlgorithm algorithm, std::string_view plaintext, std::string_view salt,
                     unsigned iterations)
{
    std::string salted = pbkdf2(algorithm, plaintext, salt, iterations, digest_size(algorithm));
    std::string client_key = hmac(algorithm, salted, "Client Key");
    return ScramKeys{digest(algorithm, client_key), hmac(algorithm, salted, "Server Key")};
}

Check verify_scram(HashAlgorithm algorithm, std::string_view plaintext, std::string_view raw)
{
    std::string error;
    auto parts = parse_scram(raw, algorithm, error);
    if (!parts)
        return invalid(error);
    ScramKeys keys = scram_keys(algorithm, plaintext, parts->salt, parts->iterations);
    return match_if(constant_time_equals(keys.stored_key, parts->stored_key));
}

Check verify_pbkdf2(std::string_view plaintext, std::string_view raw)
{
    // "$1$<salt>$<rounds>$<hex>"; "1" names HMAC-SHA1, the only variant Dovecot has.
    std::vector<std::string> fields = split(raw, '$');
    if (fields.size() != 5 || !fields[0].empty() || fields[1] != "1")
        return invalid("Invalid PBKDF2 password");
    std::optional<uint64_t> rounds = parse_uint(fields[3]);
    std::optional<std::string> expected = hex_decode(fields[4]);
    if (!rounds || *rounds == 0 || *rounds > max_iterations || !expected || expected->empty() ||
        expected->size() > 64)
        return invalid("Invalid PBKDF2 password");
    std::string computed = pbkdf2(HashAlgorithm::Sha1, plaintext, fields[2],
                                  static_cast<unsigned>(*rounds), expected->size());
    return match_if(constant_time_equals(computed, *expected));
}

// RFC 2289: hash seed + passphrase, fold to 64 bits, then hash-and-fold `sequence` times.
std::optional<std::string> otp_hash(std::string_view algorithm, std::string_view seed,
                                    std::string_view passphrase, unsigned sequence)
{
    auto fold = [&](std::string_view data) -> std::optional<std::string> {
        std::string folded(8, '\0');
        if (algorithm == "md4" || algorithm == "md5") {
            std::string d = algorithm == "md4" ? md4_digest(data) : digest(HashAlgorithm::Md5, data);
            for (size_t i = 0; i < 8; i++)
                folded[i] = static_cast<char>(d[i] ^ d[i + 8]);
            return folded;
        }
        if (algorithm == "sha1") {
            // Fold the five big-endian words, then write them out little-endian (RFC 2289 A).
            std::string d = digest(HashAlgorithm::Sha1, data);
            uint32_t w[5];
            for (int i = 0; i < 5; i++)
                w[i] = uint32_t(uint8_t(d[4 * i])) << 24 | uint32_t(uint8_t(d[4 * i + 1])) << 16 |
                       uint32_t(uint8_t(d[4 * i + 2])) << 8 | uint32_t(uint8_t(d[4 * i + 3]));
            uint32_t out[2] = {w[0] ^ w[2] ^ w[4], w[1] ^ w[3]};
            for (int i = 0; i < 8; i++)
                folded[i] = static_cast<char>(out[i / 4] >> (8 * (i % 4)) & 0xff);
            return folded;
        }
        return std::nullopt;
    };
    std::optional<std::string> state = fold(to_lower(seed) + std::string(passphrase));
    for (unsigned i = 0; state && i < sequence; i++)
        state = fold(*state);
    return state;
}

constexpr unsigned max_otp_sequence = 10000;

Check verify_otp(std::string_view plaintext, std::string_view raw)
{
    std::vector<std::string> fields = split_words(raw);
    std::optional<uint64_t> sequence = fields.size() == 4 ? parse_uint(fields[1]) : std::nullopt;
    if (!sequence || *sequence > max_otp_sequence || fields[2].empty() || fields[2].size() > 16)
        return invalid("Invalid OTP data in passdb");
    std::optional<std::string> expected = hex_decode(fields[3]);
    std::optional<std::string> computed =
        otp_hash(to_lower(fields[0]), fields[2], plaintext, static_cast<unsigned>(*sequence));
    if (!expected || expected->size() != 8 || !computed)
        return invalid("Invalid OTP data in passdb");
    return match_if(constant_time_equals(*computed, *expected));
}

Check verify_raw(const Scheme& scheme, std::string_view plaintext, std::string_view user,
                 std::string_view raw)
{
    switch (scheme.kind) {
    case Kind::Plain:
        return match_if(constant_time_equals(plaintext, raw));
    case Kind::PlainTrunc:
        return verify_plain_trunc(plaintext, raw);
    case Kind::Crypt:
        return verify_crypt(plaintext, raw);
    case Kind::Md5:
        if (raw.starts_with("$1$"))
            return verify_crypt(plaintext, raw);
        if (auto md5 = hex_decode(raw); md5 && md5->size() == 16)
            return match_if(constant_time_equals(digest(HashAlgorithm::Md5, plaintext), *md5));
        return invalid("Not a valid MD5-CRYPT or PLAIN-MD5 password");
    case Kind::Unsalted:
        return match_if(constant_time_equals(digest(scheme.algorithm, plaintext), raw));
    case Kind::Salted: {
        size_t size = digest_size(scheme.algorithm);
        if (raw.size() <= size)
            return invalid(std::string(scheme.name) + " password is too short");
        std::string computed = digest(scheme.algorithm, plaintext, raw.substr(size));
        return match_if(constant_time_equals(computed, raw.substr(0, size)));
    }
    case Kind::DigestMd5:
        if (user.empty())
            return invalid("DIGEST-MD5 needs the user name");
        return match_if(
            constant_time_equals(digest(HashAlgorithm::Md5, digest_md5_input(user, plaintext)), raw));
    case Kind::Scram:
        return verify_scram(scheme.algorithm, plaintext, raw);
    case Kind::Pbkdf2:
        return verify_pbkdf2(plaintext, raw);
    case Kind::CramMd5:
        return match_if(constant_time_equals(cram_md5_context(plaintext), raw));
    case Kind::PlainMd4:
        return match_if(constant_time_equals(md4_digest(plaintext), raw));
    case Kind::Argon2: {
        // Like libsodium's crypto_pwhash_str_verify, the string says which variant it is.
        std::optional<Argon2Encoded> encoded = parse_argon2_string(raw);
        if (!encoded)
            return invalid("Invalid Argon2 password (bad format or parameters out of range)");
        std::string computed = argon2(encoded->params, plaintext, encoded->salt);
        return match_if(constant_time_equals(computed, encoded->hash));
    }
    case Kind::Otp:
        return verify_otp(plaintext, raw);
    }
    return invalid("unsupported scheme");
}

std::string random_salt_chars(size_t count)
{
    // 64 symbols, so a byte modulo 64 stays uniform.
    static constexpr std::string_view salt_chars =
        "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string salt = random_bytes(count);
    for (char& c : salt)
        c = salt_chars[static_cast<unsigned char>(c) % salt_chars.size()];
    return salt;
}

std::string generate_crypt(const Scheme& scheme, std::string_view plaintext, unsigned rounds)
{
    std::string prefix(scheme.crypt_prefix);
    unsigned long count = rounds != 0 ? rounds : scheme.default_rounds;
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (crypt_gensalt_rn(prefix.c_str(), count, nullptr, 0, setting, sizeof(setting)) == nullptr)
        throw AuthError("crypt_gensalt failed for " + std::string(scheme.name) +
                        " (unsupported rounds?)");
    std::optional<std::string> hash = run_crypt(std::string(plaintext), setting);
    if (!hash)
        throw AuthError("crypt() failed for " + std::string(scheme.name));
    return *hash;
}

std::string generate_raw(const Scheme& scheme, std::string_view plaintext,
                         const HashOptions& options)
{
    switch (scheme.kind) {
    case Kind::Plain:
        return std::string(plaintext);
    case Kind::PlainTrunc:
        // Dovecot writes the bare password here and then fails its own check; the
        // "<length>-" form is what its verifier reads.
        return std::to_string(plaintext.size()) + "-" + std::string(plaintext);
    case Kind::Crypt:
    case Kind::Md5:
        return generate_crypt(scheme, plaintext, options.rounds);
    case Kind::Unsalted:
        return digest(scheme.algorithm, plaintext);
    case Kind::Salted: {
        std::string salt = random_bytes(4);
        return digest(scheme.algorithm, plaintext, salt) + salt;
    }
    case Kind::DigestMd5:
        if (options.user.empty())
            throw AuthError("DIGEST-MD5 needs the user name");
        return digest(HashAlgorithm::Md5, digest_md5_input(options.user, plaintext));
    case Kind::Scram: {
        unsigned iterations = options.rounds != 0 ? options.rounds : scheme.default_rounds;
        if (iterations < scram_min_iterations || iterations > max_iterations)
            throw AuthError("SCRAM iteration count out of range");
        std::string salt = random_bytes(16);
        ScramKeys keys = scram_keys(scheme.algorithm, plaintext, salt, iterations);
        return std::to_string(iterations) + "," + base64_encode(salt) + "," +
               base64_encode(keys.stored_key) + "," + base64_encode(keys.server_key);
    }
    case Kind::Pbkdf2: {
        unsigned rounds = options.rounds != 0 ? options.rounds : scheme.default_rounds;
        if (rounds > max_iterations)
            throw AuthError("PBKDF2 rounds out of range");
        std::string salt = random_salt_chars(16);
        return "$1$" + salt + "$" + std::to_string(rounds) + "$" +
               hex_encode(pbkdf2(HashAlgorithm::Sha1, plaintext, salt, rounds, 20));
    }
    case Kind::CramMd5:
        return cram_md5_context(plaintext);
    case Kind::PlainMd4:
        return md4_digest(plaintext);
    case Kind::Argon2: {
        Argon2Encoded encoded;
        bool id = scheme.name == "ARGON2ID";
        encoded.params.type = id ? Argon2Type::ID : Argon2Type::I;
        encoded.params.memory_kib = id ? 65536 : 32768;
        encoded.params.passes = options.rounds != 0 ? options.rounds : scheme.default_rounds;
        encoded.params.lanes = 1;
        encoded.salt = random_bytes(16);
        encoded.hash = argon2(encoded.params, plaintext, encoded.salt);
        return format_argon2_string(encoded);
    }
    case Kind::Otp: {
        unsigned sequence = options.rounds != 0 ? options.rounds : scheme.default_rounds;
        if (sequence > max_otp_sequence)
            throw AuthError("OTP sequence out of range");
        std::string seed = hex_encode(random_bytes(8));
        return "sha1 " + std::to_string(sequence) + " " + seed + " " +
               hex_encode(*otp_hash("sha1", seed, plaintext, sequence));
    }
    }
    throw AuthError("cannot generate " + std::string(scheme.name));
}

}  // namespace

std::optional<SchemeAndHash> split_password_scheme(std::string_view stored)
{
    if (stored.starts_with("$1$")) {
        // "$1$<salt>$<hash>[$<ignored>]"
        size_t salt_end = stored.find('$', 3);
        if (salt_end != std::string_view::npos) {
            size_t hash_end = stored.find('$', salt_end + 1);
            return SchemeAndHash{"MD5-CRYPT", std::string(stored.substr(0, hash_end))};
        }
    }
    if (!stored.starts_with('{'))
        return std::nullopt;
    size_t close = stored.find('}');
    if (close == std::string_view::npos)
        return std::nullopt;
    return SchemeAndHash{std::string(stored.substr(1, close - 1)),
                         std::string(stored.substr(close + 1))};
}

VerifyResult verify_password(std::string_view stored, std::string_view plaintext,
                             std::string_view default_scheme, std::string_view user)
{
    if (stored.size() > max_stored_size)
        return {false, "Stored password is too long"};
    // A password with NUL cannot reach crypt() intact and no client can send one anyway.
    if (plaintext.size() > max_plaintext_size || plaintext.find('\0') != std::string_view::npos)
        return {false, {}};

    SchemeAndHash parts;
    if (auto split = split_password_scheme(stored))
        parts = std::move(*split);
    else
        parts = SchemeAndHash{std::string(default_scheme), std::string(stored)};

    std::optional<SchemeLookup> lookup = lookup_scheme(parts.scheme);
    if (!lookup)
        return {false, "Unknown scheme " + parts.scheme};
    std::string error;
    std::optional<std::string> raw = decode_stored(*lookup, parts.hash, error);
    if (!raw)
        return {false, std::move(error)};
    Check check = verify_raw(*lookup->scheme, plaintext, user, *raw);
    if (check.outcome == Check::Match)
        return {true, {}};
    if (check.outcome == Check::Invalid)
        return {false, std::move(check.error)};
    return {false, {}};
}

CredentialsResult credentials_for_scheme(std::string_view stored, std::string_view wanted_scheme,
                                         std::string_view default_scheme, std::string_view user)
{
    std::optional<SchemeLookup> wanted = lookup_scheme(wanted_scheme);
    if (!wanted)
        return {std::nullopt, "Unknown scheme " + std::string(wanted_scheme)};
    if (stored.size() > max_stored_size)
        return {std::nullopt, "Stored password is too long"};
    SchemeAndHash parts;
    if (auto split = split_password_scheme(stored))
        parts = std::move(*split);
    else
        parts = SchemeAndHash{std::string(default_scheme), std::string(stored)};
    std::optional<SchemeLookup> have = lookup_scheme(parts.scheme);
    if (!have)
        return {std::nullopt, "Unknown scheme " + parts.scheme};
    std::string error;
    std::optional<std::string> raw = decode_stored(*have, parts.hash, error);
    if (!raw)
        return {std::nullopt, std::move(error)};

    const Scheme& from = *have->scheme;
    const Scheme& to = *wanted->scheme;
    if (&from == &to || (from.kind == to.kind && from.algorithm == to.algorithm &&
                         from.kind != Kind::Crypt && from.kind != Kind::Md5))
        return {std::move(raw), {}};
    if (from.kind == Kind::Plain) {
        if (to.kind == Kind::DigestMd5 && user.empty())
            return {std::nullopt, "DIGEST-MD5 needs the user name"};
        HashOptions options;
        options.user = std::string(user);
        return {generate_raw(to, *raw, options), {}};
    }
    return {std::nullopt, "Requested " + std::string(to.name) + " scheme, but we have only " +
                              std::string(from.name)};
}

std::string hash_password(std::string_view scheme, std::string_view plaintext)
{
    return hash_password(scheme, plaintext, HashOptions{});
}

std::string hash_password(std::string_view scheme, std::string_view plaintext,
                          const HashOptions& options)
{
    std::optional<SchemeLookup> lookup = lookup_scheme(scheme);
    if (!lookup)
        throw AuthError("Unknown scheme: " + std::string(scheme));
    if (plaintext.find('\0') != std::string_view::npos)
        throw AuthError("password contains a NUL character");
    std::string raw = generate_raw(*lookup->scheme, plaintext, options);
    return "{" + to_upper(scheme) + "}" + encode_raw(lookup->encoding, raw);
}

std::vector<std::string> password_scheme_names()
{
    std::vector<std::string> names;
    for (const Scheme& scheme : schemes)
        names.emplace_back(scheme.name);
    return names;
}

bool is_known_password_scheme(std::string_view scheme)
{
    return lookup_scheme(scheme).has_value();
}

}  // namespace loft::auth
