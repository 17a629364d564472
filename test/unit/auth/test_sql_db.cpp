#include "auth/errors.h"
#include "auth/auth_chain.h"
#include "auth/passdb.h"
#include "auth/prefetch_db.h"
#include "auth/sql_db.h"
#include "test_support.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;
using loft::auth::test::ScratchDir;
using loft::auth::test::write_file;
using loft::auth::test::request_for;

namespace {

void run_sql(const std::string& path, const std::string& sql)
{
    SqliteDatabase database(path);
    database.query(sql, [](const SqlRow&) { return true; });
}

// A users table like the one in Dovecot's dovecot-sql.conf.ext comments.
struct Fixture {
    ScratchDir dir;
    std::string db = dir.file("users.db");
    std::string conf = dir.file("dovecot-sql.conf.ext");

    explicit Fixture(const std::string& queries)
    {
        write_file(db, "");  // sqlite takes an empty file as an empty database
        run_sql(db,
                "CREATE TABLE users (username TEXT, domain TEXT, password TEXT, home TEXT, uid INTEGER, gid INTEGER,"
                " quota_rule TEXT, nopassword TEXT)");
        run_sql(db,
                "INSERT INTO users VALUES"
                " ('alice', 'example.com', '{PLAIN}secret', '/home/alice', 5000, 5000, '*:storage=1G', NULL),"
                " ('bob', 'example.com', 'bobpw', '/home/bob', 5001, 5001, NULL, NULL),"
                " ('o''brien', 'example.com', '{PLAIN}irish', '/home/ob', 5002, 5002, NULL, NULL),"
                " ('guest', 'example.com', NULL, '/home/guest', 5003, 5003, NULL, 'y'),"
                " ('twin', 'example.com', '{PLAIN}a', '/a', 1, 1, NULL, NULL),"
                " ('twin', 'example.com', '{PLAIN}b', '/b', 1, 1, NULL, NULL)");
        write_file(conf, "# test\ndriver = sqlite\nconnect = " + db + "\n" + queries);
    }
};

const char* kQueries =
    "default_pass_scheme = PLAIN\n"
    "password_query = \\\n"
    "  SELECT username, domain, password, nopassword, quota_rule AS userdb_quota_rule, home AS x_home \\\n"
    "  FROM users WHERE username = '%n' AND domain = '%d'\n"
    "user_query = SELECT home, uid, gid, quota_rule FROM users WHERE username = '%n' AND domain = '%d'\n"
    "iterate_query = SELECT username, domain FROM users WHERE username <> 'twin'\n";

}  // namespace

class SqlDbTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SqlDbTest);
    CPPUNIT_TEST(settings_file);
    CPPUNIT_TEST(settings_errors);
    CPPUNIT_TEST(escaping);
    CPPUNIT_TEST(passdb_verifies);
    CPPUNIT_TEST(passdb_fields_and_user_rename);
    CPPUNIT_TEST(passdb_broken_queries);
    CPPUNIT_TEST(passdb_credentials);
    CPPUNIT_TEST(userdb_lookup_and_iterate);
    CPPUNIT_TEST(missing_database);
    CPPUNIT_TEST(username_updates);
    CPPUNIT_TEST(factories);
    CPPUNIT_TEST(prefetch_then_sql);
    CPPUNIT_TEST_SUITE_END();

