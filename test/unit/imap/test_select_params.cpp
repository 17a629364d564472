#include "imap/protocol/select_params.h"
#include "reader_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::imap::protocol;
using reader_test::parse_args;

namespace {

SelectParams params(const std::string& text, bool qresync = true)
{
    ArgList args = parse_args(text);
    return parse_select_params(args.at(0), qresync);
}

std::string error_of(const std::string& text, bool qresync = true)
{
    try {
        params(text, qresync);
    } catch (const CommandError& error) {
        return error.what();
    }
    return "no error";
}

}  // namespace

class SelectParamsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SelectParamsTest);
    CPPUNIT_TEST(condstore);
    CPPUNIT_TEST(qresync_minimal);
    CPPUNIT_TEST(qresync_known_uids_and_match_data);
    CPPUNIT_TEST(errors_as_dovecot);
    CPPUNIT_TEST_SUITE_END();

public:
    void condstore()
    {
        SelectParams p = params("(CONDSTORE)");
        CPPUNIT_ASSERT(p.condstore);
        CPPUNIT_ASSERT(!p.qresync);
        CPPUNIT_ASSERT(params("(condstore)").condstore);
        CPPUNIT_ASSERT(!params("()").condstore);
        // CONDSTORE needs nothing enabled.
        CPPUNIT_ASSERT(params("(CONDSTORE)", false).condstore);
    }
    void qresync_minimal()
    {
        SelectParams p = params("(QRESYNC (1796020117 25))");
        CPPUNIT_ASSERT(p.qresync);
        CPPUNIT_ASSERT_EQUAL(uint32_t(1796020117), p.qresync->uidvalidity);
        CPPUNIT_ASSERT_EQUAL(uint64_t(25), p.qresync->modseq);
        CPPUNIT_ASSERT_EQUAL(std::string("1:4294967295"), format_ranges(p.qresync->known_uids));
        CPPUNIT_ASSERT(p.qresync->sample_seqs.empty());
        // A modseq of 0 is accepted (everything changed since).
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), params("(QRESYNC (1 0))").qresync->modseq);
        CPPUNIT_ASSERT(params("(CONDSTORE QRESYNC (1 2))").condstore);
    }
    void qresync_known_uids_and_match_data()
    {
        SelectParams p = params("(QRESYNC (67890007 90060115194045000 41,43:211,214:541))");
        CPPUNIT_ASSERT_EQUAL(std::string("41,43:211,214:541"), format_ranges(p.qresync->known_uids));
        // RFC 7162's example: seqs 1:10 are UIDs 1:10 -> samples at both ends.
        p = params("(QRESYNC (1 5 1:20 (1:4 1:4)))");
        CPPUNIT_ASSERT_EQUAL(size_t(2), p.qresync->sample_uids.size());
        CPPUNIT_ASSERT_EQUAL(uint32_t(1), p.qresync->sample_uids[0]);
        CPPUNIT_ASSERT_EQUAL(uint32_t(1), p.qresync->sample_seqs[0]);
        CPPUNIT_ASSERT_EQUAL(uint32_t(4), p.qresync->sample_uids[1]);
        CPPUNIT_ASSERT_EQUAL(uint32_t(4), p.qresync->sample_seqs[1]);
        // Sequence numbers pair with UIDs in order, across ranges.
        p = params("(QRESYNC (1 5 1:20 (1:3 5:7)))");
        std::vector<uint32_t> uids{5, 7}, seqs{1, 3};
        CPPUNIT_ASSERT(p.qresync->sample_uids == uids);
        CPPUNIT_ASSERT(p.qresync->sample_seqs == seqs);
        p = params("(QRESYNC (1 5 1:20 (1,2 6,9)))");
        uids = {6, 9};
        seqs = {1, 2};
        CPPUNIT_ASSERT(p.qresync->sample_uids == uids);
        CPPUNIT_ASSERT(p.qresync->sample_seqs == seqs);
    }
    void errors_as_dovecot()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("QRESYNC not enabled"), error_of("(QRESYNC (1 2))", false));
        CPPUNIT_ASSERT_EQUAL(std::string("QRESYNC parameters missing"), error_of("(QRESYNC)"));
        CPPUNIT_ASSERT_EQUAL(std::string("QRESYNC parameters missing"), error_of("(QRESYNC 1)"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid QRESYNC parameters"), error_of("(QRESYNC (1 x))"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid QRESYNC parameters"), error_of("(QRESYNC (1))"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid QRESYNC parameters"), error_of("(QRESYNC (4294967296 1))"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid QRESYNC parameters"), error_of("(QRESYNC (1 1 1:5 (1 1) x))"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid QRESYNC known-uids"), error_of("(QRESYNC (1 1 1:*))"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid QRESYNC known-sequence-set"), error_of("(QRESYNC (1 1 1:8 ()))"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid QRESYNC known-uid-set"), error_of("(QRESYNC (1 1 1:8 (1:3)))"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid QRESYNC sets"), error_of("(QRESYNC (1 1 1:8 (1:3 1:2)))"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid QRESYNC sets"), error_of("(QRESYNC (1 1 1:8 (1 1:2)))"));
        CPPUNIT_ASSERT_EQUAL(std::string("Too many parameters to QRESYNC known set"),
                             error_of("(QRESYNC (1 1 1:8 (1 1 1)))"));
        CPPUNIT_ASSERT_EQUAL(std::string("Unknown FETCH modifier"), error_of("(FOO)"));
        CPPUNIT_ASSERT_EQUAL(std::string("SELECT options contain non-atoms"), error_of("(\"x\")"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SelectParamsTest);
