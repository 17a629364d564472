#include "auth/digest.h"
#include "auth/encoding.h"
#include "auth/errors.h"
#include "auth/session_grant.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;

class SessionGrantTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SessionGrantTest);
    CPPUNIT_TEST(round_trip_keeps_every_field);
    CPPUNIT_TEST(token_is_printable);
    CPPUNIT_TEST(expiry_is_exclusive);
    CPPUNIT_TEST(wrong_key_is_rejected);
    CPPUNIT_TEST(any_changed_character_is_rejected);
    CPPUNIT_TEST(payload_swap_with_old_signature_is_rejected);
    CPPUNIT_TEST(signed_but_malformed_payload_is_rejected);
    CPPUNIT_TEST(garbage_tokens_are_rejected);
    CPPUNIT_TEST(separators_inside_fields_stay_unambiguous);
    CPPUNIT_TEST(short_key_and_oversized_field_throw);
    CPPUNIT_TEST(keys_are_random);
    CPPUNIT_TEST_SUITE_END();

    std::string key = std::string(32, '\x5a');

    static SessionGrant sample()
    {
        SessionGrant grant;
        grant.user = "alice@example.com";
        grant.uid = 5000;
        grant.gid = 5001;
        grant.home = "/var/vmail/example.com/alice";
        grant.mail_location = "maildir:~/Maildir:INBOX=/var/mail/%u";
        grant.scope = "imap";
        grant.session_id = "Q2xpZW50U2Vzc2lvbg";
        grant.expires = 1'900'000'000;
        return grant;
    }

    // A validly signed token around an arbitrary payload, as a key holder could make one.
    std::string sign_raw(const std::string& payload) const
    {
        return base64_encode(payload) + "." + base64_encode(hmac(HashAlgorithm::Sha256, key, payload));
    }