public:
    void settings_file()
    {
        SqlSettings s = parse_sql_settings("# comment\n"
                                           "  driver = sqlite\n"
                                           "connect = \"/var/lib/users.db\"\n"
                                           "password_query = SELECT a, \\\n"
                                           "   b \\\n"
                                           "   FROM t\n"
                                           "default_pass_scheme = sha512-crypt\n",
                                           "test");
        CPPUNIT_ASSERT_EQUAL(std::string("sqlite"), s.driver);
        CPPUNIT_ASSERT_EQUAL(std::string("/var/lib/users.db"), s.connect);
        CPPUNIT_ASSERT_EQUAL(std::string("SELECT a, b FROM t"), s.password_query);
        CPPUNIT_ASSERT_EQUAL(std::string("SHA512-CRYPT"), s.default_pass_scheme);
        // Dovecot's defaults where the file says nothing.
        CPPUNIT_ASSERT_EQUAL(std::string("SELECT home, uid, gid FROM users WHERE username = '%n' AND domain = '%d'"),
                             s.user_query);
        CPPUNIT_ASSERT_EQUAL(std::string("SELECT username, domain FROM users"), s.iterate_query);
        SqlSettings defaults = parse_sql_settings("driver = sqlite\nconnect = /x", "test");
        CPPUNIT_ASSERT_EQUAL(std::string("MD5"), defaults.default_pass_scheme);
    }

    void settings_errors()
    {
        CPPUNIT_ASSERT_THROW(parse_sql_settings("driver = sqlite\nconnect = /x\nbogus = 1\n", "t"), AuthError);
        CPPUNIT_ASSERT_THROW(parse_sql_settings("driver = mysql\nconnect = host=localhost\n", "t"), AuthError);
        CPPUNIT_ASSERT_THROW(parse_sql_settings("driver = sqlite\n", "t"), AuthError);
        CPPUNIT_ASSERT_THROW(parse_sql_settings("connect = /x\n", "t"), AuthError);
        CPPUNIT_ASSERT_THROW(parse_sql_settings("driver sqlite\n", "t"), AuthError);
        CPPUNIT_ASSERT_THROW(read_sql_settings("/nonexistent/dovecot-sql.conf.ext"), AuthError);
        CPPUNIT_ASSERT_THROW(SqliteDatabase("/x.db bogus=1"), AuthError);
    }

    void escaping()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("o''brien"), sqlite_escape("o'brien"));
        CPPUNIT_ASSERT_EQUAL(std::string("''''"), sqlite_escape("''"));
        AuthRequest r = request_for("x' OR '1'='1@example.com");
        CPPUNIT_ASSERT_EQUAL(std::string("u = 'x'' OR ''1''=''1' AND d = 'example.com' -- %"),
                             expand_auth_variables("u = '%n' AND d = '%d' -- %%", r, sqlite_escape));
    }

    void passdb_verifies()
    {
        Fixture f(kQueries);
        SqlPassdb passdb(f.conf);
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("alice@example.com"), "secret").status == PassdbStatus::Ok);
        PassdbReply wrong = passdb.verify_plain(request_for("alice@example.com"), "Secret");
        CPPUNIT_ASSERT(wrong.status == PassdbStatus::PasswordMismatch);
        CPPUNIT_ASSERT_EQUAL(std::string("Password mismatch"), wrong.error);
        // A bare stored password is in default_pass_scheme (PLAIN here).
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("bob@example.com"), "bobpw").status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("nobody@example.com"), "x").status == PassdbStatus::UserUnknown);
        // The quote is escaped, not interpreted: o'brien is found, an injection is not.
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("o'brien@example.com"), "irish").status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("x' OR '1'='1@example.com"), "secret").status ==
                       PassdbStatus::UserUnknown);
        // NULL password with a nopassword column: any password goes.
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("guest@example.com"), "anything").status == PassdbStatus::Ok);
    }

    void passdb_fields_and_user_rename()
    {
        Fixture f(kQueries);
        SqlPassdb passdb(f.conf);
        PassdbReply ok = passdb.verify_plain(request_for("alice@example.com"), "secret");
        CPPUNIT_ASSERT(ok.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("*:storage=1G"), ok.fields.at("userdb_quota_rule"));
        CPPUNIT_ASSERT_EQUAL(std::string("/home/alice"), ok.fields.at("x_home"));
        // username/domain columns equal to the login change nothing; password is not a field.
        CPPUNIT_ASSERT(!ok.fields.count("user") && !ok.fields.count("username") && !ok.fields.count("password"));
        // NULL columns are left out.
        PassdbReply bob = passdb.verify_plain(request_for("bob@example.com"), "bobpw");
        CPPUNIT_ASSERT(!bob.fields.count("userdb_quota_rule"));

        Fixture upper("password_query = SELECT 'Alice' AS username, password FROM users WHERE username = '%Ln'\n");
        SqlPassdb renaming(upper.conf);
        PassdbReply renamed = renaming.verify_plain(request_for("ALICE@example.com"), "secret");
        CPPUNIT_ASSERT(renamed.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("Alice@example.com"), renamed.fields.at("user"));
    }

    void passdb_broken_queries()
    {
        Fixture f(kQueries);
        SqlPassdb passdb(f.conf);
        PassdbReply twins = passdb.verify_plain(request_for("twin@example.com"), "a");
        CPPUNIT_ASSERT(twins.status == PassdbStatus::InternalFailure);
        CPPUNIT_ASSERT_EQUAL(std::string("Password query returned multiple matches"), twins.error);

        Fixture no_password("password_query = SELECT home FROM users WHERE username = '%n'\n");
        PassdbReply missing = SqlPassdb(no_password.conf).verify_plain(request_for("alice@example.com"), "secret");
        CPPUNIT_ASSERT(missing.status == PassdbStatus::InternalFailure);
        CPPUNIT_ASSERT_EQUAL(std::string("Password query must return a field named 'password'"), missing.error);

        Fixture bad_sql("password_query = SELECT nosuchcolumn FROM users\n");
        PassdbReply bad = SqlPassdb(bad_sql.conf).verify_plain(request_for("alice@example.com"), "secret");
        CPPUNIT_ASSERT(bad.status == PassdbStatus::InternalFailure);
        CPPUNIT_ASSERT(bad.error.find("no such column") != std::string::npos);

        // password_noscheme: a leading {X} is part of the password, not a scheme.
        Fixture noscheme("password_query = SELECT '{x}y' AS password_noscheme FROM users WHERE username = '%n'\n"
                         "default_pass_scheme = PLAIN\n");
        SqlPassdb braces(noscheme.conf);
        CPPUNIT_ASSERT(braces.verify_plain(request_for("alice@x"), "{x}y").status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(braces.verify_plain(request_for("alice@x"), "y").status == PassdbStatus::PasswordMismatch);
    }

    void passdb_credentials()
    {
        Fixture f(kQueries);
        SqlPassdb passdb(f.conf);
        PassdbReply plain = passdb.lookup_credentials(request_for("alice@example.com"), "PLAIN");
        CPPUNIT_ASSERT(plain.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("secret"), plain.credentials);
        PassdbReply exists = passdb.lookup_credentials(request_for("bob@example.com"), "");
        CPPUNIT_ASSERT(exists.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(passdb.lookup_credentials(request_for("zed@example.com"), "").status ==
                       PassdbStatus::UserUnknown);
    }

    void userdb_lookup_and_iterate()
    {
        Fixture f(kQueries);
        SqlUserdb userdb(f.conf);
        UserdbReply alice = userdb.lookup(request_for("alice@example.com"));
        CPPUNIT_ASSERT(alice.status == UserdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("/home/alice"), alice.fields.at("home"));
        CPPUNIT_ASSERT_EQUAL(std::string("5000"), alice.fields.at("uid"));
        CPPUNIT_ASSERT_EQUAL(std::string("*:storage=1G"), alice.fields.at("quota_rule"));
        UserdbReply bob = userdb.lookup(request_for("bob@example.com"));
        CPPUNIT_ASSERT(bob.status == UserdbStatus::Ok && !bob.fields.count("quota_rule"));
        CPPUNIT_ASSERT(userdb.lookup(request_for("nobody@example.com")).status == UserdbStatus::UserUnknown);

        CPPUNIT_ASSERT(userdb.can_iterate());
        std::vector<std::string> users;
        userdb.iterate(request_for(""), [&](const std::string& user) { users.push_back(user); });
        std::vector<std::string> expected = {"alice@example.com", "bob@example.com", "o'brien@example.com",
                                             "guest@example.com"};
        CPPUNIT_ASSERT(users == expected);

        Fixture user_column("iterate_query = SELECT username || '@' || domain AS user FROM users LIMIT 1\n");
        users.clear();
        SqlUserdb(user_column.conf).iterate(request_for(""), [&](const std::string& user) { users.push_back(user); });
        CPPUNIT_ASSERT(users == std::vector<std::string>{"alice@example.com"});
        Fixture no_user("iterate_query = SELECT home FROM users\n");
        CPPUNIT_ASSERT_THROW(SqlUserdb(no_user.conf).iterate(request_for(""), [](const std::string&) {}), AuthError);
    }

    void missing_database()
    {
        ScratchDir dir;
        std::string conf = dir.file("sql.conf");
        write_file(conf, "driver = sqlite\nconnect = " + dir.file("missing.db") + "\n");
        SqlPassdb passdb(conf);
        PassdbReply reply = passdb.verify_plain(request_for("alice@example.com"), "secret");
        CPPUNIT_ASSERT(reply.status == PassdbStatus::InternalFailure);
        CPPUNIT_ASSERT(reply.error.find("missing.db") != std::string::npos);
        // Opening must not have created it.
        CPPUNIT_ASSERT(!std::filesystem::exists(dir.file("missing.db")));
        CPPUNIT_ASSERT(SqlUserdb(conf).lookup(request_for("alice@example.com")).status == UserdbStatus::InternalFailure);
    }

    void username_updates()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), *updated_username("alice@x", "user", "bob"));
        CPPUNIT_ASSERT_EQUAL(std::string("bob@x"), *updated_username("alice@x", "username", "bob"));
        CPPUNIT_ASSERT_EQUAL(std::string("bob@y"), *updated_username("alice@x", "username", "bob@y"));
        CPPUNIT_ASSERT_EQUAL(std::string("alice@y"), *updated_username("alice@x", "domain", "y"));
        CPPUNIT_ASSERT_EQUAL(std::string("alice@y"), *updated_username("alice", "domain", "y"));
        CPPUNIT_ASSERT(!updated_username("alice", "home", "/x"));
    }

    void factories()
    {
        Fixture f(kQueries);
        CPPUNIT_ASSERT_EQUAL(std::string("sql"), std::string(make_passdb("sql", f.conf)->driver()));
        CPPUNIT_ASSERT_EQUAL(std::string("sql"), std::string(make_userdb("sql", f.conf)->driver()));
        CPPUNIT_ASSERT_THROW(make_passdb("sql", "/nonexistent.conf"), AuthError);
    }

    // The usual sql setup: userdb prefetch uses the passdb's userdb_* columns after a
    // login; without one (LMTP, doveadm user) the sql userdb answers.
    void prefetch_then_sql()
    {
        Fixture f(kQueries);
        SqlPassdb passdb(f.conf);
        UserdbChain chain;
        chain.add(make_userdb("prefetch", ""), UserdbRule{});
        chain.add(make_userdb("sql", f.conf), UserdbRule{});
        AuthRequest login = request_for("alice@example.com");
        login.passdb_fields = passdb.verify_plain(login, "secret").fields;
        UserdbChainResult prefetched = chain.lookup(login);
        CPPUNIT_ASSERT(prefetched.status == UserdbStatus::Ok);
        // Only the prefetched field: the sql userdb was not asked.
        CPPUNIT_ASSERT_EQUAL(std::string("*:storage=1G"), prefetched.fields.at("quota_rule"));
        CPPUNIT_ASSERT(!prefetched.fields.count("home"));
        UserdbChainResult looked_up = chain.lookup(request_for("alice@example.com"));
        CPPUNIT_ASSERT(looked_up.status == UserdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("/home/alice"), looked_up.fields.at("home"));
        PrefetchUserdb alone;
        CPPUNIT_ASSERT(alone.lookup(request_for("alice@example.com")).status == UserdbStatus::UserUnknown);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SqlDbTest);
