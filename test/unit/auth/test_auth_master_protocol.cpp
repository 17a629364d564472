#include "auth/auth_master_protocol.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;

class AuthMasterProtocolTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(AuthMasterProtocolTest);
    CPPUNIT_TEST(socket_kinds);
    CPPUNIT_TEST(parses_requests);
    CPPUNIT_TEST(rejects_broken_lines);
    CPPUNIT_TEST(formats_replies);
    CPPUNIT_TEST_SUITE_END();

public:
    void socket_kinds()
    {
        CPPUNIT_ASSERT(auth_master_socket_kind("auth-userdb") == AuthMasterSocket::Userdb);
        CPPUNIT_ASSERT(auth_master_socket_kind("/run/dovecot/auth-userdb") == AuthMasterSocket::Userdb);
        CPPUNIT_ASSERT(auth_master_socket_kind("auth-master") == AuthMasterSocket::Master);
        CPPUNIT_ASSERT(!auth_master_socket_kind("auth-client"));
        CPPUNIT_ASSERT(!auth_master_socket_kind("/var/spool/postfix/private/auth"));
        CPPUNIT_ASSERT(!auth_master_socket_kind("auth-login"));
        CPPUNIT_ASSERT(!auth_master_socket_kind("userdb"));
    }

    void parses_requests()
    {
        std::string error;
        auto version = parse_auth_master_line("VERSION\t1\t0", error);
        CPPUNIT_ASSERT(version && version->kind == AuthMasterLine::Kind::Version && version->major == 1);
        auto user = parse_auth_master_line("USER\t7\talice@example.com\tservice=lda\trip=192.0.2.7\tsecured", error);
        CPPUNIT_ASSERT(user && user->kind == AuthMasterLine::Kind::User);
        CPPUNIT_ASSERT_EQUAL(7u, user->id);
        CPPUNIT_ASSERT_EQUAL(std::string("alice@example.com"), user->user);
        AuthRequest request = auth_request_from(*user);
        CPPUNIT_ASSERT_EQUAL(std::string("lda"), request.service);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.7"), request.remote_ip);
        CPPUNIT_ASSERT(request.secured);
        auto pass = parse_auth_master_line("PASS\t8\tbo\001tb\tservice=doveadm", error);
        CPPUNIT_ASSERT(pass && pass->kind == AuthMasterLine::Kind::Pass);
        CPPUNIT_ASSERT_EQUAL(std::string("bo\tb"), pass->user);
        auto list = parse_auth_master_line("LIST\t9\tuser=a*\tservice=doveadm", error);
        CPPUNIT_ASSERT(list && list->kind == AuthMasterLine::Kind::List);
        CPPUNIT_ASSERT_EQUAL(std::string("a*"), list->user);
        CPPUNIT_ASSERT_EQUAL(std::string("doveadm"), list->params.at("service"));
        auto other = parse_auth_master_line("REQUEST\t1\t2\t3\tabc", error);
        CPPUNIT_ASSERT(other && other->kind == AuthMasterLine::Kind::Unknown);
        CPPUNIT_ASSERT_EQUAL(std::string("REQUEST"), other->command);
    }

    void rejects_broken_lines()
    {
        std::string error;
        CPPUNIT_ASSERT(!parse_auth_master_line("USER\tx\talice\tservice=imap", error));
        CPPUNIT_ASSERT(!parse_auth_master_line("USER\t1", error));
        CPPUNIT_ASSERT(!parse_auth_master_line("LIST", error));
        CPPUNIT_ASSERT(!parse_auth_master_line("VERSION\tone", error));
        CPPUNIT_ASSERT(!parse_auth_master_line("USER\t1\tal\001", error));
        CPPUNIT_ASSERT(!parse_auth_master_line("USER\t1\t" + std::string(max_auth_master_line, 'a'), error));
        CPPUNIT_ASSERT(!parse_auth_master_line("USER\t99999999999\talice", error));
    }

    void formats_replies()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("VERSION\t1\t1\nSPID\t42\n"), format_master_handshake(42));
        CPPUNIT_ASSERT_EQUAL(std::string("USER\t1\talice\tgid=5000\thome=/home/a\001tb\tuid=5000\n"),
                             format_master_user(1, "alice", {{"uid", "5000"}, {"gid", "5000"}, {"home", "/home/a\tb"}}));
        CPPUNIT_ASSERT_EQUAL(std::string("PASS\t2\tuser=bob\tnopassword=\n"),
                             format_master_pass(2, "bob", {{"nopassword", ""}}));
        CPPUNIT_ASSERT_EQUAL(std::string("NOTFOUND\t3\n"), format_master_notfound(3));
        CPPUNIT_ASSERT_EQUAL(std::string("FAIL\t4\n"), format_master_fail(4));
        CPPUNIT_ASSERT_EQUAL(std::string("FAIL\t4\treason=x y\n"), format_master_fail(4, "x y"));
        CPPUNIT_ASSERT_EQUAL(std::string("LIST\t5\tcarol\n"), format_master_list(5, "carol"));
        CPPUNIT_ASSERT_EQUAL(std::string("DONE\t5\t\n"), format_master_done(5, false));
        CPPUNIT_ASSERT_EQUAL(std::string("DONE\t5\tfail\n"), format_master_done(5, true));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AuthMasterProtocolTest);
