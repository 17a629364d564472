#include "auth/argon2.h"
#include "auth/encoding.h"
#include "auth/errors.h"

#include <openssl/evp.h>

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;

class Argon2Test : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(Argon2Test);
    CPPUNIT_TEST(blake2b_known_answers);
    CPPUNIT_TEST(blake2b_matches_openssl_at_many_lengths);
    CPPUNIT_TEST(rfc9106_vectors);
    CPPUNIT_TEST(phc_string_round_trip_and_limits);
    CPPUNIT_TEST(parameters_are_bounded);
    CPPUNIT_TEST_SUITE_END();

    static Argon2Params rfc_params(Argon2Type type)
    {
        Argon2Params params;
        params.type = type;
        params.memory_kib = 32;
        params.passes = 3;
        params.lanes = 4;
        params.tag_size = 32;
        return params;
    }

public:
    void blake2b_known_answers()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                                         "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"),
                             hex_encode(blake2b("abc", 64)));
        CPPUNIT_ASSERT_EQUAL(std::string("786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
                                         "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"),
                             hex_encode(blake2b("", 64)));
        CPPUNIT_ASSERT_THROW(blake2b("x", 65), AuthError);
    }

    void blake2b_matches_openssl_at_many_lengths()
    {
        std::string data;
        for (int length = 0; length < 300; length++) {
            unsigned char out[64];
            unsigned int size = 0;
            CPPUNIT_ASSERT(EVP_Digest(data.data(), data.size(), out, &size, EVP_blake2b512(), nullptr) == 1);
            CPPUNIT_ASSERT_EQUAL(hex_encode(std::string(reinterpret_cast<char*>(out), size)),
                                 hex_encode(blake2b(data, 64)));
            data += static_cast<char>(length * 7);
        }
    }

    void rfc9106_vectors()
    {
        std::string password(32, '\x01'), salt(16, '\x02'), secret(8, '\x03'), ad(12, '\x04');
        CPPUNIT_ASSERT_EQUAL(std::string("512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb"),
                             hex_encode(argon2(rfc_params(Argon2Type::D), password, salt, secret, ad)));
        CPPUNIT_ASSERT_EQUAL(std::string("c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8"),
                             hex_encode(argon2(rfc_params(Argon2Type::I), password, salt, secret, ad)));
        CPPUNIT_ASSERT_EQUAL(std::string("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"),
                             hex_encode(argon2(rfc_params(Argon2Type::ID), password, salt, secret, ad)));
    }

    void phc_string_round_trip_and_limits()
    {
        // From doveadm pw -s ARGON2ID -p secret.
        const std::string text = "$argon2id$v=19$m=65536,t=3,p=1$SRpm1N/QJpfTMkkgBbEedA$"
                                 "7Y9YxPcu+SeoKFiUyVcuIKGrGVMiPt1pHolfNTr4HlM";
        auto parsed = parse_argon2_string(text);
        CPPUNIT_ASSERT(parsed.has_value());
        CPPUNIT_ASSERT(parsed->params.type == Argon2Type::ID);
        CPPUNIT_ASSERT_EQUAL(uint32_t(65536), parsed->params.memory_kib);
        CPPUNIT_ASSERT_EQUAL(uint32_t(3), parsed->params.passes);
        CPPUNIT_ASSERT_EQUAL(uint32_t(0x13), parsed->params.version);
        CPPUNIT_ASSERT_EQUAL(size_t(16), parsed->salt.size());
        CPPUNIT_ASSERT_EQUAL(text, format_argon2_string(*parsed));
        for (const char* bad : {"$argon2x$v=19$m=65536,t=3,p=1$SRpm1N/QJpfTMkkgBbEedA$7Y9Y",
                                "$argon2id$v=18$m=65536,t=3,p=1$SRpm1N/QJpfTMkkgBbEedA$7Y9YxPcu",
                                "$argon2id$v=19$m=99999999,t=3,p=1$SRpm1N/QJpfTMkkgBbEedA$7Y9YxPcu",
                                "$argon2id$v=19$m=65536,t=0,p=1$SRpm1N/QJpfTMkkgBbEedA$7Y9YxPcu",
                                "$argon2id$v=19$m=65536,t=3$SRpm1N/QJpfTMkkgBbEedA$7Y9YxPcu",
                                "$argon2id$v=19$m=65536,t=3,p=1$!!$7Y9YxPcu", "argon2id", ""})
            CPPUNIT_ASSERT_MESSAGE(bad, !parse_argon2_string(bad).has_value());
    }

    void parameters_are_bounded()
    {
        Argon2Params params;
        params.memory_kib = argon2_max_memory_kib + 1;
        CPPUNIT_ASSERT_THROW(argon2(params, "pw", "saltsalt"), AuthError);
        params = Argon2Params{};
        params.memory_kib = 64;
        CPPUNIT_ASSERT_THROW(argon2(params, "pw", "short"), AuthError);  // salt < 8 bytes
        params.passes = 0;
        CPPUNIT_ASSERT_THROW(argon2(params, "pw", "saltsalt"), AuthError);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(Argon2Test);
