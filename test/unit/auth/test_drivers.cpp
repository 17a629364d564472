#include "auth/auth_request.h"
#include "auth/errors.h"
#include "auth/pam_passdb.h"
#include "auth/passdb.h"
#include "auth/static_db.h"
#include "test_support.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;
using loft::auth::test::ScratchDir;
using loft::auth::test::write_file;
using loft::auth::test::request_for;

class DriversTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DriversTest);
    CPPUNIT_TEST(variable_expansion);
    CPPUNIT_TEST(passwd_file_passdb_verifies);
    CPPUNIT_TEST(passwd_file_passdb_credentials);
    CPPUNIT_TEST(passwd_file_per_domain_paths);
    CPPUNIT_TEST(passwd_file_missing_fixed_path_is_internal_failure);
    CPPUNIT_TEST(passwd_file_userdb_fields);
    CPPUNIT_TEST(static_drivers);
    CPPUNIT_TEST(system_passwd_userdb);
    CPPUNIT_TEST(shadow_passdb);
    CPPUNIT_TEST(pam_args_and_failure);
    CPPUNIT_TEST(factories);
    CPPUNIT_TEST_SUITE_END();

public:
    void variable_expansion()
    {
        AuthRequest r = request_for("Alice@Example.COM");
        CPPUNIT_ASSERT_EQUAL(std::string("Alice@Example.COM Alice Example.COM imap 192.0.2.1 192.0.2.7 %"),
                             expand_auth_variables("%u %n %d %s %l %r %%", r));
        CPPUNIT_ASSERT_EQUAL(std::string("/var/vmail/example.com/ALICE"),
                             expand_auth_variables("/var/vmail/%Ld/%Un", r));
        CPPUNIT_ASSERT_EQUAL(std::string("Alice|Example.COM|Alice@Example.COM"),
                             expand_auth_variables("%{username}|%{domain}|%{user}", r));
        CPPUNIT_ASSERT_EQUAL(std::string(""), expand_auth_variables("%d", request_for("nodomain")));
        CPPUNIT_ASSERT_THROW(expand_auth_variables("%q", r), AuthError);
        CPPUNIT_ASSERT_THROW(expand_auth_variables("%{user", r), AuthError);
        CPPUNIT_ASSERT_EQUAL(std::string("a"), std::string(username_part("a@b@c")));
        CPPUNIT_ASSERT_EQUAL(std::string("b@c"), std::string(domain_part("a@b@c")));
    }

    void passwd_file_passdb_verifies()
    {
        ScratchDir dir;
        std::string path = dir.file("users");
        write_file(path, "alice:{PLAIN}secret:5000:5000::/home/alice::userdb_mail=maildir:~/M allow_nets=127.0.0.1\n"
                         "open:::::::nopassword\n"
                         "empty:\n"
                         "odd:{ROT13}frperg\n"
                         "bare:secret\n");
        auto passdb = make_passdb("passwd-file", "scheme=PLAIN " + path);
        CPPUNIT_ASSERT_EQUAL(std::string("passwd-file"), std::string(passdb->driver()));

        PassdbReply ok = passdb->verify_plain(request_for("alice"), "secret");
        CPPUNIT_ASSERT(ok.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("maildir:~/M"), ok.fields.at("userdb_mail"));
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), ok.fields.at("allow_nets"));

        PassdbReply bad = passdb->verify_plain(request_for("alice"), "Secret");
        CPPUNIT_ASSERT(bad.status == PassdbStatus::PasswordMismatch);
        CPPUNIT_ASSERT_EQUAL(std::string("Password mismatch"), bad.error);

        PassdbReply unknown = passdb->verify_plain(request_for("mallory"), "x");
        CPPUNIT_ASSERT(unknown.status == PassdbStatus::UserUnknown);
        CPPUNIT_ASSERT_EQUAL(std::string("unknown user"), unknown.error);

        CPPUNIT_ASSERT(passdb->verify_plain(request_for("open"), "anything").status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(passdb->verify_plain(request_for("empty"), "").status == PassdbStatus::PasswordMismatch);

        PassdbReply odd = passdb->verify_plain(request_for("odd"), "secret");
        CPPUNIT_ASSERT(odd.status == PassdbStatus::InternalFailure);
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid password in passdb: Unknown scheme ROT13"), odd.error);

        // scheme=PLAIN applies to values without a {SCHEME} prefix.
        CPPUNIT_ASSERT(passdb->verify_plain(request_for("bare"), "secret").status == PassdbStatus::Ok);
        auto crypt_default = make_passdb("passwd-file", path);
        CPPUNIT_ASSERT(crypt_default->verify_plain(request_for("bare"), "secret").status != PassdbStatus::Ok);
    }

    void passwd_file_passdb_credentials()
    {
        ScratchDir dir;
        std::string path = dir.file("users");
        write_file(path, "alice:{PLAIN}secret\n"
                         "carol:{SHA512-CRYPT}$6$OnnXyC8vZ3uPpnhs$W2uQxGVRsA9qWuBhTQ8F1jAbhFyrzpjAUYHhP0dui5kojjVr6Yh7"
                         "IMeedX7Dqvsl2OaBtcPul7GrguFWX0pda0\n");
        auto passdb = make_passdb("passwd-file", path);
        PassdbReply cram = passdb->lookup_credentials(request_for("alice"), "CRAM-MD5");
        CPPUNIT_ASSERT(cram.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(size_t(32), cram.credentials.size());
        PassdbReply none = passdb->lookup_credentials(request_for("carol"), "CRAM-MD5");
        CPPUNIT_ASSERT(none.status == PassdbStatus::SchemeNotAvailable);
        CPPUNIT_ASSERT_EQUAL(std::string("Requested CRAM-MD5 scheme, but we have only SHA512-CRYPT"), none.error);
        CPPUNIT_ASSERT(passdb->lookup_credentials(request_for("carol"), "").status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(passdb->lookup_credentials(request_for("dave"), "").status == PassdbStatus::UserUnknown);
        CPPUNIT_ASSERT(passdb->verify_plain(request_for("carol"), "secret").status == PassdbStatus::Ok);
    }

    void passwd_file_per_domain_paths()
    {
        ScratchDir dir;
        CPPUNIT_ASSERT_EQUAL(0, mkdir(dir.file("example.com").c_str(), 0700));
        write_file(dir.file("example.com/passwd"), "alice:{PLAIN}a\n");
        write_file(dir.file("passwd"), "evil:{PLAIN}x\n");  // must never be reachable
        auto passdb = make_passdb("passwd-file", "username_format=%n " + dir.file("%d/passwd"));
        CPPUNIT_ASSERT(passdb->verify_plain(request_for("alice@example.com"), "a").status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(passdb->verify_plain(request_for("alice@example.org"), "a").status ==
                       PassdbStatus::UserUnknown);
        CPPUNIT_ASSERT(passdb->verify_plain(request_for("evil@.."), "x").status == PassdbStatus::UserUnknown);
        CPPUNIT_ASSERT(passdb->verify_plain(request_for("evil@./.."), "x").status == PassdbStatus::UserUnknown);
        CPPUNIT_ASSERT(passdb->verify_plain(request_for("evil@x/../.."), "x").status == PassdbStatus::UserUnknown);
    }

    void passwd_file_missing_fixed_path_is_internal_failure()
    {
        ScratchDir dir;
        auto passdb = make_passdb("passwd-file", dir.file("nonexistent"));
        PassdbReply reply = passdb->verify_plain(request_for("alice"), "a");
        CPPUNIT_ASSERT(reply.status == PassdbStatus::InternalFailure);
        CPPUNIT_ASSERT(reply.error.find("does not exist") != std::string::npos);
        auto userdb = make_userdb("passwd-file", dir.file("nonexistent"));
        CPPUNIT_ASSERT(userdb->lookup(request_for("alice")).status == UserdbStatus::InternalFailure);
    }

    void passwd_file_userdb_fields()
    {
        ScratchDir dir;
        std::string path = dir.file("users");
        write_file(path, "alice@example.com:{PLAIN}x:5000:5001::/var/vmail/%d/%n::"
                         "userdb_mail=maildir:~/Maildir userdb_quota_rule=*:storage=1G allow_nets=10.0.0.0/8\n"
                         "bob:{PLAIN}x\n");
        auto userdb = make_userdb("passwd-file", path);
        UserdbReply alice = userdb->lookup(request_for("alice@example.com"));
        CPPUNIT_ASSERT(alice.status == UserdbStatus::Ok);
        FieldMap expected = {{"uid", "5000"},
                             {"gid", "5001"},
                             {"home", "/var/vmail/example.com/alice"},
                             {"mail", "maildir:~/Maildir"},
                             {"quota_rule", "*:storage=1G"}};
        CPPUNIT_ASSERT(alice.fields == expected);  // allow_nets is a passdb field
        UserdbReply bob = userdb->lookup(request_for("bob"));
        CPPUNIT_ASSERT(bob.status == UserdbStatus::Ok && bob.fields.empty());
        CPPUNIT_ASSERT(userdb->lookup(request_for("carol")).status == UserdbStatus::UserUnknown);
    }

    void static_drivers()
    {
        auto passdb = make_passdb("static", "password=s3cret allow_nets=127.0.0.1");
        PassdbReply ok = passdb->verify_plain(request_for("anyone"), "s3cret");
        CPPUNIT_ASSERT(ok.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(!ok.fields.contains("password"));
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), ok.fields.at("allow_nets"));
        CPPUNIT_ASSERT(passdb->verify_plain(request_for("anyone"), "nope").status == PassdbStatus::PasswordMismatch);
        CPPUNIT_ASSERT(make_passdb("static", "nopassword=y")->verify_plain(request_for("u"), "x").status ==
                       PassdbStatus::Ok);
        CPPUNIT_ASSERT(make_passdb("static", "password=%n")->verify_plain(request_for("joe@x"), "joe").status ==
                       PassdbStatus::Ok);

        StaticUserdb userdb("uid=vmail gid=5000 home=/var/vmail/%d/%n allow_all_users=yes");
        CPPUNIT_ASSERT(userdb.allow_all_users());
        UserdbReply reply = userdb.lookup(request_for("alice@example.com"));
        FieldMap expected = {{"uid", "vmail"}, {"gid", "5000"}, {"home", "/var/vmail/example.com/alice"}};
        CPPUNIT_ASSERT(reply.status == UserdbStatus::Ok && reply.fields == expected);
        CPPUNIT_ASSERT(!StaticUserdb("uid=1").allow_all_users());
        CPPUNIT_ASSERT(StaticUserdb("home=/%q").lookup(request_for("a")).status == UserdbStatus::InternalFailure);
    }

    void system_passwd_userdb()
    {
        auto userdb = make_userdb("passwd", "");
        UserdbReply root = userdb->lookup(request_for("root"));
        CPPUNIT_ASSERT(root.status == UserdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), root.fields.at("uid"));
        CPPUNIT_ASSERT_EQUAL(std::string("/root"), root.fields.at("home"));
        CPPUNIT_ASSERT(userdb->lookup(request_for("loft-no-such-user-x")).status == UserdbStatus::UserUnknown);
        CPPUNIT_ASSERT(userdb->lookup(request_for(std::string(300, 'a'))).status == UserdbStatus::UserUnknown);
        auto passdb = make_passdb("passwd", "");
        CPPUNIT_ASSERT(passdb->verify_plain(request_for("loft-no-such-user-x"), "x").status ==
                       PassdbStatus::UserUnknown);
    }

    void shadow_passdb()
    {
        auto passdb = make_passdb("shadow", "");
        CPPUNIT_ASSERT(passdb->verify_plain(request_for("loft-no-such-user-x"), "x").status ==
                       PassdbStatus::UserUnknown ||
                       geteuid() != 0);
        PassdbReply root = passdb->verify_plain(request_for("root"), "certainly not the root password");
        // A hash that does not match, or (as Dovecot) a locked field like "*" disables root.
        if (geteuid() == 0)
            CPPUNIT_ASSERT_MESSAGE(root.error, root.status == PassdbStatus::PasswordMismatch ||
                                                   root.status == PassdbStatus::UserDisabled);
        else
            CPPUNIT_ASSERT(root.status == PassdbStatus::InternalFailure);  // cannot read /etc/shadow
        CPPUNIT_ASSERT(root.status != PassdbStatus::Ok);
    }

    void pam_args_and_failure()
    {
        PamArgs args = parse_pam_args("session=yes setcred=yes max_requests=10 cache_key=%u%s *");
        CPPUNIT_ASSERT(args.session && args.setcred && !args.failure_show_msg);
        CPPUNIT_ASSERT_EQUAL(10u, args.max_requests);
        CPPUNIT_ASSERT_EQUAL(std::string("%u%s"), args.cache_key);
        CPPUNIT_ASSERT_EQUAL(std::string("*"), args.service);
        CPPUNIT_ASSERT_EQUAL(std::string("dovecot"), parse_pam_args("").service);
        CPPUNIT_ASSERT_THROW(parse_pam_args("a b"), AuthError);
        CPPUNIT_ASSERT_THROW(parse_pam_args("max_requests=0"), AuthError);
        CPPUNIT_ASSERT_THROW(parse_pam_args("bogus=1"), AuthError);

        // A service with no /etc/pam.d file falls back to "other", normally pam_deny; either
        // way an unknown user with a made-up password must not get in.
        PamPassdb pam("loft-unit-test-no-such-service");
        PassdbReply reply = pam.verify_plain(request_for("loft-no-such-user-x"), "x");
        CPPUNIT_ASSERT(reply.status != PassdbStatus::Ok);
        CPPUNIT_ASSERT(!reply.error.empty());
        CPPUNIT_ASSERT(pam.lookup_credentials(request_for("root"), "PLAIN").status ==
                       PassdbStatus::SchemeNotAvailable);
    }

    void factories()
    {
        CPPUNIT_ASSERT_THROW(make_passdb("ldap", ""), AuthError);
        CPPUNIT_ASSERT_THROW(make_userdb("shadow", ""), AuthError);
        CPPUNIT_ASSERT_THROW(make_passdb("passwd-file", ""), AuthError);
        CPPUNIT_ASSERT_EQUAL(std::string("pam"), std::string(make_passdb("pam", "")->driver()));
        CPPUNIT_ASSERT_EQUAL(std::string("shadow"), std::string(make_passdb("shadow", "")->driver()));
        CPPUNIT_ASSERT_EQUAL(std::string("static"), std::string(make_userdb("static", "uid=1")->driver()));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DriversTest);
