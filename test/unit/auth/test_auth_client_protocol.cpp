#include "auth/auth_client_protocol.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;
using Kind = AuthClientLine::Kind;

class AuthClientProtocolTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(AuthClientProtocolTest);
    CPPUNIT_TEST(tab_escaping_round_trips);
    CPPUNIT_TEST(parses_postfix_style_session);
    CPPUNIT_TEST(rejects_malformed_lines);
    CPPUNIT_TEST(formats_server_lines);
    CPPUNIT_TEST_SUITE_END();

public:
    void tab_escaping_round_trips()
    {
        std::string raw = "a\tb\nc\rd\001e";
        std::string escaped = tab_escape(raw);
        CPPUNIT_ASSERT_EQUAL(std::string("a\001tb\001nc\001rd\0011e"), escaped);
        CPPUNIT_ASSERT_EQUAL(raw, tab_unescape(escaped).value());
        CPPUNIT_ASSERT(!tab_unescape("bad\001").has_value());
        CPPUNIT_ASSERT(!tab_unescape("bad\001x").has_value());
    }

    void parses_postfix_style_session()
    {
        std::string error;
        auto version = parse_auth_client_line("VERSION\t1\t2\n", error);
        CPPUNIT_ASSERT(version && version->kind == Kind::Version && version->major == 1 && version->minor == 2);
        auto cpid = parse_auth_client_line("CPID\t4242", error);
        CPPUNIT_ASSERT(cpid && cpid->kind == Kind::Cpid && cpid->pid == 4242);

        auto auth = parse_auth_client_line(
            "AUTH\t1\tplain\tservice=smtp\tnologin\tlip=192.0.2.1\trip=198.51.100.7\tsecured\t"
            "resp=AGFsaWNlAHNlY3JldA==",
            error);
        CPPUNIT_ASSERT_MESSAGE(error, auth.has_value());
        CPPUNIT_ASSERT(auth->kind == Kind::Auth);
        CPPUNIT_ASSERT_EQUAL(1u, auth->id);
        CPPUNIT_ASSERT_EQUAL(std::string("PLAIN"), auth->mechanism);
        CPPUNIT_ASSERT_EQUAL(std::string("AGFsaWNlAHNlY3JldA=="), auth->response.value());
        CPPUNIT_ASSERT(auth->params.contains("nologin"));
        AuthRequest request = auth_request_from(*auth);
        CPPUNIT_ASSERT_EQUAL(std::string("smtp"), request.service);
        CPPUNIT_ASSERT_EQUAL(std::string("198.51.100.7"), request.remote_ip);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.1"), request.local_ip);
        CPPUNIT_ASSERT(request.secured);

        auto login = parse_auth_client_line("AUTH\t2\tLOGIN\tservice=smtp", error);
        CPPUNIT_ASSERT(login && !login->response.has_value() && !auth_request_from(*login).secured);
        auto cont = parse_auth_client_line("CONT\t2\tYWxpY2U=", error);
        CPPUNIT_ASSERT(cont && cont->kind == Kind::Cont && cont->id == 2 && *cont->response == "YWxpY2U=");
        auto escaped = parse_auth_client_line("AUTH\t3\tPLAIN\tsession=a\001tb", error);
        CPPUNIT_ASSERT(escaped && escaped->params.at("session") == "a\tb");
    }

    void rejects_malformed_lines()
    {
        std::string error;
        for (const char* bad : {"", "HELLO", "VERSION\t1", "VERSION\tx\t2", "CPID", "CPID\t-1", "AUTH\t1",
                                "AUTH\tx\tPLAIN", "AUTH\t1\t", "AUTH\t1\tPLAIN\t=x", "AUTH\t1\tPLAIN\ta=\001q",
                                "CONT\t1", "CONT\t99999999999\tx", "AUTH\t4294967296\tPLAIN"}) {
            error.clear();
            CPPUNIT_ASSERT_MESSAGE(bad, !parse_auth_client_line(bad, error).has_value());
            CPPUNIT_ASSERT_MESSAGE(bad, !error.empty());
        }
        std::string huge = "AUTH\t1\tPLAIN\tresp=" + std::string(max_auth_client_line, 'A');
        CPPUNIT_ASSERT(!parse_auth_client_line(huge, error).has_value());
        CPPUNIT_ASSERT_EQUAL(std::string("line too long"), error);
    }

    void formats_server_lines()
    {
        std::string handshake = format_auth_handshake({mechanism_info("plain"), mechanism_info("LOGIN"),
                                                       mechanism_info("CRAM-MD5")},
                                                      1234, 7, "0123456789abcdef0123456789abcdef");
        CPPUNIT_ASSERT_EQUAL(std::string("VERSION\t1\t2\n"
                                         "MECH\tPLAIN\tplaintext\n"
                                         "MECH\tLOGIN\tplaintext\n"
                                         "MECH\tCRAM-MD5\tdictionary\tactive\n"
                                         "SPID\t1234\n"
                                         "CUID\t7\n"
                                         "COOKIE\t0123456789abcdef0123456789abcdef\n"
                                         "DONE\n"),
                             handshake);
        CPPUNIT_ASSERT_EQUAL(std::string("CONT\t5\tVXNlcm5hbWU6\n"), format_auth_cont(5, "VXNlcm5hbWU6"));
        CPPUNIT_ASSERT_EQUAL(std::string("OK\t5\tuser=alice@example.com\n"),
                             format_auth_ok(5, "alice@example.com"));
        CPPUNIT_ASSERT_EQUAL(std::string("OK\t5\tuser=a\001tb\tnopassword\tproxy=y\n"),
                             format_auth_ok(5, "a\tb", {{"proxy", "y"}, {"nopassword", ""}}));
        CPPUNIT_ASSERT_EQUAL(std::string("FAIL\t6\tuser=alice\n"), format_auth_fail(6, "alice", "", false));
        CPPUNIT_ASSERT_EQUAL(std::string("FAIL\t6\ttemp\treason=Temporary failure\n"),
                             format_auth_fail(6, "", "Temporary failure", true));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AuthClientProtocolTest);
