#include "auth/errors.h"
#include "auth/password_scheme.h"
#include "lib/strings.h"
#include "test_support.h"

#include <cppunit/extensions/HelperMacros.h>

#include <set>

using namespace loft::auth;
using loft::auth::test::data_path;
using loft::auth::test::have_program;
using loft::auth::test::read_file;
using loft::auth::test::run_program;

namespace {

struct Vector {
    std::string scheme, user, password, hash;
};

// Hashes recorded from Dovecot's `doveadm pw` (see data/make-password-vectors.sh).
std::vector<Vector> load_vectors()
{
    std::vector<Vector> vectors;
    for (const std::string& line : loft::split(read_file(data_path("password-vectors.txt")), '\n')) {
        if (line.empty() || line[0] == '#')
            continue;
        std::vector<std::string> fields = loft::split(line, '\t');
        if (fields.size() != 4)
            throw std::runtime_error("bad vector line: " + line);
        vectors.push_back({fields[0], fields[1], fields[2], fields[3]});
    }
    return vectors;
}

}  // namespace

class PasswordSchemeTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PasswordSchemeTest);
    CPPUNIT_TEST(verifies_doveadm_vectors);
    CPPUNIT_TEST(covers_doveadm_scheme_list);
    CPPUNIT_TEST(generated_hashes_round_trip);
    CPPUNIT_TEST(generated_hashes_verify_in_doveadm);
    CPPUNIT_TEST(unknown_scheme_is_an_error);
    CPPUNIT_TEST(bare_hash_uses_default_scheme);
    CPPUNIT_TEST(scheme_names_ignore_case);
    CPPUNIT_TEST(encoding_is_guessed_or_forced);
    CPPUNIT_TEST(broken_stored_values_are_errors_not_matches);
    CPPUNIT_TEST(plain_trunc);
    CPPUNIT_TEST(otp_rfc2289_vectors);
    CPPUNIT_TEST(md5_accepts_crypt_and_hex);
    CPPUNIT_TEST(digest_md5_binds_user_and_realm);
    CPPUNIT_TEST(hostile_plaintext);
    CPPUNIT_TEST(split_scheme);
    CPPUNIT_TEST(rounds_option);
    CPPUNIT_TEST_SUITE_END();

