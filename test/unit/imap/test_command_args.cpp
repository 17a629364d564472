#include "imap/protocol/append_args.h"
#include "imap/protocol/command_reader.h"
#include "imap/protocol/status_items.h"
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

std::string append_error(const std::string& text)
{
    ArgList args = parse_args(text);
    return error_of([&] { parse_append(args); });
}

}  // namespace

class CommandArgsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CommandArgsTest);
    CPPUNIT_TEST(append_single);
    CPPUNIT_TEST(append_multi_and_catenate);
    CPPUNIT_TEST(append_errors_as_dovecot);
    CPPUNIT_TEST(append_from_streamed_partial_arguments);
    CPPUNIT_TEST(status_items);
    CPPUNIT_TEST_SUITE_END();

public:
    void append_single()
    {
        ArgList args = parse_args("INBOX (\\Seen $x) \"01-Feb-2024 10:00:00 +0100\" {3+}\r\nabc");
        auto messages = parse_append(args);
        CPPUNIT_ASSERT_EQUAL(size_t(1), messages.size());
        CPPUNIT_ASSERT_EQUAL(uint8_t(kFlagSeen), messages[0].flags.system);
        CPPUNIT_ASSERT_EQUAL(int64_t(1706778000), messages[0].internal_date->utc_seconds);
        CPPUNIT_ASSERT_EQUAL(std::string("abc"), messages[0].literal->value);
        args = parse_args("box {1+}\r\nx");
        messages = parse_append(args);
        CPPUNIT_ASSERT(!messages[0].internal_date);
        CPPUNIT_ASSERT(messages[0].flags == FlagSet{});
    }
    void append_multi_and_catenate()
    {
        ArgList args = parse_args("box {1+}\r\nx (\\Seen) {1+}\r\ny CATENATE (URL \"/a;UID=1\" TEXT {2+}\r\nzz)");
        auto messages = parse_append(args);
        CPPUNIT_ASSERT_EQUAL(size_t(3), messages.size());
        CPPUNIT_ASSERT_EQUAL(std::string("y"), messages[1].literal->value);
        CPPUNIT_ASSERT(!messages[2].literal);
        CPPUNIT_ASSERT_EQUAL(size_t(2), messages[2].catenate.size());
        CPPUNIT_ASSERT(messages[2].catenate[0].is_url);
        CPPUNIT_ASSERT_EQUAL(std::string("/a;UID=1"), messages[2].catenate[0].value->value);
        CPPUNIT_ASSERT_EQUAL(std::string("zz"), messages[2].catenate[1].value->value);
    }
    void append_errors_as_dovecot()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("Missing message size"), append_error("inbox"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), append_error("inbox (\\Seen)"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid internal date"), append_error("inbox \"x\" {1+}\r\nx"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid internal date"), append_error("inbox \"01-Feb-2024 10:00:00\" {1+}\r\nx"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), append_error("inbox (\\Seen) (\\Seen) {1+}\r\nx"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), append_error("inbox {1+}\r\nx foo"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), append_error("inbox NIL {1+}\r\nx"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), append_error("inbox {1+}\r\nx (\\Seen)"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"),
                             append_error("inbox (\\Seen) \"01-Feb-2024 10:00:00 +0100\""));
        CPPUNIT_ASSERT_EQUAL(std::string("Empty CATENATE list"), append_error("inbox catenate ()"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), append_error("inbox catenate (foo \"x\")"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), append_error("inbox catenate (text \"x\")"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), append_error("inbox catenate (url)"));
        ArgList streamed_url = parse_args("inbox catenate (url {2+}\r\n/x)");
        streamed_url[2].children[1].streamed = true;
        streamed_url[2].children[1].value.clear();
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), error_of([&] { parse_append(streamed_url); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid system flag \\RECENT"), append_error("inbox (\\Recent) {1+}\r\nx"));
        CPPUNIT_ASSERT_EQUAL(std::string("Flags list contains non-atoms"), append_error("inbox (\"x\") {1+}\r\nx"));
    }
    void append_from_streamed_partial_arguments()
    {
        CommandReader reader({}, stream_append_messages);
        reader.feed("a APPEND INBOX (\\Draft) \" 5-Mar-2025 01:02:03 -0500\" ~{4}\r\n");
        ReaderEvent start = reader.next();
        CPPUNIT_ASSERT(start.kind == ReaderEvent::Kind::LiteralStart);
        size_t pos = 1;
        AppendMessage message = parse_append_message(start.command.args, pos);
        CPPUNIT_ASSERT_EQUAL(uint8_t(kFlagDraft), message.flags.system);
        CPPUNIT_ASSERT_EQUAL(-300, message.internal_date->tz_offset_minutes);
        CPPUNIT_ASSERT(message.literal->streamed);
        CPPUNIT_ASSERT(message.literal->literal8);
        CPPUNIT_ASSERT_EQUAL(uint64_t(4), message.literal->literal_size);
        CPPUNIT_ASSERT_EQUAL(start.command.args.size(), pos);
        CPPUNIT_ASSERT_EQUAL(size_t(0), start.arg_offset);
        // the next message of a MULTIAPPEND arrives on its own (arg_offset != 0)
        CPPUNIT_ASSERT(reader.next().kind == ReaderEvent::Kind::Continuation);
        reader.feed("abcd (\\Seen) {2+}\r\n");
        while (reader.next().kind != ReaderEvent::Kind::LiteralEnd) {
        }
        ReaderEvent second = reader.next();
        CPPUNIT_ASSERT(second.kind == ReaderEvent::Kind::LiteralStart);
        CPPUNIT_ASSERT_EQUAL(size_t(4), second.arg_offset);
        pos = 0;
        message = parse_append_message(second.command.args, pos);
        CPPUNIT_ASSERT_EQUAL(uint8_t(kFlagSeen), message.flags.system);
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), message.literal->literal_size);
    }
    void status_items()
    {
        CPPUNIT_ASSERT_EQUAL(uint16_t(kStatusMessages | kStatusUidNext | kStatusXGuid),
                             parse_status_items(parse_args("(messages UIDNEXT x-guid Messages)")[0]));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid status item DELETED"),
                             error_of([] { parse_status_items(parse_args("(messages deleted)")[0]); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Empty status list"), error_of([] { parse_status_items(parse_args("()")[0]); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Status list contains non-atoms"),
                             error_of([] { parse_status_items(parse_args("(\"messages\")")[0]); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Status list contains non-atoms"),
                             error_of([] { parse_status_items(parse_args("((messages))")[0]); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), error_of([] { parse_status_items(parse_args("messages")[0]); }));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CommandArgsTest);
