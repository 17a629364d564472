#include "auth/digest.h"
#include "auth/encoding.h"
#include "auth/legacy_digest.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;

class LegacyDigestTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(LegacyDigestTest);
    CPPUNIT_TEST(md4_rfc1320_vectors);
    CPPUNIT_TEST(md5_matches_openssl_at_every_length);
    CPPUNIT_TEST(md5_resumes_from_state);
    CPPUNIT_TEST(cram_context_matches_doveadm_and_hmac);
    CPPUNIT_TEST_SUITE_END();

public:
    void md4_rfc1320_vectors()
    {
        const std::pair<std::string, std::string> vectors[] = {
            {"", "31d6cfe0d16ae931b73c59d7e0c089c0"},
            {"a", "bde52cb31de33e46245e05fbdbd6fb24"},
            {"abc", "a448017aaf21d8525fc10ae87aa6729d"},
            {"message digest", "d9130a8164549fe818874806e1c7014b"},
            {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
             "e33b4ddc9c38f2199c3e7b164fcc0536"},
        };
        for (const auto& [input, hex] : vectors)
            CPPUNIT_ASSERT_EQUAL_MESSAGE(input, hex, hex_encode(md4_digest(input)));
    }

    void md5_matches_openssl_at_every_length()
    {
        std::string data;
        for (int length = 0; length < 200; length++) {
            Md5 md5;
            // Feed in uneven pieces to exercise the buffering.
            for (size_t offset = 0; offset < data.size(); offset += 7)
                md5.update(std::string_view(data).substr(offset, 7));
            CPPUNIT_ASSERT_EQUAL(hex_encode(digest(HashAlgorithm::Md5, data)), hex_encode(md5.finish()));
            data += static_cast<char>('a' + length % 26);
        }
    }

    void md5_resumes_from_state()
    {
        std::string block(64, 'k');
        Md5 first;
        first.update(block);
        Md5 resumed(first.state(), 1);
        resumed.update("tail");
        CPPUNIT_ASSERT_EQUAL(hex_encode(digest(HashAlgorithm::Md5, block + "tail")),
                             hex_encode(resumed.finish()));
    }

    void cram_context_matches_doveadm_and_hmac()
    {
        // doveadm pw -s CRAM-MD5 -p secret
        CPPUNIT_ASSERT_EQUAL(std::string("cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56"),
                             hex_encode(cram_md5_context("secret")));
        for (std::string password : {std::string("secret"), std::string(100, 'p'), std::string()}) {
            std::string challenge = "<1896.697170952@postoffice.example.net>";
            CPPUNIT_ASSERT_EQUAL(hex_encode(hmac(HashAlgorithm::Md5, password, challenge)),
                                 hex_encode(cram_md5_hmac(cram_md5_context(password), challenge)));
        }
        // RFC 2195's example exchange.
        CPPUNIT_ASSERT_EQUAL(std::string("b913a602c7eda7a495b4e6e7334d3890"),
                             hex_encode(cram_md5_hmac(cram_md5_context("tanstaaftanstaaf"),
                                                      "<1896.697170952@postoffice.reston.mci.net>")));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LegacyDigestTest);
