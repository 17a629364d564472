#include "auth/passwd_file.h"
#include "test_support.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;
using loft::auth::test::ScratchDir;
using loft::auth::test::write_file;

class PasswdFileTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PasswdFileTest);
    CPPUNIT_TEST(line_with_all_fields);
    CPPUNIT_TEST(short_lines);
    CPPUNIT_TEST(old_layout_mail_field);
    CPPUNIT_TEST(skipped_lines);
    CPPUNIT_TEST(malformed_lines);
    CPPUNIT_TEST(names_resolve_as_uid_and_gid);
    CPPUNIT_TEST(pam_pwdfile_suffixes);
    CPPUNIT_TEST(file_lookup_duplicates_and_warnings);
    CPPUNIT_TEST(reloads_when_file_changes);
    CPPUNIT_TEST(missing_file_throws_missing);
    CPPUNIT_TEST(driver_args);
    CPPUNIT_TEST_SUITE_END();

    static UserRecord parse(std::string_view line)
    {
        std::string error;
        auto record = parse_passwd_file_line(line, error);
        CPPUNIT_ASSERT_MESSAGE(error, record.has_value());
        return *record;
    }
    static std::string parse_error(std::string_view line)
    {
        std::string error;
        CPPUNIT_ASSERT(!parse_passwd_file_line(line, error).has_value());
        return error;
    }

