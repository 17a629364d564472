#include "lib/mutf7.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft;

class Mutf7Test : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(Mutf7Test);
    CPPUNIT_TEST(ascii_passes_through);
    CPPUNIT_TEST(encodes_rfc_examples);
    CPPUNIT_TEST(decodes);
    CPPUNIT_TEST(rejects_what_dovecot_rejects);
    CPPUNIT_TEST(astral_characters_use_surrogates);
    CPPUNIT_TEST(rejects_invalid_utf8);
    CPPUNIT_TEST(round_trips_every_bmp_run_length);
    CPPUNIT_TEST_SUITE_END();

public:
    void ascii_passes_through()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("Archive/2024"), *utf8_to_mutf7("Archive/2024"));
        CPPUNIT_ASSERT_EQUAL(std::string("a&-b"), *utf8_to_mutf7("a&b"));
        CPPUNIT_ASSERT_EQUAL(std::string("a&b"), *mutf7_to_utf8("a&-b"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), *mutf7_to_utf8(""));
    }
    void encodes_rfc_examples()
    {
        // RFC 3501 5.1.3: "~peter/mail/台北/日本語"
        CPPUNIT_ASSERT_EQUAL(std::string("~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
                             *utf8_to_mutf7("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"));
        CPPUNIT_ASSERT_EQUAL(std::string("&AOQ-x"), *utf8_to_mutf7("\xc3\xa4x"));  // created fine in Dovecot
        CPPUNIT_ASSERT_EQUAL(std::string("&AOQA9gD8-"), *utf8_to_mutf7("\xc3\xa4\xc3\xb6\xc3\xbc"));
        CPPUNIT_ASSERT_EQUAL(std::string("&AAk-"), *utf8_to_mutf7("\t"));
    }
    void decodes()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
                             *mutf7_to_utf8("~peter/mail/&U,BTFw-/&ZeVnLIqe-"));
        CPPUNIT_ASSERT_EQUAL(std::string("\xc3\xa4x"), *mutf7_to_utf8("&AOQ-x"));
    }
    void rejects_what_dovecot_rejects()
    {
        // each of these got "NO Mailbox name is not valid mUTF-7" from Dovecot 2.3
        for (const char* text : {"&AOQ", "&Jjo-&Jjo-", "&AGE-", "a&&-b", "inbox\xe4"})
            CPPUNIT_ASSERT_MESSAGE(text, !is_valid_mutf7(text));
        for (const char* text : {"&-", "&AOQ-", "&Jjo-x&Jjo-", "&U,BTFw-", "&AOQ-&-", "&2D3eAA-", "&AOQA9gD8-"})
            CPPUNIT_ASSERT_MESSAGE(text, is_valid_mutf7(text));
        // Dovecot ignores non-zero padding bits: "&AOR-" is "ä" like "&AOQ-"
        CPPUNIT_ASSERT_EQUAL(std::string("\xc3\xa4"), *mutf7_to_utf8("&AOR-"));
        // the rest were also checked with CREATE on Dovecot 2.3 (all "not valid mUTF-7")
        for (const char* text : {"&ACY-", "&AOQA-", "&2D0-", "&3gA-", "&AAA-", "a\tb", "&A-", "&2D3YPQ-", "&/wA-", "&*AOQ-"})
            CPPUNIT_ASSERT_MESSAGE(text, !is_valid_mutf7(text));
    }
    void astral_characters_use_surrogates()
    {
        // U+1F600
        std::string smiley = "\xf0\x9f\x98\x80";
        std::string encoded = *utf8_to_mutf7(smiley);
        CPPUNIT_ASSERT_EQUAL(std::string("&2D3eAA-"), encoded);
        CPPUNIT_ASSERT_EQUAL(smiley, *mutf7_to_utf8(encoded));
    }
    void rejects_invalid_utf8()
    {
        for (std::string text : {std::string("\xe4"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80"),
                                 std::string("\xf4\x90\x80\x80"), std::string("a\0b", 3), std::string("\xe6\x97")})
            CPPUNIT_ASSERT(!utf8_to_mutf7(text));
    }
    void round_trips_every_bmp_run_length()
    {
        std::string text;
        for (int n = 0; n < 12; ++n) {
            text += "\xc3\xa4";  // runs of 1..12 UTF-16 units cover every padding case
            std::string encoded = *utf8_to_mutf7("x" + text + "y");
            CPPUNIT_ASSERT(is_valid_mutf7(encoded));
            CPPUNIT_ASSERT_EQUAL("x" + text + "y", *mutf7_to_utf8(encoded));
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(Mutf7Test);
