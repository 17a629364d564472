#include "test_helpers.h"

#include "storage/search/sort.h"
#include "storage/search/thread.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::storage::search;
using search_test::make_set;
using search_test::program;
using search_test::TestMessage;

namespace {

using V = std::vector<uint32_t>;

std::string msg(const std::string& from, const std::string& subject, const std::string& date,
                const std::string& id, const std::string& refs = "")
{
    std::string text = "From: " + from + "\nTo: Zed <zed@example.com>\nSubject: " + subject + "\nDate: " + date +
                       "\nMessage-ID: <" + id + ">\n";
    if (!refs.empty())
        text += "References: " + refs + "\n";
    return text + "\nbody\n";
}

std::vector<TestMessage> thread_corpus()
{
    return {
        {msg("Carol <carol@x>", "plans", "1 Jan 2020 10:00 +0000", "a@x"), 0, 100},
        {msg("alice@x", "Re: plans", "1 Jan 2020 12:00 +0000", "b@x", "<a@x>"), 0, 50},
        {msg("\"Bob\" <bob@x>", "other", "1 Jan 2020 11:00 +0000", "c@x"), 0, 300},
        {msg("dave@x", "Re: plans", "1 Jan 2020 13:00 +0000", "d@x", "<a@x> <b@x>"), 0, 200},
        {msg("eve@x", "Re: other", "1 Jan 2020 09:00 +0000", "e@x", "<missing@x>"), 0, 400},
    };
}

}  // namespace

class SortThreadTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SortThreadTest);
    CPPUNIT_TEST(criteria_parse);
    CPPUNIT_TEST(sorts_by_each_key);
    CPPUNIT_TEST(orderedsubject_threads);
    CPPUNIT_TEST(references_threads);
    CPPUNIT_TEST(references_edge_cases);
    CPPUNIT_TEST(threads_only_the_given_messages);
    CPPUNIT_TEST_SUITE_END();

    static V sorted(MessageSet& set, const std::vector<std::string>& atoms)
    {
        return sort_messages(set, parse_sort_criteria(atoms), set.matching_sequences(program("ALL")));
    }

public:
    void criteria_parse()
    {
        auto criteria = parse_sort_criteria({"reverse", "DATE", "subject"});
        CPPUNIT_ASSERT_EQUAL(size_t(2), criteria.size());
        CPPUNIT_ASSERT(criteria[0].reverse && criteria[0].key == SortKey::Date);
        CPPUNIT_ASSERT(!criteria[1].reverse && criteria[1].key == SortKey::Subject);
        CPPUNIT_ASSERT_THROW(parse_sort_criteria({"REVERSE"}), SearchError);
        CPPUNIT_ASSERT_THROW(parse_sort_criteria({"COLOR"}), SearchError);
        CPPUNIT_ASSERT_THROW(parse_sort_criteria({}), SearchError);
    }
    void sorts_by_each_key()
    {
        auto set = make_set(thread_corpus());
        CPPUNIT_ASSERT(V({2, 1, 4, 3, 5}) == sorted(set, {"ARRIVAL"}));
        CPPUNIT_ASSERT(V({5, 1, 3, 2, 4}) == sorted(set, {"DATE"}));
        CPPUNIT_ASSERT(V({4, 2, 3, 1, 5}) == sorted(set, {"REVERSE", "DATE"}));
        CPPUNIT_ASSERT(V({2, 3, 1, 4, 5}) == sorted(set, {"FROM"}));
        CPPUNIT_ASSERT(V({2, 3, 1, 4, 5}) == sorted(set, {"DISPLAYFROM"}));
        CPPUNIT_ASSERT(V({3, 5, 1, 2, 4}) == sorted(set, {"SUBJECT"}));
        CPPUNIT_ASSERT(V({3, 5, 4, 2, 1}) == sorted(set, {"SUBJECT", "REVERSE", "DATE"}));
        CPPUNIT_ASSERT(V({1, 2, 3, 4, 5}) == sorted(set, {"TO"}));
        CPPUNIT_ASSERT(V({1, 2, 3, 4, 5}) == sorted(set, {"CC"}));
    }
    void orderedsubject_threads()
    {
        auto set = make_set(thread_corpus());
        auto all = set.matching_sequences(program("ALL"));
        CPPUNIT_ASSERT_EQUAL(std::string("(5 3)(1 (2)(4))"),
                             thread_messages(set, ThreadAlgorithm::OrderedSubject, all, false));
        CPPUNIT_ASSERT_EQUAL(std::string("(50 30)(10 (20)(40))"),
                             thread_messages(set, ThreadAlgorithm::OrderedSubject, all, true));
    }
    void references_threads()
    {
        auto set = make_set(thread_corpus());
        auto all = set.matching_sequences(program("ALL"));
        // 5 hangs off a missing parent and is merged with 3 by subject ("Re: other").
        CPPUNIT_ASSERT_EQUAL(std::string("(1 2 4)(3 5)"),
                             thread_messages(set, ThreadAlgorithm::References, all, false));
        CPPUNIT_ASSERT_EQUAL(std::string("(5)(3)(1 2 4)"), thread_messages(set, ThreadAlgorithm::Refs, all, false));
    }
    void references_edge_cases()
    {
        auto thread = [](const std::vector<TestMessage>& list) {
            auto set = make_set(list);
            return thread_messages(set, ThreadAlgorithm::References, set.matching_sequences(program("ALL")), false);
        };
        // Two messages answering one never-seen message stay siblings under a dummy.
        CPPUNIT_ASSERT_EQUAL(std::string("((1)(2))"),
                             thread({{msg("a@x", "one", "1 Jan 2020 10:00 +0000", "p@x", "<gone@x>")},
                                     {msg("b@x", "two", "1 Jan 2020 11:00 +0000", "q@x", "<gone@x>")}}));
        // A reference loop is cut where it would close.
        CPPUNIT_ASSERT_EQUAL(std::string("(2 1)"),
                             thread({{msg("a@x", "one", "1 Jan 2020 10:00 +0000", "a@x", "<b@x>")},
                                     {msg("b@x", "two", "1 Jan 2020 11:00 +0000", "b@x", "<a@x>")}}));
        // A duplicate Message-ID: the first message keeps it, replies go to the first.
        CPPUNIT_ASSERT_EQUAL(std::string("(1 3)(2)"),
                             thread({{msg("a@x", "one", "1 Jan 2020 10:00 +0000", "d@x")},
                                     {msg("b@x", "two", "1 Jan 2020 11:00 +0000", "d@x")},
                                     {msg("c@x", "three", "1 Jan 2020 12:00 +0000", "e@x", "<d@x>")}}));
        // Same base subject, neither a reply: both go under a new dummy.
        CPPUNIT_ASSERT_EQUAL(std::string("((1)(2))"),
                             thread({{msg("a@x", "same", "1 Jan 2020 10:00 +0000", "f@x")},
                                     {msg("b@x", "[tag] same", "1 Jan 2020 11:00 +0000", "g@x")}}));
    }
    void threads_only_the_given_messages()
    {
        auto set = make_set(thread_corpus());
        auto some = set.matching_sequences(program("NOT 2"));
        CPPUNIT_ASSERT(V({1, 3, 4, 5}) == some);
        // Without 2, message 4 still names 1 in its References and hangs below it.
        CPPUNIT_ASSERT_EQUAL(std::string("(1 4)(3 5)"),
                             thread_messages(set, ThreadAlgorithm::References, some, false));
        CPPUNIT_ASSERT_EQUAL(std::string(""), thread_messages(set, ThreadAlgorithm::Refs, {}, false));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SortThreadTest);
