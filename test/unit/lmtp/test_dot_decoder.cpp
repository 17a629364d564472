#include "lmtp/dot_decoder.h"

#include <cppunit/extensions/HelperMacros.h>

using loft::lmtp::DotDecoder;

class DotDecoderTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DotDecoderTest);
    CPPUNIT_TEST(unstuffs_and_stops_at_terminator);
    CPPUNIT_TEST(any_chunking_gives_the_same_result);
    CPPUNIT_TEST(empty_message);
    CPPUNIT_TEST(dot_inside_line_is_kept);
    CPPUNIT_TEST_SUITE_END();

    static std::string decode_all(std::string_view input, size_t& consumed)
    {
        DotDecoder decoder;
        std::string out;
        consumed = decoder.feed(input, out);
        CPPUNIT_ASSERT(decoder.finished());
        return out;
    }

public:
    void unstuffs_and_stops_at_terminator()
    {
        std::string input = "Subject: x\r\n\r\n..leading\r\nbody\r\n.\r\nQUIT\r\n";
        size_t consumed;
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: x\r\n\r\n.leading\r\nbody\r\n"), decode_all(input, consumed));
        CPPUNIT_ASSERT_EQUAL(std::string("QUIT\r\n"), input.substr(consumed));
    }
    void any_chunking_gives_the_same_result()
    {
        std::string input = "a\r\n..b\r\n.c\r\n\r\n.\r\r\n..\r\n.\r\nNEXT";
        size_t consumed;
        std::string expected = decode_all(input, consumed);
        for (size_t size = 1; size < input.size(); size++) {
            DotDecoder decoder;
            std::string out;
            size_t offset = 0;
            while (!decoder.finished() && offset < input.size()) {
                std::string_view piece = std::string_view(input).substr(offset, size);
                offset += decoder.feed(piece, out);
            }
            CPPUNIT_ASSERT_EQUAL(expected, out);
            CPPUNIT_ASSERT_EQUAL(consumed, offset);
        }
        CPPUNIT_ASSERT_EQUAL(std::string("a\r\n.b\r\nc\r\n\r\n\r\r\n.\r\n"), expected);
    }
    void empty_message()
    {
        size_t consumed;
        CPPUNIT_ASSERT_EQUAL(std::string(""), decode_all(".\r\n", consumed));
        CPPUNIT_ASSERT_EQUAL(size_t(3), consumed);
    }
    void dot_inside_line_is_kept()
    {
        DotDecoder decoder;
        std::string out;
        decoder.feed("x.\r\n.y", out);
        CPPUNIT_ASSERT(!decoder.finished());
        CPPUNIT_ASSERT_EQUAL(std::string("x.\r\ny"), out);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DotDecoderTest);
