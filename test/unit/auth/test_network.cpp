#include "auth/network.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;

class NetworkTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(NetworkTest);
    CPPUNIT_TEST(addresses_and_networks);
    CPPUNIT_TEST(secured_connections);
    CPPUNIT_TEST(allow_nets_field);
    CPPUNIT_TEST_SUITE_END();

    static bool in(const char* network, const char* ip) { return parse_network(network)->contains(*parse_ip(ip)); }

public:
    void addresses_and_networks()
    {
        CPPUNIT_ASSERT(parse_ip("192.0.2.1") == parse_ip("::ffff:192.0.2.1"));
        CPPUNIT_ASSERT(parse_ip("[::1]") == parse_ip("::1"));
        for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "example.com", "::g", "1.2.3.4 "})
            CPPUNIT_ASSERT_MESSAGE(bad, !parse_ip(bad).has_value());
        CPPUNIT_ASSERT(in("10.0.0.0/8", "10.255.1.2"));
        CPPUNIT_ASSERT(!in("10.0.0.0/8", "11.0.0.1"));
        CPPUNIT_ASSERT(in("192.0.2.0/25", "192.0.2.127"));
        CPPUNIT_ASSERT(!in("192.0.2.0/25", "192.0.2.128"));
        CPPUNIT_ASSERT(in("0.0.0.0/0", "203.0.113.9"));
        CPPUNIT_ASSERT(!in("0.0.0.0/0", "2001:db8::1"));  // an IPv4 network holds only IPv4
        CPPUNIT_ASSERT(in("192.0.2.7", "::ffff:192.0.2.7"));
        CPPUNIT_ASSERT(in("2001:db8::/32", "2001:db8:1::5"));
        CPPUNIT_ASSERT(!in("2001:db8::/32", "2001:db9::5"));
        CPPUNIT_ASSERT(!parse_network("10.0.0.0/33"));
        CPPUNIT_ASSERT(!parse_network("::/129"));
        CPPUNIT_ASSERT(!parse_network("10.0.0.0/x"));
        CPPUNIT_ASSERT_EQUAL(size_t(3), parse_network_list("10.0.0.0/8, 127.0.0.1 ::1")->size());
        CPPUNIT_ASSERT(!parse_network_list("10.0.0.0/8 nonsense"));
    }

    void secured_connections()
    {
        auto trusted = *parse_network_list("10.0.0.0/8");
        CPPUNIT_ASSERT(connection_is_secured(true, "203.0.113.9", "192.0.2.1", {}));
        CPPUNIT_ASSERT(connection_is_secured(false, "127.0.0.1", "127.0.0.1", {}));
        // Observed with Dovecot: 127.0.0.2 -> 127.0.0.1 is not secured.
        CPPUNIT_ASSERT(!connection_is_secured(false, "127.0.0.2", "127.0.0.1", {}));
        CPPUNIT_ASSERT(connection_is_secured(false, "10.1.2.3", "192.0.2.1", trusted));
        CPPUNIT_ASSERT(!connection_is_secured(false, "203.0.113.9", "192.0.2.1", trusted));
        CPPUNIT_ASSERT(!connection_is_secured(false, "", "", trusted));
    }

    void allow_nets_field()
    {
        std::string error;
        CPPUNIT_ASSERT(allow_nets_permits("127.0.0.1,10.0.0.0/8", "10.9.8.7", error));
        CPPUNIT_ASSERT(!allow_nets_permits("127.0.0.1,10.0.0.0/8", "192.0.2.1", error));
        CPPUNIT_ASSERT_EQUAL(std::string("allow_nets check failed: IP not in allowed networks"), error);
        CPPUNIT_ASSERT(!allow_nets_permits("127.0.0.1", "", error));
        CPPUNIT_ASSERT(allow_nets_permits("local,127.0.0.1", "", error));
        CPPUNIT_ASSERT(!allow_nets_permits("bogus", "127.0.0.1", error));
        CPPUNIT_ASSERT_EQUAL(std::string("allow_nets: Invalid network 'bogus'"), error);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(NetworkTest);
