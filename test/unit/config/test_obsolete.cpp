// Old settings Dovecot 2.3 rewrites, and the warnings it gives while reading a config.
#include <cppunit/extensions/HelperMacros.h>

#include "config/config.h"

using namespace loft::config;

namespace {
Config parse(const std::string& text)
{
    ParseOptions options;
    options.expand_values = false;
    return Config::load_string(text, "t.conf", "/", options);
}
bool has_warning(const Config& c, const std::string& part)
{
    for (const auto& w : c.warnings()) {
        if (w.find(part) != std::string::npos)
            return true;
    }
    return false;
}
}  // namespace

class ObsoleteTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ObsoleteTest);
    CPPUNIT_TEST(ssl_settings);
    CPPUNIT_TEST(protocols);
    CPPUNIT_TEST(renames_and_removals);
    CPPUNIT_TEST(login_and_mail_process_settings);
    CPPUNIT_TEST(listen_with_port);
    CPPUNIT_TEST(other_warnings);
    CPPUNIT_TEST_SUITE_END();

public:
    void ssl_settings()
    {
        auto c = parse("ssl_protocols = !SSLv3 !TLSv1\nssl_cert_file = /etc/c.pem\nssl_disable = yes\n"
                       "ssl_parameters_regenerate = 0\n");
        auto s = c.resolve({});
        CPPUNIT_ASSERT_EQUAL(std::string("TLSv1.1"), s.get("ssl_min_protocol"));
        CPPUNIT_ASSERT_EQUAL(std::string("</etc/c.pem"), s.get("ssl_cert"));
        CPPUNIT_ASSERT_EQUAL(std::string("no"), s.get("ssl"));
        CPPUNIT_ASSERT_EQUAL(std::string("NOTE: You can get a new clean config file with: loftconf -Pn > dovecot-new.conf"),
                             c.warnings().at(0));
        CPPUNIT_ASSERT(has_warning(c, "Obsolete setting in t.conf:1: ssl_protocols has been replaced by ssl_min_protocol"));
        CPPUNIT_ASSERT(has_warning(c, "t.conf:4: ssl_parameters_regenerate is no longer needed"));
        CPPUNIT_ASSERT_EQUAL(std::string("TLSv1.2"), parse("ssl_protocols = TLSv1.2\n").resolve({}).get("ssl_min_protocol"));
        auto bad = parse("ssl_protocols = TLSv9\n");
        CPPUNIT_ASSERT(has_warning(bad, "Unrecognized protocol 'TLSv9'"));
        CPPUNIT_ASSERT(!bad.resolve({}).is_set("ssl_min_protocol"));
    }
    void protocols()
    {
        auto c = parse("protocols = imaps  pop3\n");
        auto s = c.resolve({});
        CPPUNIT_ASSERT_EQUAL(std::string("pop3 imap"), s.get("protocols"));
        const Section* login = s.section("service", "imap-login");
        CPPUNIT_ASSERT_EQUAL(std::string("0"), *login->sections("inet_listener")[0]->get("port"));
        CPPUNIT_ASSERT(login->sections("inet_listener")[0]->is_set("port"));
        // A plain list is only normalised.
        CPPUNIT_ASSERT_EQUAL(std::string("imap lmtp"), parse("protocols = \" imap  lmtp\"\n").resolve({}).get("protocols"));
        CPPUNIT_ASSERT(parse("protocols = imap\n").warnings().empty());
    }
    void renames_and_removals()
    {
        auto s = parse("fsync_disable = yes\ndbox_rotate_size = 4M\nmail_cache_compress_min_size = 1k\n"
                       "login_dir = /x\nauth_cache_size = 10\nimap_client_workarounds = outlook-idle delay-newmail\n")
                     .resolve({});
        CPPUNIT_ASSERT_EQUAL(std::string("never"), s.get("mail_fsync"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(4 * 1024 * 1024), s.get_size("mdbox_rotate_size"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(1024), s.get_size("mail_cache_purge_min_size"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(10 * 1024 * 1024), s.get_size("auth_cache_size"));
        CPPUNIT_ASSERT_EQUAL(std::string(" delay-newmail"), s.get("imap_client_workarounds"));
    }
    void login_and_mail_process_settings()
    {
        auto s = parse("login_process_size = 64\nprotocol pop3 {\n  max_mail_processes = 50\n}\n").resolve({});
        CPPUNIT_ASSERT_EQUAL(std::string("64 M"), *s.section("service", "imap-login")->get("vsz_limit"));
        CPPUNIT_ASSERT_EQUAL(std::string("64 M"), *s.section("service", "pop3-login")->get("vsz_limit"));
        CPPUNIT_ASSERT_EQUAL(std::string("50"), *s.section("service", "pop3")->get("process_limit"));
        CPPUNIT_ASSERT(!s.section("service", "imap")->is_set("process_limit"));
    }
    void listen_with_port()
    {
        auto s = parse("protocol imap {\n  listen = 192.0.2.1:10143\n}\n").resolve({});
        const Section* imap = s.section("service", "imap-login")->sections("inet_listener")[0];
        CPPUNIT_ASSERT_EQUAL(std::string("imap"), imap->name());
        CPPUNIT_ASSERT_EQUAL(std::string("10143"), *imap->get("port"));
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.1"), *imap->get("address"));
    }
    void other_warnings()
    {
        auto c = parse("protocol imap {\n  login_greeting = a\n}\nlogin_greeting = b\nbase_dir = /x#y\n");
        CPPUNIT_ASSERT_EQUAL(size_t(2), c.warnings().size());
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf line 4: Global setting login_greeting won't change the setting "
                                         "inside an earlier filter at t.conf line 2 (if this is intentional, avoid "
                                         "this warning by moving the global setting before t.conf line 2)"),
                             c.warnings()[0]);
        CPPUNIT_ASSERT(has_warning(c, "Configuration file t.conf line 5: Ambiguous '#' character"));
        CPPUNIT_ASSERT_EQUAL(std::string("/x"), c.resolve({}).get("base_dir"));
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(ObsoleteTest);
