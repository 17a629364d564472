#include "mail/address.h"
#include "mail/imap_quote.h"
#include "mail/imap_structure.h"
#include "mail/mime_parser.h"
#include "mail/rfc822_tokens.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::mail;

namespace {

std::string params_text(std::string_view value)
{
    Rfc822Reader reader(value);
    std::string out;
    for (const auto& [name, param] : read_mime_params(reader).list)
        out += "[" + name + "=" + param + "]";
    return out;
}

std::string quoted(std::string_view value)
{
    std::string out;
    imap_append_string(out, value);
    return out;
}

std::string for_humans(std::string_view value)
{
    std::string out;
    imap_append_string_for_humans(out, value);
    return out;
}

}  // namespace

class MimeTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MimeTest);
    CPPUNIT_TEST(tokens_skip_nested_comments);
    CPPUNIT_TEST(content_type_keeps_type_without_subtype);
    CPPUNIT_TEST(params_merge_rfc2231_continuations);
    CPPUNIT_TEST(params_with_gaps_stay_split);
    CPPUNIT_TEST(addresses_with_names_routes_and_groups);
    CPPUNIT_TEST(broken_addresses_get_placeholders);
    CPPUNIT_TEST(quoting_switches_to_literals);
    CPPUNIT_TEST(strings_for_humans_collapse_whitespace);
    CPPUNIT_TEST(envelope_merges_address_headers_and_defaults_sender);
    CPPUNIT_TEST(simple_message_bodystructure);
    CPPUNIT_TEST(multipart_sizes_exclude_newline_before_boundary);
    CPPUNIT_TEST(longest_matching_boundary_prefix_wins);
    CPPUNIT_TEST(non_mime_part_forgets_content_fields);
    CPPUNIT_TEST(digest_children_default_to_message_rfc822);
    CPPUNIT_TEST(message_rfc822_has_envelope_and_lines);
    CPPUNIT_TEST(nesting_limit_turns_part_into_octet_stream);
    CPPUNIT_TEST(empty_multipart_shows_empty_text_part);
    CPPUNIT_TEST(kept_header_bytes_are_limited);
    CPPUNIT_TEST(part_count_limit_stops_boundaries);
    CPPUNIT_TEST_SUITE_END();