public:
    void verifies_doveadm_vectors()
    {
        std::vector<Vector> vectors = load_vectors();
        CPPUNIT_ASSERT(vectors.size() > 200);
        size_t checked = 0;
        std::set<std::string> expensive_checked;
        for (const Vector& v : vectors) {
            std::string base = v.scheme.substr(0, v.scheme.find('.'));
            std::string what = v.scheme + " " + v.user + " " + v.hash;
            VerifyResult good = verify_password(v.hash, v.password, "CRYPT", v.user);
            CPPUNIT_ASSERT_MESSAGE(what + ": " + good.error, good.ok);
            // Argon2 costs a quarter second per check on a loaded machine: one wrong
            // password per scheme is enough there.
            if (base.starts_with("ARGON2") && !expensive_checked.insert(base).second) {
                checked++;
                continue;
            }
            // Change the first byte: bcrypt ignores everything past 72 bytes.
            std::string wrong = v.password;
            wrong[0] ^= 1;
            VerifyResult bad = verify_password(v.hash, wrong, "CRYPT", v.user);
            CPPUNIT_ASSERT_MESSAGE(what, !bad.ok);
            CPPUNIT_ASSERT_MESSAGE(what + ": " + bad.error, bad.error.empty());
            checked++;
        }
        CPPUNIT_ASSERT_EQUAL(vectors.size(), checked);
    }

    void covers_doveadm_scheme_list()
    {
        // `doveadm pw -l` on Debian 12's Dovecot 2.3.19.
        const char* listed = "SHA1 SSHA512 SCRAM-SHA-256 BLF-CRYPT PLAIN HMAC-MD5 OTP SHA512 SHA DES-CRYPT "
                             "CRYPT SSHA MD5-CRYPT PLAIN-MD4 PLAIN-MD5 SCRAM-SHA-1 SHA512-CRYPT CLEAR CLEARTEXT "
                             "ARGON2I ARGON2ID SSHA256 MD5 PBKDF2 SHA256 CRAM-MD5 PLAIN-TRUNC SHA256-CRYPT SMD5 "
                             "DIGEST-MD5 LDAP-MD5";
        std::vector<std::string> names = password_scheme_names();
        std::set<std::string> ours(names.begin(), names.end());
        for (const std::string& scheme : loft::split_words(listed))
            CPPUNIT_ASSERT_MESSAGE(scheme, ours.contains(scheme));
        CPPUNIT_ASSERT_EQUAL(size_t(31), ours.size());
    }

    void generated_hashes_round_trip()
    {
        HashOptions options;
        options.user = "alice@example.com";
        for (const std::string& scheme : password_scheme_names()) {
            options.rounds = scheme.starts_with("ARGON2") ? 1 : 0;
            std::string hash = hash_password(scheme, "pässwörd 1", options);
            CPPUNIT_ASSERT_MESSAGE(hash, hash.starts_with("{" + scheme + "}"));
            CPPUNIT_ASSERT_MESSAGE(hash, verify_password(hash, "pässwörd 1", "CRYPT", options.user).ok);
            VerifyResult bad = verify_password(hash, "Pässwörd 1", "CRYPT", options.user);
            CPPUNIT_ASSERT_MESSAGE(hash, !bad.ok && bad.error.empty());
        }
        // Fresh salt each time.
        CPPUNIT_ASSERT(hash_password("SSHA", "x") != hash_password("SSHA", "x"));
        CPPUNIT_ASSERT(hash_password("SHA512-CRYPT", "x") != hash_password("SHA512-CRYPT", "x"));
        CPPUNIT_ASSERT_EQUAL(std::string("{PLAIN}x"), hash_password("plain", "x"));
        CPPUNIT_ASSERT_EQUAL(std::string("{SHA.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4"),
                             hash_password("sha.hex", "secret"));
        CPPUNIT_ASSERT_THROW(hash_password("NOPE", "x"), AuthError);
        CPPUNIT_ASSERT_THROW(hash_password("DIGEST-MD5", "x"), AuthError);  // needs a user
    }

    void generated_hashes_verify_in_doveadm()
    {
        if (!have_program("doveadm"))
            return;  // covered by the recorded vectors instead
        const std::string user = "alice@example.com";
        HashOptions options;
        options.user = user;
        for (const std::string& scheme : password_scheme_names()) {
            for (const char* suffix : {"", ".HEX", ".B64"}) {
                if (*suffix && !is_known_password_scheme(scheme + suffix))
                    continue;
                // One Argon2 pass keeps both sides fast; the format is the same.
                options.rounds = scheme.starts_with("ARGON2") ? 1 : 0;
                std::string hash = hash_password(scheme + suffix, "Secret pass", options);
                CPPUNIT_ASSERT_EQUAL_MESSAGE(hash, 0,
                    run_program({"doveadm", "pw", "-t", hash, "-p", "Secret pass", "-u", user}));
                CPPUNIT_ASSERT_MESSAGE(hash,
                    run_program({"doveadm", "pw", "-t", hash, "-p", "secret pass", "-u", user}) != 0);
            }
        }
    }

    void unknown_scheme_is_an_error()
    {
        VerifyResult r = verify_password("{NOSUCH}abc", "abc");
        CPPUNIT_ASSERT(!r.ok);
        CPPUNIT_ASSERT_EQUAL(std::string("Unknown scheme NOSUCH"), r.error);
        r = verify_password("abc", "abc", "NOSUCH");
        CPPUNIT_ASSERT(!r.ok && r.error == "Unknown scheme NOSUCH");
        r = verify_password("{SSHA.ROT13}abc", "abc");
        CPPUNIT_ASSERT(!r.ok && !r.error.empty());
        CPPUNIT_ASSERT(!is_known_password_scheme("SSHA.ROT13"));
        CPPUNIT_ASSERT(is_known_password_scheme("ssha.base64"));
    }

    void bare_hash_uses_default_scheme()
    {
        std::string sha512 = "$6$OnnXyC8vZ3uPpnhs$W2uQxGVRsA9qWuBhTQ8F1jAbhFyrzpjAUYHhP0dui5kojjVr6Yh7IMeedX7"
                             "Dqvsl2OaBtcPul7GrguFWX0pda0";
        CPPUNIT_ASSERT(verify_password(sha512, "secret").ok);  // CRYPT by default
        CPPUNIT_ASSERT(verify_password(sha512, "secret", "SHA512-CRYPT").ok);
        CPPUNIT_ASSERT(verify_password("secret", "secret", "PLAIN").ok);
        CPPUNIT_ASSERT(!verify_password("secret", "secret", "CRYPT").ok);
        // A bare $1$ hash is MD5-CRYPT whatever the default, and "$..." after the hash is ignored.
        CPPUNIT_ASSERT(verify_password("$1$KPj09lzR$SNwPNeP0DWJr4JxUsoPWr0", "secret", "PLAIN").ok);
        CPPUNIT_ASSERT(verify_password("$1$KPj09lzR$SNwPNeP0DWJr4JxUsoPWr0$junk", "secret", "PLAIN").ok);
    }

    void scheme_names_ignore_case()
    {
        CPPUNIT_ASSERT(verify_password("{ssha}pqEG3eogciHHGqqVmubKSreN0TAgrt/0", "secret").ok);
        CPPUNIT_ASSERT(verify_password("{Plain-Md5}5ebe2294ecd0e0f08eab7690d2a6ee69", "secret").ok);
    }

    void encoding_is_guessed_or_forced()
    {
        // PLAIN-MD5 is hex by default, but base64 of the same digest is accepted too.
        CPPUNIT_ASSERT(verify_password("{PLAIN-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", "secret").ok);
        // SHA is base64 by default; 40 characters of hex are recognised by length.
        CPPUNIT_ASSERT(verify_password("{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4", "secret").ok);
        CPPUNIT_ASSERT(verify_password("{SHA.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4", "secret").ok);
        // An explicit encoding is not second-guessed.
        VerifyResult r = verify_password("{SHA.HEX}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret");
        CPPUNIT_ASSERT(!r.ok && r.error == "Input isn't valid HEX encoded data");
    }

    void broken_stored_values_are_errors_not_matches()
    {
        struct Case {
            const char* stored;
            const char* error;
        } cases[] = {
            {"{SHA}!!!!", "Input isn't valid base64 encoded data"},
            {"{SHA}c2hvcnQ=", "Input length isn't valid (5 instead of 20)"},
            {"{SSHA}c2hvcnQ=", "SSHA password is too short"},
            {"{SCRAM-SHA-1}4096,c2FsdA==,AAAA", "Invalid SCRAM password: expected 4 fields"},
            {"{SCRAM-SHA-1}1,c2FsdA==,AAAA,AAAA", "Invalid SCRAM password: iteration count out of range"},
            {"{PBKDF2}$1$salt$0$00", "Invalid PBKDF2 password"},
            {"{PBKDF2}$1$salt$99999999999$00", "Invalid PBKDF2 password"},
            {"{MD5}zz", "Not a valid MD5-CRYPT or PLAIN-MD5 password"},
            {"{CRYPT}$9$nosuchalgorithm", "crypt() does not support this hash"},
        };
        for (const Case& c : cases) {
            VerifyResult r = verify_password(c.stored, "secret", "CRYPT", "u");
            CPPUNIT_ASSERT_MESSAGE(c.stored, !r.ok);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(c.stored, std::string(c.error), r.error);
        }
        // An empty crypt hash must not let any password in.
        VerifyResult empty = verify_password("{CRYPT}", "");
        CPPUNIT_ASSERT(!empty.ok);
        CPPUNIT_ASSERT(!verify_password("", "anything").ok);
        CPPUNIT_ASSERT(!verify_password(std::string(10000, 'a'), "a", "PLAIN").ok);
    }

    void plain_trunc()
    {
        CPPUNIT_ASSERT(verify_password("{PLAIN-TRUNC}3-sec", "secret").ok);
        CPPUNIT_ASSERT(verify_password("{PLAIN-TRUNC}3-sec", "sec").ok);
        CPPUNIT_ASSERT(!verify_password("{PLAIN-TRUNC}3-sec", "se").ok);
        CPPUNIT_ASSERT(verify_password("{PLAIN-TRUNC}10-secret", "secret").ok);
        CPPUNIT_ASSERT(!verify_password("{PLAIN-TRUNC}10-secret", "secretive").ok);
        CPPUNIT_ASSERT_EQUAL(std::string("PLAIN-TRUNC missing length: prefix"),
                             verify_password("{PLAIN-TRUNC}secret", "secret").error);
    }

    void otp_rfc2289_vectors()
    {
        // RFC 2289 appendix C: pass phrase "This is a test.", seed "TeSt".
        CPPUNIT_ASSERT(verify_password("{OTP}md5 0 TeSt 9e876134d90499dd", "This is a test.").ok);
        CPPUNIT_ASSERT(verify_password("{OTP}md5 99 TeSt 50fe1962c4965880", "This is a test.").ok);
        CPPUNIT_ASSERT(verify_password("{OTP}md4 1 TeSt 63473ef01cd0b444", "This is a test.").ok);
        CPPUNIT_ASSERT(verify_password("{OTP}sha1 0 TeSt bb9e6ae1979d8ff4", "This is a test.").ok);
        CPPUNIT_ASSERT(verify_password("{OTP}sha1 99 TeSt 87fec7768b73ccf9", "This is a test.").ok);
        CPPUNIT_ASSERT(!verify_password("{OTP}sha1 99 TeSt 87fec7768b73ccf9", "This is a test!").ok);
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid OTP data in passdb"),
                             verify_password("{OTP}sha2 1 seed 0011223344556677", "x").error);
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid OTP data in passdb"),
                             verify_password("{OTP}md5 99999999 seed 0011223344556677", "x").error);
    }

    void md5_accepts_crypt_and_hex()
    {
        CPPUNIT_ASSERT(verify_password("{MD5}$1$KPj09lzR$SNwPNeP0DWJr4JxUsoPWr0", "secret").ok);
        CPPUNIT_ASSERT(verify_password("{MD5}5ebe2294ecd0e0f08eab7690d2a6ee69", "secret").ok);
        CPPUNIT_ASSERT(!verify_password("{MD5}5ebe2294ecd0e0f08eab7690d2a6ee69", "secreT").ok);
    }

    void digest_md5_binds_user_and_realm()
    {
        const char* hash = "{DIGEST-MD5}b1726872c344b6dc8365b774f8fd6412";  // alice@example.com
        CPPUNIT_ASSERT(verify_password(hash, "secret", "CRYPT", "alice@example.com").ok);
        CPPUNIT_ASSERT(!verify_password(hash, "secret", "CRYPT", "alice@example.org").ok);
        CPPUNIT_ASSERT(!verify_password(hash, "secret", "CRYPT", "alice").ok);
        VerifyResult no_user = verify_password(hash, "secret");
        CPPUNIT_ASSERT(!no_user.ok && !no_user.error.empty());
    }

    void hostile_plaintext()
    {
        CPPUNIT_ASSERT(!verify_password("{PLAIN}sec", std::string("sec\0ret", 7)).ok);
        CPPUNIT_ASSERT(verify_password("{PLAIN}", "").ok);  // as in Dovecot: empty matches empty
        std::string huge(100000, 'p');
        CPPUNIT_ASSERT(!verify_password("{PLAIN}" + huge, huge).ok);
        CPPUNIT_ASSERT_THROW(hash_password("SHA", std::string("a\0b", 3)), AuthError);
    }

    void split_scheme()
    {
        auto s = split_password_scheme("{SSHA256.HEX}abc}def");
        CPPUNIT_ASSERT(s && s->scheme == "SSHA256.HEX" && s->hash == "abc}def");
        CPPUNIT_ASSERT(!split_password_scheme("{unterminated").has_value());
        CPPUNIT_ASSERT(!split_password_scheme("plain").has_value());
        CPPUNIT_ASSERT(!split_password_scheme("$1$nodollar").has_value());
        auto md5 = split_password_scheme("$1$salt$hash$extra");
        CPPUNIT_ASSERT(md5 && md5->scheme == "MD5-CRYPT" && md5->hash == "$1$salt$hash");
    }

    void rounds_option()
    {
        HashOptions options;
        options.rounds = 7;
        std::string blf = hash_password("BLF-CRYPT", "x", options);
        CPPUNIT_ASSERT_MESSAGE(blf, blf.starts_with("{BLF-CRYPT}$2y$07$"));
        options.rounds = 6000;
        std::string sha = hash_password("SHA512-CRYPT", "x", options);
        CPPUNIT_ASSERT_MESSAGE(sha, sha.starts_with("{SHA512-CRYPT}$6$rounds=6000$"));
        std::string scram = hash_password("SCRAM-SHA-256", "x", options);
        CPPUNIT_ASSERT_MESSAGE(scram, scram.starts_with("{SCRAM-SHA-256}6000,"));
        CPPUNIT_ASSERT(verify_password(scram, "x").ok);
        std::string pbkdf2 = hash_password("PBKDF2", "x", options);
        CPPUNIT_ASSERT_MESSAGE(pbkdf2, pbkdf2.find("$6000$") != std::string::npos);
        CPPUNIT_ASSERT(verify_password(pbkdf2, "x").ok);
        // Defaults are Dovecot's: cost 5 for bcrypt, no rounds= for SHA-crypt.
        CPPUNIT_ASSERT(hash_password("CRYPT", "x").starts_with("{CRYPT}$2y$05$"));
        CPPUNIT_ASSERT(hash_password("SHA256-CRYPT", "x").find("rounds=") == std::string::npos);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PasswordSchemeTest);
