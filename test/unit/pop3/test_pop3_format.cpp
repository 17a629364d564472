#include "pop3/pop3_format.h"

#include <cppunit/extensions/HelperMacros.h>

#include <limits>
#include <stdexcept>

using namespace loft::pop3;

class Pop3FormatTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(Pop3FormatTest);
    CPPUNIT_TEST(commands_split_and_uppercase);
    CPPUNIT_TEST(login_command_names_stop_at_eight_bytes);
    CPPUNIT_TEST(message_numbers_as_dovecot_checks_them);
    CPPUNIT_TEST(retr_adds_cr_and_stuffs_dots);
    CPPUNIT_TEST(retr_closes_a_message_without_final_newline);
    CPPUNIT_TEST(top_stops_after_the_wanted_body_lines);
    CPPUNIT_TEST(top_zero_gives_header_and_separator);
    CPPUNIT_TEST(chunking_does_not_change_output);
    CPPUNIT_TEST(workarounds);
    CPPUNIT_TEST(uidl_formats);
    CPPUNIT_TEST(duplicate_uidls_are_renamed);
    CPPUNIT_TEST(logout_line);
    CPPUNIT_TEST_SUITE_END();

    static std::string transform(std::string_view message, std::optional<uint64_t> lines, Workarounds w = {})
    {
        BodyTransform body(lines, w);
        std::string out;
        body.feed(message, out);
        body.finish(out);
        return out;
    }

