#include "imap/protocol/fetch_attributes.h"
#include "reader_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::imap::protocol;
using reader_test::parse_args;
using Kind = FetchAttribute::Kind;

namespace {

FetchRequest fetch(const std::string& text)
{
    return parse_fetch(parse_args("1 " + text));
}

std::string names(const std::string& text)
{
    std::string out;
    for (const auto& attribute : fetch(text).attributes)
        out += (out.empty() ? "" : " ") + attribute.response_name();
    return out;
}

std::string error_of(const std::string& text)
{
    try {
        fetch(text);
    } catch (const CommandError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

class FetchAttributesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(FetchAttributesTest);
    CPPUNIT_TEST(macros);
    CPPUNIT_TEST(simple_items);
    CPPUNIT_TEST(body_sections);
    CPPUNIT_TEST(header_fields);
    CPPUNIT_TEST(partials);
    CPPUNIT_TEST(binary);
    CPPUNIT_TEST(seen_semantics);
    CPPUNIT_TEST(modifiers);
    CPPUNIT_TEST(errors);
    CPPUNIT_TEST_SUITE_END();

public:
    void macros()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("FLAGS INTERNALDATE RFC822.SIZE ENVELOPE"), names("all"));
        CPPUNIT_ASSERT_EQUAL(std::string("FLAGS INTERNALDATE RFC822.SIZE"), names("FAST"));
        CPPUNIT_ASSERT_EQUAL(std::string("FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY"), names("Full"));
        CPPUNIT_ASSERT_EQUAL(std::string("Unknown parameter: ALL"), error_of("(ALL)"));  // macros only alone
    }
    void simple_items()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("UID FLAGS INTERNALDATE RFC822.SIZE RFC822 RFC822.HEADER RFC822.TEXT "
                                         "ENVELOPE BODY BODYSTRUCTURE MODSEQ"),
                             names("(uid flags internaldate rfc822.size rfc822 rfc822.header rfc822.text "
                                   "envelope body bodystructure modseq)"));
        CPPUNIT_ASSERT_EQUAL(std::string("UID"), names("UID"));
    }
    void body_sections()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("BODY[] BODY[HEADER] BODY[TEXT] BODY[1.2.MIME] BODY[1.2.3] BODY[2.TEXT]"),
                             names("(body[] BODY.PEEK[header] body[Text] BODY[1.2.mime] BODY[1.2.3] BODY[2.TEXT])"));
        FetchAttribute attribute = fetch("BODY[1.2.HEADER]").attributes.at(0);
        CPPUNIT_ASSERT(attribute.kind == Kind::BodySection);
        CPPUNIT_ASSERT(attribute.section.kind == Section::Kind::Header);
        CPPUNIT_ASSERT(attribute.section.part == (std::vector<uint32_t>{1, 2}));
    }
    void header_fields()
    {
        FetchRequest request = fetch("(FLAGS BODY.PEEK[HEADER.FIELDS (From \"To\" {2+}\r\ncc)]<0.100> UID)");
        CPPUNIT_ASSERT_EQUAL(size_t(3), request.attributes.size());
        const FetchAttribute& body = request.attributes[1];
        CPPUNIT_ASSERT(body.peek);
        CPPUNIT_ASSERT(body.section.kind == Section::Kind::HeaderFields);
        CPPUNIT_ASSERT(body.section.fields == (std::vector<std::string>{"FROM", "TO", "CC"}));
        CPPUNIT_ASSERT_EQUAL(std::string("BODY[HEADER.FIELDS (FROM TO CC)]<0>"), body.response_name());
        CPPUNIT_ASSERT_EQUAL(std::string("BODY[1.HEADER.FIELDS.NOT (X-SPAM)]"),
                             names("BODY[1.HEADER.FIELDS.NOT (x-spam)]"));
    }
    void partials()
    {
        FetchAttribute attribute = fetch("BODY[]<10.20>").attributes.at(0);
        CPPUNIT_ASSERT_EQUAL(uint64_t(10), *attribute.partial_offset);
        CPPUNIT_ASSERT_EQUAL(uint64_t(20), *attribute.partial_length);
        attribute = fetch("BODY[TEXT]<5>").attributes.at(0);
        CPPUNIT_ASSERT_EQUAL(uint64_t(5), *attribute.partial_offset);
        CPPUNIT_ASSERT(!attribute.partial_length);
        CPPUNIT_ASSERT_EQUAL(std::string("BODY[TEXT]<5>"), attribute.response_name());
    }
    void binary()
    {
        FetchRequest request = fetch("(BINARY[1] BINARY.PEEK[2]<0.5> BINARY.SIZE[1] BINARY[])");
        CPPUNIT_ASSERT(request.attributes[0].kind == Kind::BinarySection);
        CPPUNIT_ASSERT(request.attributes[1].peek);
        CPPUNIT_ASSERT(request.attributes[2].kind == Kind::BinarySize);
        CPPUNIT_ASSERT_EQUAL(std::string("BINARY[1] BINARY[2]<0> BINARY.SIZE[1] BINARY[]"),
                             names("(BINARY[1] BINARY.PEEK[2]<0.5> BINARY.SIZE[1] BINARY[])"));
        // Dovecot takes any section for BINARY and ignores a partial on BINARY.SIZE
        CPPUNIT_ASSERT_EQUAL(std::string("BINARY[HEADER] BINARY.SIZE[1]"), names("(BINARY[HEADER] BINARY.SIZE[1]<0.5>)"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BINARY[..] parameter: Missing '['"), error_of("(binary.x[])"));
    }
    void seen_semantics()
    {
        FetchRequest request = fetch("(BODY[] BODY.PEEK[] RFC822 RFC822.HEADER RFC822.TEXT BINARY[] BINARY.PEEK[] FLAGS)");
        std::string seen;
        for (const auto& attribute : request.attributes)
            seen += attribute.sets_seen() ? "1" : "0";
        CPPUNIT_ASSERT_EQUAL(std::string("10101100"), seen);
    }
    void modifiers()
    {
        FetchRequest request = fetch("(FLAGS) (CHANGEDSINCE 12345 VANISHED)");
        CPPUNIT_ASSERT_EQUAL(uint64_t(12345), *request.changed_since);
        CPPUNIT_ASSERT(request.vanished);
        request = fetch("FLAGS (changedsince 1)");
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), *request.changed_since);
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid CHANGEDSINCE modseq"), error_of("FLAGS (CHANGEDSINCE x)"));
        CPPUNIT_ASSERT_EQUAL(std::string("Unknown FETCH modifier"), error_of("FLAGS (FOO)"));
        CPPUNIT_ASSERT_EQUAL(std::string("FETCH modifiers contain non-atoms"), error_of("FLAGS (\"x\")"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid CHANGEDSINCE modseq"), error_of("FLAGS (CHANGEDSINCE)"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid arguments"), error_of("FLAGS UID"));
    }
    void errors()
    {
        // texts as Dovecot 2.3 answered them on the reference instance
        CPPUNIT_ASSERT_EQUAL(std::string("Unknown parameter: BOGUS"), error_of("bogus"));
        CPPUNIT_ASSERT_EQUAL(std::string("Unknown parameter RFC822.X"), error_of("(rfc822.x)"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] parameter: Missing '['"), error_of("(BODY.X)"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] parameter: Missing '['"), error_of("BODY.PEEK"));
        CPPUNIT_ASSERT_EQUAL(std::string("BODY[0]"), names("BODY[0]"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] section"), error_of("BODY[MIME]"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] section"), error_of("BODY[1.]"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] section"), error_of("BODY[HEADERS]"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] section"), error_of("BODY[1..2]"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] section"), error_of("BODY[TEXT.1]"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] parameter: Missing ']'"), error_of("(BODY[TEXT)"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] parameter: Missing ']'"),
                             error_of("(BODY[HEADER.FIELDS (FROM) x)"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] parameter: Header list contains non-strings"),
                             error_of("(BODY[HEADER.FIELDS ((FROM))])"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] section"), error_of("(BODY[HEADER.FIELDS ()])"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] section"), error_of("(BODY[TEXT (FROM)])"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] parameter: Unexpected data after ']'"), error_of("BODY[]x"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] parameter: Missing '>' in partial"), error_of("BODY[]<1"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] parameter: Too big partial start"), error_of("BODY[]<a>"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] parameter: Too big partial end"), error_of("BODY[]<0.a>"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] parameter: Unexpected data after '>'"), error_of("BODY[]<1>x"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] parameter: Too big partial start"),
                             error_of("BODY[]<99999999999999999999>"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] parameter: Too big partial end"),
                             error_of("BODY[]<1.99999999999999999999>"));
        CPPUNIT_ASSERT_EQUAL(std::string("FETCH list contains non-atoms"), error_of("(\"FLAGS\")"));
        CPPUNIT_ASSERT_EQUAL(std::string("FETCH list is empty"), error_of("()"));
        CPPUNIT_ASSERT_EQUAL(std::string("'foo' is not a supported PREVIEW modifier"), error_of("(SNIPPET (foo))"));
        CPPUNIT_ASSERT(fetch("(PREVIEW (LAZY) UID)").attributes.at(0).lazy);
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid BODY[..] section"), error_of("BODY[4294967296]"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FetchAttributesTest);
