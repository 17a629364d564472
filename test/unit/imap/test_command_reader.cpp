#include "imap/protocol/command_reader.h"
#include "reader_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::imap::protocol;
using reader_test::join;
using reader_test::run;
using namespace std::string_literals;

namespace {

std::string transcript(const std::string& input, ReaderLimits limits = {}, StreamPolicy policy = {})
{
    CommandReader reader(limits, policy);
    return join(run(reader, input));
}

}  // namespace

class CommandReaderTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CommandReaderTest);
    CPPUNIT_TEST(simple_commands);
    CPPUNIT_TEST(uid_prefix_joins_name);
    CPPUNIT_TEST(quoted_strings_and_escapes);
    CPPUNIT_TEST(nested_lists_and_body_sections);
    CPPUNIT_TEST(synchronising_literal_asks_for_continuation);
    CPPUNIT_TEST(non_synchronising_literal_needs_no_continuation);
    CPPUNIT_TEST(literal8_is_marked);
    CPPUNIT_TEST(literal8_only_for_append);
    CPPUNIT_TEST(bare_lf_and_blank_lines);
    CPPUNIT_TEST(bad_tags);
    CPPUNIT_TEST(bad_command_names);
    CPPUNIT_TEST(unbalanced_parens);
    CPPUNIT_TEST(bad_atoms);
    CPPUNIT_TEST(bad_quoted);
    CPPUNIT_TEST(bad_literal_headers);
    CPPUNIT_TEST(synchronising_literal_too_large_is_recoverable);
    CPPUNIT_TEST(non_synchronising_literal_too_large_is_fatal);
    CPPUNIT_TEST(nul_in_literal);
    CPPUNIT_TEST(too_long_line_resynchronises);
    CPPUNIT_TEST(too_long_line_over_many_feeds_is_bounded);
    CPPUNIT_TEST(long_line_dripping_in_is_linear);
    CPPUNIT_TEST(error_line_with_nonsync_literal_skips_it);
    CPPUNIT_TEST(depth_and_arg_limits);
    CPPUNIT_TEST(missing_space_after_literal);
    CPPUNIT_TEST(streaming_append);
    CPPUNIT_TEST(streaming_multiappend);
    CPPUNIT_TEST(streamed_literal_count_is_limited_and_linear);
    CPPUNIT_TEST(abandon_before_continuation);
    CPPUNIT_TEST(abandon_nonsync_stream_skips_data);
    CPPUNIT_TEST(every_chunk_boundary_gives_same_result);
    CPPUNIT_TEST(fatal_ignores_further_input);
    CPPUNIT_TEST_SUITE_END();

