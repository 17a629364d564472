#include "imap/protocol/search_return.h"
#include "reader_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::imap::protocol;
using reader_test::parse_args;

namespace {

SearchReturn options_of(const std::string& text, size_t* end = nullptr)
{
    ArgList args = parse_args(text);
    size_t pos = 0;
    SearchReturn options = parse_search_return(args, pos);
    if (end)
        *end = pos;
    return options;
}

std::string error_of(const std::string& text)
{
    try {
        options_of(text);
    } catch (const CommandError& e) {
        return e.what();
    }
    return "(no error)";
}

// ids are sequence numbers 1..n mapping to UIDs id*10, modseq id*100 when asked.
SearchFound found_of(std::vector<uint32_t> ids, bool modseqs = false)
{
    SearchFound found;
    found.ids = ids;
    for (uint32_t id : ids) {
        found.uids.push_back(id * 10);
        if (modseqs)
            found.modseqs.push_back(id * 100);
    }
    return found;
}

std::string esearch(const std::string& options, std::vector<uint32_t> ids, bool uid = false, bool modseqs = false)
{
    return format_esearch("a1", uid, options_of(options), found_of(std::move(ids), modseqs));
}

}  // namespace

class SearchReturnTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SearchReturnTest);
    CPPUNIT_TEST(options_parse);
    CPPUNIT_TEST(option_errors);
    CPPUNIT_TEST(esearch_lines);
    CPPUNIT_TEST(min_max_only_limits_save_and_modseq);
    CPPUNIT_TEST(partial_windows);
    CPPUNIT_TEST(ordered_sets);
    CPPUNIT_TEST_SUITE_END();