public:
    void round_trip_keeps_every_field()
    {
        SessionGrant grant = sample();
        auto verified = verify_grant(sign_grant(grant, key), key, 1'800'000'000);
        CPPUNIT_ASSERT(verified.has_value());
        CPPUNIT_ASSERT(*verified == grant);

        grant.uid = 4294967295u;
        grant.gid = 0;
        grant.home.clear();
        grant.scope = "lmtp";
        auto again = verify_grant(sign_grant(grant, key), key, 0);
        CPPUNIT_ASSERT(again.has_value());
        CPPUNIT_ASSERT(*again == grant);
    }

    void token_is_printable()
    {
        SessionGrant grant = sample();
        grant.user = std::string("nul\0and\nnewline", 15);
        std::string token = sign_grant(grant, key);
        for (char c : token)
            CPPUNIT_ASSERT(c > ' ' && c < 127);
        CPPUNIT_ASSERT(verify_grant(token, key, 0)->user == grant.user);
    }

    void expiry_is_exclusive()
    {
        SessionGrant grant = sample();
        std::string token = sign_grant(grant, key);
        CPPUNIT_ASSERT(verify_grant(token, key, grant.expires - 1).has_value());
        CPPUNIT_ASSERT(!verify_grant(token, key, grant.expires).has_value());
        CPPUNIT_ASSERT(!verify_grant(token, key, grant.expires + 3600).has_value());
    }

    void wrong_key_is_rejected()
    {
        std::string token = sign_grant(sample(), key);
        std::string other = key;
        other[31] ^= 1;
        CPPUNIT_ASSERT(!verify_grant(token, other, 0).has_value());
    }

    void any_changed_character_is_rejected()
    {
        std::string token = sign_grant(sample(), key);
        for (size_t i = 0; i < token.size(); i++) {
            for (char replacement : {'A', 'B', 'z', '+', '/', '=', '.'}) {
                if (token[i] == replacement)
                    continue;
                std::string forged = token;
                forged[i] = replacement;
                CPPUNIT_ASSERT_MESSAGE(forged, !verify_grant(forged, key, 0).has_value());
            }
        }
        CPPUNIT_ASSERT(!verify_grant(token + "A", key, 0).has_value());
        CPPUNIT_ASSERT(!verify_grant(token.substr(0, token.size() - 1), key, 0).has_value());
    }

    void payload_swap_with_old_signature_is_rejected()
    {
        SessionGrant grant = sample();
        std::string token = sign_grant(grant, key);
        SessionGrant other = grant;
        other.user = "root";
        other.uid = 0;
        std::string other_token = sign_grant(other, std::string(32, 'k'));  // attacker's key
        std::string spliced =
            other_token.substr(0, other_token.find('.')) + token.substr(token.find('.'));
        CPPUNIT_ASSERT(!verify_grant(spliced, key, 0).has_value());
    }

    void signed_but_malformed_payload_is_rejected()
    {
        // Sanity: the raw signer makes tokens the verifier accepts.
        std::string good = "loft-grant-15:alice4:50004:50000:0:4:imap1:x10:1900000000";
        CPPUNIT_ASSERT(verify_grant(sign_raw(good), key, 0).has_value());

        const char* bad[] = {
            "loft-grant-25:alice4:50004:50000:0:4:imap1:x10:1900000000",   // other version
            "loft-grant-15:alice4:50004:50000:0:4:imap1:x",                 // 7 fields
            "loft-grant-15:alice4:50004:50000:0:4:imap1:x10:19000000001:y", // 9 fields
            "loft-grant-15:alice4:50004:50000:0:4:imap1:x10:190000000",     // length overruns
            "loft-grant-15:alice4:5x004:50000:0:4:imap1:x10:1900000000",    // bad uid
            "loft-grant-15:alice10:42949672964:50000:0:4:imap1:x10:1900000000",  // uid > 32 bits
            "loft-grant-15:alice4:50004:50000:0:4:imap1:x3:abc",            // bad expiry
            "loft-grant-1:alice4:50004:50000:0:4:imap1:x10:1900000000",     // no length
            "loft-grant-100005:alice4:50004:50000:0:4:imap1:x10:1900000000",  // huge length
        };
        for (const char* payload : bad)
            CPPUNIT_ASSERT_MESSAGE(payload, !verify_grant(sign_raw(payload), key, 0).has_value());
    }

    void garbage_tokens_are_rejected()
    {
        for (const char* token : {"", ".", "abc", "abc.", ".abc", "!!!.???", "a.b.c"})
            CPPUNIT_ASSERT_MESSAGE(token, !verify_grant(token, key, 0).has_value());
        CPPUNIT_ASSERT(!verify_grant(std::string(1 << 20, 'A'), key, 0).has_value());
    }

    void separators_inside_fields_stay_unambiguous()
    {
        SessionGrant a = sample();
        a.user = "5:x";
        a.home = "";
        SessionGrant b = sample();
        b.user = "";
        b.home = "5:x";
        CPPUNIT_ASSERT(sign_grant(a, key) != sign_grant(b, key));
        CPPUNIT_ASSERT(*verify_grant(sign_grant(a, key), key, 0) == a);
        CPPUNIT_ASSERT(*verify_grant(sign_grant(b, key), key, 0) == b);
    }

    void short_key_and_oversized_field_throw()
    {
        CPPUNIT_ASSERT_THROW(sign_grant(sample(), "short"), AuthError);
        CPPUNIT_ASSERT_THROW(verify_grant("x.y", "", 0), AuthError);
        SessionGrant big = sample();
        big.home = std::string(max_grant_field_size + 1, 'h');
        CPPUNIT_ASSERT_THROW(sign_grant(big, key), AuthError);
        big.home.pop_back();
        CPPUNIT_ASSERT(verify_grant(sign_grant(big, key), key, 0).has_value());
    }

    void keys_are_random()
    {
        std::string a = make_grant_key(), b = make_grant_key();
        CPPUNIT_ASSERT_EQUAL(size_t(32), a.size());
        CPPUNIT_ASSERT(a != b);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SessionGrantTest);
