#include "storage/search/base_subject.h"
#include "storage/search/date_header.h"
#include "storage/search/text_fold.h"
#include "storage/search/thread.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::storage::search;

class SearchTextTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SearchTextTest);
    CPPUNIT_TEST(fold_case_uppercases_ascii_and_decomposes_latin1);
    CPPUNIT_TEST(fold_case_is_dovecots_unicode_casemap);
    CPPUNIT_TEST(base_subject_strips_reply_markers);
    CPPUNIT_TEST(base_subject_decodes_and_packs);
    CPPUNIT_TEST(date_header_parses_common_forms);
    CPPUNIT_TEST(date_header_rejects_garbage);
    CPPUNIT_TEST(message_ids_are_extracted);
    CPPUNIT_TEST_SUITE_END();

public:
    void fold_case_uppercases_ascii_and_decomposes_latin1()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("HELLO WORLD"), fold_case("Hello World"));
        CPPUNIT_ASSERT_EQUAL(std::string("MU\xCC\x88LLER"), fold_case("m\xC3\xBCller"));
        CPPUNIT_ASSERT(contains_folded("Quarterly Budget", fold_case("budget")));
        CPPUNIT_ASSERT(!contains_folded("Quarterly", fold_case("budget")));
    }
    // Facts measured on Dovecot 2.3 SEARCH: decomposed and precomposed accents match,
    // accents are not stripped, no compatibility decomposition, no full case folding.
    void fold_case_is_dovecots_unicode_casemap()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("E\xCC\x81TE\xCC\x81"), fold_case("\xC3\xA9t\xC3\xA9"));
        CPPUNIT_ASSERT_EQUAL(fold_case("e\xCC\x81"), fold_case("\xC3\x89"));
        CPPUNIT_ASSERT(contains_folded("caf\xC3\xA9", fold_case("CAFE")));
        CPPUNIT_ASSERT(!contains_folded("caf\xC3\xA9", fold_case("ete")));
        CPPUNIT_ASSERT(!contains_folded("stra\xC3\x9F" "e", fold_case("STRASSE")));
        CPPUNIT_ASSERT(!contains_folded("stra\xC3\x9F" "e", fold_case("STRA\xE1\xBA\x9E" "E")));
        CPPUNIT_ASSERT(!contains_folded("\xEF\xAC\x81", fold_case("fi")));
        CPPUNIT_ASSERT(contains_folded("\xE2\x84\xAA", fold_case("k")));  // KELVIN SIGN
        CPPUNIT_ASSERT_EQUAL(fold_case("\xE1\x84\x80\xE1\x85\xA1"), fold_case("\xEA\xB0\x80"));  // Hangul
        CPPUNIT_ASSERT_EQUAL(std::string("\xCE\xA3"), fold_case("\xCF\x82"));  // final sigma
    }
    void base_subject_strips_reply_markers()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("HELLO"), base_subject("Re: hello").text);
        CPPUNIT_ASSERT(base_subject("Re: hello").reply_or_forward);
        CPPUNIT_ASSERT(!base_subject("hello").reply_or_forward);
        CPPUNIT_ASSERT_EQUAL(std::string("HELLO"), base_subject("[list] RE: Fwd: hello (fwd)").text);
        CPPUNIT_ASSERT_EQUAL(std::string("HELLO"), base_subject("[Fwd: Re: hello]").text);
        CPPUNIT_ASSERT_EQUAL(std::string("[BLOB]"), base_subject("[blob]").text);
        CPPUNIT_ASSERT_EQUAL(std::string("REPORT"), base_subject("re[2]: report").text);
        CPPUNIT_ASSERT_EQUAL(std::string("RECEIPT"), base_subject("receipt").text);
        CPPUNIT_ASSERT_EQUAL(std::string(""), base_subject("Re:").text);
    }
    void base_subject_decodes_and_packs()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("A B C"), base_subject("  a \t b\r\n  c  ").text);
        CPPUNIT_ASSERT_EQUAL(std::string("CAFE\xCC\x81"), base_subject("Re: =?utf-8?q?caf=C3=A9?=").text);
    }
    void date_header_parses_common_forms()
    {
        auto d = parse_date_header("Mon, 2 Jan 2006 15:04:05 -0700");
        CPPUNIT_ASSERT(d);
        CPPUNIT_ASSERT_EQUAL(int64_t(1136239445), d->utc_seconds);
        CPPUNIT_ASSERT_EQUAL(-420, d->tz_offset_minutes);
        d = parse_date_header("2 Jan 06 22:04 GMT");
        CPPUNIT_ASSERT(d);
        CPPUNIT_ASSERT_EQUAL(int64_t(1136239440), d->utc_seconds);
        d = parse_date_header("Mon, 02 Jan 2006 15:04:05 +0000 (UTC)");
        CPPUNIT_ASSERT(d);
        CPPUNIT_ASSERT_EQUAL(int64_t(1136214245), d->utc_seconds);
    }
    void date_header_rejects_garbage()
    {
        CPPUNIT_ASSERT(!parse_date_header("yesterday"));
        CPPUNIT_ASSERT(!parse_date_header("32 Jan 2006 10:00 +0000"));
        CPPUNIT_ASSERT(!parse_date_header("2 Foo 2006 10:00 +0000"));
        CPPUNIT_ASSERT(!parse_date_header(""));
    }
    void message_ids_are_extracted()
    {
        auto ids = extract_message_ids("<a@b> junk <nodomain> < c @ d >");
        CPPUNIT_ASSERT_EQUAL(size_t(2), ids.size());
        CPPUNIT_ASSERT_EQUAL(std::string("a@b"), ids[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("c@d"), ids[1]);
        CPPUNIT_ASSERT_EQUAL(size_t(1), extract_message_ids("<a@b><c@d>", 1).size());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SearchTextTest);
