"""TLS as Dovecot 2.3 does it with the same dovecot.conf: imaps, STARTTLS (and its
command-injection rule), LOGINDISABLED until TLS with ssl = required, a clear error for
a missing certificate, openssl s_client -starttls imap, and the TLS-related capabilities
compared with the real Dovecot. Certificates are made with openssl in the temp dir."""
import imaplib
import os
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import BUILDDIR, SKIP, Dovecot, Loft, TestCounter, free_port, lmtp_session  # noqa: E402

MESSAGE = (b"From: Sender <sender@example.org>\r\nTo: alice@example.org\r\n"
           b"Subject: over tls\r\nMessage-ID: <tls-1@example.org>\r\n\r\nHello over TLS.\r\n")
TLS_TOKENS = ("STARTTLS", "LOGINDISABLED", "AUTH=PLAIN")


def make_certificates(directory):
    os.makedirs(directory, exist_ok=True)
    ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
    script = f"""set -e
openssl req -x509 -nodes -days 2 {ec} -subj /CN=TestCA -keyout ca.key -out ca.pem
openssl req -nodes {ec} -subj /CN=localhost -keyout server.key -out server.csr
openssl x509 -req -days 2 -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem
"""
    subprocess.run(["sh", "-c", script], cwd=directory, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def client_context(directory):
    context = ssl.create_default_context(cafile=os.path.join(directory, "ca.pem"))
    context.check_hostname = False
    return context


def ssl_config(directory, ssl_mode="yes"):
    # The rest of Debian's stock 10-ssl.conf comes along, as sites have it.
    stock = "ssl_client_ca_dir = /etc/ssl/certs\n"
    if os.path.exists("/usr/share/dovecot/dh.pem"):
        stock += "ssl_dh = </usr/share/dovecot/dh.pem\n"
    return f"""ssl = {ssl_mode}
ssl_cert = <{directory}/server.pem
ssl_key = <{directory}/server.key
""" + stock


class Lines:
    """A line reader over a socket (plain or TLS)."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def line(self):
        while b"\r\n" not in self.buffer:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("connection closed")
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line.decode()

    def until_tagged(self, tag):
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag + " "):
                return lines

    def send(self, text):
        self.sock.sendall(text.encode())


def capabilities_of(lines):
    for line in lines:
        if line.startswith("* CAPABILITY "):
            return line[len("* CAPABILITY "):].split()
        if "[CAPABILITY " in line:
            return line.split("[CAPABILITY ", 1)[1].split("]", 1)[0].split()
    return []


def tls_tokens(caps):
    return [token for token in TLS_TOKENS if token in caps]


def starttls_capabilities(host, port, context, source=None):
    """(banner caps, caps after STARTTLS) of a server."""
    sock = socket.create_connection((host, port), 10, source_address=(source, 0) if source else None)
    reader = Lines(sock)
    before = capabilities_of([reader.line()])
    reader.send("a STARTTLS\r\n")
    reader.until_tagged("a")
    tls = context.wrap_socket(sock, server_hostname="localhost")
    reader = Lines(tls)
    reader.send("b CAPABILITY\r\n")
    after = capabilities_of(reader.until_tagged("b"))
    reader.send("c LOGOUT\r\n")
    tls.close()
    return before, after


def check_basic(t, loft, certs, imaps_port):
    context = client_context(certs)
    rcpt, data = lmtp_session(loft.lmtp_port, "sender@example.org", ["alice"], MESSAGE)
    t.check([code for code, _ in data] == [250], f"delivered over LMTP: {data}")

    # imaps: TLS from the first byte.
    with imaplib.IMAP4_SSL("127.0.0.1", imaps_port, ssl_context=context) as imap:
        t.check("STARTTLS" not in imap.capabilities, f"no STARTTLS offered on imaps: {imap.capabilities}")
        imap.login("alice", "secret")
        typ, data = imap.select("INBOX")
        t.check(typ == "OK" and data == [b"1"], f"imaps select: {typ} {data}")
        typ, data = imap.fetch("1", "(BODY[])")
        t.check(typ == "OK" and data[0][1].endswith(MESSAGE), f"imaps fetch returns the message: {data!r}")
    login_lines = [line for line in loft.log().splitlines() if "Login: user=<alice>" in line]
    t.check(login_lines and ", TLS, session=" in login_lines[-1], f"the login is logged as TLS (Dovecot's %c): {login_lines}")


def check_already_tls(t, certs, imaps_port):
    tls = client_context(certs).wrap_socket(socket.create_connection(("127.0.0.1", imaps_port), 10),
                                            server_hostname="localhost")
    reader = Lines(tls)
    banner = reader.line()
    t.check(banner.startswith("* OK [CAPABILITY ") and "STARTTLS" not in banner, f"imaps banner: {banner}")
    reader.send("a STARTTLS\r\n")
    reply = reader.until_tagged("a")[-1]
    t.check(reply == "a BAD TLS is already active.", f"STARTTLS when already TLS: {reply}")
    reader.send("b LOGOUT\r\n")
    tls.close()


def check_starttls(t, loft, certs):
    context = client_context(certs)
    imap = imaplib.IMAP4("127.0.0.1", loft.imap_port)
    t.check("STARTTLS" in imap.capabilities, f"STARTTLS offered before TLS: {imap.capabilities}")
    typ, _ = imap.starttls(ssl_context=context)
    t.check(typ == "OK", "STARTTLS accepted")
    t.check("STARTTLS" not in imap.capabilities, f"no STARTTLS after TLS: {imap.capabilities}")
    imap.login("alice", "secret")
    typ, data = imap.select("INBOX")
    t.check(typ == "OK" and data == [b"1"], f"select after STARTTLS: {typ} {data}")
    imap.logout()

    # Commands pipelined after STARTTLS were sent in plaintext: they are discarded.
    sock = socket.create_connection(("127.0.0.1", loft.imap_port), 10)
    reader = Lines(sock)
    reader.line()
    reader.send("a STARTTLS\r\nb LOGIN alice secret\r\n")
    reply = reader.until_tagged("a")[-1]
    t.check(reply == "a OK Begin TLS negotiation now.", f"STARTTLS reply: {reply}")
    t.check(reader.buffer == b"", f"nothing after the STARTTLS reply in plaintext: {reader.buffer!r}")
    tls = context.wrap_socket(sock, server_hostname="localhost")
    reader = Lines(tls)
    reader.send("c NOOP\r\n")
    lines = reader.until_tagged("c")
    t.check(not any(line.startswith("b ") for line in lines), f"the injected LOGIN was not run: {lines}")
    reader.send("d SELECT INBOX\r\n")
    reply = reader.until_tagged("d")[-1]
    t.check(reply.startswith("d BAD") or reply.startswith("d NO"), f"still not logged in after injection: {reply}")
    tls.close()


def check_s_client(t, loft, certs):
    result = subprocess.run(
        ["openssl", "s_client", "-starttls", "imap", "-connect", f"127.0.0.1:{loft.imap_port}",
         "-CAfile", os.path.join(certs, "ca.pem"), "-quiet", "-verify_return_error"],
        input=b"a CAPABILITY\r\nb LOGIN alice secret\r\nc LOGOUT\r\n", capture_output=True, timeout=20)
    out = result.stdout.decode(errors="replace")
    t.check("a OK" in out and "IMAP4rev1" in out and "b OK" in out,
            f"openssl s_client -starttls imap logs in: rc={result.returncode} {out!r} {result.stderr[-300:]!r}")


def lmtp_starttls(port, context):
    """(LHLO lines before TLS, STARTTLS reply, LHLO lines after, delivery reply)."""
    sock = socket.create_connection(("127.0.0.1", port), 10)
    reader = Lines(sock)
    reader.line()

    def lhlo(r):
        r.send("LHLO client.example.org\r\n")
        lines = []
        while True:
            lines.append(r.line())
            if lines[-1][3:4] == " ":
                return lines
    before = lhlo(reader)
    reader.send("STARTTLS\r\n")
    started = reader.line()
    tls = context.wrap_socket(sock, server_hostname="localhost")
    reader = Lines(tls)
    after = lhlo(reader)
    reader.send("MAIL FROM:<sender@example.org>\r\n")
    reader.line()
    reader.send("RCPT TO:<alice>\r\n")
    reader.line()
    reader.send("DATA\r\n")
    reader.line()
    reader.send(MESSAGE.decode() + ".\r\n")
    delivered = reader.line()
    reader.send("QUIT\r\n")
    tls.close()
    return before, started, after, delivered


def check_lmtp(t, loft, certs):
    before, started, after, delivered = lmtp_starttls(loft.lmtp_port, client_context(certs))
    t.check(any("STARTTLS" in line for line in before), f"LMTP offers STARTTLS: {before}")
    t.check(started.startswith("220 "), f"LMTP STARTTLS accepted: {started}")
    t.check(not any("STARTTLS" in line for line in after), f"no STARTTLS after TLS: {after}")
    t.check(delivered.startswith("250 "), f"delivery over LMTP+TLS: {delivered}")


def check_required(t, certs, dovecot_tokens):
    """ssl = required, from an address that is not the server's (so not secured)."""
    port = free_port()
    loft = Loft(extra_config=ssl_config(certs, "required") + f"""disable_plaintext_auth = no
service imap-login {{
  inet_listener imapother {{
    address = 127.0.0.2
    port = {port}
  }}
}}
""")
    try:
        loft.start()
        context = client_context(certs)
        sock = socket.create_connection(("127.0.0.2", port), 10, source_address=("127.0.0.3", 0))
        reader = Lines(sock)
        banner = capabilities_of([reader.line()])
        t.check("LOGINDISABLED" in banner and "STARTTLS" in banner, f"ssl=required: LOGINDISABLED before TLS: {banner}")
        reader.send("a LOGIN alice secret\r\n")
        reply = reader.until_tagged("a")[-1]
        t.check(reply.startswith("a NO [PRIVACYREQUIRED]"), f"LOGIN refused before TLS: {reply}")
        reader.send("b AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n")
        reply = reader.until_tagged("b")[-1]
        t.check(reply.startswith("b NO"), f"AUTHENTICATE refused before TLS: {reply}")
        reader.send("c STARTTLS\r\n")
        reader.until_tagged("c")
        tls = context.wrap_socket(sock, server_hostname="localhost")
        reader = Lines(tls)
        reader.send("d CAPABILITY\r\n")
        caps = capabilities_of(reader.until_tagged("d"))
        t.check("LOGINDISABLED" not in caps and "AUTH=PLAIN" in caps, f"login allowed after TLS: {caps}")
        reader.send("e LOGIN alice secret\r\n")
        reply = reader.until_tagged("e")[-1]
        t.check(reply.startswith("e OK"), f"LOGIN after STARTTLS: {reply}")
        tls.close()
        before, after = starttls_capabilities("127.0.0.2", port, context, source="127.0.0.3")
        if dovecot_tokens is not None:
            t.check((tls_tokens(before), tls_tokens(after)) == dovecot_tokens,
                    f"ssl=required capabilities as Dovecot's: {tls_tokens(before)} {tls_tokens(after)} vs {dovecot_tokens}")
    finally:
        loft.cleanup()


def dovecot_required_tokens(certs):
    if not Dovecot.available():
        return None
    loft = Loft()
    dovecot = Dovecot(loft)
    port = free_port()
    with open(dovecot.config_path, "a") as f:
        f.write(ssl_config(certs, "required") + f"""disable_plaintext_auth = no
service imap-login {{
  inet_listener imapother {{
    address = 127.0.0.2
    port = {port}
  }}
}}
""")
    try:
        dovecot.start()
        return tuple(map(tls_tokens, starttls_capabilities("127.0.0.2", port, client_context(certs),
                                                           source="127.0.0.3")))
    finally:
        dovecot.stop()
        loft.cleanup()


def check_same_as_dovecot(t, loft, certs):
    if not Dovecot.available():
        print("tls: real Dovecot not available, capability comparison skipped")
        return
    dovecot = Dovecot(loft)
    with open(dovecot.config_path, "a") as f:
        f.write(ssl_config(certs))
    dovecot.start()
    try:
        context = client_context(certs)
        ours = starttls_capabilities("127.0.0.1", loft.imap_port, context)
        theirs = starttls_capabilities("127.0.0.1", dovecot.imap_port, context)
        t.check(tuple(map(tls_tokens, ours)) == tuple(map(tls_tokens, theirs)),
                f"TLS capabilities as Dovecot's: {ours} vs {theirs}")
        before, started, after, _ = lmtp_starttls(dovecot.lmtp_port, client_context(certs))
        t.check(any("STARTTLS" in line for line in before) and started.startswith("220 "),
                f"Dovecot's LMTP offers STARTTLS too: {before} {started}")
    finally:
        dovecot.stop()


def check_bad_certificate(t, certs):
    missing = os.path.join(certs, "missing", "nothere.pem")
    loft = Loft(extra_config=f"ssl = yes\nssl_cert = <{missing}\nssl_key = <{certs}/server.key\n")
    try:
        process = subprocess.run([os.path.join(BUILDDIR, "loftd"), "-F", "-c", loft.config_path],
                                 capture_output=True, timeout=20)
        output = process.stdout.decode() + process.stderr.decode() + loft.log()
        t.check(process.returncode != 0, f"loftd refuses a missing ssl_cert: rc={process.returncode}")
        t.check(missing in output and "ssl_cert" in output, f"the error names the setting and file: {output!r}")
    finally:
        loft.cleanup()
    # A key that is not the certificate's: a config error at start, not a worker crash.
    loft = Loft(extra_config=f"ssl = yes\nssl_cert = <{certs}/server.pem\nssl_key = <{certs}/ca.key\n")
    try:
        process = subprocess.run([os.path.join(BUILDDIR, "loftd"), "-F", "-c", loft.config_path],
                                 capture_output=True, timeout=20)
        output = process.stdout.decode() + process.stderr.decode() + loft.log()
        t.check(process.returncode != 0 and "ssl_key" in output, f"mismatched key refused: {output!r}")
    finally:
        loft.cleanup()


def main():
    if subprocess.run(["sh", "-c", "command -v openssl"], stdout=subprocess.DEVNULL).returncode != 0:
        return SKIP
    t = TestCounter("tls")
    imaps_port = free_port()
    certs_loft = Loft()  # only for its temp dir, kept apart from the servers' dirs
    certs = os.path.join(certs_loft.dir, "ssl")
    make_certificates(certs)
    loft = Loft(extra_config=ssl_config(certs) + f"""service imap-login {{
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
""")
    try:
        loft.start()
        check_basic(t, loft, certs, imaps_port)
        check_already_tls(t, certs, imaps_port)
        check_starttls(t, loft, certs)
        check_s_client(t, loft, certs)
        check_lmtp(t, loft, certs)
        check_same_as_dovecot(t, loft, certs)
    finally:
        loft.cleanup()
    check_required(t, certs, dovecot_required_tokens(certs))
    check_bad_certificate(t, certs)
    certs_loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
