#include "auth/digest.h"

#include "auth/errors.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <climits>
#include <memory>

namespace loft::auth {

namespace {

const EVP_MD* evp_md(HashAlgorithm algorithm)
{
    switch (algorithm) {
    case HashAlgorithm::Md5:
        return EVP_md5();
    case HashAlgorithm::Sha1:
        return EVP_sha1();
    case HashAlgorithm::Sha256:
        return EVP_sha256();
    case HashAlgorithm::Sha512:
        return EVP_sha512();
    }
    throw AuthError("unknown hash algorithm");
}

struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

size_t digest_size(HashAlgorithm algorithm)
{
    return static_cast<size_t>(EVP_MD_get_size(evp_md(algorithm)));
}

std::string digest(HashAlgorithm algorithm, std::string_view data)
{
    return digest(algorithm, data, {});
}

std::string digest(HashAlgorithm algorithm, std::string_view first, std::string_view second)
{
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (!ctx)
        throw AuthError("EVP_MD_CTX_new failed");
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int out_size = 0;
    if (EVP_DigestInit_ex(ctx.get(), evp_md(algorithm), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), first.data(), first.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), second.data(), second.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), out, &out_size) != 1)
        throw AuthError("OpenSSL digest failed");
    return std::string(reinterpret_cast<char*>(out), out_size);
}

std::string hmac(HashAlgorithm algorithm, std::string_view key, std::string_view data)
{
    if (key.size() > INT_MAX)
        throw AuthError("HMAC key too long");
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int out_size = 0;
    if (HMAC(evp_md(algorithm), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &out_size) ==
        nullptr)
        throw AuthError("OpenSSL HMAC failed");
    return std::string(reinterpret_cast<char*>(out), out_size);
}

std::string pbkdf2(HashAlgorithm algorithm, std::string_view password, std::string_view salt,
                   unsigned iterations, size_t output_size)
{
    if (password.size() > INT_MAX || salt.size() > INT_MAX || iterations == 0 ||
        iterations > INT_MAX || output_size == 0 || output_size > INT_MAX)
        throw AuthError("PBKDF2 parameters out of range");
    std::string out(output_size, '\0');
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                          reinterpret_cast<const unsigned char*>(salt.data()),
                          static_cast<int>(salt.size()), static_cast<int>(iterations),
                          evp_md(algorithm), static_cast<int>(output_size),
                          reinterpret_cast<unsigned char*>(out.data())) != 1)
        throw AuthError("OpenSSL PBKDF2 failed");
    return out;
}

std::string random_bytes(size_t count)
{
    std::string out(count, '\0');
    if (count > INT_MAX ||
        RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1)
        throw AuthError("OpenSSL RAND_bytes failed");
    return out;
}

bool constant_time_equals(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace loft::auth
