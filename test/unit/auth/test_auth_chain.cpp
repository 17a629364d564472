#include "auth/auth_chain.h"
#include "auth/errors.h"
#include "auth/static_db.h"
#include "auth/username.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;

namespace {

// A passdb with a fixed user table; "broken" makes every look-up an internal failure.
class FakePassdb final : public Passdb {
public:
    FakePassdb(std::string name, std::map<std::string, std::string> users, bool broken = false)
        : name_(std::move(name)), users_(std::move(users)), broken_(broken)
    {
        default_scheme_ = "PLAIN";
    }
    std::string_view driver() const override { return name_; }
    mutable int calls = 0;

protected:
    std::optional<PassdbEntry> lookup(const AuthRequest& request) override
    {
        calls++;
        if (broken_)
            throw AuthError("backend down");
        auto found = users_.find(request.user);
        if (found == users_.end())
            return std::nullopt;
        return PassdbEntry{found->second, {{"from", name_}}};
    }

private:
    std::string name_;
    std::map<std::string, std::string> users_;
    bool broken_;
};

AuthRequest req(const std::string& user)
{
    AuthRequest request;
    request.user = user;
    request.service = "imap";
    return request;
}

std::unique_ptr<Passdb> fake(std::string name, std::map<std::string, std::string> users, bool broken = false)
{
    return std::make_unique<FakePassdb>(std::move(name), std::move(users), broken);
}

}  // namespace

class AuthChainTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(AuthChainTest);
    CPPUNIT_TEST(actions_parse);
    CPPUNIT_TEST(default_rules_try_each_passdb);
    CPPUNIT_TEST(internal_failure_is_reported_when_nothing_succeeds);
    CPPUNIT_TEST(deny_passdb_refuses_listed_users);
    CPPUNIT_TEST(continue_after_success_only_looks_up);
    CPPUNIT_TEST(return_fail_and_skip);
    CPPUNIT_TEST(master_users);
    CPPUNIT_TEST(credentials_along_the_chain);
    CPPUNIT_TEST(userdb_chain);
    CPPUNIT_TEST(username_normalization);
    CPPUNIT_TEST(mechanisms_filter_passdbs);
    CPPUNIT_TEST_SUITE_END();

