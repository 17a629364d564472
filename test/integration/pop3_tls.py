#!/usr/bin/env python3
"""POP3 over TLS: pop3s and STLS with poplib against Loft, and the TLS-related replies
(CAPA before and after STLS, ssl = required from a client that is not secured)
compared byte for byte with Dovecot's pop3-login when it is installed."""
import os
import poplib
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import Dovecot, Loft, TestCounter  # noqa: E402
from tls import client_context, make_certificates, ssl_config  # noqa: E402


def transcript(port, lines, context, source=None):
    """Replies to each line; "STLS" switches to TLS when it succeeds."""
    sock = socket.create_connection(("127.0.0.1", port), 10, source_address=(source, 0) if source else None)
    replies = []

    def read_reply(multi):
        data = b""
        while not (data.endswith(b"\r\n.\r\n") if multi else data.endswith(b"\r\n")):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data

    replies.append(read_reply(False))
    for line in lines:
        sock.sendall(line.encode() + b"\r\n")
        reply = read_reply(line in ("CAPA", "AUTH"))
        replies.append(reply)
        if line == "STLS" and reply.startswith(b"+OK"):
            sock = context.wrap_socket(sock, server_hostname="localhost")
    sock.close()
    return replies


def compare_with_dovecot(t, loft, dovecot, context):
    scripts = [
        (None, ["CAPA", "STLS", "CAPA", "STLS", "USER {u}", "PASS secret", "QUIT"]),
    ]
    for source, lines in scripts:
        d = transcript(dovecot.pop3_port, [x.replace("{u}", "alice") for x in lines], context, source)
        lo = transcript(loft.pop3_port, [x.replace("{u}", "bob") for x in lines], context, source)
        for line, expected, got in zip(["<greeting>"] + lines, d, lo):
            t.check(expected == got, f"TLS: {line!r}: Dovecot {expected!r} Loft {got!r}")


def compare_required(t, directory, context):
    loft = Loft(users=("alice", "bob"), pop3="tls", extra_config=ssl_config(directory, "required"))
    dovecot = Dovecot(loft, extra_config=ssl_config(directory, "required") + "auth_failure_delay = 0\n",
                      pop3=True) if Dovecot.available() else None
    try:
        loft.start()
        lines = ["CAPA", "USER {u}", "PASS secret", "AUTH PLAIN AGJvYgBzZWNyZXQ=", "AUTH", "STLS", "CAPA",
                 "USER {u}", "PASS secret", "STAT", "QUIT"]
        lo = transcript(loft.pop3_port, [x.replace("{u}", "bob") for x in lines], context, "127.0.0.2")
        t.check(lo[-2].startswith(b"+OK 0 0"), f"ssl = required: login after STLS works: {lo}")
        if dovecot:
            dovecot.start()
            d = transcript(dovecot.pop3_port, [x.replace("{u}", "alice") for x in lines], context, "127.0.0.2")
            for line, expected, got in zip(["<greeting>"] + lines, d, lo):
                t.check(expected == got, f"ssl = required: {line!r}: Dovecot {expected!r} Loft {got!r}")
    finally:
        if dovecot:
            dovecot.stop()
        loft.cleanup()


def main():
    t = TestCounter("pop3_tls")
    directory = tempfile.mkdtemp(prefix="loft-pop3-certs-")
    os.chmod(directory, 0o755)
    make_certificates(directory)
    loft = Loft(users=("alice", "bob"), pop3="tls", extra_config=ssl_config(directory))
    context = client_context(directory)
    dovecot = Dovecot(loft, extra_config=ssl_config(directory) + "auth_failure_delay = 0\n",
                      pop3=True) if Dovecot.available() else None
    try:
        loft.start()
        pop = poplib.POP3_SSL("127.0.0.1", loft.pop3s_port, context=context, timeout=10)
        t.check(pop.getwelcome().startswith(b"+OK"), "pop3s: greeting")
        caps = pop.capa()
        t.check("STLS" not in caps and "USER" in caps, f"pop3s: CAPA without STLS, with USER: {caps}")
        pop.user("bob")
        pop.pass_("secret")
        t.check(pop.stat() == (0, 0), "pop3s: login and STAT")
        pop.quit()

        pop = poplib.POP3("127.0.0.1", loft.pop3_port, timeout=10)
        t.check("STLS" in pop.capa(), "STLS offered before TLS")
        pop.stls(context)
        t.check("STLS" not in pop.capa(), "STLS not offered once TLS is on")
        pop.user("bob")
        pop.pass_("secret")
        t.check(pop.stat() == (0, 0), "STLS: login and STAT")
        pop.quit()
        time.sleep(0.3)
        t.check(", TLS, session=<" in loft.log(), "the Login line says TLS")

        if dovecot:
            dovecot.start()
            compare_with_dovecot(t, loft, dovecot, context)
    finally:
        if dovecot:
            dovecot.stop()
        loft.cleanup()
    try:
        compare_required(t, directory, context)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
