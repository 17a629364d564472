#include "auth/digest.h"
#include "auth/encoding.h"
#include "auth/password_scheme.h"
#include "auth/sasl_mechanism.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;
using Kind = SaslOutcome::Kind;

namespace {

// The passdb side a test plays: credentials in any scheme, made from a stored value.
std::optional<std::string> creds(const std::string& stored, const std::string& scheme,
                                 const std::string& user = {})
{
    return credentials_for_scheme(stored, scheme, "CRYPT", user).credentials;
}

// SCRAM credentials "iter,salt,stored-key,server-key" for a known salt (RFC test vectors).
std::string scram_credentials(HashAlgorithm algorithm, const std::string& password,
                              const std::string& salt_b64, unsigned iterations)
{
    std::string salted = pbkdf2(algorithm, password, *base64_decode(salt_b64), iterations,
                                digest_size(algorithm));
    std::string stored = digest(algorithm, hmac(algorithm, salted, "Client Key"));
    std::string server = hmac(algorithm, salted, "Server Key");
    return std::to_string(iterations) + "," + salt_b64 + "," + base64_encode(stored) + "," +
           base64_encode(server);
}

}  // namespace

class SaslMechanismTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SaslMechanismTest);
    CPPUNIT_TEST(factory_and_plaintext_flags);
    CPPUNIT_TEST(plain_with_and_without_initial_response);
    CPPUNIT_TEST(login_asks_user_then_password);
    CPPUNIT_TEST(cram_md5_client_exchange);
    CPPUNIT_TEST(scram_sha1_rfc5802_vector);
    CPPUNIT_TEST(scram_sha256_rfc7677_vector);
    CPPUNIT_TEST(scram_client_with_random_nonce_and_wrong_password);
    CPPUNIT_TEST(scram_rejects_bad_messages);
    CPPUNIT_TEST(digest_md5_rfc2831_vector);
    CPPUNIT_TEST(digest_md5_rejects_bad_responses);
    CPPUNIT_TEST(anonymous_and_external);
    CPPUNIT_TEST(no_data_after_end_and_size_limit);
    CPPUNIT_TEST(credentials_conversion);
    CPPUNIT_TEST_SUITE_END();

