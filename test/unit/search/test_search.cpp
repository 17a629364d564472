#include "test_helpers.h"

#include "storage/mail_types.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::storage::search;
using loft::imap::protocol::Arg;
using loft::imap::protocol::ArgList;
using search_test::make_set;
using search_test::program;
using search_test::TestMessage;

namespace search_test {
namespace {

ArgList tokens(const std::string& text, size_t& pos, bool in_list)
{
    ArgList args;
    while (pos < text.size()) {
        char c = text[pos];
        if (c == ' ') {
            ++pos;
        } else if (c == '(') {
            ++pos;
            args.push_back(Arg::list(tokens(text, pos, true)));
        } else if (c == ')') {
            ++pos;
            if (in_list)
                break;
        } else if (c == '"') {
            size_t end = text.find('"', pos + 1);
            args.push_back(Arg::quoted(text.substr(pos + 1, end - pos - 1)));
            pos = end + 1;
        } else {
            size_t end = text.find_first_of(" ()", pos);
            if (end == std::string::npos)
                end = text.size();
            args.push_back(Arg::atom(text.substr(pos, end - pos)));
            pos = end;
        }
    }
    return args;
}

}  // namespace

loft::imap::protocol::SearchProgram program(const std::string& text)
{
    size_t pos = 0;
    return loft::imap::protocol::parse_search(tokens(text, pos, false));
}

}  // namespace search_test

namespace {

using V = std::vector<uint32_t>;

const int64_t kJan2 = 1136160000;  // 2006-01-02 00:00:00 UTC

std::vector<TestMessage> corpus()
{
    using namespace loft::storage;
    return {
        {"From: Alice Example <alice@example.com>\nTo: bob@example.org\nSubject: Budget report\n"
         "Date: Mon, 2 Jan 2006 23:30:00 -0500\n\nThe quarterly numbers are in.\n",
         Seen | Answered, kJan2 + 3600, {"$Work"}, 5},
        {"From: =?utf-8?q?J=C3=BCrgen?= <jurgen@example.net>\nTo: Alice <alice@example.com>\n"
         "Cc: carol@example.com\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\nDate: Tue, 3 Jan 2006 01:00:00 +0000\n"
         "Content-Type: multipart/alternative; boundary=XX\n\n--XX\nContent-Type: text/plain; charset=iso-8859-1\n"
         "Content-Transfer-Encoding: quoted-printable\n\nK=E4se und Brot\n--XX\nContent-Type: image/png\n"
         "Content-Transfer-Encoding: base64\n\naGlkZGVuIHdvcmQ=\n--XX--\n",
         Recent, kJan2 + 86400 + 60, {}, 9},
        {"From: bob@example.org\nSubject: lunch?\n\nShall we meet at noon\n", Flagged | Recent | Seen,
         kJan2 - 60, {"$work"}, 2},
    };
}

}  // namespace

class SearchTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SearchTest);
    CPPUNIT_TEST(flags_and_keywords);
    CPPUNIT_TEST(sequence_and_uid_sets);
    CPPUNIT_TEST(internal_dates_use_server_zone);
    CPPUNIT_TEST(sent_dates_use_senders_wall_clock);
    CPPUNIT_TEST(headers_are_decoded_and_case_insensitive);
    CPPUNIT_TEST(header_key_matches_the_field_as_written);
    CPPUNIT_TEST(body_and_text_search_decoded_text_parts);
    CPPUNIT_TEST(sizes_modseq_and_within);
    CPPUNIT_TEST(boolean_operators);
    CPPUNIT_TEST_SUITE_END();