public:
    void actions_parse()
    {
        CPPUNIT_ASSERT(parse_chain_action("continue-ok") == ChainAction::ContinueOk);
        CPPUNIT_ASSERT(parse_chain_action("return-fail") == ChainAction::ReturnFail);
        CPPUNIT_ASSERT(!parse_chain_action("Continue").has_value());
        CPPUNIT_ASSERT(!parse_chain_action("").has_value());
    }

    void default_rules_try_each_passdb()
    {
        PassdbChain chain;
        chain.add(fake("first", {{"alice", "a"}}), {});
        chain.add(fake("second", {{"bob", "b"}, {"alice", "other"}}), {});
        auto r = chain.verify_plain(req("bob"), "b");
        CPPUNIT_ASSERT(r.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("second"), r.fields.at("from"));
        CPPUNIT_ASSERT_EQUAL(size_t(2), r.steps.size());
        CPPUNIT_ASSERT(r.steps[0].status == PassdbStatus::UserUnknown);
        // Either passdb's password works: a mismatch in the first continues.
        CPPUNIT_ASSERT(chain.verify_plain(req("alice"), "other").status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(chain.verify_plain(req("alice"), "x").status == PassdbStatus::PasswordMismatch);
        CPPUNIT_ASSERT(chain.verify_plain(req("carol"), "x").status == PassdbStatus::UserUnknown);
        CPPUNIT_ASSERT(PassdbChain().verify_plain(req("a"), "a").status == PassdbStatus::UserUnknown);
    }

    void internal_failure_is_reported_when_nothing_succeeds()
    {
        PassdbChain chain;
        chain.add(fake("down", {}, true), {});
        chain.add(fake("up", {{"alice", "a"}}), {});
        CPPUNIT_ASSERT(chain.verify_plain(req("alice"), "a").status == PassdbStatus::Ok);
        auto r = chain.verify_plain(req("alice"), "wrong");
        CPPUNIT_ASSERT(r.status == PassdbStatus::InternalFailure);
        CPPUNIT_ASSERT_EQUAL(std::string("backend down"), r.steps[0].error);
        CPPUNIT_ASSERT(chain.verify_plain(req("nobody"), "x").status == PassdbStatus::InternalFailure);

        PassdbChain strict;
        PassdbRule stop;
        stop.on_internalfail = ChainAction::ReturnFail;
        strict.add(fake("down", {}, true), stop);
        strict.add(fake("up", {{"alice", "a"}}), {});
        CPPUNIT_ASSERT(strict.verify_plain(req("alice"), "a").status == PassdbStatus::InternalFailure);
    }

    void mechanisms_filter_passdbs()
    {
        // The EXTERNAL set-up: passwords for everyone, no password for certificate logins.
        PassdbChain chain;
        chain.add(fake("users", {{"alice", "a"}}), {});
        PassdbRule external_only;
        external_only.mechanisms = {"EXTERNAL"};
        chain.add(make_passdb("static", "nopassword=y"), external_only);
        AuthRequest plain = req("alice");
        plain.mechanism = "PLAIN";
        CPPUNIT_ASSERT(chain.verify_plain(plain, "a").status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(chain.verify_plain(plain, "").status == PassdbStatus::PasswordMismatch);
        CPPUNIT_ASSERT(chain.verify_plain(plain, "anything").status == PassdbStatus::PasswordMismatch);
        AuthRequest external = req("alice");
        external.mechanism = "external";
        auto r = chain.verify_plain(external, "");
        CPPUNIT_ASSERT(r.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(size_t(2), r.steps.size());
        // A look-up without a mechanism only reaches passdbs that list "none".
        CPPUNIT_ASSERT(chain.verify_plain(req("alice"), "").status != PassdbStatus::Ok);
        PassdbRule none;
        none.mechanisms = {"NONE", "PLAIN"};
        CPPUNIT_ASSERT(passdb_accepts_mechanism(none, ""));
        CPPUNIT_ASSERT(passdb_accepts_mechanism(none, "plain"));
        CPPUNIT_ASSERT(!passdb_accepts_mechanism(none, "EXTERNAL"));
        CPPUNIT_ASSERT(passdb_accepts_mechanism(PassdbRule{}, "EXTERNAL"));
    }

    void deny_passdb_refuses_listed_users()
    {
        PassdbChain chain;
        PassdbRule deny;
        deny.deny = true;
        chain.add(fake("denied", {{"mallory", ""}}), deny);
        chain.add(fake("users", {{"mallory", "m"}, {"alice", "a"}}), {});
        auto r = chain.verify_plain(req("mallory"), "m");
        CPPUNIT_ASSERT(r.status == PassdbStatus::UserDisabled);
        CPPUNIT_ASSERT_EQUAL(std::string("User found from deny passdb"), r.steps.back().error);
        CPPUNIT_ASSERT(chain.verify_plain(req("alice"), "a").status == PassdbStatus::Ok);
    }

    void continue_after_success_only_looks_up()
    {
        // First passdb checks the password, the second must merely know the user.
        PassdbChain chain;
        PassdbRule go_on;
        go_on.on_success = ChainAction::Continue;
        go_on.on_failure = ChainAction::ReturnFail;
        chain.add(fake("password", {{"alice", "a"}, {"bob", "b"}}), go_on);
        chain.add(fake("directory", {{"alice", "different"}}), {});
        CPPUNIT_ASSERT(chain.verify_plain(req("alice"), "a").status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(chain.verify_plain(req("alice"), "different").status == PassdbStatus::PasswordMismatch);
        CPPUNIT_ASSERT(chain.verify_plain(req("bob"), "b").status == PassdbStatus::UserUnknown);

        PassdbChain sticky;
        PassdbRule ok_then_more;
        ok_then_more.on_success = ChainAction::ContinueOk;
        sticky.add(fake("p1", {{"alice", "a"}}), ok_then_more);
        sticky.add(fake("p2", {}), {});
        CPPUNIT_ASSERT(sticky.verify_plain(req("alice"), "a").status == PassdbStatus::Ok);
    }

    void return_fail_and_skip()
    {
        PassdbChain chain;
        PassdbRule hard;
        hard.on_failure = ChainAction::ReturnFail;
        chain.add(fake("p1", {{"alice", "a"}}), hard);
        chain.add(fake("p2", {{"alice", "b"}}), {});
        CPPUNIT_ASSERT(chain.verify_plain(req("alice"), "b").status == PassdbStatus::PasswordMismatch);

        PassdbChain skipping;
        PassdbRule first;
        first.on_success = ChainAction::ContinueOk;
        auto p1 = std::make_unique<FakePassdb>("p1", std::map<std::string, std::string>{{"alice", "a"}});
        auto p2 = std::make_unique<FakePassdb>("p2", std::map<std::string, std::string>{{"alice", "a"}});
        FakePassdb* second = p2.get();
        PassdbRule skip_authenticated;
        skip_authenticated.skip = PassdbSkip::Authenticated;
        skipping.add(std::move(p1), first);
        skipping.add(std::move(p2), skip_authenticated);
        CPPUNIT_ASSERT(skipping.verify_plain(req("alice"), "a").status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(0, second->calls);
    }

    void master_users()
    {
        PassdbChain chain;
        PassdbRule master;
        master.master = true;
        master.pass = true;
        chain.add(fake("masters", {{"admin", "adminpw"}}), master);
        chain.add(fake("users", {{"alice", "a"}}), {});
        auto r = chain.verify_master_plain(req("admin"), req("alice"), "adminpw");
        CPPUNIT_ASSERT(r.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(chain.verify_master_plain(req("admin"), req("alice"), "a").status != PassdbStatus::Ok);
        // pass=yes: the target must exist in the normal passdbs.
        CPPUNIT_ASSERT(chain.verify_master_plain(req("admin"), req("ghost"), "adminpw").status ==
                       PassdbStatus::UserUnknown);
        // Master passdbs never authenticate normal logins.
        CPPUNIT_ASSERT(chain.verify_plain(req("admin"), "adminpw").status == PassdbStatus::UserUnknown);
        // Challenge-response mechanisms get the master's credentials, from the master passdbs only.
        auto credentials = chain.lookup_master_credentials(req("admin"), req("alice"), "PLAIN");
        CPPUNIT_ASSERT(credentials.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("adminpw"), credentials.credentials);
        CPPUNIT_ASSERT(chain.lookup_master_credentials(req("admin"), req("ghost"), "PLAIN").status ==
                       PassdbStatus::UserUnknown);
        CPPUNIT_ASSERT(chain.lookup_master_credentials(req("alice"), req("admin"), "PLAIN").status !=
                       PassdbStatus::Ok);
    }

    void credentials_along_the_chain()
    {
        PassdbChain chain;
        chain.add(fake("first", {{"alice", "{SHA512-CRYPT}$6$x$y"}}), {});
        chain.add(fake("second", {{"alice", "{PLAIN}secret"}}), {});
        auto r = chain.lookup_credentials(req("alice"), "CRAM-MD5");
        CPPUNIT_ASSERT(r.status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(size_t(32), r.credentials.size());
        CPPUNIT_ASSERT(r.steps[0].status == PassdbStatus::SchemeNotAvailable);
    }

    void userdb_chain()
    {
        UserdbChain chain;
        UserdbRule keep_going;
        keep_going.on_success = ChainAction::Continue;
        chain.add(std::make_unique<StaticUserdb>("uid=5000 gid=5000 home=/var/vmail/%n"), keep_going);
        chain.add(std::make_unique<StaticUserdb>("home=/srv/%n mail=maildir:~/M"), {});
        auto r = chain.lookup(req("alice"));
        CPPUNIT_ASSERT(r.status == UserdbStatus::Ok);
        FieldMap expected = {{"uid", "5000"}, {"gid", "5000"}, {"home", "/srv/alice"}, {"mail", "maildir:~/M"}};
        CPPUNIT_ASSERT(r.fields == expected);
        CPPUNIT_ASSERT(UserdbChain().lookup(req("a")).status == UserdbStatus::UserUnknown);

        UserdbChain broken;
        broken.add(std::make_unique<StaticUserdb>("home=%q"), {});
        CPPUNIT_ASSERT(broken.lookup(req("a")).status == UserdbStatus::InternalFailure);
    }

    void username_normalization()
    {
        UsernameSettings settings;
        std::string error;
        CPPUNIT_ASSERT_EQUAL(std::string("alice@example.com"),
                             normalize_username("Alice@Example.COM", settings, error).value());
        CPPUNIT_ASSERT(!normalize_username("al/ice", settings, error));
        CPPUNIT_ASSERT_EQUAL(std::string("Username character disallowed by auth_username_chars: 0x2f "
                                         "(username: al/ice)"),
                             error);
        CPPUNIT_ASSERT(!normalize_username("", settings, error));
        CPPUNIT_ASSERT_EQUAL(std::string("Empty username"), error);
        CPPUNIT_ASSERT(!normalize_username(std::string(max_login_name + 1, 'a'), settings, error));

        settings.default_realm = "example.com";
        settings.translation = "#@";
        settings.format = "%n";
        CPPUNIT_ASSERT_EQUAL(std::string("Bob"), normalize_username("Bob", settings, error).value());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), normalize_username("bob#other.org", settings, error).value());

        UsernameSettings master;
        master.master_user_separator = "*";
        auto login = normalize_login("Alice*Admin", master, error);
        CPPUNIT_ASSERT(login.has_value());
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), login->user);
        CPPUNIT_ASSERT_EQUAL(std::string("admin"), login->master_user);
        master.chars.clear();
        login = normalize_login("we/ird", master, error);
        CPPUNIT_ASSERT(login && login->user == "we/ird" && login->master_user.empty());
        CPPUNIT_ASSERT(!normalize_login("alice*", master, error));  // empty master name
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AuthChainTest);
