// The TLS layer of AsyncStream against a blocking OpenSSL client in a thread: STARTTLS
// discards pipelined plaintext, data flows both ways, client certificates are read,
// and bad certificate settings are refused with the setting's name.
#include "lib/event_loop.h"
#include "lib/stream.h"
#include "lib/tls.h"

#include <cppunit/extensions/HelperMacros.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

using loft::AsyncStream;
using loft::Task;
using loft::TlsContext;
using loft::TlsError;
using loft::TlsSettings;

namespace {

std::string read_text(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// CA, server and client certificates made once with the openssl tool.
struct Certificates {
    std::string dir;
    Certificates()
    {
        signal(SIGPIPE, SIG_IGN);  // a peer that hung up is an error to see, not a death
        const char* tmp = getenv("TMPDIR");
        std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/loft-tls-XXXXXX";
        std::vector<char> buffer(pattern.begin(), pattern.end());
        buffer.push_back('\0');
        if (!mkdtemp(buffer.data()))
            throw std::runtime_error("mkdtemp failed");
        dir = buffer.data();
        std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 ";
        std::string script =
            "cd " + dir + " && exec >log 2>&1 && "
            "openssl req -x509 -nodes -days 2" + ec + "-subj /CN=TestCA -keyout ca.key -out ca.pem && "
            "openssl req -nodes" + ec + "-subj /CN=localhost -keyout server.key -out server.csr && "
            "openssl x509 -req -days 2 -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem && "
            "openssl req -nodes" + ec + "-subj /CN=alice -keyout client.key -out client.csr && "
            "openssl x509 -req -days 2 -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem && "
            "openssl pkey -in server.key -aes256 -passout pass:hunter2 -out server-enc.key";
        if (system(script.c_str()) != 0)
            throw std::runtime_error("openssl failed: " + read_text(dir + "/log"));
    }
    ~Certificates() { (void)system(("rm -rf " + dir).c_str()); }
    std::string file(const std::string& name) const { return read_text(dir + "/" + name); }
    TlsSettings server_settings() const
    {
        TlsSettings settings;
        settings.cert_pem = file("server.pem");
        settings.key_pem = file("server.key");
        return settings;
    }
};

const Certificates& certificates()
{
    static const Certificates made;
    return made;
}

struct SslCtxFree {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

// A blocking client: writes `plain_before` in plaintext, reads one plaintext line,
// then handshakes, sends `message`, and returns what the server answers over TLS.
std::string run_client(int fd, const std::string& plain_before, const std::string& message, bool with_cert,
                       std::string& plain_line)
{
    std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
    if (with_cert) {
        const auto& certs = certificates();
        SSL_CTX_use_certificate_file(ctx.get(), (certs.dir + "/client.pem").c_str(), SSL_FILETYPE_PEM);
        SSL_CTX_use_PrivateKey_file(ctx.get(), (certs.dir + "/client.key").c_str(), SSL_FILETYPE_PEM);
    }
    if (!plain_before.empty()) {
        (void)write(fd, plain_before.data(), plain_before.size());
        char c;
        while (read(fd, &c, 1) == 1 && c != '\n')
            plain_line += c;
    }
    SSL* ssl = SSL_new(ctx.get());
    SSL_set_fd(ssl, fd);
    std::string answer;
    if (SSL_connect(ssl) == 1) {
        SSL_write(ssl, message.data(), static_cast<int>(message.size()));
        char buffer[256];
        int n;
        while ((n = SSL_read(ssl, buffer, sizeof(buffer))) > 0)
            answer.append(buffer, static_cast<size_t>(n));
    } else {
        answer = "handshake failed";
    }
    SSL_free(ssl);
    shutdown(fd, SHUT_RDWR);
    return answer;
}

}  // namespace

class TlsStreamTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TlsStreamTest);
    CPPUNIT_TEST(starttls_discards_pipelined_plaintext);
    CPPUNIT_TEST(immediate_tls_carries_lines_both_ways);
    CPPUNIT_TEST(client_certificate_names_the_user);
    CPPUNIT_TEST(plaintext_client_on_tls_stream_is_closed);
    CPPUNIT_TEST(bad_settings_name_the_setting);
    CPPUNIT_TEST(certificate_username_takes_the_configured_field);
    CPPUNIT_TEST(encrypted_key_needs_the_password);
    CPPUNIT_TEST_SUITE_END();

