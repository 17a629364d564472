#include "auth/penalty.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;

class PenaltyTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PenaltyTest);
    CPPUNIT_TEST(delays_follow_dovecot);
    CPPUNIT_TEST(failures_raise_and_success_clears);
    CPPUNIT_TEST(same_password_retry_does_not_raise);
    CPPUNIT_TEST(penalty_decays_and_expires);
    CPPUNIT_TEST(ipv6_grouped_by_48_and_table_bounded);
    CPPUNIT_TEST_SUITE_END();

public:
    void delays_follow_dovecot()
    {
        CPPUNIT_ASSERT_EQUAL(2u, auth_penalty_to_secs(0));
        CPPUNIT_ASSERT_EQUAL(4u, auth_penalty_to_secs(1));
        CPPUNIT_ASSERT_EQUAL(8u, auth_penalty_to_secs(2));
        CPPUNIT_ASSERT_EQUAL(15u, auth_penalty_to_secs(3));
        CPPUNIT_ASSERT_EQUAL(15u, auth_penalty_to_secs(100));
        CPPUNIT_ASSERT_EQUAL(29u, auth_penalty_timeout);
    }

    void failures_raise_and_success_clears()
    {
        AuthPenalty penalty;
        int64_t t = 1000;
        CPPUNIT_ASSERT_EQUAL(0u, penalty.lookup("192.0.2.1", t));
        for (unsigned i = 1; i <= 6; i++) {
            penalty.record_failure("192.0.2.1", "alice", "guess" + std::to_string(i), t);
            CPPUNIT_ASSERT_EQUAL(std::min(i, auth_penalty_max_penalty), penalty.lookup("192.0.2.1", t));
        }
        CPPUNIT_ASSERT_EQUAL(0u, penalty.lookup("192.0.2.2", t));
        CPPUNIT_ASSERT_EQUAL(4u, penalty.lookup("::ffff:192.0.2.1", t));
        penalty.record_success("192.0.2.1");
        CPPUNIT_ASSERT_EQUAL(0u, penalty.lookup("192.0.2.1", t));
        penalty.record_failure("", "alice", "x", t);  // no IP: not tracked
        CPPUNIT_ASSERT_EQUAL(size_t(0), penalty.tracked_clients());
    }

    void same_password_retry_does_not_raise()
    {
        AuthPenalty penalty;
        penalty.record_failure("192.0.2.1", "alice", "oldpass", 100);
        penalty.record_failure("192.0.2.1", "alice", "oldpass", 100);
        penalty.record_failure("192.0.2.1", "alice", "oldpass", 100);
        CPPUNIT_ASSERT_EQUAL(1u, penalty.lookup("192.0.2.1", 100));
        penalty.record_failure("192.0.2.1", "bob", "oldpass", 100);
        CPPUNIT_ASSERT_EQUAL(2u, penalty.lookup("192.0.2.1", 100));
    }

    void penalty_decays_and_expires()
    {
        AuthPenalty penalty;
        for (int i = 0; i < 4; i++)
            penalty.record_failure("192.0.2.1", "u", "p" + std::to_string(i), 1000);
        CPPUNIT_ASSERT_EQUAL(4u, penalty.lookup("192.0.2.1", 1000));
        CPPUNIT_ASSERT_EQUAL(4u, penalty.lookup("192.0.2.1", 1014));
        // Dovecot's decay starts at the top delay (15 s) and then cascades: a client quiet
        // for that long is forgiven entirely.
        CPPUNIT_ASSERT_EQUAL(0u, penalty.lookup("192.0.2.1", 1015));
        CPPUNIT_ASSERT_EQUAL(0u, penalty.lookup("192.0.2.1", 1000 + auth_penalty_timeout + 1));
        CPPUNIT_ASSERT_EQUAL(4u, penalty.lookup("192.0.2.1", 900));  // clock went back: no decay
    }

    void ipv6_grouped_by_48_and_table_bounded()
    {
        AuthPenalty penalty(3);
        penalty.record_failure("2001:db8:1:2::1", "u", "a", 10);
        CPPUNIT_ASSERT_EQUAL(1u, penalty.lookup("2001:db8:1:ffff::9", 10));
        CPPUNIT_ASSERT_EQUAL(0u, penalty.lookup("2001:db8:2::1", 10));
        for (int i = 0; i < 10; i++)
            penalty.record_failure("198.51.100." + std::to_string(i), "u", "a", 20 + i);
        CPPUNIT_ASSERT(penalty.tracked_clients() <= 3);
        CPPUNIT_ASSERT_EQUAL(1u, penalty.lookup("198.51.100.9", 29));  // newest kept
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PenaltyTest);
