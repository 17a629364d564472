#include "imap/protocol/response.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::imap::protocol;

class ResponseTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ResponseTest);
    CPPUNIT_TEST(quoted_when_plain);
    CPPUNIT_TEST(literal_for_crlf_nul_and_8bit);
    CPPUNIT_TEST(literal_after_four_escapes);
    CPPUNIT_TEST(nstring_and_astring);
    CPPUNIT_TEST(forced_quoting_drops_forbidden_bytes);
    CPPUNIT_TEST(flag_lists);
    CPPUNIT_TEST(status_lines);
    CPPUNIT_TEST_SUITE_END();

public:
    void quoted_when_plain()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("\"hello world\""), string_text("hello world"));
        CPPUNIT_ASSERT_EQUAL(std::string("\"\""), string_text(""));
        CPPUNIT_ASSERT_EQUAL(std::string("\"a\\\"b\\\\c\""), string_text("a\"b\\c"));
        CPPUNIT_ASSERT_EQUAL(std::string(1000, 'x').size() + 2, string_text(std::string(1000, 'x')).size());
    }
    void literal_for_crlf_nul_and_8bit()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("{4}\r\na\r\nb"), string_text("a\r\nb"));
        CPPUNIT_ASSERT_EQUAL(std::string("{2}\r\n\xc3\xa4"), string_text("\xc3\xa4"));
        CPPUNIT_ASSERT_EQUAL(std::string("{3}\r\na\0b", 8), string_text(std::string("a\0b", 3)));
        CPPUNIT_ASSERT_EQUAL(std::string("{1}\r\n\n"), string_text("\n"));
    }
    void literal_after_four_escapes()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("\"\\\"\\\"\\\"\\\"\""), string_text("\"\"\"\""));
        CPPUNIT_ASSERT_EQUAL(std::string("{5}\r\n\"\"\\\"\""), string_text("\"\"\\\"\""));
    }
    void nstring_and_astring()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("NIL"), nstring_text(std::nullopt));
        CPPUNIT_ASSERT_EQUAL(std::string("\"NIL\""), nstring_text(std::optional<std::string>("NIL")));
        CPPUNIT_ASSERT_EQUAL(std::string("NIL"), nstring_text("x", true));
        CPPUNIT_ASSERT_EQUAL(std::string("INBOX"), astring_text("INBOX"));
        CPPUNIT_ASSERT_EQUAL(std::string("a]b"), astring_text("a]b"));
        CPPUNIT_ASSERT_EQUAL(std::string("\"nil\""), astring_text("nil"));
        CPPUNIT_ASSERT_EQUAL(std::string("\"\""), astring_text(""));
        CPPUNIT_ASSERT_EQUAL(std::string("\"Sent Messages\""), astring_text("Sent Messages"));
        CPPUNIT_ASSERT_EQUAL(std::string("\"a*\""), astring_text("a*"));
        CPPUNIT_ASSERT_EQUAL(std::string("\"a%\""), astring_text("a%"));
        CPPUNIT_ASSERT_EQUAL(std::string("\"a(\""), astring_text("a("));
    }
    void forced_quoting_drops_forbidden_bytes()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("\"ab\\\"\""), quoted_text("a\r\n\xe4" "b\""));
    }
    void flag_lists()
    {
        FlagSet flags;
        CPPUNIT_ASSERT_EQUAL(std::string("()"), flag_list_text(flags));
        flags.system = kFlagSeen | kFlagAnswered | kFlagRecent;
        flags.keywords = {"$Forwarded", "Junk"};
        CPPUNIT_ASSERT_EQUAL(std::string("(\\Answered \\Seen \\Recent $Forwarded Junk)"), flag_list_text(flags));
        flags.system = kFlagAnswered | kFlagFlagged | kFlagDeleted | kFlagSeen | kFlagDraft;
        flags.keywords.clear();
        CPPUNIT_ASSERT_EQUAL(std::string("(\\Answered \\Flagged \\Deleted \\Seen \\Draft)"), flag_list_text(flags));
    }
    void status_lines()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("a OK [READ-WRITE] Select completed\r\n"),
                             status_line("a", "OK", "READ-WRITE", "Select completed"));
        CPPUNIT_ASSERT_EQUAL(std::string("* 3 EXISTS\r\n"), status_line("*", "3 EXISTS", "", ""));
        CPPUNIT_ASSERT_EQUAL(std::string("+ OK\r\n"), status_line("+", "OK", "", ""));
        CPPUNIT_ASSERT_EQUAL(std::string("{7}\r\n"), literal_prefix(7));
        CPPUNIT_ASSERT_EQUAL(std::string("~{7}\r\n"), literal_prefix(7, true));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ResponseTest);
