// loftd's own pieces: binding what the config asks for, and the embedded demo.
#include "config/config.h"
#include "lib/log.h"
#include "master/demo.h"
#include "master/listeners.h"

#include <cppunit/extensions/HelperMacros.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace {
struct TempDir {
    std::filesystem::path path;
    TempDir()
    {
        char pattern[] = "/tmp/loft-master-XXXXXX";
        path = mkdtemp(pattern);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

int free_port()
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    close(fd);
    return ntohs(address.sin_port);
}
}  // namespace

class MasterTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MasterTest);
    CPPUNIT_TEST(binds_inet_and_unix_listeners_from_the_config);
    CPPUNIT_TEST(disabled_listeners_are_skipped);
    CPPUNIT_TEST(demo_config_is_valid_and_serves_demo);
    CPPUNIT_TEST_SUITE_END();

public:
    void binds_inet_and_unix_listeners_from_the_config()
    {
        TempDir dir;
        int port = free_port();
        std::string text = "service lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = " +
                           std::to_string(port) + "\n  }\n  unix_listener lmtp {\n    mode = 0660\n  }\n}\n";
        auto config = loft::config::Config::load_string(text, "test.conf", dir.path.string());
        auto settings = config.resolve({});
        loft::Logger log("test");
        auto bound = loft::master::bind_listeners(*settings.section("service", "lmtp"), "*", dir.path.string(), log);
        CPPUNIT_ASSERT_EQUAL(size_t(2), bound.size());
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:" + std::to_string(port)), bound[0].description);
        sockaddr_in address{};
        socklen_t length = sizeof(address);
        getsockname(bound[0].fd.get(), reinterpret_cast<sockaddr*>(&address), &length);
        CPPUNIT_ASSERT_EQUAL(port, int(ntohs(address.sin_port)));
        struct stat st;
        CPPUNIT_ASSERT_EQUAL(0, stat((dir.path / "lmtp").c_str(), &st));
        CPPUNIT_ASSERT(S_ISSOCK(st.st_mode));
        CPPUNIT_ASSERT_EQUAL(0660, int(st.st_mode & 0777));
    }

    void disabled_listeners_are_skipped()
    {
        TempDir dir;
        std::string text = "service imap-login {\n  inet_listener imap {\n    port = 0\n  }\n"
                           "  inet_listener imaps {\n    port = 0\n  }\n}\n";
        auto config = loft::config::Config::load_string(text, "test.conf", dir.path.string());
        auto settings = config.resolve({});
        loft::Logger log("test");
        auto bound =
            loft::master::bind_listeners(*settings.section("service", "imap-login"), "*", dir.path.string(), log);
        CPPUNIT_ASSERT(bound.empty());
    }

    void demo_config_is_valid_and_serves_demo()
    {
        TempDir dir;
        auto demo = loft::master::prepare_demo((dir.path / "demo").string());
        auto config = loft::config::Config::load_string(demo.config_text, "<embedded demo>", demo.directory);
        auto settings = config.resolve({});
        CPPUNIT_ASSERT_EQUAL(std::string("imap pop3 lmtp"), settings.get("protocols"));
        CPPUNIT_ASSERT_EQUAL(std::string("maildir:~/Maildir"), settings.get("mail_location"));
        auto imap = settings.section("service", "imap-login")->sections("inet_listener");
        CPPUNIT_ASSERT_EQUAL(std::string("10143"), imap.at(0)->get_or("port", ""));
        auto pop3 = settings.section("service", "pop3-login")->sections("inet_listener");
        CPPUNIT_ASSERT_EQUAL(std::string("10110"), pop3.at(0)->get_or("port", ""));
        std::ifstream users(demo.directory + "/users");
        std::string line;
        std::getline(users, line);
        CPPUNIT_ASSERT(line.rfind("demo:{PLAIN}demo:", 0) == 0);
        CPPUNIT_ASSERT(std::filesystem::is_directory(demo.directory + "/home/demo"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MasterTest);
