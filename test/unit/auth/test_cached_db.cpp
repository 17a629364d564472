#include "auth/auth_chain.h"
#include "auth/cached_db.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;
using loft::Task;

namespace {

// A passdb/userdb whose users the test edits, counting the look-ups that reach it.
struct Backend {
    std::map<std::string, std::string> passwords;  // user -> {SCHEME}password
    int lookups = 0;
};

class FakePassdb final : public Passdb {
public:
    explicit FakePassdb(Backend& backend) : backend_(backend) {}
    std::string_view driver() const override { return "sql"; }

protected:
    std::optional<PassdbEntry> lookup(const AuthRequest& request) override
    {
        backend_.lookups++;
        auto found = backend_.passwords.find(request.user);
        if (found == backend_.passwords.end())
            return std::nullopt;
        return PassdbEntry{found->second, {{"userdb_home", "/home/" + request.user}}};
    }

private:
    Backend& backend_;
};

class FakeUserdb final : public Userdb {
public:
    explicit FakeUserdb(Backend& backend) : backend_(backend) {}
    std::string_view driver() const override { return "passwd"; }
    UserdbReply lookup(const AuthRequest& request) override
    {
        backend_.lookups++;
        if (!backend_.passwords.contains(request.user))
            return UserdbReply{UserdbStatus::UserUnknown, {}, {}};
        return UserdbReply{UserdbStatus::Ok, {{"uid", "1000"}, {"home", "/home/" + request.user}}, {}};
    }

private:
    Backend& backend_;
};

// Like loft-auth's stand-ins for loft-auth-worker: only the awaited look-ups reach the
// backend, and they return no stored password.
class RemotePassdb final : public Passdb {
public:
    explicit RemotePassdb(Backend& backend) : backend_(backend) {}
    std::string_view driver() const override { return "shadow"; }
    bool looks_up_locally() const override { return false; }
    Task<PassdbReply> verify_plain_async(const AuthRequest& request, std::string password) override
    {
        backend_.lookups++;
        PassdbReply reply;
        auto found = backend_.passwords.find(request.user);
        if (found == backend_.passwords.end())
            reply.status = PassdbStatus::UserUnknown;
        else
            reply.status = found->second == "{PLAIN}" + password ? PassdbStatus::Ok : PassdbStatus::PasswordMismatch;
        if (reply.status == PassdbStatus::Ok)
            reply.fields["userdb_home"] = "/home/" + request.user;
        co_return reply;
    }

protected:
    std::optional<PassdbEntry> lookup(const AuthRequest&) override { throw std::logic_error("not local"); }

private:
    Backend& backend_;
};

class RemoteUserdb final : public Userdb {
public:
    explicit RemoteUserdb(Backend& backend) : backend_(backend) {}
    std::string_view driver() const override { return "sql"; }
    UserdbReply lookup(const AuthRequest&) override { throw std::logic_error("not local"); }
    Task<UserdbReply> lookup_async(const AuthRequest& request) override
    {
        backend_.lookups++;
        co_return UserdbReply{UserdbStatus::Ok, {{"uid", "1000"}, {"home", "/home/" + request.user}}, {}};
    }

private:
    Backend& backend_;
};

AuthRequest request_for(const std::string& user)
{
    AuthRequest request;
    request.user = user;
    request.service = "imap";
    request.remote_ip = "192.0.2.1";
    return request;
}

}  // namespace

class CachedDbTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CachedDbTest);
    CPPUNIT_TEST(key_template_lists_query_variables);
    CPPUNIT_TEST(default_keys_follow_dovecot_drivers);
    CPPUNIT_TEST(positive_entries_survive_password_change_until_flush);
    CPPUNIT_TEST(unknown_users_cached_negatively);
    CPPUNIT_TEST(userdb_answers_cached);
    CPPUNIT_TEST(disabled_cache_asks_every_time);
    CPPUNIT_TEST(worker_backed_dbs_cached_through_awaited_lookups);
    CPPUNIT_TEST_SUITE_END();

