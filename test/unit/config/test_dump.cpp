// doveconf-format output: sorting, sections, filters, quoting, hidden secrets, lookups.
#include <cppunit/extensions/HelperMacros.h>

#include <cstdlib>

#include "config/config.h"
#include "config/dump.h"

using namespace loft::config;

namespace {
Config raw(const std::string& text)
{
    ParseOptions options;
    options.expand_values = false;  // doveconf's view: <file and $var kept as written
    return Config::load_string(text, "t.conf", "/", options);
}
std::string dump_n(const std::string& text, bool hide = true)
{
    DumpOptions o;
    o.scope = DumpScope::Changed;
    o.hide_passwords = hide;
    return dump_settings(raw(text), o);
}
}  // namespace

class DumpTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DumpTest);
    CPPUNIT_TEST(changed_settings_sorted);
    CPPUNIT_TEST(sections_and_lists);
    CPPUNIT_TEST(filters_after_globals);
    CPPUNIT_TEST(quoting);
    CPPUNIT_TEST(secrets_hidden);
    CPPUNIT_TEST(single_lookups);
    CPPUNIT_TEST(all_settings);
    CPPUNIT_TEST(loft_conf);
    CPPUNIT_TEST_SUITE_END();

public:
    void changed_settings_sorted()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("auth_cache_size = 10 M\nmail_location = maildir:~/M\n"),
                             dump_n("ssl = yes\nmail_location = maildir:~/M\nauth_cache_size = 10M\n"
                                    "auth_cache_ttl = 1h\n"));
        // Set to the default: -n leaves it out, -N shows it.
        DumpOptions n;
        n.scope = DumpScope::Set;
        CPPUNIT_ASSERT_EQUAL(std::string("ssl = yes\n"), dump_settings(raw("ssl = yes\n"), n));
    }
    void sections_and_lists()
    {
        std::string out = dump_n("service imap-login {\n  inet_listener imaps {\n    port = 993\n  }\n"
                                 "  process_min_avail = 2\n}\npassdb {\n  driver = pam\n  args = \n}\n"
                                 "namespace inbox {\n  inbox = yes\n  mailbox \"Sent Messages\" {\n"
                                 "    special_use = \\Sent\n  }\n}\nplugin {\n  quota = maildir\n}\n");
        CPPUNIT_ASSERT_EQUAL(std::string("namespace inbox {\n"
                                         "  inbox = yes\n"
                                         "  location = \n"
                                         "  mailbox \"Sent Messages\" {\n"
                                         "    special_use = \\Sent\n"
                                         "  }\n"
                                         "  prefix = \n"
                                         "}\n"
                                         "passdb {\n"
                                         "  driver = pam\n"
                                         "}\n"
                                         "plugin {\n"
                                         "  quota = maildir\n"
                                         "}\n"
                                         "service imap-login {\n"
                                         "  inet_listener imaps {\n"
                                         "    port = 993\n"
                                         "  }\n"
                                         "  process_min_avail = 2\n"
                                         "}\n"),
                             out);
    }
    void filters_after_globals()
    {
        std::string out = dump_n("remote 10.0.0.0/8 {\n  protocol imap {\n    login_greeting = b\n  }\n}\n"
                                 "protocol imap {\n  mail_plugins = quota\n}\n"
                                 "remote 10.0.0.0/8 {\n  login_greeting = a\n}\nprotocol pop3 {\n}\n"
                                 "mail_location = mbox:~/mail\n");
        CPPUNIT_ASSERT_EQUAL(std::string("mail_location = mbox:~/mail\n"
                                         "protocol imap {\n"
                                         "  mail_plugins = quota\n"
                                         "}\n"
                                         "remote 10.0.0.0/8 {\n"
                                         "  login_greeting = a\n"
                                         "}\n"
                                         "remote 10.0.0.0/8 {\n"
                                         "  protocol imap {\n"
                                         "    login_greeting = b\n"
                                         "  }\n"
                                         "}\n"),
                             out);
    }
    void quoting()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("login_greeting = \"a # b\"\nmail_plugins = \" quota\"\n"),
                             dump_n("login_greeting = \"a # b\"\nmail_plugins = $mail_plugins quota\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("ssl_cert = </etc/x.pem\n"), dump_n("ssl_cert = </etc/x.pem\n"));
    }
    void secrets_hidden()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("ssl_key = # hidden, use -P to show it\n"), dump_n("ssl_key = </k\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("ssl_key = </k\n"), dump_n("ssl_key = </k\n", false));
        CPPUNIT_ASSERT_EQUAL(std::string("plugin {\n  x = url=http://#hidden_use-P_to_show#@h/ y\n}\n"),
                             dump_n("plugin {\n  x = url=http://u:p@h/ y\n}\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("passdb {\n  args = dn=x password=#hidden_use-P_to_show# other\n"
                                         "  driver = ldap\n}\n"),
                             dump_n("passdb {\n  driver = ldap\n  args = dn=x password=secret other\n}\n"));
        // "nopassword" is not a secret.
        CPPUNIT_ASSERT_EQUAL(std::string("passdb {\n  args = nopassword=y\n  driver = static\n}\n"),
                             dump_n("passdb {\n  driver = static\n  args = nopassword=y\n}\n"));
    }
    void single_lookups()
    {
        DumpOptions o;
        auto c = raw("mail_plugins = $mail_plugins quota\nservice imap {\n  process_limit = 5\n}\n");
        CPPUNIT_ASSERT_EQUAL(std::string("mail_plugins =  quota\n"), dump_one(c, o, "mail_plugins", false));
        CPPUNIT_ASSERT_EQUAL(std::string(" quota\n"), dump_one(c, o, "mail_plugins", true));
        CPPUNIT_ASSERT_EQUAL(std::string("user\n"), dump_one(c, o, "loft_storage_mode", true));
        CPPUNIT_ASSERT_EQUAL(std::string(""), dump_one(c, o, "no_such", false));
        std::string svc = dump_one(c, o, "service/imap", false);
        CPPUNIT_ASSERT(svc.starts_with("service imap {\n  chroot = \n"));
        CPPUNIT_ASSERT(svc.find("  process_limit = 5\n") != std::string::npos);
        CPPUNIT_ASSERT(svc.find("  unix_listener login/imap {\n    group = \n    mode = 0666\n") != std::string::npos);
    }
    void all_settings()
    {
        DumpOptions o;
        std::string out = dump_settings(raw(""), o);
        CPPUNIT_ASSERT(out.find("auth_cache_ttl = 1 hours\n") != std::string::npos);
        CPPUNIT_ASSERT(out.find("service imap-login {\n") != std::string::npos);
        CPPUNIT_ASSERT(out.find("mail_cache_max_size") == std::string::npos);  // hidden
        CPPUNIT_ASSERT(out.find("loft_") == std::string::npos);
        out = dump_settings(raw("mail_cache_max_size = 512M\nloft_storage_mode = shared\n"), o);
        CPPUNIT_ASSERT(out.find("mail_cache_max_size = 512 M\n") != std::string::npos);
        CPPUNIT_ASSERT(out.find("loft_storage_mode = shared\n") != std::string::npos);
    }
    void loft_conf()
    {
        const char* srcdir = std::getenv("LOFT_SRCDIR");
        std::string path = std::string(srcdir != nullptr ? srcdir : ".") + "/test/interop/config/loft/loft.conf";
        ParseOptions options;
        options.expand_values = false;
        auto c = Config::load_file(path, options);
        auto s = c.resolve({"imap", "", "", ""});
        CPPUNIT_ASSERT_EQUAL(std::string("uid"), s.get("loft_storage_mode"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(600000), s.get_time_ms("loft_storage_idle_timeout"));
        CPPUNIT_ASSERT_EQUAL(std::string("maildir:/var/vmail/%d/%n/Maildir"), s.get("mail_location"));
        DumpOptions o;
        o.scope = DumpScope::Changed;
        std::string out = dump_settings(c, o);
        CPPUNIT_ASSERT(out.find("loft_rpc_listen = 10.0.0.5:4190\n") != std::string::npos);
        CPPUNIT_ASSERT(out.find("loft_rpc_ssl_key = # hidden, use -P to show it\n") != std::string::npos);
        CPPUNIT_ASSERT(out.find("first_valid_uid = 5000\n") != std::string::npos);
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(DumpTest);