    struct Pair {
        loft::UniqueFd server, client;
    };
    static Pair socket_pair()
    {
        int fds[2];
        CPPUNIT_ASSERT_EQUAL(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
        return {loft::UniqueFd(fds[0]), loft::UniqueFd(fds[1])};
    }

public:
    void starttls_discards_pipelined_plaintext()
    {
        TlsContext context(certificates().server_settings());
        auto base = loft::make_event_base();
        auto [server_fd, client_fd] = socket_pair();
        auto stream = std::make_shared<AsyncStream>(base.get(), std::move(server_fd));
        std::string plain_line, answer;
        std::thread client([&, fd = client_fd.get()] {
            answer = run_client(fd, "a STARTTLS\r\nb INJECTED\r\n", "c HELLO\r\n", false, plain_line);
        });
        std::vector<std::string> lines;
        loft::spawn([](std::shared_ptr<AsyncStream> s, event_base* loop, const TlsContext& ctx,
                       std::vector<std::string>& seen) -> Task<void> {
            auto first = co_await s->read_line(1000);
            seen.push_back(first.text);
            // Both plaintext lines are in by now only if the client sent them together,
            // which it did in one write; wait until they are both buffered.
            while (s->buffered() == 0)
                co_await loft::sleep_for(loop, std::chrono::milliseconds(5));
            s->write("a OK Begin TLS negotiation now.\r\n");
            s->start_tls(ctx);
            auto second = co_await s->read_line(1000);
            seen.push_back(second.text);
            s->write("* BYE over tls\r\n");
            co_await s->drain();
            s->close();
        }(stream, base.get(), context, lines), {});
        event_base_dispatch(base.get());
        client.join();
        CPPUNIT_ASSERT_EQUAL(size_t(2), lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("a STARTTLS"), lines[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("c HELLO"), lines[1]);
        CPPUNIT_ASSERT_EQUAL(std::string("a OK Begin TLS negotiation now.\r"), plain_line);
        CPPUNIT_ASSERT_EQUAL(std::string("* BYE over tls\r\n"), answer);
        CPPUNIT_ASSERT(stream->tls_active());
    }

    void immediate_tls_carries_lines_both_ways()
    {
        TlsContext context(certificates().server_settings());
        auto base = loft::make_event_base();
        auto [server_fd, client_fd] = socket_pair();
        auto stream = std::make_shared<AsyncStream>(base.get(), std::move(server_fd));
        stream->start_tls(context);
        std::string plain_line, answer;
        std::string big(200000, 'x');
        std::thread client([&, fd = client_fd.get()] { answer = run_client(fd, "", "ping\r\n", false, plain_line); });
        std::string got;
        loft::spawn([](std::shared_ptr<AsyncStream> s, std::string& out, const std::string& payload) -> Task<void> {
            auto line = co_await s->read_line(1000);
            out = line.text;
            s->write(payload);
            s->write("\r\n");
            co_await s->drain();
            CPPUNIT_ASSERT_EQUAL(size_t(0), s->output_pending());
            s->close();
        }(stream, got, big), {});
        event_base_dispatch(base.get());
        client.join();
        CPPUNIT_ASSERT_EQUAL(std::string("ping"), got);
        CPPUNIT_ASSERT_EQUAL(big + "\r\n", answer);
        CPPUNIT_ASSERT(!stream->tls_peer().has_cert);
    }

    void client_certificate_names_the_user()
    {
        TlsSettings settings = certificates().server_settings();
        settings.ca_pem = certificates().file("ca.pem");
        settings.verify_client_cert = true;
        settings.require_crl = false;
        TlsContext context(settings);
        auto base = loft::make_event_base();
        auto [server_fd, client_fd] = socket_pair();
        auto stream = std::make_shared<AsyncStream>(base.get(), std::move(server_fd));
        stream->start_tls(context);
        std::string plain_line, answer;
        std::thread client([&, fd = client_fd.get()] { answer = run_client(fd, "", "x\r\n", true, plain_line); });
        loft::TlsPeer peer;
        loft::spawn([](std::shared_ptr<AsyncStream> s, loft::TlsPeer& out) -> Task<void> {
            co_await s->read_line(1000);
            out = s->tls_peer();
            s->close();
        }(stream, peer), {});
        event_base_dispatch(base.get());
        client.join();
        CPPUNIT_ASSERT(peer.has_cert);
        CPPUNIT_ASSERT(peer.cert_valid);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), peer.cert_username);

        // With CRLs required and none in ssl_ca, the same certificate is not valid.
        settings.require_crl = true;
        TlsContext strict(settings);
        auto [server2, client2] = socket_pair();
        auto stream2 = std::make_shared<AsyncStream>(base.get(), std::move(server2));
        stream2->start_tls(strict);
        std::thread client_b([&, fd = client2.get()] { answer = run_client(fd, "", "x\r\n", true, plain_line); });
        loft::spawn([](std::shared_ptr<AsyncStream> s, loft::TlsPeer& out) -> Task<void> {
            co_await s->read_line(1000);
            out = s->tls_peer();
            s->close();
        }(stream2, peer), {});
        event_base_dispatch(base.get());
        client_b.join();
        CPPUNIT_ASSERT(peer.has_cert);
        CPPUNIT_ASSERT(!peer.cert_valid);
    }

