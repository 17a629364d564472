#include "auth/auth_cache.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;

class AuthCacheTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(AuthCacheTest);
    CPPUNIT_TEST(hits_until_ttl);
    CPPUNIT_TEST(negative_entries);
    CPPUNIT_TEST(bounded_by_bytes_lru);
    CPPUNIT_TEST(disabled_and_flush);
    CPPUNIT_TEST_SUITE_END();

public:
    void hits_until_ttl()
    {
        AuthCache cache(1 << 20, 3600, 60);
        cache.insert("alice", "{PLAIN}a", 100);
        auto hit = cache.lookup("alice", 100 + 3599);
        CPPUNIT_ASSERT(hit && !hit->negative && hit->value == "{PLAIN}a");
        CPPUNIT_ASSERT(!cache.lookup("alice", 100 + 3600));
        CPPUNIT_ASSERT_EQUAL(size_t(0), cache.entries());
        cache.insert("bob", "x", 500);
        CPPUNIT_ASSERT(!cache.lookup("bob", 400));  // clock went back
        cache.insert("bob", "x", 500);
        cache.insert("bob", "y", 501);  // replaced, not duplicated
        CPPUNIT_ASSERT_EQUAL(size_t(1), cache.entries());
        CPPUNIT_ASSERT_EQUAL(std::string("y"), cache.lookup("bob", 502)->value);
    }

    void negative_entries()
    {
        AuthCache cache(1 << 20, 3600, 60);
        cache.insert_negative("ghost", 100);
        auto hit = cache.lookup("ghost", 159);
        CPPUNIT_ASSERT(hit && hit->negative);
        CPPUNIT_ASSERT(!cache.lookup("ghost", 160));
        AuthCache no_negative(1 << 20, 3600, 0);
        no_negative.insert_negative("ghost", 100);
        CPPUNIT_ASSERT(!no_negative.lookup("ghost", 100));
    }

    void bounded_by_bytes_lru()
    {
        AuthCache cache(2000, 3600, 3600);
        for (int i = 0; i < 100; i++)
            cache.insert("user" + std::to_string(i), std::string(50, 'v'), 10);
        CPPUNIT_ASSERT(cache.used_bytes() <= 2000);
        CPPUNIT_ASSERT(cache.entries() > 0 && cache.entries() < 100);
        CPPUNIT_ASSERT(cache.lookup("user99", 11).has_value());
        CPPUNIT_ASSERT(!cache.lookup("user0", 11).has_value());
        // Touching an entry keeps it over newer ones.
        size_t n = cache.entries();
        std::string oldest = "user" + std::to_string(100 - n);
        CPPUNIT_ASSERT(cache.lookup(oldest, 11).has_value());
        cache.insert("newcomer", std::string(50, 'v'), 12);
        CPPUNIT_ASSERT(cache.lookup(oldest, 12).has_value());
        cache.insert("huge", std::string(5000, 'h'), 12);  // larger than the cache: not kept
        CPPUNIT_ASSERT(!cache.lookup("huge", 12).has_value());
        CPPUNIT_ASSERT(cache.lookup(oldest, 12).has_value());
    }

    void disabled_and_flush()
    {
        AuthCache off(0, 3600, 3600);
        off.insert("a", "b", 1);
        CPPUNIT_ASSERT(!off.lookup("a", 1));
        AuthCache cache(1 << 20, 3600, 3600);
        cache.insert("a", "b", 1);
        cache.remove("a");
        CPPUNIT_ASSERT(!cache.lookup("a", 1));
        cache.insert("a", "b", 1);
        cache.clear();
        CPPUNIT_ASSERT_EQUAL(size_t(0), cache.used_bytes());
        CPPUNIT_ASSERT(!cache.lookup("a", 1));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AuthCacheTest);
