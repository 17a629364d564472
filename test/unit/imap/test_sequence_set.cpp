#include "imap/protocol/arg.h"
#include "imap/protocol/sequence_set.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::imap::protocol;

namespace {

std::string resolved(std::string_view text, uint32_t star)
{
    return format_ranges(SequenceSet::parse(text).resolve(star));
}

bool rejects(std::string_view text)
{
    try {
        SequenceSet::parse(text);
    } catch (const CommandError& e) {
        return std::string(e.what()) == "Invalid messageset";
    }
    return false;
}

}  // namespace

class SequenceSetTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SequenceSetTest);
    CPPUNIT_TEST(parses_and_prints_as_written);
    CPPUNIT_TEST(resolves_star_sorts_and_merges);
    CPPUNIT_TEST(star_in_empty_mailbox);
    CPPUNIT_TEST(reversed_ranges);
    CPPUNIT_TEST(saved_result);
    CPPUNIT_TEST(rejects_bad_syntax);
    CPPUNIT_TEST(contains_and_max_explicit);
    CPPUNIT_TEST(compresses_numbers);
    CPPUNIT_TEST(extreme_values);
    CPPUNIT_TEST(uid_sets_and_arguments);
    CPPUNIT_TEST_SUITE_END();

public:
    void parses_and_prints_as_written()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("1:*,3,5:7"), SequenceSet::parse("1:*,3,5:7").to_string());
        CPPUNIT_ASSERT_EQUAL(std::string("*"), SequenceSet::parse("*").to_string());
        CPPUNIT_ASSERT(SequenceSet::parse("1:*").uses_star());
        CPPUNIT_ASSERT(!SequenceSet::parse("1:4").uses_star());
    }
    void resolves_star_sorts_and_merges()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("1:10"), resolved("1:*,3,5:7", 10));
        CPPUNIT_ASSERT_EQUAL(std::string("1:3,5,7:9"), resolved("9,8,7,5,3,2,1", 100));
        CPPUNIT_ASSERT_EQUAL(std::string("1:6"), resolved("1:3,4:6", 100));
        CPPUNIT_ASSERT_EQUAL(std::string("1:7"), resolved("5:7,1:6", 100));
        CPPUNIT_ASSERT_EQUAL(std::string("12"), resolved("*", 12));
    }
    void star_in_empty_mailbox()
    {
        CPPUNIT_ASSERT_EQUAL(std::string(""), resolved("*", 0));
        CPPUNIT_ASSERT_EQUAL(std::string("1"), resolved("1:*", 0));
        CPPUNIT_ASSERT_EQUAL(std::string("1:4"), resolved("4:*", 0));
    }
    void reversed_ranges()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("2:7"), resolved("7:2", 100));
        CPPUNIT_ASSERT_EQUAL(std::string("3:5"), resolved("5:*", 3));  // RFC 3501: "*" may be below
    }
    void saved_result()
    {
        SequenceSet set = SequenceSet::parse("$");
        CPPUNIT_ASSERT(set.is_saved_result());
        CPPUNIT_ASSERT_EQUAL(std::string("$"), set.to_string());
        CPPUNIT_ASSERT(rejects("$,1"));
        CPPUNIT_ASSERT(rejects("1:$"));
    }
    void rejects_bad_syntax()
    {
        for (const char* text : {"", "0", "1:0", "0:*", ",", "1,", ",1", "1,,2", "1::2", "1:", ":1", "a", "1 2",
                                 "-1", "1:2:3", "4294967296", "99999999999999999999", "**", "1;2", "+1"})
            CPPUNIT_ASSERT_MESSAGE(text, rejects(text));
        std::string many;
        for (int i = 0; i < 100001; ++i)
            many += (i ? ",1" : "1");
        CPPUNIT_ASSERT(rejects(many));
    }
    void contains_and_max_explicit()
    {
        SequenceSet set = SequenceSet::parse("2:4,10:*");
        CPPUNIT_ASSERT(set.contains(3, 20));
        CPPUNIT_ASSERT(!set.contains(5, 20));
        CPPUNIT_ASSERT(set.contains(15, 20));
        CPPUNIT_ASSERT(set.contains(7, 7));  // 10:* with * = 7 is 7:10
        CPPUNIT_ASSERT(!set.contains(0, 0));
        CPPUNIT_ASSERT_EQUAL(uint32_t(10), set.max_explicit());
    }
    void compresses_numbers()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("1:3,5"), format_sequence_set({3, 1, 2, 5, 2}));
        CPPUNIT_ASSERT_EQUAL(std::string(""), format_sequence_set({}));
        CPPUNIT_ASSERT_EQUAL(std::string("7"), format_sequence_set({7}));
        CPPUNIT_ASSERT_EQUAL(std::string("4,2"), format_ranges({{4, 4}, {2, 2}}));  // order kept for COPYUID
    }
    void uid_sets_and_arguments()
    {
        // texts as Dovecot 2.3 answered them for UID FETCH 0 / FETCH "1"
        std::string text;
        try {
            SequenceSet::parse("0", true);
        } catch (const CommandError& e) {
            text = e.what();
        }
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid uidset"), text);
        CPPUNIT_ASSERT_EQUAL(std::string("1:3"), sequence_set_arg(Arg::atom("1:3")).to_string());
        try {
            sequence_set_arg(Arg::quoted("1"));
            text.clear();
        } catch (const CommandError& e) {
            text = e.what();
        }
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), text);
    }
    void extreme_values()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("4294967294:4294967295"),
                             format_sequence_set({4294967295u, 4294967294u}));
        CPPUNIT_ASSERT_EQUAL(std::string("1:4294967295"), resolved("1:4294967295,4294967295", 5));
        CPPUNIT_ASSERT_EQUAL(std::string("4294967295"), resolved("*", 4294967295u));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SequenceSetTest);