public:
    void commands_split_and_uppercase()
    {
        CommandLine c = parse_command("retr   5");
        CPPUNIT_ASSERT_EQUAL(std::string("RETR"), c.name);
        CPPUNIT_ASSERT_EQUAL(std::string("5"), c.args);
        c = parse_command("noop");
        CPPUNIT_ASSERT_EQUAL(std::string("NOOP"), c.name);
        CPPUNIT_ASSERT_EQUAL(std::string(""), c.args);
    }

    void login_command_names_stop_at_eight_bytes()
    {
        CommandLine c = parse_login_command("user  alice");
        CPPUNIT_ASSERT_EQUAL(std::string("USER"), c.name);
        CPPUNIT_ASSERT_EQUAL(std::string(" alice"), c.args);  // only one space is skipped
        c = parse_login_command("ABCDEFGHIJ x");
        CPPUNIT_ASSERT_EQUAL(std::string("ABCDEFGH"), c.name);
        CPPUNIT_ASSERT_EQUAL(std::string("IJ x"), c.args);
    }

    void message_numbers_as_dovecot_checks_them()
    {
        NumberArg n = parse_message_number("12", false);
        CPPUNIT_ASSERT(n.ok);
        CPPUNIT_ASSERT_EQUAL(uint64_t(12), n.value);
        CPPUNIT_ASSERT_EQUAL(std::string("-ERR Invalid message number: x1"), parse_message_number("x1", false).error);
        CPPUNIT_ASSERT_EQUAL(std::string("-ERR Noise after message number: x"),
                             parse_message_number("1x", false).error);
        CPPUNIT_ASSERT_EQUAL(std::string("-ERR Message number too large: "),
                             parse_message_number("99999999999", false).error);
        CPPUNIT_ASSERT_EQUAL(std::string("-ERR Message number too large: x"),
                             parse_message_number("99999999999x", false).error);
        n = parse_message_number("3  10", true);
        CPPUNIT_ASSERT(n.ok);
        CPPUNIT_ASSERT_EQUAL(std::string("10"), n.rest);
        CPPUNIT_ASSERT_EQUAL(std::string("-ERR Noise after message number: "), parse_message_number("3", true).error);
        CPPUNIT_ASSERT_EQUAL(std::string("-ERR Invalid size: -1"), parse_size("-1", false).error);
    }

    void retr_adds_cr_and_stuffs_dots()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("A: b\r\n\r\n..x\r\ny.z\r\n..\r\n"),
                             transform("A: b\n\n.x\ny.z\r\n.\n", std::nullopt));
        // As Dovecot: a dot at the very start of the message is not doubled.
        CPPUNIT_ASSERT_EQUAL(std::string(".\r\n"), transform(".\n", std::nullopt));
        CPPUNIT_ASSERT_EQUAL(std::string("a\r\n..\r\n"), transform("a\n.\n", std::nullopt));
    }

    void retr_closes_a_message_without_final_newline()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("A: b\r\n\r\nbody\r\n"), transform("A: b\n\nbody", std::nullopt));
        CPPUNIT_ASSERT_EQUAL(std::string("\r\n"), transform("", std::nullopt));
    }

    void top_stops_after_the_wanted_body_lines()
    {
        std::string message = "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n";
        CPPUNIT_ASSERT_EQUAL(std::string("A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n"), transform(message, 2));
        CPPUNIT_ASSERT_EQUAL(message, transform(message, 100));
    }

    void top_zero_gives_header_and_separator()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("A: 1\r\n\r\n"), transform("A: 1\n\nbody\n", 0));
        // No separator at all: the whole (header-only) message.
        CPPUNIT_ASSERT_EQUAL(std::string("A: 1\r\n"), transform("A: 1\n", 0));
    }

    void chunking_does_not_change_output()
    {
        std::string message = "Subject: x\n\n.a\r\n..b\nc\n.\nend";
        std::string whole = transform(message, std::nullopt);
        for (size_t cut = 0; cut <= message.size(); cut++) {
            BodyTransform body(std::nullopt, {});
            std::string out;
            body.feed(std::string_view(message).substr(0, cut), out);
            body.feed(std::string_view(message).substr(cut), out);
            body.finish(out);
            CPPUNIT_ASSERT_EQUAL(whole, out);
        }
    }

    void workarounds()
    {
        Workarounds w = parse_workarounds("outlook-no-nuls oe-ns-eoh");
        CPPUNIT_ASSERT(w.outlook_no_nuls && w.oe_ns_eoh);
        CPPUNIT_ASSERT_EQUAL(std::string("A: \x80\r\n\r\n"), transform(std::string("A: \0\n", 5), std::nullopt, w));
        CPPUNIT_ASSERT_THROW(parse_workarounds("bogus"), std::runtime_error);
    }

    void uidl_formats()
    {
        UidlInputs in;
        in.uid = 26;
        in.uidvalidity = 1700000000;
        in.file_name = "1700.M1P2.host";
        in.guid = "g-1";
        CPPUNIT_ASSERT_EQUAL(std::string("0000001a6553f100"), make_uidl("%08Xu%08Xv", in));
        CPPUNIT_ASSERT_EQUAL(std::string("26.1700000000"), make_uidl("%u.%v", in));
        CPPUNIT_ASSERT_EQUAL(std::string("1700.M1P2.host"), make_uidl("%f", in));
        CPPUNIT_ASSERT_EQUAL(std::string("g-1"), make_uidl("%g", in));
        in.backend_uidl = "migrated-42";
        CPPUNIT_ASSERT_EQUAL(std::string("migrated-42"), make_uidl("%08Xu%08Xv", in));
        CPPUNIT_ASSERT(uidl_format_needs_md5("%m"));
        CPPUNIT_ASSERT(uidl_format_needs_md5("%08Xu%Lm"));
        CPPUNIT_ASSERT(!uidl_format_needs_md5("%08Xu%08Xv"));
    }

    void duplicate_uidls_are_renamed()
    {
        std::vector<std::string> uidls = {"a", "b", "a", "a", "a-2"};
        rename_duplicate_uidls(uidls);
        CPPUNIT_ASSERT_EQUAL(std::string("a"), uidls[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("a-2"), uidls[2]);
        CPPUNIT_ASSERT_EQUAL(std::string("a-3"), uidls[3]);
        CPPUNIT_ASSERT_EQUAL(std::string("a-2-2"), uidls[4]);
    }

    void logout_line()
    {
        SessionCounters c;
        c.retr_count = 1;
        c.retr_bytes = 123;
        c.deleted_count = 1;
        c.message_count = 2;
        c.message_bytes = 456;
        CPPUNIT_ASSERT_EQUAL(std::string("top=0/0, retr=1/123, del=1/2, size=456"),
                             logout_text("top=%t/%p, retr=%r/%b, del=%d/%m, size=%s", c, "alice"));
        CPPUNIT_ASSERT_EQUAL(std::string("alice 0"), logout_text("%{user} %{deleted_bytes}", c, "alice"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(Pop3FormatTest);