public:
    void line_with_all_fields()
    {
        UserRecord r = parse("alice@example.com:{SHA512-CRYPT}$6$abc$def:5000:5001:Alice A:"
                             "/var/vmail/alice:/bin/false:userdb_mail=maildir:~/Maildir  nopassword "
                             "allow_nets=127.0.0.1,::1 userdb_quota_rule=*:storage=1G");
        CPPUNIT_ASSERT_EQUAL(std::string("alice@example.com"), r.user);
        CPPUNIT_ASSERT_EQUAL(std::string("{SHA512-CRYPT}$6$abc$def"), r.password);
        CPPUNIT_ASSERT_EQUAL(uint32_t(5000), r.uid.value());
        CPPUNIT_ASSERT_EQUAL(uint32_t(5001), r.gid.value());
        CPPUNIT_ASSERT_EQUAL(std::string("/var/vmail/alice"), r.home);
        CPPUNIT_ASSERT_EQUAL(std::string("/bin/false"), r.shell);
        CPPUNIT_ASSERT_EQUAL(size_t(4), r.extra.size());
        CPPUNIT_ASSERT_EQUAL(std::string("maildir:~/Maildir"), r.extra.at("userdb_mail"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), r.extra.at("nopassword"));
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1,::1"), r.extra.at("allow_nets"));
        CPPUNIT_ASSERT_EQUAL(std::string("*:storage=1G"), r.extra.at("userdb_quota_rule"));
    }

    void short_lines()
    {
        UserRecord only_user = parse("carol");
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), only_user.user);
        CPPUNIT_ASSERT(only_user.password.empty());
        CPPUNIT_ASSERT(!only_user.uid && !only_user.gid);

        UserRecord pass_only = parse("bob:{PLAIN}pw");
        CPPUNIT_ASSERT_EQUAL(std::string("{PLAIN}pw"), pass_only.password);
        CPPUNIT_ASSERT(!pass_only.uid);
        CPPUNIT_ASSERT(pass_only.home.empty() && pass_only.extra.empty());

        UserRecord empty_ids = parse("dan:x:::gecos:/home/dan");
        CPPUNIT_ASSERT(!empty_ids.uid && !empty_ids.gid);
        CPPUNIT_ASSERT_EQUAL(std::string("/home/dan"), empty_ids.home);

        UserRecord crlf = parse("erin:{PLAIN}pw:1:2\r");
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), crlf.gid.value());
    }

    void old_layout_mail_field()
    {
        UserRecord r = parse("dave:pw:1000:1000::/home/dave:/bin/sh::maildir:~/Mail:LAYOUT=fs");
        CPPUNIT_ASSERT_EQUAL(size_t(1), r.extra.size());
        CPPUNIT_ASSERT_EQUAL(std::string("maildir:~/Mail:LAYOUT=fs"), r.extra.at("userdb_mail"));
        UserRecord trailing = parse("dave:pw:1000:1000::/home/dave:/bin/sh::");
        CPPUNIT_ASSERT(trailing.extra.empty());
    }

    void skipped_lines()
    {
        for (const char* line : {"", "#alice:{PLAIN}x", ":nobody:1:1", "\r"}) {
            std::string error = "unchanged";
            CPPUNIT_ASSERT(!parse_passwd_file_line(line, error).has_value());
            CPPUNIT_ASSERT_EQUAL(std::string(), error);
        }
    }

    void malformed_lines()
    {
        CPPUNIT_ASSERT(parse_error("al ice:x").find("whitespace") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("User eve has invalid UID 12x"), parse_error("eve:x:12x:1"));
        CPPUNIT_ASSERT_EQUAL(std::string("User eve has invalid GID no-such-group-loft"),
                             parse_error("eve:x:1:no-such-group-loft"));
        CPPUNIT_ASSERT(!parse_error("eve:x:99999999999:1").empty());
        CPPUNIT_ASSERT_EQUAL(std::string("line too long"),
                             parse_error("eve:" + std::string(max_passwd_file_line, 'x')));
    }

    void names_resolve_as_uid_and_gid()
    {
        UserRecord r = parse("sys:x:root:root");
        CPPUNIT_ASSERT_EQUAL(uint32_t(0), r.uid.value());
        CPPUNIT_ASSERT_EQUAL(uint32_t(0), r.gid.value());
    }

    void pam_pwdfile_suffixes()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69"),
                             parse("u:5ebe2294ecd0e0f08eab7690d2a6ee69[34]").password);
        CPPUNIT_ASSERT_EQUAL(std::string("{CRYPT}29Hfyq3eskCyc"), parse("u:29Hfyq3eskCyc[13]").password);
        CPPUNIT_ASSERT_EQUAL(std::string("{DIGEST-MD5}abc"), parse("u:abc[56]").password);
        CPPUNIT_ASSERT_EQUAL(std::string("{PLAIN}x[34]"), parse("u:{PLAIN}x[34]").password);
    }

    void file_lookup_duplicates_and_warnings()
    {
        ScratchDir dir;
        std::string path = dir.file("users");
        write_file(path, "# virtual users\n"
                         "\n"
                         "alice:{PLAIN}one:5000:5000::/home/alice::userdb_mail=maildir:~/M\n"
                         "bob:{PLAIN}two:5000:5000::/home/bob\n"
                         "alice:{PLAIN}dup:1:1\n"
                         "eve:x:bad-uid-loft:1\n"
                         "carol:{PLAIN}three");  // no final newline
        PasswdFile file(path);
        auto alice = file.lookup("alice");
        CPPUNIT_ASSERT(alice.has_value());
        CPPUNIT_ASSERT_EQUAL(std::string("{PLAIN}one"), alice->password);  // first one wins
        CPPUNIT_ASSERT_EQUAL(std::string("maildir:~/M"), alice->extra.at("userdb_mail"));
        CPPUNIT_ASSERT_EQUAL(std::string("{PLAIN}three"), file.lookup("carol")->password);
        CPPUNIT_ASSERT(!file.lookup("eve").has_value());
        CPPUNIT_ASSERT(!file.lookup("Alice").has_value());  // exact match only
        CPPUNIT_ASSERT(!file.lookup("").has_value());
        std::vector<std::string> expected_users = {"alice", "bob", "carol"};
        CPPUNIT_ASSERT(file.users() == expected_users);
        CPPUNIT_ASSERT_EQUAL(size_t(2), file.warnings().size());
        CPPUNIT_ASSERT_EQUAL("passwd-file " + path + ": User alice exists more than once",
                             file.warnings()[0]);
        CPPUNIT_ASSERT_EQUAL("passwd-file " + path + ": line 6: User eve has invalid UID bad-uid-loft",
                             file.warnings()[1]);
    }

    void reloads_when_file_changes()
    {
        ScratchDir dir;
        std::string path = dir.file("users");
        write_file(path, "alice:{PLAIN}old\n");
        PasswdFile file(path);
        CPPUNIT_ASSERT_EQUAL(std::string("{PLAIN}old"), file.lookup("alice")->password);

        // Same size, different content: only the mtime tells. Force a distinct mtime.
        write_file(path, "alice:{PLAIN}new\n");
        timespec times[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
        CPPUNIT_ASSERT_EQUAL(0, utimensat(AT_FDCWD, path.c_str(), times, 0));
        CPPUNIT_ASSERT_EQUAL(std::string("{PLAIN}new"), file.lookup("alice")->password);

        // Replaced by rename (a new inode), as editors and scripts do.
        write_file(path + ".tmp", "bob:{PLAIN}b\n");
        CPPUNIT_ASSERT_EQUAL(0, rename((path + ".tmp").c_str(), path.c_str()));
        CPPUNIT_ASSERT(!file.lookup("alice").has_value());
        CPPUNIT_ASSERT(file.lookup("bob").has_value());
    }

    void missing_file_throws_missing()
    {
        ScratchDir dir;
        PasswdFile file(dir.file("example.com.passwd"));
        CPPUNIT_ASSERT_THROW(file.lookup("alice"), PasswdFileMissing);
        PasswdFile directory(dir.path().string());
        CPPUNIT_ASSERT_THROW(directory.lookup("alice"), AuthError);
    }

    void driver_args()
    {
        PasswdFileArgs plain = parse_passwd_file_args("/etc/dovecot/users");
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/dovecot/users"), plain.path);
        CPPUNIT_ASSERT_EQUAL(std::string("CRYPT"), plain.scheme);
        CPPUNIT_ASSERT_EQUAL(std::string("%u"), plain.username_format);

        PasswdFileArgs full =
            parse_passwd_file_args("scheme=SHA512-CRYPT  username_format=%n /etc/mail/%d/passwd");
        CPPUNIT_ASSERT_EQUAL(std::string("SHA512-CRYPT"), full.scheme);
        CPPUNIT_ASSERT_EQUAL(std::string("%n"), full.username_format);
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/mail/%d/passwd"), full.path);

        CPPUNIT_ASSERT_THROW(parse_passwd_file_args(""), AuthError);
        CPPUNIT_ASSERT_THROW(parse_passwd_file_args("scheme=PLAIN"), AuthError);
        CPPUNIT_ASSERT_THROW(parse_passwd_file_args("/a /b"), AuthError);
        CPPUNIT_ASSERT_THROW(parse_passwd_file_args("bogus=1 /a"), AuthError);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PasswdFileTest);