public:
    void options_parse()
    {
        size_t end = 0;
        SearchReturn options = options_of("RETURN (min Count) CHARSET UTF-8 ALL", &end);
        CPPUNIT_ASSERT(options.esearch && options.min && options.count && !options.max && !options.all);
        CPPUNIT_ASSERT_EQUAL(size_t(2), end);
        // empty list and CONTEXT alone mean ALL; SAVE alone answers nothing
        CPPUNIT_ASSERT(options_of("RETURN () ALL").all);
        CPPUNIT_ASSERT(options_of("RETURN (CONTEXT) ALL").all);
        CPPUNIT_ASSERT(!options_of("RETURN (SAVE) ALL").all);
        CPPUNIT_ASSERT(options_of("RETURN (SAVE) ALL").save_only());
        CPPUNIT_ASSERT(!options_of("RETURN (SAVE MIN) ALL").save_only());
        // UPDATE takes an optional fetch-attribute list
        CPPUNIT_ASSERT(options_of("RETURN (UPDATE (FLAGS) MIN) ALL").min);
        // no list after RETURN: not ours, the search parser reports it
        options = options_of("RETURN ALL", &end);
        CPPUNIT_ASSERT(!options.esearch);
        CPPUNIT_ASSERT_EQUAL(size_t(0), end);
        CPPUNIT_ASSERT(!options_of("ALL").esearch);
        options = options_of("RETURN (PARTIAL 9:3) ALL");
        CPPUNIT_ASSERT(options.partial && options.partial_first == 3 && options.partial_last == 9);
    }
    void option_errors()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("Unknown SEARCH return option"), error_of("RETURN (FOO) ALL"));
        CPPUNIT_ASSERT_EQUAL(std::string("Unknown SEARCH return option"), error_of("RETURN (MODSEQ) ALL"));
        CPPUNIT_ASSERT_EQUAL(std::string("SEARCH return options contain non-atoms"), error_of("RETURN (\"MIN\") ALL"));
        CPPUNIT_ASSERT_EQUAL(std::string("SEARCH return options have duplicate UPDATE"),
                             error_of("RETURN (UPDATE UPDATE) ALL"));
        CPPUNIT_ASSERT_EQUAL(std::string("PARTIAL conflicts with ALL"), error_of("RETURN (PARTIAL 1:2 ALL) ALL"));
        CPPUNIT_ASSERT_EQUAL(std::string("PARTIAL can be used only once"),
                             error_of("RETURN (PARTIAL 1:2 PARTIAL 1:3) ALL"));
        CPPUNIT_ASSERT_EQUAL(std::string("PARTIAL range missing"), error_of("RETURN (PARTIAL) ALL"));
        CPPUNIT_ASSERT_EQUAL(std::string("PARTIAL range missing"), error_of("RETURN (PARTIAL (1:2)) ALL"));
        for (const char* broken : {"0:2", "x", "-1:2", "1:", ":3", "1:2:3", "1:99999999999"})
            CPPUNIT_ASSERT_EQUAL(std::string("PARTIAL range broken"),
                                 error_of(std::string("RETURN (PARTIAL ") + broken + ") ALL"));
    }
    void esearch_lines()
    {
        // Dovecot's order whatever the request's: MIN MAX ALL ... COUNT
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\") MIN 1 MAX 5 ALL 1,3,5 COUNT 3"),
                             esearch("RETURN (ALL COUNT MAX MIN)", {1, 3, 5}));
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\") UID ALL 1:5"), esearch("RETURN ()", {1, 2, 3, 4, 5}, true));
        // nothing found: only COUNT is said
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\") COUNT 0"), esearch("RETURN (MIN MAX ALL COUNT)", {}));
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\")"), esearch("RETURN (MIN)", {}));
        CPPUNIT_ASSERT_EQUAL(std::string(""), esearch("RETURN (SAVE)", {1}));
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\")"), esearch("RETURN (UPDATE)", {1}));
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\") RELEVANCY (1 1 1)"), esearch("RETURN (RELEVANCY)", {1, 2, 4}));
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\") RELEVANCY ()"), esearch("RETURN (RELEVANCY)", {}));
        // MODSEQ last: the highest of the messages found
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\") ALL 2,4 MODSEQ 400"),
                             esearch("RETURN (ALL)", {2, 4}, false, true));
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\") COUNT 2 MODSEQ 400"),
                             esearch("RETURN (COUNT)", {2, 4}, false, true));
        // a SORT result: MIN/MAX are its first and last, ALL keeps the order
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\") MIN 5 MAX 1 ALL 5,4,2:3,1"),
                             esearch("RETURN (MIN MAX ALL)", {5, 4, 2, 3, 1}));
    }
    void min_max_only_limits_save_and_modseq()
    {
        SearchFound found = found_of({2, 3, 4}, true);
        CPPUNIT_ASSERT(std::vector<uint32_t>({20}) == saved_result(options_of("RETURN (SAVE MIN)"), found));
        CPPUNIT_ASSERT(std::vector<uint32_t>({20, 40}) == saved_result(options_of("RETURN (SAVE MIN MAX)"), found));
        CPPUNIT_ASSERT(std::vector<uint32_t>({20, 30, 40}) == saved_result(options_of("RETURN (SAVE COUNT)"), found));
        CPPUNIT_ASSERT(std::vector<uint32_t>({20, 30, 40}) == saved_result(options_of("RETURN (SAVE)"), found));
        CPPUNIT_ASSERT_EQUAL(uint64_t(200), result_modseq(options_of("RETURN (MIN)"), found));
        CPPUNIT_ASSERT_EQUAL(uint64_t(400), result_modseq(options_of("RETURN (MIN COUNT)"), found));
        // RELEVANCY too scores just MIN and MAX, once when they are the same message
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\") MIN 7 MAX 9 RELEVANCY (1 1)"),
                             esearch("RETURN (MIN MAX RELEVANCY)", {7, 8, 9}));
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\") MIN 7 MAX 7 RELEVANCY (1)"),
                             esearch("RETURN (MIN MAX RELEVANCY)", {7}));
        CPPUNIT_ASSERT(std::vector<uint32_t>({20}) == saved_result(options_of("RETURN (SAVE MIN RELEVANCY)"), found));
        CPPUNIT_ASSERT(saved_result(options_of("RETURN (SAVE MIN)"), found_of({})).empty());
    }
    void partial_windows()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\") PARTIAL (2:3 2:3) COUNT 7"),
                             esearch("RETURN (PARTIAL 3:2 COUNT)", {1, 2, 3, 4, 5, 6, 7}));
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\") PARTIAL (10:20 NIL)"),
                             esearch("RETURN (PARTIAL 10:20)", {1, 2, 3}));
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\") UID MIN 2 MAX 8 PARTIAL (1:3 2:3,5)"),
                             esearch("RETURN (PARTIAL 1:3 MIN MAX)", {2, 3, 5, 6, 7, 8}, true));
        CPPUNIT_ASSERT_EQUAL(std::string("ESEARCH (TAG \"a1\") PARTIAL (2:4 7,5,2)"),
                             esearch("RETURN (PARTIAL 2:4)", {8, 7, 5, 2, 3}));
    }
    void ordered_sets()
    {
        CPPUNIT_ASSERT_EQUAL(std::string(""), format_ordered_set({}));
        CPPUNIT_ASSERT_EQUAL(std::string("1,3,2,4:5"), format_ordered_set({1, 3, 2, 4, 5}));
        CPPUNIT_ASSERT_EQUAL(std::string("4294967294:4294967295,1"),
                             format_ordered_set({4294967294u, 4294967295u, 1}));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SearchReturnTest);