public:
    void key_template_lists_query_variables()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("%n\t%d"),
                             cache_key_template("SELECT password FROM users WHERE u = '%n' AND d = '%d' OR u = '%n'"));
        CPPUNIT_ASSERT_EQUAL(std::string("%Lu\t%{rip}"), cache_key_template("x='%Lu' AND y='%{rip}' AND z LIKE '100%%'"));
        CPPUNIT_ASSERT_EQUAL(std::string(), cache_key_template("SELECT 1"));
    }

    void default_keys_follow_dovecot_drivers()
    {
        CPPUNIT_ASSERT(!default_passdb_cache_key("passwd-file", "/etc/users"));
        CPPUNIT_ASSERT(!default_passdb_cache_key("static", "password=x"));
        CPPUNIT_ASSERT(!default_passdb_cache_key("checkpassword", "/bin/true"));
        CPPUNIT_ASSERT_EQUAL(std::string("%u"), *default_passdb_cache_key("passwd", ""));
        CPPUNIT_ASSERT_EQUAL(std::string("%u"), *default_passdb_cache_key("shadow", ""));
        CPPUNIT_ASSERT_EQUAL(std::string("%u"), *default_userdb_cache_key("passwd", ""));
        CPPUNIT_ASSERT(!default_userdb_cache_key("passwd-file", "/etc/users"));
    }

    void positive_entries_survive_password_change_until_flush()
    {
        Backend backend;
        backend.passwords["alice"] = "{PLAIN}old";
        auto cache = std::make_shared<AuthCache>(1 << 20, 3600, 3600);
        CachedPassdb passdb(std::make_unique<FakePassdb>(backend), cache, "%u", "0", nullptr, false);
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("alice"), "old").status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("alice"), "old").status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(1, backend.lookups);
        PassdbReply cached = passdb.verify_plain(request_for("alice"), "old");
        CPPUNIT_ASSERT_EQUAL(std::string("/home/alice"), cached.fields["userdb_home"]);

        backend.passwords["alice"] = "{PLAIN}new";
        // The cached entry still takes the old password ...
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("alice"), "old").status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(1, backend.lookups);
        // ... and a mismatch with it asks the backend again, where the new one is.
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("alice"), "new").status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(2, backend.lookups);
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("alice"), "old").status == PassdbStatus::PasswordMismatch);
        cache->clear();
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("alice"), "old").status == PassdbStatus::PasswordMismatch);
    }

    void unknown_users_cached_negatively()
    {
        Backend backend;
        auto cache = std::make_shared<AuthCache>(1 << 20, 3600, 3600);
        CachedPassdb passdb(std::make_unique<FakePassdb>(backend), cache, "%u", "0", nullptr, false);
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("bob"), "x").status == PassdbStatus::UserUnknown);
        backend.passwords["bob"] = "{PLAIN}x";
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("bob"), "x").status == PassdbStatus::UserUnknown);
        CPPUNIT_ASSERT_EQUAL(1, backend.lookups);
        cache->clear();
        CPPUNIT_ASSERT(passdb.verify_plain(request_for("bob"), "x").status == PassdbStatus::Ok);
        // Credentials for challenge-response mechanisms come from the same entry.
        PassdbReply credentials = passdb.lookup_credentials(request_for("bob"), "PLAIN");
        CPPUNIT_ASSERT(credentials.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(2, backend.lookups);
    }

    void worker_backed_dbs_cached_through_awaited_lookups()
    {
        Backend backend;
        backend.passwords["alice"] = "{PLAIN}secret";
        auto cache = std::make_shared<AuthCache>(1 << 20, 3600, 3600);
        PassdbChain passdbs;
        passdbs.add(std::make_unique<CachedPassdb>(std::make_unique<RemotePassdb>(backend), cache, "%u", "0", nullptr,
                                                   false),
                    PassdbRule{});
        CPPUNIT_ASSERT(passdbs.verify_plain(request_for("alice"), "secret").status == PassdbStatus::Ok);
        PassdbChainResult again = passdbs.verify_plain(request_for("alice"), "secret");
        CPPUNIT_ASSERT(again.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("/home/alice"), again.fields["userdb_home"]);
        CPPUNIT_ASSERT_EQUAL(1, backend.lookups);
        // A password other than the cached login's goes to the worker again.
        CPPUNIT_ASSERT(passdbs.verify_plain(request_for("alice"), "wrong").status == PassdbStatus::PasswordMismatch);
        CPPUNIT_ASSERT_EQUAL(2, backend.lookups);
        CPPUNIT_ASSERT(passdbs.verify_plain(request_for("nobody"), "x").status == PassdbStatus::UserUnknown);
        CPPUNIT_ASSERT(passdbs.verify_plain(request_for("nobody"), "x").status == PassdbStatus::UserUnknown);
        CPPUNIT_ASSERT_EQUAL(3, backend.lookups);

        UserdbChain userdbs;
        userdbs.add(std::make_unique<CachedUserdb>(std::make_unique<RemoteUserdb>(backend), cache, "%u", "1", nullptr),
                    UserdbRule{});
        CPPUNIT_ASSERT(userdbs.lookup(request_for("alice")).status == UserdbStatus::Ok);
        UserdbChainResult cached = userdbs.lookup(request_for("alice"));
        CPPUNIT_ASSERT_EQUAL(std::string("1000"), cached.fields["uid"]);
        CPPUNIT_ASSERT_EQUAL(4, backend.lookups);
    }

    void userdb_answers_cached()
    {
        Backend backend;
        backend.passwords["alice"] = "x";
        auto cache = std::make_shared<AuthCache>(1 << 20, 3600, 3600);
        CachedUserdb userdb(std::make_unique<FakeUserdb>(backend), cache, "%u", "1", nullptr);
        CPPUNIT_ASSERT(userdb.lookup(request_for("alice")).status == UserdbStatus::Ok);
        UserdbReply again = userdb.lookup(request_for("alice"));
        CPPUNIT_ASSERT_EQUAL(std::string("1000"), again.fields["uid"]);
        CPPUNIT_ASSERT(userdb.lookup(request_for("nobody")).status == UserdbStatus::UserUnknown);
        CPPUNIT_ASSERT(userdb.lookup(request_for("nobody")).status == UserdbStatus::UserUnknown);
        CPPUNIT_ASSERT_EQUAL(2, backend.lookups);
    }

    void disabled_cache_asks_every_time()
    {
        Backend backend;
        backend.passwords["alice"] = "{PLAIN}x";
        auto cache = std::make_shared<AuthCache>(0, 3600, 3600);
        CachedPassdb passdb(std::make_unique<FakePassdb>(backend), cache, "%u", "0", nullptr, false);
        passdb.verify_plain(request_for("alice"), "x");
        passdb.verify_plain(request_for("alice"), "x");
        CPPUNIT_ASSERT_EQUAL(2, backend.lookups);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CachedDbTest);
