// Filters: which scopes apply to a connection, and that the most specific one wins.
#include <cppunit/extensions/HelperMacros.h>

#include "config/config.h"
#include "config/filter.h"
#include "test_helpers.h"

using namespace loft::config;
using loft::config::test::TempDir;

class ResolveTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ResolveTest);
    CPPUNIT_TEST(protocol_filters);
    CPPUNIT_TEST(network_filters);
    CPPUNIT_TEST(local_name_filters);
    CPPUNIT_TEST(specificity_order);
    CPPUNIT_TEST(sections_inside_filters);
    CPPUNIT_TEST(ip_networks);
    CPPUNIT_TEST(serialize_round_trip);
    CPPUNIT_TEST_SUITE_END();

public:
    void protocol_filters()
    {
        auto c = Config::load_string("mail_max_userip_connections = 10\n"
                                     "protocol imap {\n  mail_max_userip_connections = 20\n}\n"
                                     "protocol !imap {\n  login_greeting = not imap\n}\n",
                                     "t.conf", "/");
        CPPUNIT_ASSERT_EQUAL(uint64_t(20), c.resolve({"imap", "", "", ""}).get_uint("mail_max_userip_connections"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(10), c.resolve({"pop3", "", "", ""}).get_uint("mail_max_userip_connections"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(10), c.resolve({}).get_uint("mail_max_userip_connections"));
        CPPUNIT_ASSERT_EQUAL(std::string("not imap"), c.resolve({"pop3", "", "", ""}).get("login_greeting"));
        CPPUNIT_ASSERT_EQUAL(std::string("Dovecot (Debian) ready."), c.resolve({"imap", "", "", ""}).get("login_greeting"));
        // No protocol given: protocol filters (even negative ones) do not apply.
        CPPUNIT_ASSERT_EQUAL(std::string("Dovecot (Debian) ready."), c.resolve({}).get("login_greeting"));
    }
    void network_filters()
    {
        auto c = Config::load_string("remote 10.0.0.0/8 {\n  login_greeting = ten\n"
                                     "  protocol imap {\n    login_greeting = ten imap\n  }\n}\n"
                                     "remote 10.1.0.0/16 {\n  login_greeting = ten one\n}\n"
                                     "local 192.168.1.1 {\n  ssl = required\n}\n"
                                     "remote ::1 {\n  login_greeting = six\n}\n",
                                     "t.conf", "/");
        CPPUNIT_ASSERT_EQUAL(std::string("ten"), c.resolve({"pop3", "", "10.2.3.4", ""}).get("login_greeting"));
        CPPUNIT_ASSERT_EQUAL(std::string("ten imap"), c.resolve({"imap", "", "10.2.3.4", ""}).get("login_greeting"));
        // The longer remote net is more specific than remote+protocol with a shorter net.
        CPPUNIT_ASSERT_EQUAL(std::string("ten one"), c.resolve({"imap", "", "10.1.3.4", ""}).get("login_greeting"));
        CPPUNIT_ASSERT_EQUAL(std::string("Dovecot (Debian) ready."), c.resolve({"imap", "", "11.0.0.1", ""}).get("login_greeting"));
        CPPUNIT_ASSERT_EQUAL(std::string("required"), c.resolve({"imap", "192.168.1.1", "", ""}).get("ssl"));
        CPPUNIT_ASSERT_EQUAL(std::string("yes"), c.resolve({"imap", "192.168.1.2", "", ""}).get("ssl"));
        CPPUNIT_ASSERT_EQUAL(std::string("six"), c.resolve({"imap", "", "::1", ""}).get("login_greeting"));
        CPPUNIT_ASSERT_EQUAL(std::string("ten"), c.resolve({"pop3", "", "::ffff:10.0.0.5", ""}).get("login_greeting"));
    }
    void local_name_filters()
    {
        auto c = Config::load_string("local_name mail.example.com {\n  ssl_cert = /a.pem\n}\n"
                                     "local_name \"*.example.org other.net\" {\n  ssl_cert = /b.pem\n}\n",
                                     "t.conf", "/");
        CPPUNIT_ASSERT_EQUAL(std::string("/a.pem"), c.resolve({"imap", "", "", "MAIL.example.com"}).get("ssl_cert"));
        CPPUNIT_ASSERT_EQUAL(std::string("/b.pem"), c.resolve({"imap", "", "", "imap.example.org"}).get("ssl_cert"));
        CPPUNIT_ASSERT_EQUAL(std::string("/b.pem"), c.resolve({"imap", "", "", "other.net"}).get("ssl_cert"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), c.resolve({"imap", "", "", "example.org"}).get("ssl_cert"));
    }
    void specificity_order()
    {
        FilterMask proto, net8, net16, name;
        proto.protocol = "imap";
        net8.remote = *IpNet::parse("10.0.0.0/8");
        net16.remote = *IpNet::parse("10.0.0.0/16");
        name.local_name = "x";
        CPPUNIT_ASSERT(compare_specificity(name, net16) < 0);
        CPPUNIT_ASSERT(compare_specificity(net16, net8) < 0);
        CPPUNIT_ASSERT(compare_specificity(net8, proto) < 0);
        CPPUNIT_ASSERT(compare_specificity(proto, FilterMask{}) < 0);
        CPPUNIT_ASSERT_EQUAL(0, compare_specificity(proto, proto));
    }
    void sections_inside_filters()
    {
        auto c = Config::load_string("plugin {\n  quota = maildir\n}\n"
                                     "protocol imap {\n  plugin {\n    quota = count\n    imap_only = 1\n  }\n}\n",
                                     "t.conf", "/");
        CPPUNIT_ASSERT_EQUAL(std::string("count"), *c.resolve({"imap", "", "", ""}).plugin("quota"));
        CPPUNIT_ASSERT_EQUAL(std::string("1"), *c.resolve({"imap", "", "", ""}).plugin("imap_only"));
        CPPUNIT_ASSERT_EQUAL(std::string("maildir"), *c.resolve({"lmtp", "", "", ""}).plugin("quota"));
        CPPUNIT_ASSERT(!c.resolve({"lmtp", "", "", ""}).plugin("imap_only"));
    }
    void ip_networks()
    {
        auto net = IpNet::parse("192.168.0.0/23");
        CPPUNIT_ASSERT(net);
        CPPUNIT_ASSERT(net->contains(*IpNet::parse("192.168.1.200")));
        CPPUNIT_ASSERT(!net->contains(*IpNet::parse("192.168.2.1")));
        CPPUNIT_ASSERT(!IpNet::parse("192.168.0.0/33"));
        CPPUNIT_ASSERT(!IpNet::parse("mail.example.com"));
        CPPUNIT_ASSERT(IpNet::parse("2001:db8::/32")->contains(*IpNet::parse("2001:db8:1::5")));
        CPPUNIT_ASSERT(match_dns_wildcard("a.b.c", "*.b.c"));
        CPPUNIT_ASSERT(!match_dns_wildcard("b.c", "*.b.c"));
    }
    void serialize_round_trip()
    {
        auto c = Config::load_string("login_greeting = \"Hi \\\"there\\\" #1\"\nssl_key = secret\n"
                                     "mail_plugins = $mail_plugins quota\n"
                                     "service imap-login {\n  inet_listener imap {\n    port = 1143\n  }\n}\n"
                                     "passdb {\n  driver = pam\n}\npassdb {\n  driver = static\n  args = nopassword\n}\n"
                                     "local 10.0.0.0/8 {\n  remote 192.168.0.0/16 {\n    protocol imap {\n"
                                     "      login_greeting = inner\n    }\n  }\n}\n"
                                     "protocol lmtp {\n  mail_plugins = $mail_plugins sieve\n}\n",
                                     "t.conf", "/");
        std::string text = c.serialize([](std::string_view key) { return key == "ssl_key"; });
        CPPUNIT_ASSERT(text.find("ssl_key") == std::string::npos);
        ParseOptions opts;
        opts.serialized = true;
        auto back = Config::load_string(text, "pipe", "/", opts);
        auto s = back.resolve({});
        CPPUNIT_ASSERT_EQUAL(std::string("Hi \"there\" #1"), s.get("login_greeting"));
        CPPUNIT_ASSERT_EQUAL(std::string(" quota"), s.get("mail_plugins"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), s.get("ssl_key"));
        CPPUNIT_ASSERT_EQUAL(std::string("1143"), *s.section("service", "imap-login")->sections("inet_listener")[0]->get("port"));
        CPPUNIT_ASSERT_EQUAL(size_t(2), s.sections("passdb").size());
        CPPUNIT_ASSERT_EQUAL(std::string("nopassword"), *s.sections("passdb")[1]->get("args"));
        CPPUNIT_ASSERT_EQUAL(std::string("inner"), back.resolve({"imap", "10.1.1.1", "192.168.5.5", ""}).get("login_greeting"));
        CPPUNIT_ASSERT_EQUAL(std::string(" quota sieve"), back.resolve({"lmtp", "", "", ""}).get("mail_plugins"));

        // Multi-line values (a <file certificate) survive the trip.
        TempDir dir;
        dir.write("cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\\x\"y\n-----END CERTIFICATE-----\n");
        auto with_file = Config::load_string("ssl_cert = <cert.pem\nlocal_name mail.example.com {\n"
                                             "  ssl_cert = <cert.pem\n}\n", "t.conf", dir.path());
        auto copy = Config::load_string(with_file.serialize(), "pipe", "/", opts);
        CPPUNIT_ASSERT_EQUAL(with_file.resolve({}).get("ssl_cert"), copy.resolve({}).get("ssl_cert"));
        CPPUNIT_ASSERT_EQUAL(std::string("-----BEGIN CERTIFICATE-----\nMIIB\\x\"y\n-----END CERTIFICATE-----\n"),
                             copy.resolve({"imap", "", "", "mail.example.com"}).get("ssl_cert"));
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(ResolveTest);
