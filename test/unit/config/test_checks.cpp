// Dovecot's consistency checks: reported with the line of the offending setting.
#include <cppunit/extensions/HelperMacros.h>

#include "config/config.h"

using namespace loft::config;

namespace {
std::string error_of(const std::string& text, bool check_users = false)
{
    ParseOptions options;
    options.check_users = check_users;
    try {
        Config::load_string(text, "t.conf", "/", options);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}
}  // namespace

class ChecksTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ChecksTest);
    CPPUNIT_TEST(master_checks);
    CPPUNIT_TEST(service_checks);
    CPPUNIT_TEST(auth_checks);
    CPPUNIT_TEST(mail_checks);
    CPPUNIT_TEST(checks_in_filters);
    CPPUNIT_TEST(filter_conflicts);
    CPPUNIT_TEST(named_passdb);
    CPPUNIT_TEST(checks_can_be_skipped);
    CPPUNIT_TEST_SUITE_END();

public:
    void master_checks()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:2: listen can't be set empty"), error_of("ssl = no\nlisten =\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: first_valid_uid can't be larger than last_valid_uid"),
                             error_of("first_valid_uid = 10\nlast_valid_uid = 5\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("(no error)"), error_of("first_valid_uid = 10\nlast_valid_uid = 0\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: protocols: Unknown protocol: smtp"),
                             error_of("protocols = imap smtp\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("(no error)"), error_of("protocols = none\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: default_login_user doesn't exist: no-such-user-x"),
                             error_of("default_login_user = no-such-user-x\n", true));
        CPPUNIT_ASSERT_EQUAL(std::string("(no error)"), error_of("default_login_user = no-such-user-x\n", false));
    }
    void service_checks()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:3: Unknown service type: daemon"),
                             error_of("protocols = imap\nservice imap {\n  type = daemon\n}\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:3: service(imap): process_min_avail is higher than process_limit"),
                             error_of("protocols = imap\nservice imap {\n  process_min_avail = 2000\n}\n"));
        // A service of a protocol that is not enabled is not checked.
        CPPUNIT_ASSERT_EQUAL(std::string("(no error)"),
                             error_of("protocols = pop3\nservice imap {\n  vsz_limit = 1k\n}\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:3: service(imap): vsz_limit is too low"),
                             error_of("protocols = imap\nservice imap {\n  vsz_limit = 1k\n}\n"));
    }
    void auth_checks()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: passdb is missing driver"), error_of("passdb {\n}\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:4: userdb is missing driver"),
                             error_of("passdb {\n  driver = pam\n}\nuserdb {\n}\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: auth_verbose_passwords: Invalid value"),
                             error_of("auth_verbose_passwords = loud\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("(no error)"), error_of("auth_verbose_passwords = sha1:6\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: auth_policy_hash_nonce must be set when policy server is used"),
                             error_of("auth_policy_server_url = http://p/\n"));
    }
    void mail_checks()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:2: Namespace 'x/': Hierarchy separator must be only one character long"),
                             error_of("namespace a {\n  separator = //\n  prefix = x/\n}\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:3: mailbox Spam: unknown special_use: \\Spam"),
                             error_of("namespace a {\n  mailbox Spam {\n    special_use = \\Spam\n  }\n}\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("(no error)"),
                             error_of("namespace a {\n  mailbox Spam {\n    special_use = \\junk \\Archive\n  }\n}\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: imap_client_workarounds: Unknown workaround: x"),
                             error_of("imap_client_workarounds = delay-newmail,x\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: mail_nfs_index=yes requires mmap_disable=yes"),
                             error_of("mail_nfs_index = yes\n"));
    }
    void checks_in_filters()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:2: pop3_delete_type=flag, but pop3_deleted_flag not set"),
                             error_of("protocol pop3 {\n  pop3_delete_type = flag\n}\n"));
        // Several problems: all reported.
        std::string e = error_of("listen =\nauth_worker_max_count = 0\n");
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:1: listen can't be set empty\n"
                                         "t.conf:2: auth_worker_max_count must be above zero"),
                             e);
    }
    void filter_conflicts()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf:2: Conflict in setting mail_max_userip_connections found from "
                                         "filter at t.conf:1"),
                             error_of("protocol imap {\n  mail_max_userip_connections = 20\n}\n"
                                      "remote 10.0.0.0/8 {\n  protocol imap {\n"
                                      "    mail_max_userip_connections = 30\n  }\n}\n"));
        // Nested filters that contain each other do not conflict.
        CPPUNIT_ASSERT_EQUAL(std::string("(no error)"),
                             error_of("remote 10.0.0.0/8 {\n  login_greeting = a\n  protocol imap {\n"
                                      "    login_greeting = b\n  }\n}\n"));
    }
    void named_passdb()
    {
        auto c = Config::load_string("passdb pam {\n  driver = pam\n}\n", "t.conf", "/");
        Settings settings = c.resolve({});  // owns the sections
        const Section* p = settings.sections("passdb").at(0);
        CPPUNIT_ASSERT_EQUAL(std::string("pam"), p->name());
        CPPUNIT_ASSERT_EQUAL(std::string("pam"), *p->get("name"));
    }
    void checks_can_be_skipped()
    {
        ParseOptions options;
        options.check_settings = false;
        auto c = Config::load_string("listen =\n", "t.conf", "/", options);
        CPPUNIT_ASSERT_EQUAL(std::string(""), c.resolve({}).get("listen"));
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(ChecksTest);
