// Parser: includes, <file values, $variables, sections, filters and error reporting.
#include <cppunit/extensions/HelperMacros.h>

#include "config/config.h"
#include "test_helpers.h"

using namespace loft::config;
using loft::config::test::TempDir;

namespace {
Config parse(const std::string& text, const std::string& dir = "/nonexistent")
{
    return Config::load_string(text, "t.conf", dir);
}
std::string error_of(const std::string& text, const std::string& dir = "/nonexistent")
{
    try {
        parse(text, dir);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}
}  // namespace

class ParserTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ParserTest);
    CPPUNIT_TEST(plain_settings);
    CPPUNIT_TEST(variables);
    CPPUNIT_TEST(variables_in_filters);
    CPPUNIT_TEST(includes_with_globs);
    CPPUNIT_TEST(include_errors);
    CPPUNIT_TEST(file_values);
    CPPUNIT_TEST(sections_merge_by_name);
    CPPUNIT_TEST(unknown_and_bad_values);
    CPPUNIT_TEST(all_errors_reported);
    CPPUNIT_TEST(brace_errors);
    CPPUNIT_TEST(filter_nesting_rules);
    CPPUNIT_TEST(loft_settings);
    CPPUNIT_TEST_SUITE_END();

public:
    void plain_settings()
    {
        auto s = parse("mail_location = maildir:~/Maildir\nauth_mechanisms = plain login\nssl = no\n")
                     .resolve({});
        CPPUNIT_ASSERT_EQUAL(std::string("maildir:~/Maildir"), s.get("mail_location"));
        CPPUNIT_ASSERT_EQUAL(std::string("plain login"), s.get("auth_mechanisms"));
        CPPUNIT_ASSERT(s.get_list("auth_mechanisms") == std::vector<std::string>({"plain", "login"}));
        CPPUNIT_ASSERT(s.is_set("ssl"));
        CPPUNIT_ASSERT(!s.is_set("base_dir"));
        CPPUNIT_ASSERT_EQUAL(std::string("/run/dovecot"), s.get("base_dir"));
        CPPUNIT_ASSERT_THROW(s.get("no_such_thing"), std::out_of_range);
    }
    void variables()
    {
        auto s = parse("mail_plugins = $mail_plugins quota\nmail_plugins = $mail_plugins acl\n"
                       "default_internal_user = mailer\nlogin_greeting = hi $default_internal_user\n"
                       "protocols = $protocols pop3\n")
                     .resolve({});
        CPPUNIT_ASSERT_EQUAL(std::string(" quota acl"), s.get("mail_plugins"));
        CPPUNIT_ASSERT_EQUAL(std::string("hi mailer"), s.get("login_greeting"));
        CPPUNIT_ASSERT_EQUAL(std::string(" pop3"), s.get("protocols"));
        CPPUNIT_ASSERT(error_of("login_greeting = $nope\n").find("t.conf:1: Unknown variable: $nope") !=
                       std::string::npos);
        // Quoted values are not expanded.
        CPPUNIT_ASSERT_EQUAL(std::string("$x"), parse("login_greeting = \"$x\"\n").resolve({}).get("login_greeting"));
    }
    void variables_in_filters()
    {
        auto c = parse("mail_plugins = quota\nprotocol imap {\n  mail_plugins = $mail_plugins imap_quota\n}\n");
        CPPUNIT_ASSERT_EQUAL(std::string("quota imap_quota"), c.resolve({"imap", "", "", ""}).get("mail_plugins"));
        CPPUNIT_ASSERT_EQUAL(std::string("quota"), c.resolve({"pop3", "", "", ""}).get("mail_plugins"));
    }
    void includes_with_globs()
    {
        TempDir dir;
        dir.write("conf.d/20-b.conf", "mail_plugins = $mail_plugins b\n");
        dir.write("conf.d/10-a.conf", "mail_plugins = $mail_plugins a\n");
        dir.write("conf.d/30-c.ext", "mail_plugins = $mail_plugins c\n");
        dir.write("conf.d/sub.inc", "!include 30-c.ext\n");
        std::string main = dir.write("dovecot.conf",
                                     "!include conf.d/*.conf\n!include conf.d/sub.inc\n!include_try nothere/*.conf\n");
        auto c = Config::load_file(main);
        CPPUNIT_ASSERT_EQUAL(std::string(" a b c"), c.resolve({}).get("mail_plugins"));
    }
    void include_errors()
    {
        TempDir dir;
        dir.write("loop.conf", "!include loop.conf\n");
        std::string e = error_of("!include loop.conf\n", dir.path());
        CPPUNIT_ASSERT(e.find("Recursive include file") != std::string::npos);
        CPPUNIT_ASSERT(e.find("loop.conf:1:") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: No matches"), error_of("!include none*.conf\n", dir.path()));
        CPPUNIT_ASSERT(error_of("!include missing.conf\n", dir.path()).find("t.conf:1: No matches") !=
                       std::string::npos);
    }
    void file_values()
    {
        TempDir dir;
        dir.write("greeting.txt", "Welcome\n");
        auto c = parse("login_greeting = <greeting.txt\n", dir.path());
        CPPUNIT_ASSERT_EQUAL(std::string("Welcome\n"), c.resolve({}).get("login_greeting"));
        std::string e = error_of("ssl_key = <missing.key\n", dir.path());
        CPPUNIT_ASSERT(e.find("t.conf:1: ssl_key: Can't open file " + dir.path() + "/missing.key") == 0);
        ParseOptions no_read;
        no_read.expand_values = false;
        auto raw = Config::load_string("ssl_key = <missing.key\n", "t.conf", dir.path(), no_read);
        CPPUNIT_ASSERT_EQUAL(std::string("<missing.key"), raw.resolve({}).get("ssl_key"));
    }
    void sections_merge_by_name()
    {
        auto s = parse("service imap-login {\n  inet_listener imap {\n    port = 0\n  }\n}\n"
                       "service imap-login {\n  process_min_avail = 4\n}\n"
                       "passdb {\n  driver = pam\n}\npassdb {\n  driver = passwd-file\n  args = /etc/users\n}\n"
                       "namespace inbox {\n  inbox = yes\n  mailbox \"Sent Messages\" {\n    special_use = \\Sent\n  }\n}\n"
                       "plugin {\n  quota = maildir\n}\nplugin {\n  quota_rule = *:storage=1G\n}\n")
                     .resolve({});
        const Section* login = s.section("service", "imap-login");
        CPPUNIT_ASSERT(login != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("4"), login->get_or("process_min_avail", "?"));
        CPPUNIT_ASSERT(login->is_set("process_min_avail"));
        CPPUNIT_ASSERT(!login->is_set("executable"));
        CPPUNIT_ASSERT_EQUAL(std::string("imap-login"), login->get_or("executable", "?"));
        auto listeners = login->sections("inet_listener");
        CPPUNIT_ASSERT_EQUAL(size_t(2), listeners.size());  // imap (changed) and imaps (built in)
        CPPUNIT_ASSERT_EQUAL(std::string("imap"), listeners[0]->name());
        CPPUNIT_ASSERT_EQUAL(std::string("0"), listeners[0]->value("port"));
        CPPUNIT_ASSERT_EQUAL(std::string("993"), listeners[1]->value("port"));
        auto passdbs = s.sections("passdb");
        CPPUNIT_ASSERT_EQUAL(size_t(2), passdbs.size());
        CPPUNIT_ASSERT_EQUAL(std::string("pam"), *passdbs[0]->get("driver"));
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/users"), *passdbs[1]->get("args"));
        CPPUNIT_ASSERT_EQUAL(std::string("continue"), passdbs[1]->value("result_failure"));
        CPPUNIT_ASSERT_EQUAL(9u, passdbs[0]->location().line);
        const Section* ns = s.section("namespace", "inbox");
        CPPUNIT_ASSERT(ns != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("\\Sent"), *ns->sections("mailbox")[0]->get("special_use"));
        CPPUNIT_ASSERT_EQUAL(std::string("Sent Messages"), ns->sections("mailbox")[0]->name());
        CPPUNIT_ASSERT_EQUAL(std::string("maildir"), *s.plugin("quota"));
        CPPUNIT_ASSERT_EQUAL(std::string("*:storage=1G"), *s.plugin("quota_rule"));
        CPPUNIT_ASSERT(!s.plugin("nothing"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(993), listeners[1]->get_uint("port"));
        CPPUNIT_ASSERT(listeners[1]->get_bool("ssl"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(0600), s.section("service", "auth")->sections("unix_listener")[0]->get_uint("mode"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(UINT64_MAX), login->get_size("vsz_limit"));
        CPPUNIT_ASSERT_THROW(login->get_uint("no_such_key"), std::out_of_range);
        // Built-in service users follow default_internal_user.
        CPPUNIT_ASSERT_EQUAL(std::string("dovecot"), s.section("service", "anvil")->value("user"));
    }
    void unknown_and_bad_values()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:2: Unknown setting: foo"), error_of("ssl = no\nfoo = bar\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:3: Unknown setting: service { inet_listener { bogus"),
                             error_of("service x {\n  inet_listener y {\n    bogus = 1\n  }\n}\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: Invalid boolean value: maybe (use yes or no)"),
                             error_of("auth_debug = maybe\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: Invalid value: sometimes"), error_of("ssl = sometimes\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:3: Invalid port number 99999"),
                             error_of("service imap-login {\ninet_listener imap {\nport = 99999\n}\n}\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: Unknown setting: inet_listener { inet_listener"),
                             error_of("inet_listener x {\n}\n"));
    }
    void all_errors_reported()
    {
        std::string e = error_of("foo = 1\nssl = maybe\nauth_debug = x\nbase_dir = /ok\n}\n");
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: Unknown setting: foo\n"
                                         "t.conf:2: Invalid value: maybe\n"
                                         "t.conf:3: Invalid boolean value: x (use yes or no)\n"
                                         "t.conf:5: Unexpected '}'"),
                             e);
    }
    void brace_errors()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf: Missing '}' (section started at t.conf:3)"),
                             error_of("ssl = no\n\nservice imap {\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: Expecting '{'"), error_of("service imap\n"));
    }
    void filter_nesting_rules()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:2: Nested protocol { protocol { .. } } block not allowed"),
                             error_of("protocol imap {\nprotocol pop3 {\n}\n}\n"));
        CPPUNIT_ASSERT(error_of("protocol imap {\nremote 1.2.3.4 {\n}\n}\n").find("protocol { remote") !=
                       std::string::npos);
        CPPUNIT_ASSERT(error_of("remote 10.0.0.0/8 {\nremote 11.0.0.0/16 {\n}\n}\n").find("inside net1") !=
                       std::string::npos);
        CPPUNIT_ASSERT(error_of("remote 10.0.0.0/99 {\n}\n").find("t.conf:1:") == 0);
        CPPUNIT_ASSERT(error_of("local 10.0.0.1 {\npassdb {\n}\n}\n").find("Auth settings not supported") !=
                       std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("(no error)"),
                             error_of("local 10.0.0.0/8 {\n local_name mail.example.com {\n  remote 1.2.3.0/24 {\n"
                                      "   protocol imap {\n    ssl = required\n   }\n  }\n }\n}\n"));
    }
    void loft_settings()
    {
        auto s = parse("loft_storage_mode = uid\nloft_rpc_listen = 127.0.0.1:4000\n").resolve({});
        CPPUNIT_ASSERT_EQUAL(std::string("uid"), s.get("loft_storage_mode"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(300000), s.get_time_ms("loft_storage_idle_timeout"));
        CPPUNIT_ASSERT(error_of("loft_storage_mode = all\n").find("Invalid value: all") != std::string::npos);
        CPPUNIT_ASSERT(error_of("loft_nonsense = 1\n").find("Unknown setting: loft_nonsense") != std::string::npos);
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(ParserTest);
