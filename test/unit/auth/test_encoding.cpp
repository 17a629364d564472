#include "auth/encoding.h"

#include <cppunit/extensions/HelperMacros.h>

using loft::auth::base64_decode;
using loft::auth::base64_encode;
using loft::auth::hex_decode;
using loft::auth::hex_encode;

class EncodingTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(EncodingTest);
    CPPUNIT_TEST(base64_rfc4648_vectors);
    CPPUNIT_TEST(base64_accepts_missing_padding);
    CPPUNIT_TEST(base64_rejects_malformed_input);
    CPPUNIT_TEST(base64_round_trips_every_byte);
    CPPUNIT_TEST(base64_enforces_input_limit);
    CPPUNIT_TEST(hex_round_trip_and_errors);
    CPPUNIT_TEST_SUITE_END();

public:
    void base64_rfc4648_vectors()
    {
        const std::pair<std::string, std::string> vectors[] = {
            {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},         {"foo", "Zm9v"},
            {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
        };
        for (const auto& [plain, encoded] : vectors) {
            CPPUNIT_ASSERT_EQUAL(encoded, base64_encode(plain));
            auto decoded = base64_decode(encoded);
            CPPUNIT_ASSERT(decoded.has_value());
            CPPUNIT_ASSERT_EQUAL(plain, *decoded);
        }
    }

    void base64_accepts_missing_padding()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("f"), base64_decode("Zg").value());
        CPPUNIT_ASSERT_EQUAL(std::string("fo"), base64_decode("Zm8").value());
    }

    void base64_rejects_malformed_input()
    {
        for (const char* bad : {"Z", "Zg=", "Zm9v=", "Zm 9v", "Zm9v\n", "Z=g=", "====", "Zg==Zg==",
                                "Zm9v-_", "Zm9vYmFy=", "Zg===", "\xc3\xa4Zg="}) {
            CPPUNIT_ASSERT_MESSAGE(bad, !base64_decode(bad).has_value());
        }
        CPPUNIT_ASSERT(!base64_decode(std::string("Zm\0v", 4)).has_value());
    }

    void base64_round_trips_every_byte()
    {
        std::string all;
        for (int i = 0; i < 256; i++)
            all += static_cast<char>(i);
        for (size_t length = 0; length <= all.size(); length += 37) {
            std::string data = all.substr(0, length);
            CPPUNIT_ASSERT_EQUAL(data, base64_decode(base64_encode(data)).value());
        }
        CPPUNIT_ASSERT_EQUAL(all, base64_decode(base64_encode(all)).value());
    }

    void base64_enforces_input_limit()
    {
        std::string encoded = base64_encode(std::string(300, 'a'));
        CPPUNIT_ASSERT(base64_decode(encoded, encoded.size()).has_value());
        CPPUNIT_ASSERT(!base64_decode(encoded, encoded.size() - 1).has_value());
    }

    void hex_round_trip_and_errors()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("00ff10ab"), hex_encode(std::string("\x00\xff\x10\xab", 4)));
        CPPUNIT_ASSERT_EQUAL(std::string("\x00\xff\x10\xab", 4), hex_decode("00FF10aB").value());
        CPPUNIT_ASSERT_EQUAL(std::string(), hex_decode("").value());
        CPPUNIT_ASSERT(!hex_decode("abc").has_value());
        CPPUNIT_ASSERT(!hex_decode("zz").has_value());
        CPPUNIT_ASSERT(!hex_decode("0x").has_value());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(EncodingTest);
