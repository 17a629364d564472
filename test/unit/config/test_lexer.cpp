// Lexer: Dovecot's line syntax (comments, quotes, continuations, section lines).
#include <cppunit/extensions/HelperMacros.h>

#include <vector>

#include "config/lexer.h"

using namespace loft::config;

namespace {
std::vector<LogicalLine> lex(std::string_view text)
{
    Lexer lexer(text);
    std::vector<LogicalLine> out;
    while (auto l = lexer.next())
        out.push_back(*l);
    return out;
}
}  // namespace

class LexerTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(LexerTest);
    CPPUNIT_TEST(key_value_forms);
    CPPUNIT_TEST(comments_and_quotes);
    CPPUNIT_TEST(continuation_lines);
    CPPUNIT_TEST(crlf_lines);
    CPPUNIT_TEST(sections);
    CPPUNIT_TEST(includes_and_files);
    CPPUNIT_TEST(errors);
    CPPUNIT_TEST_SUITE_END();

public:
    void key_value_forms()
    {
        auto l = lex("a = b\nbase_dir=/x\n  c   =   d e  \nempty =\n");
        CPPUNIT_ASSERT_EQUAL(size_t(4), l.size());
        CPPUNIT_ASSERT(l[0].kind == LineKind::KeyValue);
        CPPUNIT_ASSERT_EQUAL(std::string("a"), l[0].key);
        CPPUNIT_ASSERT_EQUAL(std::string("b"), l[0].value);
        CPPUNIT_ASSERT_EQUAL(std::string("base_dir"), l[1].key);
        CPPUNIT_ASSERT_EQUAL(std::string("/x"), l[1].value);
        CPPUNIT_ASSERT_EQUAL(std::string("d e"), l[2].value);
        CPPUNIT_ASSERT_EQUAL(3u, l[2].line);
        CPPUNIT_ASSERT_EQUAL(std::string(""), l[3].value);
    }
    void comments_and_quotes()
    {
        auto l = lex("# comment\n\na = x # tail\nb = \"x # not\"\nc = 'q\\'s'\nd = \" sp \"\ne = x#y\n");
        CPPUNIT_ASSERT_EQUAL(size_t(5), l.size());
        CPPUNIT_ASSERT_EQUAL(std::string("x"), l[0].value);
        CPPUNIT_ASSERT_EQUAL(std::string("x # not"), l[1].value);
        CPPUNIT_ASSERT_EQUAL(std::string("q's"), l[2].value);
        CPPUNIT_ASSERT_EQUAL(std::string(" sp "), l[3].value);
        CPPUNIT_ASSERT_EQUAL(std::string("x"), l[4].value);
        CPPUNIT_ASSERT(l[4].ambiguous_hash);
        CPPUNIT_ASSERT(!l[0].ambiguous_hash);
    }
    void crlf_lines()
    {
        auto l = lex("a = b\r\nservice x {\r\n}\r\n");
        CPPUNIT_ASSERT_EQUAL(size_t(3), l.size());
        CPPUNIT_ASSERT_EQUAL(std::string("b"), l[0].value);
        CPPUNIT_ASSERT(l[1].kind == LineKind::SectionBegin);
        CPPUNIT_ASSERT(l[2].kind == LineKind::SectionEnd);
    }
    void continuation_lines()
    {
        auto l = lex("a = one \\\n   two\\\n# skipped comment\n three\nb = c\n");
        CPPUNIT_ASSERT_EQUAL(size_t(2), l.size());
        CPPUNIT_ASSERT_EQUAL(std::string("one two three"), l[0].value);
        CPPUNIT_ASSERT_EQUAL(4u, l[0].line);
        CPPUNIT_ASSERT_EQUAL(5u, l[1].line);
    }
    void sections()
    {
        auto l = lex("service imap-login {\n  inet_listener imap {\n}\n}\npassdb {\nmailbox \"Sent Messages\" {\n");
        CPPUNIT_ASSERT_EQUAL(size_t(6), l.size());
        CPPUNIT_ASSERT(l[0].kind == LineKind::SectionBegin);
        CPPUNIT_ASSERT_EQUAL(std::string("service"), l[0].key);
        CPPUNIT_ASSERT_EQUAL(std::string("imap-login"), l[0].value);
        CPPUNIT_ASSERT(l[2].kind == LineKind::SectionEnd);
        CPPUNIT_ASSERT_EQUAL(std::string(""), l[4].value);
        CPPUNIT_ASSERT_EQUAL(std::string("Sent Messages"), l[5].value);
    }
    void includes_and_files()
    {
        auto l = lex("!include conf.d/*.conf\n!include_try local.conf\nssl_cert = </etc/x.pem\n"
                     "ssl_key =<  k\nmail_plugins = $mail_plugins quota\nq = \"$x\"\n");
        CPPUNIT_ASSERT(l[0].kind == LineKind::Include);
        CPPUNIT_ASSERT_EQUAL(std::string("conf.d/*.conf"), l[0].value);
        CPPUNIT_ASSERT(l[1].kind == LineKind::IncludeTry);
        CPPUNIT_ASSERT(l[2].kind == LineKind::KeyFile);
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/x.pem"), l[2].value);
        CPPUNIT_ASSERT_EQUAL(std::string("k"), l[3].value);
        CPPUNIT_ASSERT(l[4].kind == LineKind::KeyVariable);
        CPPUNIT_ASSERT(l[5].kind == LineKind::KeyValue);
        CPPUNIT_ASSERT_EQUAL(std::string("$x"), l[5].value);
    }
    void errors()
    {
        auto l = lex("foo bar\nservice x { y\n");
        CPPUNIT_ASSERT(l[0].kind == LineKind::Error);
        CPPUNIT_ASSERT_EQUAL(std::string("Expecting '{'"), l[0].value);
        CPPUNIT_ASSERT_EQUAL(std::string("Garbage after '{'"), l[1].value);
        CPPUNIT_ASSERT_EQUAL(std::string("a\\b\"c"), unescape("a\\\\b\\\"c"));
        CPPUNIT_ASSERT_EQUAL(std::string("a\nb"), unescape("a\\nb", true));
        CPPUNIT_ASSERT_EQUAL(std::string("anb"), unescape("a\\nb", false));
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(LexerTest);
