#include "auth/auth_client_protocol.h"
#include "auth/checkpassword_db.h"
#include "auth/errors.h"
#include "auth/passdb.h"
#include "test_support.h"

#include <sys/stat.h>

#include <chrono>
#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;
using loft::auth::test::ScratchDir;
using loft::auth::test::write_file;
using loft::auth::test::request_for;

namespace {

void write_script(const std::string& path, const std::string& text)
{
    write_file(path, text);
    chmod(path.c_str(), 0755);
}

// A checkpassword program in the usual style: reads user\0password\0 from fd 3, checks,
// sets USER/HOME/EXTRA and execs the reply helper ($1). It also reports what it saw.
const char* kProgram = R"(#!/bin/bash
IFS= read -r -d '' user <&3
IFS= read -r -d '' pass <&3
case "$user" in
  alice|carol) ;;
  tempfail) exit 111 ;;
  wrongargs) exit 2 ;;
  silent) exit 0 ;;
  slow) sleep 5 ;;
  crash) kill -9 $$ ;;
  nohome) export USER=nohome AUTHORIZED=2; exec "$@" ;;
  *) [ "$AUTHORIZED" = 1 ] && exit 3; exit 1 ;;
esac
if [ "$AUTHORIZED" != 1 ] && [ "$pass" != secret ]; then exit 1; fi
[ "$AUTHORIZED" = 1 ] && export AUTHORIZED=2
export USER="$user" HOME="/home/$user"
export userdb_uid=5000 userdb_mail="maildir:~/Mail" seen="$SERVICE,$TCPREMOTEIP,$AUTH_USER,$AUTH_DOMAIN,${SCHEME:-none},$PROTO"
export password="{PLAIN}secret"
EXTRA="userdb_uid userdb_mail seen password"
[ "$user" = carol ] && EXTRA="userdb_uid"
export EXTRA
exec "$@"
)";

// Dovecot's checkpassword-reply in shell, for tests that do not depend on the built helper.
const char* kReply = R"(#!/bin/bash
out="user=$USER	userdb_home=$HOME	"
for v in $EXTRA; do out="$out$(echo "$v" | tr A-Z a-z)=${!v}	"; done
case " $EXTRA " in *" userdb_gid "*) ;; *) out="${out}userdb_gid=$(id -g)	" ;; esac
printf '%s' "$out" >&4
[ "$AUTHORIZED" = 2 ] && exit 2
exit 0
)";

struct Scripts {
    ScratchDir dir;
    std::string program = dir.file("checkpassword.sh");
    std::string reply = dir.file("reply.sh");
    Scripts()
    {
        write_script(program, kProgram);
        write_script(reply, kReply);
    }
};

// The built loft-checkpassword-reply, when make check tells us where the build is.
std::string built_reply_helper()
{
    const char* builddir = std::getenv("LOFT_BUILDDIR");
    if (!builddir)
        return {};
    std::string path = std::string(builddir) + "/loft-checkpassword-reply";
    return access(path.c_str(), X_OK) == 0 ? path : std::string();
}

}  // namespace

class CheckpasswordTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CheckpasswordTest);
    CPPUNIT_TEST(tab_escaping);
    CPPUNIT_TEST(passdb_verdicts);
    CPPUNIT_TEST(passdb_exit_codes);
    CPPUNIT_TEST(passdb_credentials);
    CPPUNIT_TEST(userdb_lookup);
    CPPUNIT_TEST(built_reply_helper_matches);
    CPPUNIT_TEST(timeout_kills);
    CPPUNIT_TEST(limits);
    CPPUNIT_TEST_SUITE_END();