public:
    void simple_commands()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("cmd a NOOP\ncmd b1 LOGIN alice \"se cret\"\n"),
                             transcript("a noop\r\nb1 LOGIN alice \"se cret\"\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("cmd a STATUS inbox (messages)\n"),
                             transcript("a status  inbox ( messages) \r\n"));
    }
    void uid_prefix_joins_name()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("cmd 7 UID FETCH 1:* (FLAGS)\n"), transcript("7 uid fetch 1:* (FLAGS)\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD 7 Error in IMAP command: Invalid command name\n"), transcript("7 UID\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD 7 Error in IMAP command: Invalid command name\n"),
                             transcript("7 uid  fetch 1 uid\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD 7 Error in IMAP command UID FETCH: Missing ')'\n"),
                             transcript("7 uid fetch 1:* (flags\r\n"));
    }
    void quoted_strings_and_escapes()
    {
        CommandReader reader;
        reader.feed("a login \"al\\\"ice\" \"p\\\\w\\d\" \"\"\r\n");
        ReaderEvent event = reader.next();
        CPPUNIT_ASSERT(event.kind == ReaderEvent::Kind::Command);
        CPPUNIT_ASSERT_EQUAL(size_t(3), event.command.args.size());
        CPPUNIT_ASSERT_EQUAL(std::string("al\"ice"), event.command.args[0].value);
        CPPUNIT_ASSERT_EQUAL(std::string("p\\wd"), event.command.args[1].value);  // Dovecot drops a lone "\"
        CPPUNIT_ASSERT(event.command.args[2].type == ArgType::Quoted);
        CPPUNIT_ASSERT(event.command.args[2].value.empty());
        CPPUNIT_ASSERT(reader.next().kind == ReaderEvent::Kind::NeedMore);
    }
    void nested_lists_and_body_sections()
    {
        CommandReader reader;
        reader.feed("a fetch 1 (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.10> ((x)))\r\n");
        ReaderEvent event = reader.next();
        CPPUNIT_ASSERT(event.kind == ReaderEvent::Kind::Command);
        const ArgList& args = event.command.args;
        CPPUNIT_ASSERT_EQUAL(size_t(2), args.size());
        CPPUNIT_ASSERT(args[1].is_list());
        const ArgList& items = args[1].children;
        CPPUNIT_ASSERT_EQUAL(size_t(5), items.size());
        CPPUNIT_ASSERT_EQUAL(std::string("BODY.PEEK[HEADER.FIELDS"), items[1].value);
        CPPUNIT_ASSERT(items[2].is_list());
        CPPUNIT_ASSERT_EQUAL(std::string("]<0.10>"), items[3].value);
        CPPUNIT_ASSERT_EQUAL(std::string("((x))"), describe(items[4]));
    }
    void synchronising_literal_asks_for_continuation()
    {
        CommandReader reader;
        reader.feed("a login {5}\r\n");
        CPPUNIT_ASSERT(reader.next().kind == ReaderEvent::Kind::Continuation);
        CPPUNIT_ASSERT(reader.next().kind == ReaderEvent::Kind::NeedMore);
        reader.feed("al\r\nx {0}\r\n");
        CPPUNIT_ASSERT(reader.next().kind == ReaderEvent::Kind::Continuation);
        reader.feed("\r\n");
        ReaderEvent event = reader.next();
        CPPUNIT_ASSERT(event.kind == ReaderEvent::Kind::Command);
        CPPUNIT_ASSERT_EQUAL(std::string("{5}al\r\nx {0}"), describe(event.command.args));
        CPPUNIT_ASSERT(event.command.args[0].type == ArgType::Literal);
        CPPUNIT_ASSERT_EQUAL(std::string("al\r\nx"), event.command.args[0].value);
    }
    void non_synchronising_literal_needs_no_continuation()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("cmd a LOGIN {5}alice secret\n"),
                             transcript("a login {5+}\r\nalice secret\r\n"));
    }
    void literal8_is_marked()
    {
        CommandReader reader;
        reader.feed("a append x ~{3+}\r\na\0b\r\n"s);
        ReaderEvent event = reader.next();
        CPPUNIT_ASSERT(event.kind == ReaderEvent::Kind::Command);
        CPPUNIT_ASSERT(event.command.args[1].literal8);
        CPPUNIT_ASSERT_EQUAL(std::string("a\0b", 3), event.command.args[1].value);
    }
    void literal8_only_for_append()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("BAD o Error in IMAP command STATUS: literal8 not allowed here\ncmd p NOOP\n"),
                             transcript("o status ~{5}\r\np noop\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD o Error in IMAP command STATUS: literal8 not allowed here\ncmd p NOOP\n"),
                             transcript("o status inbox ~{5+}\r\nab\r\n\r\np noop\r\n"));
    }
    void bare_lf_and_blank_lines()
    {
        // Dovecot answers an empty line with "* BAD Error in IMAP tag: Invalid tag"
        CPPUNIT_ASSERT_EQUAL(std::string("BAD * Error in IMAP tag: Invalid tag\ncmd a NOOP\nBAD * Error in IMAP tag: "
                                         "Invalid tag\ncmd b NOOP\n"),
                             transcript("\r\na noop\n\nb noop\r\n"));
    }
    void bad_tags()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("BAD * Error in IMAP tag: Invalid tag\ncmd ok NOOP\n"),
                             transcript("* noop\r\nok noop\r\n"));
        for (const char* line : {"a+b noop\r\n", " a noop\r\n", "a{ noop\r\n", "a\" noop\r\n", "a% noop\r\n",
                                 "a] noop\r\n", "\xe4 noop\r\n", "a\x01 noop\r\n"})
            CPPUNIT_ASSERT_EQUAL(std::string("BAD * Error in IMAP tag: Invalid tag\n"), transcript(line));
    }
    void bad_command_names()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("BAD a Error in IMAP command: Invalid command name\n"), transcript("a\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD a Error in IMAP command: Invalid command name\n"), transcript("a \r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD a Error in IMAP command: Invalid command name\n"),
                             transcript("a no(op\r\n"));
        // exactly one space after the tag, as in Dovecot; a trailing one is fine
        CPPUNIT_ASSERT_EQUAL(std::string("BAD t Error in IMAP command: Invalid command name\n"), transcript("t  noop\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("cmd t NOOP\n"), transcript("t noop \r\n"));
        for (const char* line : {"t x\\y\r\n", "t a]b\r\n", "t NOOP\t\r\n"})
            CPPUNIT_ASSERT_EQUAL(std::string("BAD t Error in IMAP command: Invalid command name\n"), transcript(line));
    }
    void unbalanced_parens()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("BAD c Error in IMAP command SELECT: Unexpected ')'\n"),
                             transcript("c select inbox)\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD d Error in IMAP command FETCH: Missing ')'\ncmd e NOOP\n"),
                             transcript("d fetch 1 (flags\r\ne noop\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD d Error in IMAP command FETCH: Missing ')'\n"),
                             transcript("d fetch 1 ((((flags)\r\n"));
    }
    void bad_atoms()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("BAD k Error in IMAP command STATUS: Invalid characters in atom\n"),
                             transcript("k status inb{x (messages)\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD m Error in IMAP command STATUS: Invalid characters in atom\n"),
                             transcript("m status inbox (messages\0)\r\n"s));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD n Error in IMAP command STATUS: 8bit data in atom\n"),
                             transcript("n status inbox (messages \xe4)\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD n Error in IMAP command STATUS: Invalid characters in atom\n"),
                             transcript("n status inbox\rx\r\n"));
        // Dovecot accepts list wildcards, "]" and "\" in atoms.
        CPPUNIT_ASSERT_EQUAL(std::string("cmd k LIST \"\" in%x]* \\Seen\n"), transcript("k list \"\" in%x]* \\Seen\r\n"));
    }
    void bad_quoted()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("BAD j Error in IMAP command STATUS: Missing '\"'\ncmd v NOOP\n"),
                             transcript("j status \"inbox (messages)\r\nv noop\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD j Error in IMAP command STATUS: NULs not allowed in strings\n"),
                             transcript("j status \"in\0box\"\r\n"s));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD j Error in IMAP command STATUS: Missing '\"'\n"),
                             transcript("j status \"inbox\\\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD j Error in IMAP command STATUS: Missing space between arguments\n"),
                             transcript("j status \"inbox\"x\r\n"));
    }
    void bad_literal_headers()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("BAD s Error in IMAP command STATUS: Missing LF after literal size\n"),
                             transcript("s status {5}x\r\n"));
        for (const char* line : {"s status {5\r\n", "s status {}\r\n", "s status {-1}\r\n", "s status { 5}\r\n",
                                 "s status {5++}\r\n", "s status ~{5+\r\n"})
            CPPUNIT_ASSERT_EQUAL(std::string("BAD s Error in IMAP command STATUS: Invalid literal size\n"),
                                 transcript(line));
    }
    void synchronising_literal_too_large_is_recoverable()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("BAD h Error in IMAP command STATUS: Literal size too large\ncmd i NOOP\n"),
                             transcript("h status {99999999999999999999999}\r\ni noop\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD h Error in IMAP command STATUS: Literal size too large\ncmd i NOOP\n"),
                             transcript("h status {65537}\r\ni noop\r\n"));
        ReaderLimits limits;
        limits.max_buffered_size = 100;
        CPPUNIT_ASSERT_EQUAL(std::string("BAD h Error in IMAP command X: Literal size too large\n"),
                             transcript("h x {95}\r\n", limits));
    }
    void non_synchronising_literal_too_large_is_fatal()
    {
        CommandReader reader;
        auto out = run(reader, "h status {70000+}\r\nxxxx\r\ni noop\r\n");
        CPPUNIT_ASSERT_EQUAL(std::string("FATAL h Literal size too large\n"), join(out));
        CPPUNIT_ASSERT(reader.failed());
    }
    void nul_in_literal()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("+\nBAD a Error in IMAP command LOGIN: NULs not allowed in strings\ncmd b NOOP\n"),
                             transcript("a login {3}\r\na\0b x\r\nb noop\r\n"s));
        CPPUNIT_ASSERT_EQUAL("cmd a APPEND x {3}a\0b\n"s, transcript("a append x {3+}\r\na\0b\r\n"s));
    }
    void too_long_line_resynchronises()
    {
        std::string input = "q status " + std::string(70000, 'x') + "\r\nq2 noop\r\n";
        CPPUNIT_ASSERT_EQUAL(std::string("BAD q Error in IMAP command STATUS: Too long argument\ncmd q2 NOOP\n"),
                             transcript(input));
        ReaderLimits limits;
        limits.max_line_length = 18;
        CPPUNIT_ASSERT_EQUAL(std::string("cmd a X 12345678901234\n"), transcript("a x 12345678901234\r\n", limits));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD a Error in IMAP command X: Too long argument\n"),
                             transcript("a x 123456789012345\r\n", limits));
        // the limit covers all text lines of a command, literals excluded
        CPPUNIT_ASSERT_EQUAL(std::string("BAD a Error in IMAP command X: Too long argument\n"),
                             transcript("a x {3+}\r\nabc 1234567890\r\n", limits));
        CPPUNIT_ASSERT_EQUAL(std::string("cmd a X {3}abc 12\n"), transcript("a x {3+}\r\nabc 12\r\n", limits));
    }
    void too_long_line_over_many_feeds_is_bounded()
    {
        CommandReader reader;
        reader.feed("a noop ");
        CPPUNIT_ASSERT(reader.next().kind == ReaderEvent::Kind::NeedMore);
        std::string junk(4096, 'y');
        int errors = 0;
        for (int i = 0; i < 1000; ++i) {  // 4 MB of one line
            reader.feed(junk);
            for (ReaderEvent e = reader.next(); e.kind != ReaderEvent::Kind::NeedMore; e = reader.next())
                ++errors;
        }
        CPPUNIT_ASSERT_EQUAL(1, errors);
        reader.feed("\r\nb noop\r\n");
        ReaderEvent event = reader.next();
        CPPUNIT_ASSERT(event.kind == ReaderEvent::Kind::Command);
        CPPUNIT_ASSERT_EQUAL(std::string("b"), event.command.tag);
    }
    void long_line_dripping_in_is_linear()
    {
        // 64k one byte at a time: quadratic rescanning would take seconds here
        CommandReader reader;
        std::string line = "a noop " + std::string(65000, 'x') + "\r\n";
        ReaderEvent last;
        for (char c : line) {
            reader.feed(std::string_view(&c, 1));
            for (ReaderEvent e = reader.next(); e.kind != ReaderEvent::Kind::NeedMore; e = reader.next())
                last = e;
        }
        CPPUNIT_ASSERT(last.kind == ReaderEvent::Kind::Command);
        CPPUNIT_ASSERT_EQUAL(size_t(65000), last.command.args.at(0).value.size());
    }
    void error_line_with_nonsync_literal_skips_it()
    {
        // The client sends the literal without waiting, so it must not be read as commands.
        CPPUNIT_ASSERT_EQUAL(std::string("BAD a Error in IMAP command X: Unexpected ')'\ncmd b NOOP\n"),
                             transcript("a x ) {12+}\r\nc evil\r\nd \r\n)\r\nb noop\r\n"));
        // ... including when the skipped line itself continues with another literal.
        CPPUNIT_ASSERT_EQUAL(std::string("BAD a Error in IMAP command X: Unexpected ')'\ncmd b NOOP\n"),
                             transcript("a x ) {4+}\r\nc e {6+}\r\nd evil\r\nb noop\r\n"));
        // a synchronising one is never sent since no continuation was given
        CPPUNIT_ASSERT_EQUAL(std::string("BAD a Error in IMAP command X: Unexpected ')'\ncmd b NOOP\n"),
                             transcript("a x ) {12}\r\nb noop\r\n"));
    }
    void depth_and_arg_limits()
    {
        ReaderLimits limits;
        limits.max_depth = 3;
        limits.max_args = 5;
        CPPUNIT_ASSERT_EQUAL(std::string("cmd a X (((1)))\n"), transcript("a x (((1)))\r\n", limits));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD a Error in IMAP command X: Too deeply nested lists\n"),
                             transcript("a x ((((1))))\r\n", limits));
        CPPUNIT_ASSERT_EQUAL(std::string("cmd a X 1 2 3 4 5\n"), transcript("a x 1 2 3 4 5\r\n", limits));
        CPPUNIT_ASSERT_EQUAL(std::string("BAD a Error in IMAP command X: Too many arguments\n"),
                             transcript("a x 1 2 3 (4 5)\r\n", limits));
        // deep nesting with the default limits: an error, not a stack overflow
        std::string deep = "a x " + std::string(100000, '(') + "\r\n";
        CPPUNIT_ASSERT_EQUAL(std::string("BAD a Error in IMAP command X: Too long argument\n"), transcript(deep));
        deep = "a x " + std::string(60000, '(') + "\r\n";
        CPPUNIT_ASSERT_EQUAL(std::string("BAD a Error in IMAP command X: Too deeply nested lists\n"), transcript(deep));
    }
    void missing_space_after_literal()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("BAD a Error in IMAP command X: Missing space between arguments\n"),
                             transcript("a x {1+}\r\nzq\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("cmd a X ({1}z)\n"), transcript("a x ({1+}\r\nz)\r\n"));
    }
    void streaming_append()
    {
        std::string input = "a append INBOX (\\Seen) \"30-Nov-2026 03:17:31 +0000\" {10}\r\n0123456789\r\n";
        CPPUNIT_ASSERT_EQUAL(std::string("start APPEND [INBOX (\\Seen) \"30-Nov-2026 03:17:31 +0000\" {10}]\n+\n"
                                         "chunk 0123456789\nend\ncmd a APPEND INBOX (\\Seen) \"30-Nov-2026 03:17:31 +0000\" {10}\n"),
                             transcript(input, {}, stream_append_messages));
        // chunks really are handed out as they arrive, not buffered
        CommandReader reader({}, stream_append_messages);
        reader.feed("a append INBOX {100000000+}\r\n");
        CPPUNIT_ASSERT(reader.next().kind == ReaderEvent::Kind::LiteralStart);
        CPPUNIT_ASSERT(reader.next().kind == ReaderEvent::Kind::NeedMore);
        std::string block(65536, 'm');
        uint64_t received = 0;
        for (int i = 0; i < 10; ++i) {
            reader.feed(block);
            ReaderEvent e = reader.next();
            CPPUNIT_ASSERT(e.kind == ReaderEvent::Kind::LiteralChunk);
            received += e.chunk.size();
            CPPUNIT_ASSERT(reader.next().kind == ReaderEvent::Kind::NeedMore);
        }
        CPPUNIT_ASSERT_EQUAL(uint64_t(655360), received);
    }
    void streaming_multiappend()
    {
        std::string input = "a append box {2+}\r\nab (\\Seen) {0+}\r\n {1+}\r\nc\r\n";
        // each LiteralStart carries only the arguments since the previous one
        CPPUNIT_ASSERT_EQUAL(std::string("start APPEND [box {2}]\nchunk ab\nend\n"
                                         "start APPEND @2 [(\\Seen) {0}]\nend\n"
                                         "start APPEND @4 [{1}]\nchunk c\nend\n"
                                         "cmd a APPEND box {2} (\\Seen) {0} {1}\n"),
                             transcript(input, {}, stream_append_messages));
        // CATENATE parts stream too; the partial arguments show the open lists
        input = "a append box (\\Seen) CATENATE (URL \"/x\" TEXT {3+}\r\nabc)\r\n";
        CPPUNIT_ASSERT_EQUAL(std::string("start APPEND [box (\\Seen) CATENATE (URL \"/x\" TEXT {3})]\nchunk abc\nend\n"
                                         "cmd a APPEND box (\\Seen) CATENATE (URL \"/x\" TEXT {3})\n"),
                             transcript(input, {}, stream_append_messages));
        // other commands' literals stay in memory
        CPPUNIT_ASSERT_EQUAL(std::string("cmd a LOGIN {2}ab x\n"), transcript("a login {2+}\r\nab x\r\n", {}, stream_append_messages));
    }
    void streamed_literal_count_is_limited_and_linear()
    {
        ReaderLimits limits;
        limits.max_streamed_literals = 3;
        CPPUNIT_ASSERT_EQUAL(std::string("start APPEND [x {0}]\nend\nstart APPEND @2 [{0}]\nend\n"
                                         "start APPEND @3 [{0}]\nend\n"
                                         "BAD a Error in IMAP command APPEND: Too many literals\ncmd b NOOP\n"),
                             transcript("a append x {0+}\r\n {0+}\r\n {0+}\r\n {0+}\r\n\r\nb noop\r\n", limits,
                                        stream_append_messages));
        // 20000 messages in one MULTIAPPEND: each event copies only its own arguments
        limits.max_streamed_literals = 100000;
        limits.max_args = 100000;
        limits.max_line_length = 1u << 20;
        std::string input = "a APPEND INBOX";
        for (int i = 0; i < 20000; ++i)
            input += " (\\Seen) {0+}\r\n";
        input += "\r\n";
        CommandReader reader(limits, stream_append_messages);
        reader.feed(input);
        size_t copied = 0;
        size_t starts = 0;
        ReaderEvent e;
        for (e = reader.next(); e.kind != ReaderEvent::Kind::NeedMore && e.kind != ReaderEvent::Kind::Command;
             e = reader.next()) {
            if (e.kind == ReaderEvent::Kind::LiteralStart) {
                ++starts;
                copied += e.command.args.size();
            }
        }
        CPPUNIT_ASSERT(e.kind == ReaderEvent::Kind::Command);
        CPPUNIT_ASSERT_EQUAL(size_t(20000), starts);
        CPPUNIT_ASSERT_EQUAL(size_t(40001), copied);
        CPPUNIT_ASSERT_EQUAL(size_t(40001), e.command.args.size());
    }
    void abandon_before_continuation()
    {
        CommandReader reader({}, stream_append_messages);
        reader.feed("a append nosuchbox {5}\r\n");
        CPPUNIT_ASSERT(reader.next().kind == ReaderEvent::Kind::LiteralStart);
        reader.abandon_command();  // worker replies "a NO [TRYCREATE] ..."
        reader.feed("b noop\r\n");
        ReaderEvent event = reader.next();
        CPPUNIT_ASSERT(event.kind == ReaderEvent::Kind::Command);
        CPPUNIT_ASSERT_EQUAL(std::string("b"), event.command.tag);
    }
    void abandon_nonsync_stream_skips_data()
    {
        CommandReader reader({}, stream_append_messages);
        reader.feed("a append nosuchbox {8+}\r\nb ");
        CPPUNIT_ASSERT(reader.next().kind == ReaderEvent::Kind::LiteralStart);
        CPPUNIT_ASSERT(reader.next().kind == ReaderEvent::Kind::LiteralChunk);
        reader.abandon_command();
        reader.feed("noop\r\n (x) {3+}\r\nabc\r\nc noop\r\n");
        ReaderEvent event = reader.next();
        CPPUNIT_ASSERT(event.kind == ReaderEvent::Kind::Command);
        CPPUNIT_ASSERT_EQUAL(std::string("c"), event.command.tag);
    }
    void every_chunk_boundary_gives_same_result()
    {
        const std::string input =
            "a1 login {5}\r\nalice \"se\\\"cret\"\r\n"
            "a2 UID fetch 1:*,3 (FLAGS BODY.PEEK[HEADER.FIELDS (From)]<0.10>)\r\n"
            "a3 append INBOX (\\Seen) ~{4+}\r\nx\0yz\r\n"
            "a4 bad)\r\n"
            "a5 x ) {4+}\r\nc e {6+}\r\nd evil\r\n"
            "a6 x {3}\r\nabc (1 (2 \"3\"))\r\n"
            "* x\r\n"
            "a7 append box {6}\r\nstream (\\Flagged) {0+}\r\n\r\n"s;
        for (bool streaming : {false, true}) {
            StreamPolicy policy = streaming ? StreamPolicy(stream_append_messages) : StreamPolicy();
            std::string whole = transcript(input, {}, policy);
            CPPUNIT_ASSERT_MESSAGE(whole, whole.find("cmd a7") != std::string::npos);
            for (size_t split = 1; split < input.size(); ++split) {
                CommandReader reader({}, policy);
                std::vector<std::string> out;
                std::string first = input.substr(0, split);
                std::string rest = input.substr(split);
                auto a = run(reader, first);
                auto b = run(reader, rest);
                a.insert(a.end(), b.begin(), b.end());
                // merge literal chunks split across the two halves
                std::vector<std::string> merged;
                for (auto& line : a) {
                    if (!merged.empty() && line.rfind("chunk ", 0) == 0 && merged.back().rfind("chunk ", 0) == 0)
                        merged.back() += line.substr(6);
                    else
                        merged.push_back(line);
                }
                CPPUNIT_ASSERT_EQUAL_MESSAGE("split at " + std::to_string(split), whole, join(merged));
            }
            CommandReader bytewise({}, policy);
            CPPUNIT_ASSERT_EQUAL(whole, join(run(bytewise, input, 1)));
        }
    }
    void fatal_ignores_further_input()
    {
        CommandReader reader;
        reader.feed("a x {99999999999999999999999+}\r\n");
        ReaderEvent event = reader.next();
        CPPUNIT_ASSERT(event.kind == ReaderEvent::Kind::Error);
        CPPUNIT_ASSERT(event.fatal);
        reader.feed("b noop\r\n");
        CPPUNIT_ASSERT(reader.next().kind == ReaderEvent::Kind::NeedMore);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CommandReaderTest);
