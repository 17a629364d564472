#include "imap/list_match.h"

#include <cppunit/extensions/HelperMacros.h>

using loft::imap::list_matches;

class ListMatchTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ListMatchTest);
    CPPUNIT_TEST(star_crosses_hierarchy);
    CPPUNIT_TEST(percent_stops_at_separator);
    CPPUNIT_TEST(inbox_is_case_insensitive);
    CPPUNIT_TEST(hostile_pattern_finishes);
    CPPUNIT_TEST_SUITE_END();

public:
    void star_crosses_hierarchy()
    {
        CPPUNIT_ASSERT(list_matches("*", "Archive/2024", '/'));
        CPPUNIT_ASSERT(list_matches("Arch*", "Archive/2024", '/'));
        CPPUNIT_ASSERT(list_matches("*2024", "Archive/2024", '/'));
        CPPUNIT_ASSERT(!list_matches("*2023", "Archive/2024", '/'));
    }
    void percent_stops_at_separator()
    {
        CPPUNIT_ASSERT(list_matches("%", "Archive", '/'));
        CPPUNIT_ASSERT(!list_matches("%", "Archive/2024", '/'));
        CPPUNIT_ASSERT(list_matches("Archive/%", "Archive/2024", '/'));
        CPPUNIT_ASSERT(list_matches("%/%", "Archive/2024", '/'));
    }
    void inbox_is_case_insensitive()
    {
        CPPUNIT_ASSERT(list_matches("inbox", "INBOX", '/'));
        CPPUNIT_ASSERT(list_matches("InBoX/%", "INBOX/child", '/'));
        CPPUNIT_ASSERT(!list_matches("sent", "Sent", '/'));
    }
    void hostile_pattern_finishes()
    {
        std::string pattern;
        for (int i = 0; i < 30; i++)
            pattern += "*a%";
        pattern += "b";
        CPPUNIT_ASSERT(!list_matches(pattern, std::string(2000, 'a'), '/'));
        CPPUNIT_ASSERT(list_matches("*a%b", "xxa/ab", '/'));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ListMatchTest);
