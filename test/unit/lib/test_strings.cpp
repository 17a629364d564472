#include "lib/strings.h"

#include <cppunit/extensions/HelperMacros.h>

class StringsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(StringsTest);
    CPPUNIT_TEST(split_keeps_empty_fields);
    CPPUNIT_TEST(split_words_drops_blanks);
    CPPUNIT_TEST(parse_uint_rejects_garbage_and_overflow);
    CPPUNIT_TEST(case_helpers);
    CPPUNIT_TEST_SUITE_END();

public:
    void split_keeps_empty_fields()
    {
        auto parts = loft::split("a::b:", ':');
        CPPUNIT_ASSERT_EQUAL(size_t(4), parts.size());
        CPPUNIT_ASSERT_EQUAL(std::string(""), parts[1]);
        CPPUNIT_ASSERT_EQUAL(std::string("b"), parts[2]);
    }
    void split_words_drops_blanks()
    {
        auto words = loft::split_words("  imap \t lmtp  pop3 ");
        CPPUNIT_ASSERT_EQUAL(size_t(3), words.size());
        CPPUNIT_ASSERT_EQUAL(std::string("pop3"), words[2]);
    }
    void parse_uint_rejects_garbage_and_overflow()
    {
        CPPUNIT_ASSERT(loft::parse_uint("18446744073709551615").has_value());
        CPPUNIT_ASSERT(!loft::parse_uint("18446744073709551616").has_value());
        CPPUNIT_ASSERT(!loft::parse_uint("12a").has_value());
        CPPUNIT_ASSERT(!loft::parse_uint("").has_value());
        CPPUNIT_ASSERT_EQUAL(uint64_t(143), *loft::parse_uint("143"));
    }
    void case_helpers()
    {
        CPPUNIT_ASSERT(loft::iequals("INBOX", "inbox"));
        CPPUNIT_ASSERT(!loft::iequals("INBOX", "inbo"));
        CPPUNIT_ASSERT(loft::starts_with_nocase("Content-Type: x", "content-type:"));
        CPPUNIT_ASSERT_EQUAL(std::string(" a "), std::string(" A ").replace(0, 3, loft::to_lower(" A ")));
        CPPUNIT_ASSERT_EQUAL(std::string("x y"), std::string(loft::trim("  x y\r\n")));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StringsTest);
