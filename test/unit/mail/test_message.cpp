#include "mail/message.h"

#include <cppunit/extensions/HelperMacros.h>

using loft::mail::CrlfConverter;
using loft::mail::crlf_size;
using loft::mail::find_header_end;
using loft::mail::parse_header;

class MessageTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MessageTest);
    CPPUNIT_TEST(header_end_includes_blank_line);
    CPPUNIT_TEST(header_end_with_crlf_blank_line);
    CPPUNIT_TEST(message_without_body_is_all_header);
    CPPUNIT_TEST(message_starting_with_blank_line);
    CPPUNIT_TEST(crlf_size_counts_bare_lf_only);
    CPPUNIT_TEST(converter_adds_cr_to_bare_lf);
    CPPUNIT_TEST(converter_carries_cr_across_chunks);
    CPPUNIT_TEST(converter_matches_crlf_size_for_any_split);
    CPPUNIT_TEST(header_fields_are_unfolded);
    CPPUNIT_TEST(header_line_without_colon_is_nameless);
    CPPUNIT_TEST(header_value_leading_blanks);
    CPPUNIT_TEST(header_limits_are_enforced);
    CPPUNIT_TEST_SUITE_END();

public:
    void header_end_includes_blank_line()
    {
        auto layout = find_header_end("A: b\nC: d\n\nbody\n");
        CPPUNIT_ASSERT_EQUAL(uint64_t(11), layout.header_size);
        CPPUNIT_ASSERT_EQUAL(uint64_t(11), layout.body_offset);
        CPPUNIT_ASSERT_EQUAL(uint64_t(5), layout.body_size);
    }
    void header_end_with_crlf_blank_line()
    {
        auto layout = find_header_end("A: b\r\n\r\nxy");
        CPPUNIT_ASSERT_EQUAL(uint64_t(8), layout.header_size);
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), layout.body_size);
    }
    void message_without_body_is_all_header()
    {
        auto layout = find_header_end("A: b\nC: d");
        CPPUNIT_ASSERT_EQUAL(uint64_t(9), layout.header_size);
        CPPUNIT_ASSERT_EQUAL(uint64_t(9), layout.body_offset);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), layout.body_size);
    }
    void message_starting_with_blank_line()
    {
        auto layout = find_header_end("\nA: b\n");
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), layout.header_size);
        CPPUNIT_ASSERT_EQUAL(uint64_t(5), layout.body_size);
    }
    void crlf_size_counts_bare_lf_only()
    {
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), crlf_size(""));
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), crlf_size("\n"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(8), crlf_size("a\r\nb\nc\r"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(4), crlf_size("\n\n"));
    }
    void converter_adds_cr_to_bare_lf()
    {
        CrlfConverter conv;
        CPPUNIT_ASSERT_EQUAL(std::string("a\r\nb\r\n\r\nc\r"), conv.convert("a\nb\r\n\nc\r"));
    }
    void converter_carries_cr_across_chunks()
    {
        CrlfConverter conv;
        CPPUNIT_ASSERT_EQUAL(std::string("x\r"), conv.convert("x\r"));
        CPPUNIT_ASSERT_EQUAL(std::string("\ny\r\n"), conv.convert("\ny\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("\r\n"), conv.convert("\n"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), conv.convert(""));
        CPPUNIT_ASSERT_EQUAL(std::string("\r\n"), conv.convert("\n"));
    }
    void converter_matches_crlf_size_for_any_split()
    {
        const std::string message = "H: v\r\n\nline\r\n\r\r\n\n\nend\r";
        for (size_t split = 0; split <= message.size(); split++) {
            CrlfConverter conv;
            std::string out = conv.convert(std::string_view(message).substr(0, split));
            out += conv.convert(std::string_view(message).substr(split));
            CPPUNIT_ASSERT_EQUAL(crlf_size(message), uint64_t(out.size()));
            CPPUNIT_ASSERT_EQUAL(std::string("H: v\r\n\r\nline\r\n\r\r\n\r\n\r\nend\r"), out);
        }
    }
    void header_fields_are_unfolded()
    {
        auto fields = parse_header("Subject: hello\n\tworld\n  again\nTo : x@y\n\nnot a header: z\n");
        CPPUNIT_ASSERT_EQUAL(size_t(2), fields.size());
        CPPUNIT_ASSERT_EQUAL(std::string("Subject"), fields[0].name);
        CPPUNIT_ASSERT_EQUAL(std::string("hello\tworld  again"), fields[0].value);
        CPPUNIT_ASSERT_EQUAL(std::string("To"), fields[1].name);
        CPPUNIT_ASSERT_EQUAL(std::string("x@y"), fields[1].value);
    }
    void header_line_without_colon_is_nameless()
    {
        auto fields = parse_header("garbage line\r\nA:b\r\n");
        CPPUNIT_ASSERT_EQUAL(size_t(2), fields.size());
        CPPUNIT_ASSERT_EQUAL(std::string(""), fields[0].name);
        CPPUNIT_ASSERT_EQUAL(std::string("garbage line"), fields[0].value);
        CPPUNIT_ASSERT_EQUAL(std::string("b"), fields[1].value);
    }
    void header_value_leading_blanks()
    {
        auto fields = parse_header("A: \t x\nB:   \nC:");
        CPPUNIT_ASSERT_EQUAL(size_t(3), fields.size());
        CPPUNIT_ASSERT_EQUAL(std::string("x"), fields[0].value);
        CPPUNIT_ASSERT_EQUAL(std::string("  "), fields[1].value);
        CPPUNIT_ASSERT_EQUAL(std::string(""), fields[2].value);
    }
    void header_limits_are_enforced()
    {
        loft::mail::HeaderLimits limits;
        limits.max_fields = 2;
        CPPUNIT_ASSERT_NO_THROW(parse_header("A: 1\nB: 2\n", limits));
        CPPUNIT_ASSERT_THROW(parse_header("A: 1\nB: 2\nC: 3\n", limits), loft::mail::MessageLimitError);
        limits.max_total_size = 4;
        CPPUNIT_ASSERT_THROW(parse_header("A: 1\n", limits), loft::mail::MessageLimitError);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MessageTest);
