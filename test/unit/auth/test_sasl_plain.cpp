#include "auth/sasl_plain.h"

#include <cppunit/extensions/HelperMacros.h>

using loft::auth::parse_sasl_plain;

class SaslPlainTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SaslPlainTest);
    CPPUNIT_TEST(splits_three_parts);
    CPPUNIT_TEST(keeps_authorization_identity);
    CPPUNIT_TEST(rejects_malformed_messages);
    CPPUNIT_TEST_SUITE_END();

    static std::string msg(const char* text, size_t size) { return std::string(text, size); }

public:
    void splits_three_parts()
    {
        auto creds = parse_sasl_plain(msg("\0alice@example.com\0s3cr et", 26));
        CPPUNIT_ASSERT(creds.has_value());
        CPPUNIT_ASSERT_EQUAL(std::string(), creds->authzid);
        CPPUNIT_ASSERT_EQUAL(std::string("alice@example.com"), creds->authcid);
        CPPUNIT_ASSERT_EQUAL(std::string("s3cr et"), creds->password);
    }

    void keeps_authorization_identity()
    {
        auto creds = parse_sasl_plain(msg("bob\0admin*master\0pw", 19));
        CPPUNIT_ASSERT(creds.has_value());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), creds->authzid);
        CPPUNIT_ASSERT_EQUAL(std::string("admin*master"), creds->authcid);
        CPPUNIT_ASSERT_EQUAL(std::string("pw"), creds->password);
    }

    void rejects_malformed_messages()
    {
        CPPUNIT_ASSERT(!parse_sasl_plain("").has_value());
        CPPUNIT_ASSERT(!parse_sasl_plain("alicesecret").has_value());
        CPPUNIT_ASSERT(!parse_sasl_plain(msg("alice\0secret", 12)).has_value());
        CPPUNIT_ASSERT(!parse_sasl_plain(msg("\0\0secret", 8)).has_value());      // empty authcid
        CPPUNIT_ASSERT(!parse_sasl_plain(msg("\0alice\0", 7)).has_value());       // empty password
        CPPUNIT_ASSERT(!parse_sasl_plain(msg("\0alice\0se\0cret", 15)).has_value());  // extra NUL
        std::string huge = msg("\0alice\0", 7) + std::string(loft::auth::max_sasl_plain_size, 'p');
        CPPUNIT_ASSERT(!parse_sasl_plain(huge).has_value());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SaslPlainTest);