public:
    void factory_and_plaintext_flags()
    {
        for (const std::string& name : sasl_mechanism_names()) {
            auto mech = make_sasl_mechanism(name, {});
            CPPUNIT_ASSERT_MESSAGE(name, mech != nullptr);
            CPPUNIT_ASSERT_EQUAL(name, std::string(mech->name()));
        }
        CPPUNIT_ASSERT(make_sasl_mechanism("scram-sha-1", {}) != nullptr);
        CPPUNIT_ASSERT(make_sasl_mechanism("NTLM", {}) == nullptr);
        CPPUNIT_ASSERT(sasl_mechanism_is_plaintext("plain") && sasl_mechanism_is_plaintext("LOGIN"));
        CPPUNIT_ASSERT(!sasl_mechanism_is_plaintext("CRAM-MD5"));
    }

    void plain_with_and_without_initial_response()
    {
        auto mech = make_sasl_mechanism("PLAIN", {});
        SaslOutcome out = mech->step(std::string("admin\0alice\0pw", 14));
        CPPUNIT_ASSERT(out.kind == Kind::VerifyPassword);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), out.user);
        CPPUNIT_ASSERT_EQUAL(std::string("admin"), out.authzid);
        CPPUNIT_ASSERT_EQUAL(std::string("pw"), out.password);

        mech = make_sasl_mechanism("PLAIN", {});
        out = mech->step({}, false);
        CPPUNIT_ASSERT(out.kind == Kind::Challenge && out.data.empty());
        out = mech->step(std::string("\0bob\0pw", 7));
        CPPUNIT_ASSERT(out.kind == Kind::VerifyPassword && out.user == "bob");

        mech = make_sasl_mechanism("PLAIN", {});
        out = mech->step("no-nuls");
        CPPUNIT_ASSERT(out.kind == Kind::Failure && out.error == "invalid input");
    }

    void login_asks_user_then_password()
    {
        auto mech = make_sasl_mechanism("LOGIN", {});
        SaslOutcome out = mech->step({}, false);
        CPPUNIT_ASSERT(out.kind == Kind::Challenge && out.data == "Username:");
        out = mech->step("alice");
        CPPUNIT_ASSERT(out.kind == Kind::Challenge && out.data == "Password:");
        out = mech->step("s3cret");
        CPPUNIT_ASSERT(out.kind == Kind::VerifyPassword && out.user == "alice" && out.password == "s3cret");

        mech = make_sasl_mechanism("LOGIN", {});
        out = mech->step("alice");  // user name as initial response
        CPPUNIT_ASSERT(out.kind == Kind::Challenge && out.data == "Password:");
        out = mech->step("");
        CPPUNIT_ASSERT(out.kind == Kind::Failure);

        mech = make_sasl_mechanism("LOGIN", {});
        mech->step({}, false);
        out = mech->step(std::string("al\0ice", 6));
        CPPUNIT_ASSERT(out.kind == Kind::Failure);
    }

    void cram_md5_client_exchange()
    {
        SaslSettings settings;
        settings.hostname = "mail.example.com";
        for (const char* stored : {"{PLAIN}secret", "{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56"}) {
            for (const char* password : {"secret", "wrong"}) {
                auto mech = make_sasl_mechanism("CRAM-MD5", settings);
                SaslOutcome out = mech->step({}, false);
                CPPUNIT_ASSERT(out.kind == Kind::Challenge);
                CPPUNIT_ASSERT(out.data.starts_with("<") && out.data.ends_with("@mail.example.com>"));
                std::string answer = "alice " + hex_encode(hmac(HashAlgorithm::Md5, password, out.data));
                out = mech->step(answer);
                CPPUNIT_ASSERT(out.kind == Kind::LookupCredentials);
                CPPUNIT_ASSERT(out.user == "alice" && out.scheme == "CRAM-MD5");
                out = mech->credentials(creds(stored, "CRAM-MD5"));
                bool good = std::string(password) == "secret";
                CPPUNIT_ASSERT_MESSAGE(out.error, out.kind == (good ? Kind::Success : Kind::Failure));
                if (good)
                    CPPUNIT_ASSERT_EQUAL(std::string("alice"), out.user);
            }
        }
        auto mech = make_sasl_mechanism("CRAM-MD5", settings);
        mech->step({}, false);
        CPPUNIT_ASSERT(mech->step("alice nothex").kind == Kind::Failure);
        mech = make_sasl_mechanism("CRAM-MD5", settings);
        mech->step({}, false);
        mech->step("alice 00112233445566778899aabbccddeeff");
        CPPUNIT_ASSERT(mech->credentials(std::nullopt).kind == Kind::Failure);
    }

    void scram_sha1_rfc5802_vector()
    {
        SaslSettings settings;
        settings.server_nonce = "3rfcNHYJY1ZVvWVs7j";
        auto mech = make_sasl_mechanism("SCRAM-SHA-1", settings);
        SaslOutcome out = mech->step("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        CPPUNIT_ASSERT(out.kind == Kind::LookupCredentials && out.user == "user" && out.scheme == "SCRAM-SHA-1");
        out = mech->credentials(scram_credentials(HashAlgorithm::Sha1, "pencil", "QSXCR+Q6sek8bf92", 4096));
        CPPUNIT_ASSERT(out.kind == Kind::Challenge);
        CPPUNIT_ASSERT_EQUAL(std::string("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"),
                             out.data);
        out = mech->step("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
        CPPUNIT_ASSERT_MESSAGE(out.error, out.kind == Kind::Success);
        CPPUNIT_ASSERT_EQUAL(std::string("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="), out.data);
        CPPUNIT_ASSERT_EQUAL(std::string("user"), out.user);
    }

    void scram_sha256_rfc7677_vector()
    {
        SaslSettings settings;
        settings.server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        auto mech = make_sasl_mechanism("SCRAM-SHA-256", settings);
        SaslOutcome out = mech->step("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        CPPUNIT_ASSERT(out.kind == Kind::LookupCredentials);
        out = mech->credentials(
            scram_credentials(HashAlgorithm::Sha256, "pencil", "W22ZaJ0SNY7soEsUEjb6gQ==", 4096));
        CPPUNIT_ASSERT_EQUAL(std::string("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                         "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
                             out.data);
        out = mech->step("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                         "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
        CPPUNIT_ASSERT_MESSAGE(out.error, out.kind == Kind::Success);
        CPPUNIT_ASSERT_EQUAL(std::string("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="), out.data);
    }

    // A client written from RFC 5802, against credentials made from a {PLAIN} password.
    SaslOutcome scram_login(const std::string& stored, const std::string& password)
    {
        const HashAlgorithm alg = HashAlgorithm::Sha256;
        auto mech = make_sasl_mechanism("SCRAM-SHA-256", {});
        std::string bare = "n=al=2Cice,r=clientnonce123";
        SaslOutcome out = mech->step("n,a=adm=3Din," + bare);
        CPPUNIT_ASSERT(out.kind == Kind::LookupCredentials);
        CPPUNIT_ASSERT_EQUAL(std::string("al,ice"), out.user);
        CPPUNIT_ASSERT_EQUAL(std::string("adm=in"), out.authzid);
        out = mech->credentials(creds(stored, "SCRAM-SHA-256"));
        CPPUNIT_ASSERT(out.kind == Kind::Challenge);
        std::string server_first = out.data;
        std::vector<std::string> parts;
        for (size_t start = 0, end; start <= server_first.size(); start = end + 1) {
            end = server_first.find(',', start);
            if (end == std::string::npos)
                end = server_first.size();
            parts.push_back(server_first.substr(start, end - start));
        }
        CPPUNIT_ASSERT(parts.size() == 3 && parts[0].starts_with("r=clientnonce123"));
        std::string salted = pbkdf2(alg, password, *base64_decode(parts[1].substr(2)),
                                    std::stoul(parts[2].substr(2)), 32);
        std::string client_key = hmac(alg, salted, "Client Key");
        std::string without_proof = "c=" + base64_encode("n,a=adm=3Din,") + "," + parts[0];
        std::string auth_message = bare + "," + server_first + "," + without_proof;
        std::string signature = hmac(alg, digest(alg, client_key), auth_message);
        for (size_t i = 0; i < client_key.size(); i++)
            client_key[i] = static_cast<char>(client_key[i] ^ signature[i]);
        out = mech->step(without_proof + ",p=" + base64_encode(client_key));
        if (out.kind == Kind::Success) {
            std::string expected = "v=" + base64_encode(hmac(alg, hmac(alg, salted, "Server Key"), auth_message));
            CPPUNIT_ASSERT_EQUAL(expected, out.data);
        }
        return out;
    }

    void scram_client_with_random_nonce_and_wrong_password()
    {
        CPPUNIT_ASSERT(scram_login("{PLAIN}Tr0ub4dor", "Tr0ub4dor").kind == Kind::Success);
        SaslOutcome bad = scram_login("{PLAIN}Tr0ub4dor", "tr0ub4dor");
        CPPUNIT_ASSERT(bad.kind == Kind::Failure && bad.error == "password mismatch");
        std::string stored = hash_password("SCRAM-SHA-256", "Tr0ub4dor");
        CPPUNIT_ASSERT(scram_login(stored, "Tr0ub4dor").kind == Kind::Success);
    }

    void scram_rejects_bad_messages()
    {
        for (const char* first : {"p=tls-unique,,n=user,r=abc", "x,,n=user,r=abc", "n,,m=ext,n=user,r=abc",
                                  "n,,n=us=er,r=abc", "n,,n=user", "n,,n=,r=abc", "n,,n=user,r=",
                                  "n,b=x,n=user,r=abc", "garbage"}) {
            auto mech = make_sasl_mechanism("SCRAM-SHA-1", {});
            CPPUNIT_ASSERT_MESSAGE(first, mech->step(first).kind == Kind::Failure);
        }
        SaslSettings settings;
        settings.server_nonce = "3rfcNHYJY1ZVvWVs7j";
        std::string credentials = scram_credentials(HashAlgorithm::Sha1, "pencil", "QSXCR+Q6sek8bf92", 4096);
        for (const char* final : {
                 "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=w0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",  // proof
                 "c=biws,r=fyko+d2lbbFgONRv9qkxdawL,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",                // nonce
                 "c=eSws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",  // cbind
                 "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j",                             // no proof
             }) {
            auto mech = make_sasl_mechanism("SCRAM-SHA-1", settings);
            mech->step("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
            CPPUNIT_ASSERT(mech->credentials(credentials).kind == Kind::Challenge);
            CPPUNIT_ASSERT_MESSAGE(final, mech->step(final).kind == Kind::Failure);
        }
        auto mech = make_sasl_mechanism("SCRAM-SHA-1", settings);
        mech->step("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        CPPUNIT_ASSERT(mech->credentials("{SSHA}not-scram").kind == Kind::Failure);
    }

    void digest_md5_rfc2831_vector()
    {
        SaslSettings settings;
        settings.server_nonce = "OA6MG9tEQGm2hh";
        settings.realms = {"elwood.innosoft.com"};
        auto mech = make_sasl_mechanism("DIGEST-MD5", settings);
        SaslOutcome out = mech->step({}, false);
        CPPUNIT_ASSERT(out.kind == Kind::Challenge);
        CPPUNIT_ASSERT_EQUAL(std::string("realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\","
                                         "charset=\"utf-8\",algorithm=\"md5-sess\""),
                             out.data);
        out = mech->step("charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\","
                         "nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"OA6MHXh6VqTrRk\","
                         "digest-uri=\"imap/elwood.innosoft.com\",response=d388dad90d4bbd760a152321f2143af7,qop=auth");
        CPPUNIT_ASSERT_MESSAGE(out.error, out.kind == Kind::LookupCredentials);
        CPPUNIT_ASSERT_EQUAL(std::string("chris@elwood.innosoft.com"), out.user);
        out = mech->credentials(creds("{PLAIN}secret", "DIGEST-MD5", "chris@elwood.innosoft.com"));
        CPPUNIT_ASSERT_MESSAGE(out.error, out.kind == Kind::Challenge);
        CPPUNIT_ASSERT_EQUAL(std::string("rspauth=ea40f60335c427b5527b84dbabcdfffd"), out.data);
        out = mech->step("");
        CPPUNIT_ASSERT(out.kind == Kind::Success && out.user == "chris@elwood.innosoft.com");
    }

    void digest_md5_rejects_bad_responses()
    {
        SaslSettings settings;
        settings.server_nonce = "OA6MG9tEQGm2hh";
        settings.realms = {"elwood.innosoft.com"};
        const std::string good = "username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\","
                                 "nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/elwood.innosoft.com\","
                                 "response=d388dad90d4bbd760a152321f2143af7,qop=auth";
        // Wrong password.
        auto mech = make_sasl_mechanism("DIGEST-MD5", settings);
        mech->step({}, false);
        CPPUNIT_ASSERT(mech->step(good).kind == Kind::LookupCredentials);
        CPPUNIT_ASSERT(mech->credentials(creds("{PLAIN}secreT", "DIGEST-MD5", "chris@elwood.innosoft.com")).kind ==
                       Kind::Failure);
        for (std::string bad : {good + ",nonce=\"x\"", std::string("username=\"chris"), std::string("garbage"),
                                std::string("username=chris,nonce=\"OA6MG9tEQGm2hh\",nc=00000002,cnonce=a,"
                                            "digest-uri=x,response=d388dad90d4bbd760a152321f2143af7"),
                                std::string("username=chris,nonce=\"other\",nc=00000001,cnonce=a,"
                                            "digest-uri=x,response=d388dad90d4bbd760a152321f2143af7"),
                                std::string("username=chris,realm=evil.example,nonce=\"OA6MG9tEQGm2hh\",nc=00000001,"
                                            "cnonce=a,digest-uri=x,response=d388dad90d4bbd760a152321f2143af7"),
                                std::string("username=chris,nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=a,"
                                            "digest-uri=x,response=d388dad90d4bbd760a152321f2143af7,qop=auth-conf")}) {
            mech = make_sasl_mechanism("DIGEST-MD5", settings);
            mech->step({}, false);
            CPPUNIT_ASSERT_MESSAGE(bad, mech->step(bad).kind == Kind::Failure);
        }
    }

    void anonymous_and_external()
    {
        CPPUNIT_ASSERT(make_sasl_mechanism("ANONYMOUS", {})->step("trace").kind == Kind::Failure);
        SaslSettings settings;
        settings.anonymous_username = "anonymous";
        settings.certificate_username = "alice@example.com";
        SaslOutcome out = make_sasl_mechanism("ANONYMOUS", settings)->step("someone@example.org");
        CPPUNIT_ASSERT(out.kind == Kind::Success && out.user == "anonymous");

        CPPUNIT_ASSERT(make_sasl_mechanism("EXTERNAL", {})->step("").kind == Kind::Failure);
        out = make_sasl_mechanism("EXTERNAL", settings)->step("");
        CPPUNIT_ASSERT(out.kind == Kind::LookupUser && out.user == "alice@example.com" && out.authzid.empty());
        out = make_sasl_mechanism("EXTERNAL", settings)->step("bob");
        CPPUNIT_ASSERT(out.kind == Kind::LookupUser && out.authzid == "bob");
    }

    void no_data_after_end_and_size_limit()
    {
        auto mech = make_sasl_mechanism("PLAIN", {});
        CPPUNIT_ASSERT(mech->step(std::string("\0a\0b", 4)).kind == Kind::VerifyPassword);
        CPPUNIT_ASSERT(mech->step(std::string("\0a\0b", 4)).kind == Kind::Failure);
        mech = make_sasl_mechanism("LOGIN", {});
        CPPUNIT_ASSERT(mech->step(std::string(max_sasl_message + 1, 'u')).kind == Kind::Failure);
        mech = make_sasl_mechanism("CRAM-MD5", {});
        CPPUNIT_ASSERT(mech->credentials(std::string(32, 'x')).kind == Kind::Failure);  // not asked
        mech->step({}, false);
        CPPUNIT_ASSERT(mech->step("u 00112233445566778899aabbccddeeff").kind == Kind::LookupCredentials);
        CPPUNIT_ASSERT(mech->step("again").kind == Kind::Failure);  // while waiting for credentials
    }

    void credentials_conversion()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56"),
                             hex_encode(*creds("{PLAIN}secret", "CRAM-MD5")));
        CPPUNIT_ASSERT(creds("{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56",
                             "CRAM-MD5").has_value());
        CredentialsResult none = credentials_for_scheme("{SHA512-CRYPT}$6$x$y", "CRAM-MD5");
        CPPUNIT_ASSERT(!none.credentials);
        CPPUNIT_ASSERT_EQUAL(std::string("Requested CRAM-MD5 scheme, but we have only SHA512-CRYPT"), none.error);
        CPPUNIT_ASSERT_EQUAL(std::string("b1726872c344b6dc8365b774f8fd6412"),
                             hex_encode(*creds("{PLAIN}secret", "DIGEST-MD5", "alice@example.com")));
        CPPUNIT_ASSERT(!creds("{PLAIN}secret", "DIGEST-MD5").has_value());  // needs the user
        CPPUNIT_ASSERT_EQUAL(std::string("secret"), *credentials_for_scheme("secret", "PLAIN", "PLAIN").credentials);
        CPPUNIT_ASSERT(!creds("secret", "PLAIN").has_value());  // bare value in the CRYPT default
        CPPUNIT_ASSERT(!credentials_for_scheme("{PLAIN}x", "NOPE").credentials);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SaslMechanismTest);
