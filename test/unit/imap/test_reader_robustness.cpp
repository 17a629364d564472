// Adversarial input for the reader: random mixes of IMAP tokens and garbage bytes
// must never crash, hang or grow without bound, and must not depend on chunking.
#include "imap/protocol/command_reader.h"
#include "imap/protocol/fetch_attributes.h"
#include "imap/protocol/search_key.h"
#include "reader_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

#include <array>
#include <random>

using namespace loft::imap::protocol;

namespace {

std::string random_input(std::mt19937& rng, size_t pieces)
{
    static const std::array<std::string, 32> kTokens{
        "a ", "FETCH ", "1:* ", "(", ")", "\"", "\\", "{5}\r\n", "{3+}\r\n", "~{2}\r\n", "{99999999999999999999}\r\n",
        "{", "}", " ", "\r\n", "\n", "\r", std::string(1, '\0'), "\xe4", "BODY[HEADER.FIELDS (", "]<0.5>",
        "APPEND INBOX ", "UID ", "SEARCH OR NOT ", "*", "+", "%", "~", "NIL", "12345", "abc", "{0+}\r\n"};
    std::string out;
    for (size_t i = 0; i < pieces; ++i) {
        if (rng() % 8 == 0)
            out.push_back(char(rng() % 256));
        else
            out += kTokens[rng() % kTokens.size()];
    }
    return out;
}

}  // namespace

class ReaderRobustnessTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ReaderRobustnessTest);
    CPPUNIT_TEST(random_token_soup_is_chunking_independent);
    CPPUNIT_TEST(parsed_commands_survive_typed_helpers);
    CPPUNIT_TEST_SUITE_END();

public:
    void random_token_soup_is_chunking_independent()
    {
        std::mt19937 rng(20261130);
        ReaderLimits limits;
        limits.max_line_length = 200;
        limits.max_literal_size = 50;
        limits.max_depth = 5;
        limits.max_args = 40;
        for (int round = 0; round < 300; ++round) {
            std::string input = random_input(rng, 60);
            for (bool streaming : {false, true}) {
                StreamPolicy policy = streaming ? StreamPolicy(stream_append_messages) : StreamPolicy();
                CommandReader whole(limits, policy);
                std::string expected = reader_test::join(reader_test::run(whole, input));
                size_t chunk = 1 + rng() % 7;
                CommandReader pieces(limits, policy);
                CPPUNIT_ASSERT_EQUAL_MESSAGE("round " + std::to_string(round), expected,
                                             reader_test::join(reader_test::run(pieces, input, chunk)));
            }
        }
    }
    void parsed_commands_survive_typed_helpers()
    {
        std::mt19937 rng(7);
        int commands = 0;
        for (int round = 0; round < 500; ++round) {
            CommandReader reader;
            reader.feed(random_input(rng, 30) + "\r\n");
            for (ReaderEvent e = reader.next(); e.kind != ReaderEvent::Kind::NeedMore; e = reader.next()) {
                if (e.kind != ReaderEvent::Kind::Command)
                    continue;
                ++commands;
                for (size_t first = 0; first < 2; ++first) {
                    try {
                        parse_fetch(e.command.args, first);
                    } catch (const CommandError&) {
                    }
                    try {
                        parse_search(e.command.args, first);
                    } catch (const CommandError&) {
                    }
                }
            }
        }
        CPPUNIT_ASSERT(commands > 0);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ReaderRobustnessTest);
