// % variables: Dovecot's modifiers, offsets and widths, built-ins, errors, and ~.
#include <cppunit/extensions/HelperMacros.h>

#include <cstdlib>

#include "config/var_expand.h"

using namespace loft::config;

namespace {
VarTable user_table()
{
    VarTable t;
    t.set('u', "user", "John.Doe@Example.COM");
    t.set('n', "username", "John.Doe");
    t.set('d', "domain", "Example.COM");
    t.set('h', "home", "/home/john");
    t.set('s', "service", "imap");
    t.set('\0', "session", "abc123");
    t.set('p', "pid", "42");
    return t;
}
}  // namespace

class VarExpandTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(VarExpandTest);
    CPPUNIT_TEST(plain_variables);
    CPPUNIT_TEST(modifiers);
    CPPUNIT_TEST(offsets_and_widths);
    CPPUNIT_TEST(hashes);
    CPPUNIT_TEST(built_ins_and_errors);
    CPPUNIT_TEST(home);
    CPPUNIT_TEST(conditionals);
    CPPUNIT_TEST(hash_functions);
    CPPUNIT_TEST_SUITE_END();

public:
    void plain_variables()
    {
        auto t = user_table();
        CPPUNIT_ASSERT_EQUAL(std::string("/var/mail/John.Doe@Example.COM"), expand("/var/mail/%u", t));
        CPPUNIT_ASSERT_EQUAL(std::string("Example.COM/John.Doe"), expand("%d/%n", t));
        CPPUNIT_ASSERT_EQUAL(std::string("imap abc123"), expand("%{service} %{session}", t));
        CPPUNIT_ASSERT_EQUAL(std::string("100%"), expand("100%%", t));
        CPPUNIT_ASSERT_EQUAL(std::string("%u"), expand("%%u", t));
        CPPUNIT_ASSERT_EQUAL(std::string("no vars"), expand("no vars", t));
        CPPUNIT_ASSERT_EQUAL(std::string("x"), expand("x%", t));
    }
    void modifiers()
    {
        auto t = user_table();
        CPPUNIT_ASSERT_EQUAL(std::string("john.doe@example.com"), expand("%Lu", t));
        CPPUNIT_ASSERT_EQUAL(std::string("JOHN.DOE"), expand("%Un", t));
        CPPUNIT_ASSERT_EQUAL(std::string("example.com"), expand("%L{domain}", t));
        CPPUNIT_ASSERT_EQUAL(std::string("MOC.elpmaxE"), expand("%Rd", t));
        CPPUNIT_ASSERT_EQUAL(std::string("Example,dc=COM"), expand("%Dd", t));
        CPPUNIT_ASSERT_EQUAL(std::string("2a"), expand("%Xp", t));
        VarTable q;
        q.set('u', "user", "it's \"x\"\\  ");
        CPPUNIT_ASSERT_EQUAL(std::string("it\\'s \\\"x\\\"\\\\  "), expand("%Eu", q));
        CPPUNIT_ASSERT_EQUAL(std::string("it's \"x\"\\"), expand("%Tu", q));
    }
    void offsets_and_widths()
    {
        auto t = user_table();
        CPPUNIT_ASSERT_EQUAL(std::string("J"), expand("%1n", t));
        CPPUNIT_ASSERT_EQUAL(std::string("Jo"), expand("%2n", t));
        CPPUNIT_ASSERT_EQUAL(std::string("oh"), expand("%1.2n", t));
        CPPUNIT_ASSERT_EQUAL(std::string("oe"), expand("%-2.2n", t));
        CPPUNIT_ASSERT_EQUAL(std::string("John.D"), expand("%.-2n", t));
        CPPUNIT_ASSERT_EQUAL(std::string("j/jo"), expand("%1Ln/%2Ln", t));
        CPPUNIT_ASSERT_EQUAL(std::string("00042"), expand("%05p", t));
    }
    void hashes()
    {
        VarTable t;
        t.set('u', "user", "test");
        // md5("test") = 098f6bcd4621d373cade4e832627b4f6
        CPPUNIT_ASSERT_EQUAL(std::string("098f6bcd4621d373cade4e832627b4f6"), expand("%Mu", t));
        CPPUNIT_ASSERT_EQUAL(std::string("09"), expand("%2Mu", t));
        // %N: first 8 md5 bytes as a number, low 32 bits in hex; width is a modulus.
        CPPUNIT_ASSERT_EQUAL(std::string("4621d373"), expand("%Nu", t));
        CPPUNIT_ASSERT_EQUAL(std::string("3"), expand("%4Nu", t));
        // %H: Dovecot's str_hash("test") = 0x7aca4; width 256 -> 0xa4.
        CPPUNIT_ASSERT_EQUAL(std::string("7aca4"), expand("%Hu", t));
        CPPUNIT_ASSERT_EQUAL(std::string("a4"), expand("%256Hu", t));
    }
    void built_ins_and_errors()
    {
        auto t = user_table();
        setenv("LOFT_TEST_VAR", "envvalue", 1);
        CPPUNIT_ASSERT_EQUAL(std::string("envvalue"), expand("%{env:LOFT_TEST_VAR}", t));
        CPPUNIT_ASSERT_EQUAL(std::string(""), expand("%{env:LOFT_TEST_UNSET_VAR}", t));
        CPPUNIT_ASSERT(!expand("%{hostname}", t).empty());
        CPPUNIT_ASSERT_THROW(expand("%z", t), VarExpandError);
        CPPUNIT_ASSERT_THROW(expand("%99999999999.1Nu", t), VarExpandError);  // bounded, not a hang
        CPPUNIT_ASSERT_EQUAL(size_t(1000), expand("%01000u", t).size());
        try {
            expand("%{nosuch}", t);
            CPPUNIT_FAIL("accepted");
        } catch (const VarExpandError& e) {
            CPPUNIT_ASSERT_EQUAL(std::string("Unknown variable '%nosuch'"), std::string(e.what()));
        }
    }
    void conditionals()
    {
        VarTable t;
        t.set('d', "domain", "example.com");
        t.set('u', "user", "bob");
        t.set('\0', "count", "12");
        CPPUNIT_ASSERT_EQUAL(std::string("postmaster@example.com"),
                             expand("postmaster@%{if;%d;ne;;%d;%{hostname}}", t));
        VarTable empty;
        empty.set('d', "domain", "");
        CPPUNIT_ASSERT_EQUAL("postmaster@" + expand("%{hostname}", empty),
                             expand("postmaster@%{if;%d;ne;;%d;%{hostname}}", empty));
        CPPUNIT_ASSERT_EQUAL(std::string("big"), expand("%{if;%{count};>;10;big;small}", t));
        CPPUNIT_ASSERT_EQUAL(std::string("small"), expand("%{if;%{count};<=;10;big;small}", t));
        CPPUNIT_ASSERT_EQUAL(std::string(""), expand("%{if;%u;eq;alice;yes}", t));
        CPPUNIT_ASSERT_EQUAL(std::string("b-user"), expand("%{if;%u;*;b*;b-user;other}", t));
        CPPUNIT_ASSERT_EQUAL(std::string("match"), expand("%{if;%u;~;^b.b$;match;no}", t));
        CPPUNIT_ASSERT_EQUAL(std::string("a;b"), expand("%{if;1;==;1;a\\;b;c}", t));
        CPPUNIT_ASSERT_THROW(expand("%{if;x;==;1;a;b}", t), VarExpandError);
        CPPUNIT_ASSERT_THROW(expand("%{if;x;??;1;a;b}", t), VarExpandError);
        CPPUNIT_ASSERT_THROW(expand("%{if;x;eq}", t), VarExpandError);
    }
    void hash_functions()
    {
        VarTable t;
        t.set('u', "user", "test");
        t.set('d', "domain", "");
        CPPUNIT_ASSERT_EQUAL(std::string("a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"), expand("%{sha1:user}", t));
        CPPUNIT_ASSERT_EQUAL(std::string("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
                             expand("%{sha256:user}", t));
        CPPUNIT_ASSERT_EQUAL(std::string("0a94"), expand("%{sha1;truncate=12:user}", t));
        CPPUNIT_ASSERT_EQUAL(std::string("CY9rzUYh03PK3k6DJie09g=="), expand("%{md5;format=base64:user}", t));
        // Two rounds: md5(md5("test") as bytes).
        CPPUNIT_ASSERT_EQUAL(std::string("60cd54a928cbbcbb6e7b5595bab46a9e"), expand("%{md5;rounds=2:user}", t));
        CPPUNIT_ASSERT_THROW(expand("%{sha1:nosuchvar}", t), VarExpandError);
    }
    void home()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("/home/j/Maildir"), expand_home("~/Maildir", "/home/j"));
        CPPUNIT_ASSERT_EQUAL(std::string("/home/j"), expand_home("~", "/home/j"));
        CPPUNIT_ASSERT_EQUAL(std::string("~other/x"), expand_home("~other/x", "/home/j"));
        CPPUNIT_ASSERT_EQUAL(std::string("/abs"), expand_home("/abs", "/home/j"));
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(VarExpandTest);
