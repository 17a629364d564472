#include "imap/protocol/search_key.h"
#include "reader_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::imap::protocol;
using reader_test::parse_args;

namespace {

std::string tree(const std::string& text)
{
    return describe(parse_search(parse_args(text)).root);
}

std::string error_of(const std::string& text)
{
    try {
        parse_search(parse_args(text));
    } catch (const CommandError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

class SearchKeyTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SearchKeyTest);
    CPPUNIT_TEST(flag_keys);
    CPPUNIT_TEST(string_keys);
    CPPUNIT_TEST(date_keys);
    CPPUNIT_TEST(sizes_sets_and_uids);
    CPPUNIT_TEST(boolean_structure);
    CPPUNIT_TEST(charset_and_return);
    CPPUNIT_TEST(extensions);
    CPPUNIT_TEST(errors);
    CPPUNIT_TEST(deep_chains_are_bounded);
    CPPUNIT_TEST_SUITE_END();

public:
    void flag_keys()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("(AND ALL (FLAG \\Answered) (NOFLAG \\Seen) (FLAG \\Recent) NEW OLD "
                                         "(FLAG \\Deleted) (NOFLAG \\Draft) (FLAG \\Flagged) (NOFLAG \\Flagged) "
                                         "(NOFLAG \\Deleted) (NOFLAG \\Answered) (FLAG \\Draft) (FLAG \\Seen))"),
                             tree("all answered unseen recent new old deleted undraft flagged unflagged undeleted "
                                  "unanswered draft seen"));
        CPPUNIT_ASSERT_EQUAL(std::string("(AND (KEYWORD $Forwarded) (NOKEYWORD Junk))"),
                             tree("KEYWORD $Forwarded UNKEYWORD Junk"));
    }
    void string_keys()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("(AND (HEADER FROM \"alice\") (HEADER TO \"b c\") (HEADER CC \"x\") "
                                         "(HEADER BCC \"y\") (HEADER SUBJECT \"hi\r\n\") (BODY \"\") (TEXT \"t\"))"),
                             tree("FROM alice TO \"b c\" CC x BCC y SUBJECT {4+}\r\nhi\r\n BODY \"\" TEXT t"));
        SearchKey header = parse_search(parse_args("HEADER x-spam-flag YES")).root.children.at(0);
        CPPUNIT_ASSERT(header.kind == SearchKey::Kind::Header);
        CPPUNIT_ASSERT_EQUAL(std::string("X-SPAM-FLAG"), header.field);
        CPPUNIT_ASSERT_EQUAL(std::string("YES"), header.value);
        CPPUNIT_ASSERT(header.raw_header);
        CPPUNIT_ASSERT_EQUAL(std::string("(AND (RAWHEADER FROM \"a\") (HEADER FROM \"a\"))"),
                             tree("HEADER From a FROM a"));
    }
    void date_keys()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("(AND (BEFORE 01-Feb-2024) (ON 02-Feb-2024) (SINCE 03-Feb-2024) "
                                         "(SENTBEFORE 04-Feb-2024) (SENTON 05-Feb-2024) (SENTSINCE 06-Feb-2024))"),
                             tree("BEFORE 1-Feb-2024 ON \"2-feb-2024\" SINCE 03-Feb-2024 SENTBEFORE 4-Feb-2024 "
                                  "SENTON 5-Feb-2024 SENTSINCE 6-Feb-2024"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid search date parameter"), error_of("before 1-jan-99"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid search date parameter"), error_of("since 1-Foo-2024"));
        CPPUNIT_ASSERT_EQUAL(std::string("Missing parameter for search key (for search key: SINCE)"), error_of("since"));
    }
    void sizes_sets_and_uids()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("(AND (LARGER 1000) (SMALLER 20) (SEQ 1:*,3) (UID 5:7) (SEQ $) (SEQ *))"),
                             tree("LARGER 1000 SMALLER 20 1:*,3 UID 5:7 $ *"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid messageset"), error_of("1,,2"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid UID messageset"), error_of("UID 0"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid search size parameter"), error_of("LARGER x"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid search size parameter"), error_of("SMALLER 99999999999999999999"));
        CPPUNIT_ASSERT_EQUAL(std::string("(AND (LARGER 5))"), tree("LARGER \"5\""));  // Dovecot takes strings
    }
    void boolean_structure()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("(AND (OR (HEADER FROM \"a\") (NOT (FLAG \\Seen))) (AND (FLAG \\Draft) (LARGER 5)))"),
                             tree("OR FROM a NOT SEEN (DRAFT LARGER 5)"));
        CPPUNIT_ASSERT_EQUAL(std::string("(AND (OR (OR (FLAG \\Seen) (FLAG \\Draft)) (AND (NOT (FLAG \\Deleted)))))"),
                             tree("or or seen draft (not deleted)"));
    }
    void charset_and_return()
    {
        // RETURN (...) is parsed by parse_search_return before; here it is a bad key.
        SearchProgram program = parse_search(parse_args("CHARSET UTF-8 TEXT \"\xc3\xa4\""));
        CPPUNIT_ASSERT_EQUAL(std::string("UTF-8"), *program.charset);
        CPPUNIT_ASSERT_EQUAL(std::string("\xc3\xa4"), program.root.children.at(0).value);
        CPPUNIT_ASSERT(!parse_search(parse_args("ALL")).charset);
        CPPUNIT_ASSERT_EQUAL(std::string("Unknown argument RETURN"), error_of("RETURN (MIN) ALL"));
        CPPUNIT_ASSERT_EQUAL(std::string("Unknown argument RETURN"), error_of("CHARSET UTF-8 RETURN (MIN) ALL"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid charset argument"), error_of("CHARSET"));
        // "$" alone is the saved result; glued to more it is no key (Dovecot's texts)
        CPPUNIT_ASSERT_EQUAL(std::string("(AND (SEQ $) (NOT (SEQ $)))"), tree("$ NOT $"));
        CPPUNIT_ASSERT_EQUAL(std::string("Unknown argument $:3"), error_of("$:3"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid messageset"), error_of("1,$"));
    }
    void extensions()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("(AND (MODSEQ 620162338) (MODSEQ \"/flags/\\draft\" ALL 620162338) "
                                         "(OLDER 3600) (YOUNGER 60) (SAVEDSINCE 01-Jan-2025) SAVEDATESUPPORTED)"),
                             tree("MODSEQ 620162338 MODSEQ \"/flags/\\\\draft\" all 620162338 OLDER 3600 YOUNGER 60 "
                                  "SAVEDSINCE 1-Jan-2025 SAVEDATESUPPORTED"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid MODSEQ type"), error_of("MODSEQ \"/flags/x\" foo 5"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid MODSEQ value"), error_of("MODSEQ x"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid search interval parameter"), error_of("OLDER x"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid search interval parameter"), error_of("OLDER 0"));
    }
    void errors()
    {
        // texts as Dovecot 2.3 answered them on the reference instance
        CPPUNIT_ASSERT_EQUAL(std::string("Unknown argument BOGUS"), error_of("bogus"));
        CPPUNIT_ASSERT_EQUAL(std::string("Missing argument"), error_of("or from x"));
        CPPUNIT_ASSERT_EQUAL(std::string("Missing argument"), error_of("not"));
        CPPUNIT_ASSERT_EQUAL(std::string("Missing parameter for search key (for search key: HEADER)"),
                             error_of("header from"));
        CPPUNIT_ASSERT_EQUAL(std::string("Missing search parameters"), error_of("CHARSET UTF-8"));
        CPPUNIT_ASSERT_EQUAL(std::string("No search parameters inside list"), error_of("()"));
        CPPUNIT_ASSERT_EQUAL(std::string("Unexpected ( (for search key: FROM)"), error_of("FROM (x)"));
        CPPUNIT_ASSERT_EQUAL(std::string("Unexpected string as search key: ALL"), error_of("\"ALL\""));
        CPPUNIT_ASSERT_EQUAL(std::string("(AND (KEYWORD a]b) (KEYWORD x))"), tree("KEYWORD a]b KEYWORD \"x\""));
    }
    void deep_chains_are_bounded()
    {
        std::string chain;
        for (int i = 0; i < 5000; ++i)
            chain += "NOT ";
        CPPUNIT_ASSERT_EQUAL(std::string("Too deep search query"), error_of(chain + "SEEN"));
        chain.clear();
        for (int i = 0; i < 100; ++i)
            chain += "NOT ";
        CPPUNIT_ASSERT_EQUAL(std::string("(no error)"), error_of(chain + "SEEN"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SearchKeyTest);