public:
    void tokens_skip_nested_comments()
    {
        std::string comment;
        Rfc822Reader reader(" (a (nested) \\) c) atom", &comment);
        CPPUNIT_ASSERT_EQUAL(1, reader.skip_lwsp());
        std::string atom;
        CPPUNIT_ASSERT_EQUAL(0, reader.read_atom(atom));
        CPPUNIT_ASSERT_EQUAL(std::string("atom"), atom);
        CPPUNIT_ASSERT_EQUAL(std::string("a (nested) ) c"), comment);
        Rfc822Reader broken("(never closed");
        CPPUNIT_ASSERT_EQUAL(-1, broken.skip_lwsp());
    }
    void content_type_keeps_type_without_subtype()
    {
        std::string type;
        Rfc822Reader a("text");
        CPPUNIT_ASSERT_EQUAL(-1, a.read_content_type(type));
        CPPUNIT_ASSERT_EQUAL(std::string("text"), type);
        type.clear();
        Rfc822Reader b("text/ plain ; x=y");
        CPPUNIT_ASSERT_EQUAL(1, b.read_content_type(type));
        CPPUNIT_ASSERT_EQUAL(std::string("text/plain"), type);
        type.clear();
        Rfc822Reader c("text/plain garbage");
        CPPUNIT_ASSERT_EQUAL(-1, c.read_content_type(type));
        CPPUNIT_ASSERT_EQUAL(std::string(""), type);
    }
    void params_merge_rfc2231_continuations()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("[charset=utf-8][name=a b]"),
                             params_text("; charset=utf-8; name=\"a b\""));
        CPPUNIT_ASSERT_EQUAL(std::string("[filename*=utf-8''a%20 b%2525]"),
                             params_text("; filename*1=\" b%25\"; filename*0*=utf-8''a%20"));
        CPPUNIT_ASSERT_EQUAL(std::string("[x=1][name=ab]"),
                             params_text("; name*1=b; x=1; name*0=a"));
    }
    void params_with_gaps_stay_split()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("[n*0=a][n*2=c]"), params_text("; n*0=a; n*2=c"));
        MimeParams broken;
        Rfc822Reader reader("; a=1; junk; b=2");
        broken = read_mime_params(reader);
        CPPUNIT_ASSERT(broken.broken);
        // Like Dovecot, recovery only resumes at a ';', so "b=2" after the junk is lost.
        CPPUNIT_ASSERT_EQUAL(size_t(1), broken.list.size());
        CPPUNIT_ASSERT_EQUAL(std::string("a"), broken.list[0].first);
    }
    void addresses_with_names_routes_and_groups()
    {
        auto list = parse_address_list(
            "\"Joe Q.\" <joe@example.com>, <@a,@b:x@y.z>, Team: m@n.o, p@q.r;, s@t.u (Comment)");
        CPPUNIT_ASSERT_EQUAL(size_t(7), list.size());
        CPPUNIT_ASSERT_EQUAL(std::string("Joe Q."), *list[0].name);
        CPPUNIT_ASSERT_EQUAL(std::string("example.com"), *list[0].domain);
        CPPUNIT_ASSERT_EQUAL(std::string("@a,@b"), *list[1].route);
        CPPUNIT_ASSERT_EQUAL(std::string("Team"), *list[2].mailbox);
        CPPUNIT_ASSERT(!list[2].domain);
        CPPUNIT_ASSERT_EQUAL(std::string("p"), *list[4].mailbox);
        CPPUNIT_ASSERT(!list[5].mailbox && !list[5].name);  // end of group
        CPPUNIT_ASSERT_EQUAL(std::string("Comment"), *list[6].name);
    }
    void broken_addresses_get_placeholders()
    {
        auto lone = parse_address_list("user");
        CPPUNIT_ASSERT_EQUAL(size_t(1), lone.size());
        CPPUNIT_ASSERT_EQUAL(std::string("user"), *lone[0].mailbox);
        CPPUNIT_ASSERT_EQUAL(std::string("MISSING_DOMAIN"), *lone[0].domain);
        auto broken = parse_address_list("Name <a@b");
        CPPUNIT_ASSERT_EQUAL(std::string("SYNTAX_ERROR"), *broken[0].domain);
        auto words = parse_address_list("foo bar");
        CPPUNIT_ASSERT_EQUAL(std::string("foo bar"), *words[0].name);
        CPPUNIT_ASSERT_EQUAL(std::string("MISSING_MAILBOX"), *words[0].mailbox);
        CPPUNIT_ASSERT(parse_address_list("  ").empty());
        CPPUNIT_ASSERT_EQUAL(size_t(3), parse_address_list("a@b, c@d, e@f, g@h", 3).size());
    }
    void quoting_switches_to_literals()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("\"a\\\"b\""), quoted("a\"b"));
        CPPUNIT_ASSERT_EQUAL(std::string("\"\\\\\\\\\\\\\\\\\""), quoted("\\\\\\\\"));
        CPPUNIT_ASSERT_EQUAL(std::string("{5}\r\n\\\\\\\\\\"), quoted("\\\\\\\\\\"));
        CPPUNIT_ASSERT_EQUAL(std::string("{2}\r\n\xC3\xA4"), quoted("\xC3\xA4"));
        std::string out;
        imap_append_nstring_nolf(out, std::string("a\n b\nc"));
        CPPUNIT_ASSERT_EQUAL(std::string("\"a b c\""), out);
    }
    void strings_for_humans_collapse_whitespace()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("\"plain text\""), for_humans("plain text"));
        CPPUNIT_ASSERT_EQUAL(std::string("{3}\r\na b"), for_humans("  a \t\n b  "));
        CPPUNIT_ASSERT_EQUAL(std::string("\"\""), for_humans(" \t "));
        CPPUNIT_ASSERT_EQUAL(std::string("{3}\r\na\"b"), for_humans("a\"b"));
    }
    void envelope_merges_address_headers_and_defaults_sender()
    {
        std::string message = "From: a@b.c\nFrom: d@e.f\nSubject: one\nSubject: two\n\tfolded\n"
                              "Message-ID: <x@y>\n\nbody\n";
        CPPUNIT_ASSERT_EQUAL(
            std::string("(NIL {10}\r\ntwo folded ((NIL NIL \"a\" \"b.c\")(NIL NIL \"d\" \"e.f\")) "
                        "((NIL NIL \"a\" \"b.c\")(NIL NIL \"d\" \"e.f\")) "
                        "((NIL NIL \"a\" \"b.c\")(NIL NIL \"d\" \"e.f\")) NIL NIL NIL NIL \"<x@y>\")"),
            imap_envelope(message));
    }
    void simple_message_bodystructure()
    {
        auto root = parse_mime("Subject: x\n\nline 1\nline 2\n");
        CPPUNIT_ASSERT_EQUAL(
            std::string("(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 16 2 NIL NIL NIL NIL)"),
            imap_bodystructure(*root));
        CPPUNIT_ASSERT_EQUAL(
            std::string("(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 16 2)"),
            imap_bodystructure(*root, false));
    }
    void multipart_sizes_exclude_newline_before_boundary()
    {
        std::string message = "Content-Type: multipart/mixed; boundary=b\n\npre\n--b\n\nab\n--b\n"
                              "Content-Type: text/html\n\n<p>\n--b--\nepi\n";
        auto root = parse_mime(message);
        CPPUNIT_ASSERT_EQUAL(size_t(2), root->children.size());
        const MessagePart& first = *root->children[0];
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), first.body_size.physical_size);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), first.body_size.lines);
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), first.body_size.virtual_size);
        CPPUNIT_ASSERT_EQUAL(uint64_t(message.find("\nab") + 1), first.physical_pos + first.header_size.physical_size);
        CPPUNIT_ASSERT_EQUAL(
            std::string("((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 2 0 NIL NIL NIL NIL)"
                        "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0 NIL NIL NIL NIL) \"mixed\" "
                        "(\"boundary\" \"b\") NIL NIL NIL)"),
            imap_bodystructure(*root));
        CPPUNIT_ASSERT_EQUAL(uint64_t(message.size() - root->header_size.physical_size),
                             root->body_size.physical_size);
    }
    void longest_matching_boundary_prefix_wins()
    {
        std::string message = "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
                              "Content-Type: multipart/mixed; boundary=ab\n\n--ab\n\ninner\n--ab--\n--a--\n";
        auto root = parse_mime(message);
        CPPUNIT_ASSERT_EQUAL(size_t(1), root->children.size());
        const MessagePart& inner = *root->children[0];
        CPPUNIT_ASSERT(inner.has(kPartMultipart));
        CPPUNIT_ASSERT_EQUAL(size_t(1), inner.children.size());
        CPPUNIT_ASSERT_EQUAL(uint64_t(5), inner.children[0]->body_size.physical_size);
    }
    void non_mime_part_forgets_content_fields()
    {
        auto root = parse_mime("Content-Transfer-Encoding: base64\nContent-ID: <x>\n\naGk=\n");
        CPPUNIT_ASSERT(root->has(kPartText));
        CPPUNIT_ASSERT(!root->data.content_transfer_encoding);
        CPPUNIT_ASSERT(!root->data.content_id);
        auto mime = parse_mime("MIME-Version: 1.0\nContent-Transfer-Encoding: base64\n\naGk=\n");
        CPPUNIT_ASSERT_EQUAL(std::string("base64"), *mime->data.content_transfer_encoding);
    }
    void digest_children_default_to_message_rfc822()
    {
        auto root = parse_mime("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: in\n\nx\n--d--\n");
        CPPUNIT_ASSERT_EQUAL(size_t(1), root->children.size());
        const MessagePart& child = *root->children[0];
        CPPUNIT_ASSERT(child.has(kPartMessageRfc822));
        CPPUNIT_ASSERT_EQUAL(std::string("in"), *child.children[0]->data.envelope->subject);
    }
    void message_rfc822_has_envelope_and_lines()
    {
        auto root = parse_mime("Content-Type: message/rfc822\n\nSubject: inner\n\nbody\n");
        CPPUNIT_ASSERT_EQUAL(
            std::string("(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 24 (NIL \"inner\" NIL NIL NIL NIL NIL "
                        "NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 "
                        "NIL NIL NIL NIL) 3 NIL NIL NIL NIL)"),
            imap_bodystructure(*root));
    }
    void nesting_limit_turns_part_into_octet_stream()
    {
        MimeLimits limits;
        limits.max_nested_parts = 3;
        std::string message = "Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\n"
                              "Content-Type: message/rfc822\n\nSubject: deep\n\nx\n";
        auto root = parse_mime(message, limits);
        const MessagePart* part = root.get();
        int depth = 0;
        while (!part->children.empty()) {
            part = part->children.front().get();
            depth++;
        }
        CPPUNIT_ASSERT_EQUAL(2, depth);
        CPPUNIT_ASSERT(part->has(kPartOverflow));
        std::string text = imap_bodystructure(*root);
        CPPUNIT_ASSERT(text.find("\"application\" \"octet-stream\"") != std::string::npos);
    }
    void empty_multipart_shows_empty_text_part()
    {
        auto root = parse_mime("Content-Type: multipart/mixed; boundary=z\n\nno parts here\n");
        CPPUNIT_ASSERT_EQUAL(
            std::string("((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) "
                        "\"mixed\" (\"boundary\" \"z\") NIL NIL NIL)"),
            imap_bodystructure(*root));
    }
    void kept_header_bytes_are_limited()
    {
        MimeLimits limits;
        limits.max_kept_header_bytes = 20;
        auto root = parse_mime("Content-ID: <0123456789>\nContent-Description: beyond the limit\n\nx\n",
                               limits);
        CPPUNIT_ASSERT_EQUAL(std::string("<0123456789>"), *root->data.content_id);
        CPPUNIT_ASSERT(!root->data.content_description);
    }
    void part_count_limit_stops_boundaries()
    {
        MimeLimits limits;
        limits.max_total_parts = 3;
        std::string message = "Content-Type: multipart/mixed; boundary=p\n\n";
        for (int i = 0; i < 5; i++)
            message += "--p\n\npart\n";
        message += "--p--\n";
        auto root = parse_mime(message, limits);
        CPPUNIT_ASSERT_EQUAL(size_t(2), root->children.size());
        CPPUNIT_ASSERT_EQUAL(uint64_t(message.size() - root->header_size.physical_size),
                             root->body_size.physical_size);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MimeTest);
