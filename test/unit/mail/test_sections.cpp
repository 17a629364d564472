#include "mail/binary.h"
#include "mail/charset.h"
#include "mail/mime_parser.h"
#include "mail/part_text.h"
#include "mail/rfc2047.h"
#include "mail/section.h"
#include "mail/transfer_encoding.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::mail;

namespace {

const std::string kMessage =
    "Subject: outer\n"
    "Content-Type: multipart/mixed; boundary=b\n"
    "\n"
    "--b\n"
    "Content-Type: text/plain\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "caf=C3=A9 soft=\n"
    "break\n"
    "--b\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: inner\n"
    "From: a@b.c\n"
    "\n"
    "inner body\n"
    "--b\n"
    "Content-Type: application/octet-stream\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "AAEC\n"
    "--b--\n";

std::string section(const std::string& text, Partial partial = Partial())
{
    auto root = parse_mime(kMessage);
    auto parsed = parse_section(text);
    if (!parsed)
        throw std::runtime_error("bad section " + text);
    return fetch_section(kMessage, *root, *parsed, partial);
}

std::string binary(const std::string& message, const std::string& text)
{
    auto root = parse_mime(message);
    return fetch_binary(message, *root, *parse_section(text));
}

}  // namespace

class SectionsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SectionsTest);
    CPPUNIT_TEST(section_syntax);
    CPPUNIT_TEST(part_numbers_follow_dovecot);
    CPPUNIT_TEST(section_contents_are_crlf);
    CPPUNIT_TEST(header_field_lists);
    CPPUNIT_TEST(partial_ranges);
    CPPUNIT_TEST(binary_decodes_parts);
    CPPUNIT_TEST(binary_errors);
    CPPUNIT_TEST(binary_literal8_as_dovecot);
    CPPUNIT_TEST(binary_size_matches_decoded_length);
    CPPUNIT_TEST(transfer_decoders);
    CPPUNIT_TEST(encoded_words_become_utf8);
    CPPUNIT_TEST(rfc2231_values_become_utf8);
    CPPUNIT_TEST(part_text_is_decoded_utf8);
    CPPUNIT_TEST(streamed_sections_match_fetched_ones);
    CPPUNIT_TEST_SUITE_END();