public:
    void tab_escaping()
    {
        std::string raw = "a\tb\nc\001d\re";
        CPPUNIT_ASSERT_EQUAL(std::string("a\001tb\001nc\0011d\001re"), tab_escape(raw));
        std::vector<std::string> fields = split_tab_escaped(tab_escape(raw) + "\tx=1\t");
        CPPUNIT_ASSERT_EQUAL(size_t(3), fields.size());
        CPPUNIT_ASSERT_EQUAL(raw, fields[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("x=1"), fields[1]);
        CPPUNIT_ASSERT_EQUAL(std::string(""), fields[2]);
    }

    void passdb_verdicts()
    {
        Scripts s;
        CheckpasswordPassdb passdb(s.program, s.reply);
        PassdbReply ok = passdb.verify_plain(request_for("alice"), "secret");
        CPPUNIT_ASSERT_MESSAGE(ok.error, ok.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), ok.fields.at("user"));
        CPPUNIT_ASSERT_EQUAL(std::string("5000"), ok.fields.at("userdb_uid"));
        CPPUNIT_ASSERT_EQUAL(std::string("/home/alice"), ok.fields.at("userdb_home"));
        CPPUNIT_ASSERT_EQUAL(std::string("maildir:~/Mail"), ok.fields.at("userdb_mail"));
        // What the program saw: service, remote IP, AUTH_* variables; no SCHEME on a login.
        CPPUNIT_ASSERT_EQUAL(std::string("imap,192.0.2.7,alice,,none,TCP"), ok.fields.at("seen"));
        // The password a reply carries is never an extra field.
        CPPUNIT_ASSERT(!ok.fields.count("password"));

        PassdbReply wrong = passdb.verify_plain(request_for("alice"), "nope");
        CPPUNIT_ASSERT(wrong.status == PassdbStatus::PasswordMismatch);
        CPPUNIT_ASSERT_EQUAL(std::string("Login failed (status=1)"), wrong.error);
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("nobody"), "secret").status == PassdbStatus::PasswordMismatch);
    }

    void passdb_exit_codes()
    {
        Scripts s;
        CheckpasswordPassdb passdb(s.program, s.reply);
        PassdbReply temp = passdb.verify_plain(request_for("tempfail"), "x");
        CPPUNIT_ASSERT(temp.status == PassdbStatus::InternalFailure);
        CPPUNIT_ASSERT_EQUAL(std::string("Child exited with status 111"), temp.error);
        PassdbReply two = passdb.verify_plain(request_for("wrongargs"), "x");
        CPPUNIT_ASSERT(two.status == PassdbStatus::InternalFailure);
        CPPUNIT_ASSERT(two.error.find("userdb-only") != std::string::npos);
        PassdbReply silent = passdb.verify_plain(request_for("silent"), "x");
        CPPUNIT_ASSERT(silent.status == PassdbStatus::InternalFailure);
        CPPUNIT_ASSERT_EQUAL(std::string("Received no input"), silent.error);
        PassdbReply crash = passdb.verify_plain(request_for("crash"), "x");
        CPPUNIT_ASSERT(crash.status == PassdbStatus::InternalFailure);
        CPPUNIT_ASSERT_EQUAL(std::string("Child died with signal 9"), crash.error);
        ScratchDir dir;
        CheckpasswordPassdb missing(dir.file("nosuchprogram"), s.reply);
        CPPUNIT_ASSERT(missing.verify_plain(request_for("alice"), "secret").status == PassdbStatus::InternalFailure);
    }

    void passdb_credentials()
    {
        Scripts s;
        CheckpasswordPassdb passdb(s.program, s.reply);
        PassdbReply plain = passdb.lookup_credentials(request_for("alice"), "PLAIN");
        CPPUNIT_ASSERT_MESSAGE(plain.error, plain.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("secret"), plain.credentials);
        CPPUNIT_ASSERT_EQUAL(std::string("imap,192.0.2.7,alice,,PLAIN,TCP"), plain.fields.at("seen"));
        PassdbReply exists = passdb.lookup_credentials(request_for("alice"), "");
        CPPUNIT_ASSERT(exists.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(passdb.lookup_credentials(request_for("nobody"), "").status == PassdbStatus::UserUnknown);
        // carol's reply has no password: exists, but no credentials.
        CPPUNIT_ASSERT(passdb.lookup_credentials(request_for("carol"), "PLAIN").status ==
                       PassdbStatus::SchemeNotAvailable);
    }

    void userdb_lookup()
    {
        Scripts s;
        CheckpasswordUserdb userdb(s.program, s.reply);
        UserdbReply alice = userdb.lookup(request_for("alice"));
        CPPUNIT_ASSERT_MESSAGE(alice.error, alice.status == UserdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("5000"), alice.fields.at("uid"));
        CPPUNIT_ASSERT_EQUAL(std::string("/home/alice"), alice.fields.at("home"));
        CPPUNIT_ASSERT_EQUAL(std::string("maildir:~/Mail"), alice.fields.at("mail"));
        CPPUNIT_ASSERT(alice.fields.count("gid"));
        // Only userdb_ fields count for a userdb.
        CPPUNIT_ASSERT(!alice.fields.count("seen") && !alice.fields.count("user"));
        UserdbReply nobody = userdb.lookup(request_for("nobody"));
        CPPUNIT_ASSERT(nobody.status == UserdbStatus::UserUnknown);
        CPPUNIT_ASSERT(userdb.lookup(request_for("tempfail")).status == UserdbStatus::InternalFailure);
    }

    void built_reply_helper_matches()
    {
        std::string helper = built_reply_helper();
        if (helper.empty())
            return;  // not under make check
        Scripts s;
        CheckpasswordPassdb ours(s.program, helper);
        CheckpasswordPassdb shell(s.program, s.reply);
        PassdbReply a = ours.verify_plain(request_for("alice"), "secret");
        PassdbReply b = shell.verify_plain(request_for("alice"), "secret");
        CPPUNIT_ASSERT_MESSAGE(a.error, a.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(a.fields == b.fields);
        CheckpasswordUserdb userdb(s.program, helper);
        UserdbReply user = userdb.lookup(request_for("carol"));
        CPPUNIT_ASSERT_MESSAGE(user.error, user.status == UserdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::to_string(getgid()), user.fields.at("gid"));
        CPPUNIT_ASSERT_EQUAL(std::string("5000"), user.fields.at("uid"));
        // The caller's environment does not leak into the reply (no HOME unless the
        // program sets one).
        setenv("HOME", "/leaked", 1);
        UserdbReply bare = userdb.lookup(request_for("nohome"));
        CPPUNIT_ASSERT_MESSAGE(bare.error, bare.status == UserdbStatus::Ok);
        CPPUNIT_ASSERT(!bare.fields.count("home"));
    }

    void timeout_kills()
    {
        Scripts s;
        CheckpasswordProgram program(s.program, s.reply, std::chrono::milliseconds(300));
        auto start = std::chrono::steady_clock::now();
        CheckpasswordOutcome outcome = program.run(request_for("slow"), std::string_view("x"));
        auto took = std::chrono::steady_clock::now() - start;
        CPPUNIT_ASSERT(outcome.status == CheckpasswordOutcome::Status::InternalFailure);
        CPPUNIT_ASSERT(outcome.error.find("did not finish in time") != std::string::npos);
        CPPUNIT_ASSERT(took < std::chrono::seconds(3));
    }

    void limits()
    {
        Scripts s;
        CheckpasswordPassdb passdb(s.program, s.reply);
        PassdbReply long_one = passdb.verify_plain(request_for("alice"), std::string(600, 'x'));
        CPPUNIT_ASSERT(long_one.status == PassdbStatus::PasswordMismatch);
        CPPUNIT_ASSERT(long_one.error.find("too long") != std::string::npos);
        CPPUNIT_ASSERT_THROW(CheckpasswordPassdb("  ", s.reply), AuthError);
        CPPUNIT_ASSERT_EQUAL(std::string("checkpassword"), std::string(make_passdb("checkpassword", s.program)->driver()));
        CPPUNIT_ASSERT_EQUAL(std::string("checkpassword"), std::string(make_userdb("checkpassword", s.program)->driver()));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CheckpasswordTest);
