#include "imap/protocol/arg_values.h"
#include "imap/protocol/store_args.h"
#include "reader_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::imap::protocol;
using reader_test::parse_args;

namespace {

template <typename F>
std::string error_of(F&& f)
{
    try {
        f();
    } catch (const CommandError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

class ArgValuesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ArgValuesTest);
    CPPUNIT_TEST(astring_accepts_atoms_and_strings);
    CPPUNIT_TEST(nstring_and_string);
    CPPUNIT_TEST(inbox_is_case_insensitive);
    CPPUNIT_TEST(numbers);
    CPPUNIT_TEST(flag_lists);
    CPPUNIT_TEST(flag_errors);
    CPPUNIT_TEST(store_arguments);
    CPPUNIT_TEST(store_errors);
    CPPUNIT_TEST_SUITE_END();

public:
    void astring_accepts_atoms_and_strings()
    {
        ArgList args = parse_args("alice \"bob smith\" {3+}\r\nc d (x)");
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), astring(args[0]));
        CPPUNIT_ASSERT_EQUAL(std::string("bob smith"), astring(args[1]));
        CPPUNIT_ASSERT_EQUAL(std::string("c d"), astring(args[2]));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), error_of([&] { astring(args[3]); }));
        Arg eight = Arg::literal("x");
        eight.literal8 = true;
        CPPUNIT_ASSERT_EQUAL(std::string("literal8 not allowed here"), error_of([&] { astring(eight); }));
    }
    void nstring_and_string()
    {
        ArgList args = parse_args("NIL nil \"NIL\" atom");
        CPPUNIT_ASSERT(!nstring(args[0]));
        CPPUNIT_ASSERT(!nstring(args[1]));
        CPPUNIT_ASSERT_EQUAL(std::string("NIL"), *nstring(args[2]));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), error_of([&] { nstring(args[3]); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), error_of([&] { string_value(args[3]); }));
    }
    void inbox_is_case_insensitive()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("INBOX"), canonical_mailbox_name("inbox"));
        CPPUNIT_ASSERT_EQUAL(std::string("INBOX"), canonical_mailbox_name("InBoX"));
        CPPUNIT_ASSERT_EQUAL(std::string("inboxes"), canonical_mailbox_name("inboxes"));
        CPPUNIT_ASSERT_EQUAL(std::string("inbox/sub"), canonical_mailbox_name("inbox/sub"));
        CPPUNIT_ASSERT_EQUAL(std::string("INBOX/sub"), canonical_mailbox_name("inbox/sub", '/'));
        CPPUNIT_ASSERT_EQUAL(std::string("inbox.sub"), canonical_mailbox_name("inbox.sub", '/'));
        CPPUNIT_ASSERT_EQUAL(std::string("Inbo"), canonical_mailbox_name("Inbo"));
        ArgList args = parse_args("\"iNbOx\"");
        CPPUNIT_ASSERT_EQUAL(std::string("INBOX"), mailbox_name(args[0]));
    }
    void numbers()
    {
        CPPUNIT_ASSERT_EQUAL(uint32_t(0), *parse_number("0"));
        CPPUNIT_ASSERT_EQUAL(uint32_t(4294967295u), *parse_number("4294967295"));
        CPPUNIT_ASSERT(!parse_number("4294967296"));
        CPPUNIT_ASSERT(!parse_nz_number("0"));
        CPPUNIT_ASSERT(!parse_number("-1"));
        CPPUNIT_ASSERT(!parse_number(""));
        CPPUNIT_ASSERT_EQUAL(uint64_t(9223372036854775807ull), *parse_mod_sequence("9223372036854775807"));
        CPPUNIT_ASSERT(!parse_mod_sequence("9223372036854775808"));
        CPPUNIT_ASSERT(!parse_mod_sequence("0"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), *parse_mod_sequence("0", true));
    }
    void flag_lists()
    {
        FlagSet flags = parse_flag_list(parse_args("(\\seen \\ANSWERED $Forwarded Junk junk \\Draft)")[0]);
        CPPUNIT_ASSERT_EQUAL(uint8_t(kFlagSeen | kFlagAnswered | kFlagDraft), flags.system);
        CPPUNIT_ASSERT_EQUAL(size_t(2), flags.keywords.size());
        CPPUNIT_ASSERT_EQUAL(std::string("Junk"), flags.keywords[1]);
        CPPUNIT_ASSERT(parse_flag_list(parse_args("()")[0]) == FlagSet{});
        FlagSet bare = parse_flags(parse_args("\\Deleted \\Flagged"));
        CPPUNIT_ASSERT_EQUAL(uint8_t(kFlagDeleted | kFlagFlagged), bare.system);
    }
    void flag_errors()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid system flag \\BOGUS"),
                             error_of([] { parse_flag_list(parse_args("(\\Bogus)")[0]); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid system flag \\RECENT"),
                             error_of([] { parse_flag_list(parse_args("(\\Recent)")[0]); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Flags list contains non-atoms"),
                             error_of([] { parse_flag_list(parse_args("(\"x\")")[0]); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Flags list contains non-atoms"),
                             error_of([] { parse_flag_list(parse_args("((x))")[0]); }));
        // bad keywords parse; Dovecot refuses them later with NO [CANNOT] <keyword_error>
        CPPUNIT_ASSERT_EQUAL(std::string("a]b"), parse_flag_list(parse_args("(a]b)")[0]).keywords.at(0));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid characters in keyword"), *keyword_error("a]b"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid characters in keyword"), *keyword_error("a*"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid characters in keyword"), *keyword_error("\\x"));
        CPPUNIT_ASSERT_EQUAL(std::string("Keyword length too long"), *keyword_error(std::string(51, 'k')));
        CPPUNIT_ASSERT(is_valid_keyword(std::string(50, 'k')));
        CPPUNIT_ASSERT(is_valid_keyword("$Forwarded"));
    }
    void store_arguments()
    {
        StoreRequest store = parse_store(parse_args("1:* +FLAGS.SILENT (\\Seen)"));
        CPPUNIT_ASSERT(store.mode == StoreRequest::Mode::Add);
        CPPUNIT_ASSERT(store.silent);
        CPPUNIT_ASSERT_EQUAL(uint8_t(kFlagSeen), store.flags.system);
        CPPUNIT_ASSERT(!store.unchanged_since);

        store = parse_store(parse_args("1 -flags \\Deleted $Junk"));
        CPPUNIT_ASSERT(store.mode == StoreRequest::Mode::Remove);
        CPPUNIT_ASSERT(!store.silent);
        CPPUNIT_ASSERT_EQUAL(std::string("$Junk"), store.flags.keywords.at(0));

        store = parse_store(parse_args("1 (UNCHANGEDSINCE 12345) FLAGS ()"));
        CPPUNIT_ASSERT(store.mode == StoreRequest::Mode::Replace);
        CPPUNIT_ASSERT_EQUAL(uint64_t(12345), *store.unchanged_since);
        CPPUNIT_ASSERT(store.flags == FlagSet{});
    }
    void store_errors()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), error_of([] { parse_store(parse_args("1 FLAGZ (\\Seen)")); }));
        CPPUNIT_ASSERT(parse_store(parse_args("1 +FLAGS")).flags == FlagSet{});  // Dovecot: OK
        CPPUNIT_ASSERT_EQUAL(uint8_t(kFlagSeen), parse_store(parse_args("1 FLAGS (\\seen) (x)")).flags.system);
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), error_of([] { parse_store(parse_args("1")); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid STORE modifiers"),
                             error_of([] { parse_store(parse_args("1 (UNCHANGEDSINCE) FLAGS ()")); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid modseq"),
                             error_of([] { parse_store(parse_args("1 (UNCHANGEDSINCE x1) FLAGS ()")); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Unknown STORE modifier"),
                             error_of([] { parse_store(parse_args("1 (FOO 1) FLAGS ()")); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid STORE modifiers"),
                             error_of([] { parse_store(parse_args("1 (\"x\" 1) FLAGS ()")); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid system flag \\RECENT"),
                             error_of([] { parse_store(parse_args("1 FLAGS \\Recent")); }));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ArgValuesTest);