public:
    void flags_and_keywords()
    {
        auto set = make_set(corpus());
        CPPUNIT_ASSERT(V({1, 3}) == set.matching_sequences(program("SEEN")));
        CPPUNIT_ASSERT(V({2}) == set.matching_sequences(program("UNSEEN")));
        CPPUNIT_ASSERT(V({2}) == set.matching_sequences(program("NEW")));
        CPPUNIT_ASSERT(V({1}) == set.matching_sequences(program("OLD")));
        CPPUNIT_ASSERT(V({2, 3}) == set.matching_sequences(program("RECENT")));
        CPPUNIT_ASSERT(V({1, 3}) == set.matching_sequences(program("KEYWORD $WORK")));
        CPPUNIT_ASSERT(V({2}) == set.matching_sequences(program("UNKEYWORD $work")));
        CPPUNIT_ASSERT(V({10}) == set.search(program("ANSWERED")));
    }
    void sequence_and_uid_sets()
    {
        auto set = make_set(corpus());
        CPPUNIT_ASSERT(V({2, 3}) == set.matching_sequences(program("2:*")));
        CPPUNIT_ASSERT(V({3}) == set.matching_sequences(program("*")));
        CPPUNIT_ASSERT(V({1, 3}) == set.matching_sequences(program("UID 1:15,25:*")));
        CPPUNIT_ASSERT(V({}) == set.matching_sequences(program("UID 100")));
        CPPUNIT_ASSERT(V({3}) == set.matching_sequences(program("UID 100:*")));  // "*" is 30
    }
    void internal_dates_use_server_zone()
    {
        auto set = make_set(corpus());
        CPPUNIT_ASSERT(V({1}) == set.matching_sequences(program("ON 2-Jan-2006")));
        CPPUNIT_ASSERT(V({3}) == set.matching_sequences(program("BEFORE 2-Jan-2006")));
        CPPUNIT_ASSERT(V({1, 2}) == set.matching_sequences(program("SINCE 2-Jan-2006")));
        SearchOptions east;
        east.tz_offset_minutes = 120;  // local midnight is 22:00 UTC the day before
        auto shifted = make_set(corpus(), east);
        CPPUNIT_ASSERT(V({1, 3}) == shifted.matching_sequences(program("ON 2-Jan-2006")));
    }
    void sent_dates_use_senders_wall_clock()
    {
        auto set = make_set(corpus());
        // 23:30 -0500 is already 3 Jan in UTC, but 2 Jan for the sender.
        CPPUNIT_ASSERT(V({1}) == set.matching_sequences(program("SENTON 2-Jan-2006")));
        CPPUNIT_ASSERT(V({2}) == set.matching_sequences(program("SENTSINCE 3-Jan-2006")));
        // No Date: counts as the epoch (Dovecot 2.3), so it is before everything.
        CPPUNIT_ASSERT(V({1, 3}) == set.matching_sequences(program("SENTBEFORE 3-Jan-2006")));
    }
    void headers_are_decoded_and_case_insensitive()
    {
        auto set = make_set(corpus());
        CPPUNIT_ASSERT(V({2}) == set.matching_sequences(program("FROM j\xC3\xBCrgen")));
        CPPUNIT_ASSERT(V({2}) == set.matching_sequences(program("SUBJECT gr\xC3\x9C")));
        CPPUNIT_ASSERT(V({1, 2}) == set.matching_sequences(program("OR FROM alice TO alice")));
        // Dovecot quotes a display name with a space in the normalized form it searches.
        CPPUNIT_ASSERT(V({}) == set.matching_sequences(program("FROM \"Alice Example <alice@\"")));
        CPPUNIT_ASSERT(V({1}) == set.matching_sequences(program("HEADER FROM \"Alice Example <alice@\"")));
        CPPUNIT_ASSERT(V({2}) == set.matching_sequences(program("CC \"\"")));
        CPPUNIT_ASSERT(V({1, 2, 3}) == set.matching_sequences(program("HEADER SUBJECT \"\"")));
        CPPUNIT_ASSERT(V({}) == set.matching_sequences(program("HEADER X-Missing \"\"")));
    }
    // Differences measured against Dovecot 2.3: HEADER FROM sees comments and the bare
    // address without brackets; SUBJECT (not HEADER SUBJECT) compresses whitespace.
    void header_key_matches_the_field_as_written()
    {
        auto set = make_set({{"From: \"Alice  Smith\" <alice@example.org> (the boss)\nSubject: hello   world\n\nx\n"},
                             {"From: alice@example.org\nSubject: x\n\nx\n"}});
        CPPUNIT_ASSERT(V({}) == set.matching_sequences(program("FROM boss")));
        CPPUNIT_ASSERT(V({1}) == set.matching_sequences(program("HEADER FROM boss")));
        CPPUNIT_ASSERT(V({1, 2}) == set.matching_sequences(program("FROM \"<alice@\"")));
        CPPUNIT_ASSERT(V({1}) == set.matching_sequences(program("HEADER FROM \"<alice@\"")));
        CPPUNIT_ASSERT(V({1}) == set.matching_sequences(program("SUBJECT \"hello world\"")));
        CPPUNIT_ASSERT(V({}) == set.matching_sequences(program("HEADER SUBJECT \"hello world\"")));
    }
    void body_and_text_search_decoded_text_parts()
    {
        auto set = make_set(corpus());
        CPPUNIT_ASSERT(V({2}) == set.matching_sequences(program("BODY k\xC3\xA4se")));
        CPPUNIT_ASSERT(V({}) == set.matching_sequences(program("BODY hidden")));  // image part
        CPPUNIT_ASSERT(V({}) == set.matching_sequences(program("BODY budget")));
        CPPUNIT_ASSERT(V({1}) == set.matching_sequences(program("TEXT budget")));
        CPPUNIT_ASSERT(V({1, 2}) == set.matching_sequences(program("TEXT alice@")));
    }
    void sizes_modseq_and_within()
    {
        SearchOptions options;
        options.now = kJan2 + 86400 + 120;
        auto set = make_set(corpus(), options);
        CPPUNIT_ASSERT(V({2}) == set.matching_sequences(program("LARGER 300")));
        CPPUNIT_ASSERT(V({3}) == set.matching_sequences(program("SMALLER 100")));
        CPPUNIT_ASSERT(V({1, 2}) == set.matching_sequences(program("MODSEQ 5")));
        CPPUNIT_ASSERT(V({2}) == set.matching_sequences(program("YOUNGER 60")));
        CPPUNIT_ASSERT(V({1, 3}) == set.matching_sequences(program("OLDER 61")));
    }
    void boolean_operators()
    {
        auto set = make_set(corpus());
        CPPUNIT_ASSERT(V({2}) == set.matching_sequences(program("NOT SEEN")));
        CPPUNIT_ASSERT(V({1, 2}) == set.matching_sequences(program("OR ANSWERED NOT FLAGGED")));
        CPPUNIT_ASSERT(V({3}) == set.matching_sequences(program("(SEEN FLAGGED) ALL")));
        CPPUNIT_ASSERT(V({}) == set.matching_sequences(program("SEEN NOT (SEEN)")));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SearchTest);