public:
    void section_syntax()
    {
        CPPUNIT_ASSERT(parse_section("")->kind == FetchSection::Kind::Full);
        CPPUNIT_ASSERT(parse_section("1.2")->kind == FetchSection::Kind::PartBody);
        CPPUNIT_ASSERT(parse_section("1.mime")->kind == FetchSection::Kind::Mime);
        auto fields = parse_section("2.HEADER.FIELDS (to From)");
        CPPUNIT_ASSERT(fields->kind == FetchSection::Kind::HeaderFields);
        CPPUNIT_ASSERT_EQUAL(std::string("2"), fields->part_number);
        CPPUNIT_ASSERT_EQUAL(std::string("FROM"), fields->fields[0]);
        CPPUNIT_ASSERT(!parse_section("MIME"));
        CPPUNIT_ASSERT(!parse_section("1."));
        CPPUNIT_ASSERT(!parse_section("1.2x"));
        CPPUNIT_ASSERT(!parse_section("HEADER.FIELDS ()"));
        CPPUNIT_ASSERT(!parse_section("HEADER.FIELDS (A"));
        CPPUNIT_ASSERT(!parse_section("BOGUS"));
    }
    void part_numbers_follow_dovecot()
    {
        auto root = parse_mime(kMessage);
        CPPUNIT_ASSERT(find_part(*root, "1") == root->children[0].get());
        CPPUNIT_ASSERT(find_part(*root, "4") == nullptr);
        // 2.1 is the message inside message/rfc822; 1.1 of a text part is the part itself,
        // 1.2 does not exist.
        CPPUNIT_ASSERT(find_part(*root, "2.1") == root->children[1]->children[0].get());
        CPPUNIT_ASSERT(find_part(*root, "1.1") == root->children[0].get());
        CPPUNIT_ASSERT(find_part(*root, "1.2") == nullptr);
        auto single = parse_mime("Subject: x\n\nbody\n");
        CPPUNIT_ASSERT(find_part(*single, "1") == single.get());
        CPPUNIT_ASSERT(find_part(*single, "2") == nullptr);
    }
    void section_contents_are_crlf()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: outer\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"),
                             section("HEADER"));
        CPPUNIT_ASSERT_EQUAL(std::string("Content-Type: message/rfc822\r\n\r\n"), section("2.MIME"));
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: inner\r\nFrom: a@b.c\r\n\r\n"), section("2.HEADER"));
        CPPUNIT_ASSERT_EQUAL(std::string("inner body"), section("2.TEXT"));
        CPPUNIT_ASSERT_EQUAL(std::string("caf=C3=A9 soft=\r\nbreak"), section("1"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), section("1.HEADER"));  // not message/rfc822
        CPPUNIT_ASSERT_EQUAL(std::string(""), section("7"));
    }
    void header_field_lists()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: outer\r\n\r\n"), section("HEADER.FIELDS (SUBJECT)"));
        CPPUNIT_ASSERT_EQUAL(std::string("\r\n"), section("HEADER.FIELDS (X-NONE)"));
        CPPUNIT_ASSERT_EQUAL(std::string("From: a@b.c\r\n\r\n"), section("2.HEADER.FIELDS.NOT (Subject)"));
        auto root = parse_mime("A: 1\nB: 2\n\tcont\nC: 3");
        CPPUNIT_ASSERT_EQUAL(std::string("B: 2\r\n\tcont\r\nC: 3\r\n"),
                             fetch_section("A: 1\nB: 2\n\tcont\nC: 3", *root, *parse_section("HEADER.FIELDS (B C)")));
    }
    void partial_ranges()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("Subje"), section("", {0, 5}));
        CPPUNIT_ASSERT_EQUAL(std::string("\nContent"), section("", {15, 8}));  // CR already sent
        CPPUNIT_ASSERT_EQUAL(std::string(""), section("", {100000, 5}));
    }
    void binary_decodes_parts()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("caf\xC3\xA9 softbreak"), binary(kMessage, "1"));
        CPPUNIT_ASSERT_EQUAL(std::string("\x00\x01\x02", 3), binary(kMessage, "3"));
        std::string full = binary(kMessage, "");
        CPPUNIT_ASSERT(full.find("Content-Transfer-Encoding: binary\r\n\r\n\x00\x01\x02\r\n--b--") !=
                       std::string::npos);
        CPPUNIT_ASSERT(full.find("base64") == std::string::npos);
    }
    // Dovecot 2.3 sends ~{n} when a part in the section was decoded or it has a NUL,
    // {n} for untouched 8-bit text and for header sections (measured).
    void binary_literal8_as_dovecot()
    {
        auto check = [](std::string_view message, std::string_view section, bool literal8) {
            auto root = parse_mime(message);
            CPPUNIT_ASSERT_EQUAL(literal8, fetch_binary_section(message, *root, *parse_section(section)).literal8);
        };
        std::string_view qp_ascii = "Subject: q\nContent-Transfer-Encoding: quoted-printable\n\nhello=3D\n";
        check(qp_ascii, "", true);
        check(qp_ascii, "1", true);
        check(qp_ascii, "HEADER", false);
        check("Subject: r\nContent-Transfer-Encoding: 8bit\n\nhej \xC3\xA5\n", "1", false);
        check(std::string_view("Subject: n\n\nhe\0lo\n", 18), "TEXT", true);
        std::string_view mixed = "Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: text/plain\n\nplain\n"
                                 "--X\nContent-Transfer-Encoding: base64\n\naGVsbG8=\n--X--\n";
        check(mixed, "1", false);
        check(mixed, "2", true);
        check(mixed, "", true);
        auto root = parse_mime(mixed);
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), fetch_binary_section(mixed, *root, *parse_section("2")).data);
    }
    void binary_errors()
    {
        std::string unknown = "MIME-Version: 1.0\nContent-Transfer-Encoding: x-uue\n\nbody\n";
        CPPUNIT_ASSERT_THROW(binary(unknown, "1"), BinaryDecodeError);
        std::string bad64 = "MIME-Version: 1.0\nContent-Transfer-Encoding: base64\n\nAB*C\n";
        try {
            binary(bad64, "1");
            CPPUNIT_FAIL("invalid base64 accepted");
        } catch (const BinaryDecodeError& e) {
            CPPUNIT_ASSERT(e.kind() == BinaryDecodeError::Kind::InvalidData);
        }
        std::string short64 = "MIME-Version: 1.0\nContent-Transfer-Encoding: base64\n\nQUJ\n";
        CPPUNIT_ASSERT_THROW(binary(short64, "1"), BinaryDecodeError);
        std::string badqp = "MIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\na=ZZ\n";
        CPPUNIT_ASSERT_THROW(binary(badqp, "1"), BinaryDecodeError);
    }
    void binary_size_matches_decoded_length()
    {
        auto root = parse_mime(kMessage);
        for (const char* text : {"1", "2", "3", ""}) {
            auto parsed = parse_section(text);
            CPPUNIT_ASSERT_EQUAL(uint64_t(fetch_binary(kMessage, *root, *parsed).size()),
                                 fetch_binary_size(kMessage, *root, *parsed));
        }
    }
    void transfer_decoders()
    {
        std::string out;
        CPPUNIT_ASSERT(decode_base64("aGVs\r\nbG8=", out));
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), out);
        out.clear();
        CPPUNIT_ASSERT(decode_q("a_b=3Dc", out));
        CPPUNIT_ASSERT_EQUAL(std::string("a b=c"), out);
        out.clear();
        CPPUNIT_ASSERT(decode_quoted_printable("x=\r\ny  \nz=41", out));
        CPPUNIT_ASSERT_EQUAL(std::string("xy\r\nzA"), out);
        CPPUNIT_ASSERT(parse_transfer_encoding(" Base64 ") == TransferEncoding::Base64);
        CPPUNIT_ASSERT(parse_transfer_encoding("x-uue") == TransferEncoding::Unknown);
    }
    void encoded_words_become_utf8()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("J\xC3\xB6rg <j@x>"), decode_header_text("=?iso-8859-1?q?J=F6rg?= <j@x>"));
        CPPUNIT_ASSERT_EQUAL(std::string("ab"), decode_header_text("=?utf-8?B?YQ==?= \t =?utf-8?Q?b?="));
        CPPUNIT_ASSERT_EQUAL(std::string("x =?bad"), decode_header_text("x =?bad"));
        CPPUNIT_ASSERT_EQUAL(std::string("\xEF\xBF\xBD"), decode_header_text("\xFF"));
        CPPUNIT_ASSERT_EQUAL(std::string("a"), decode_header_text("=?x-unknown-charset?q?a?="));
        CPPUNIT_ASSERT(!convert_to_utf8("x-unknown-charset", "a"));
        CPPUNIT_ASSERT_EQUAL(std::string("\xE2\x82\xAC"), *convert_to_utf8("windows-1252", "\x80"));
    }
    void rfc2231_values_become_utf8()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("\xE2\x82\xAC rates.txt"),
                             decode_rfc2231_value("utf-8''%E2%82%AC%20rates.txt"));
        CPPUNIT_ASSERT_EQUAL(std::string("K\xC3\xB6ln"), decode_rfc2231_value("iso-8859-1'de'K%F6ln"));
        CPPUNIT_ASSERT_EQUAL(std::string("plain"), decode_rfc2231_value("plain"));
    }
    void part_text_is_decoded_utf8()
    {
        std::string message = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n--x\n"
                              "Content-Type: text/plain; charset=iso-8859-1\n"
                              "Content-Transfer-Encoding: quoted-printable\n\nK=F6ln\n--x\n"
                              "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
                              "4oKs\n--x--\n";
        auto root = parse_mime(message);
        std::vector<std::string> texts;
        for_each_part_text(message, *root, [](const MessagePart&, const std::string& text, void* context) {
            static_cast<std::vector<std::string>*>(context)->push_back(text);
        }, &texts);
        CPPUNIT_ASSERT_EQUAL(size_t(2), texts.size());
        CPPUNIT_ASSERT_EQUAL(std::string("K\xC3\xB6ln"), texts[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("\xE2\x82\xAC"), texts[1]);
        CPPUNIT_ASSERT_EQUAL(std::string(), decoded_part_text(message, *root));
    }
    void streamed_sections_match_fetched_ones()
    {
        std::string message = kMessage + std::string("\0tail\r\n", 7);
        auto root = parse_mime(message);
        const Partial partials[] = {{}, {0, 1}, {3, 17}, {14, 2}, {15, 1000}, {400, 5}, {100000, 1}};
        for (const char* text : {"", "TEXT", "HEADER", "1", "2", "2.HEADER", "2.TEXT", "3.MIME", "9",
                                 "HEADER.FIELDS (SUBJECT)"}) {
            auto parsed = parse_section(text);
            for (const Partial& partial : partials) {
                std::string expected = fetch_section(message, *root, *parsed, partial);
                CPPUNIT_ASSERT_EQUAL(uint64_t(expected.size()), section_size(message, *root, *parsed, partial));
                for (size_t chunk : {size_t(1), size_t(2), size_t(7), size_t(4096)}) {
                    std::string streamed;
                    stream_section(message, *root, *parsed, partial, chunk, [&](std::string_view piece) {
                        CPPUNIT_ASSERT(piece.size() <= chunk);
                        streamed.append(piece);
                    });
                    CPPUNIT_ASSERT_EQUAL(expected, streamed);
                }
            }
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SectionsTest);