    void plaintext_client_on_tls_stream_is_closed()
    {
        TlsContext context(certificates().server_settings());
        auto base = loft::make_event_base();
        auto [server_fd, client_fd] = socket_pair();
        auto stream = std::make_shared<AsyncStream>(base.get(), std::move(server_fd));
        stream->start_tls(context);
        std::string garbage = "a LOGIN alice secret\r\n";
        (void)write(client_fd.get(), garbage.data(), garbage.size());
        AsyncStream::LineStatus status = AsyncStream::LineStatus::Ok;
        loft::spawn([](std::shared_ptr<AsyncStream> s, AsyncStream::LineStatus& out) -> Task<void> {
            auto line = co_await s->read_line(1000);
            out = line.status;
            s->close();
        }(stream, status), {});
        event_base_dispatch(base.get());
        CPPUNIT_ASSERT(status == AsyncStream::LineStatus::Closed);
    }

    void bad_settings_name_the_setting()
    {
        TlsSettings settings = certificates().server_settings();
        settings.cert_pem = "not a certificate";
        assert_refused(settings, "ssl_cert");
        settings = certificates().server_settings();
        settings.key_pem = certificates().file("client.key");
        assert_refused(settings, "ssl_key");
        settings = certificates().server_settings();
        settings.cert_pem.clear();
        assert_refused(settings, "(ssl_cert setting): The certificate is empty");
        settings = certificates().server_settings();
        settings.min_protocol = "TLSv9";
        assert_refused(settings, "ssl_min_protocol");
        settings = certificates().server_settings();
        settings.verify_client_cert = true;
        assert_refused(settings, "ssl_verify_client_cert set, but ssl_ca not");
        settings.ca_pem = certificates().file("ca.pem");
        settings.cert_username_field = "noSuchField";
        assert_refused(settings, "Invalid ssl_cert_username_field: noSuchField");
    }

    void certificate_username_takes_the_configured_field()
    {
        struct NameFree {
            void operator()(X509_NAME* name) const { X509_NAME_free(name); }
        };
        std::unique_ptr<X509_NAME, NameFree> name(X509_NAME_new());
        auto add = [&](const char* field, const std::string& value, int type = MBSTRING_UTF8) {
            CPPUNIT_ASSERT(X509_NAME_add_entry_by_txt(name.get(), field, type,
                                                      reinterpret_cast<const unsigned char*>(value.data()),
                                                      static_cast<int>(value.size()), -1, 0) == 1);
        };
        add("CN", "alice");
        add("CN", "second");
        add("emailAddress", "bob@example.org");
        add("x500UniqueIdentifier", "carol");
        add("OU", std::string("ali\0ce", 6), V_ASN1_UTF8STRING);
        add("L", std::string(loft::kMaxCertUsernameLength + 1, 'x'), V_ASN1_UTF8STRING);  // past its ASN.1 bound
        using loft::certificate_username;
        // Long and short names and OIDs all work; the first entry of a field counts.
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), certificate_username(name.get(), "commonName"));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), certificate_username(name.get(), "CN"));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), certificate_username(name.get(), "2.5.4.3"));
        CPPUNIT_ASSERT_EQUAL(std::string("bob@example.org"), certificate_username(name.get(), "emailAddress"));
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), certificate_username(name.get(), "x500UniqueIdentifier"));
        // Absent, NUL inside, too long: no name at all.
        CPPUNIT_ASSERT_EQUAL(std::string(), certificate_username(name.get(), "organizationName"));
        CPPUNIT_ASSERT_EQUAL(std::string(), certificate_username(name.get(), "OU"));
        CPPUNIT_ASSERT_EQUAL(std::string(), certificate_username(name.get(), "L"));
        CPPUNIT_ASSERT_THROW(certificate_username(name.get(), "bogusField"), TlsError);
    }

    void encrypted_key_needs_the_password()
    {
        TlsSettings settings = certificates().server_settings();
        settings.key_pem = certificates().file("server-enc.key");
        assert_refused(settings, "ssl_key_password not set");
        settings.key_password = "wrong";
        assert_refused(settings, "ssl_key");
        settings.key_password = "hunter2";
        TlsContext context(settings);
        CPPUNIT_ASSERT(context.get() != nullptr);
    }

private:
    static void assert_refused(const TlsSettings& settings, const std::string& expected)
    {
        try {
            TlsContext context(settings);
        } catch (const TlsError& error) {
            std::string message = error.what();
            if (message.find(expected) == std::string::npos)
                CPPUNIT_FAIL("error '" + message + "' does not mention '" + expected + "'");
            return;
        }
        CPPUNIT_FAIL("settings were accepted, expected an error about " + expected);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TlsStreamTest);
