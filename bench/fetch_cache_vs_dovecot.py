#!/usr/bin/env python3
"""Side by side (issue 4, item 5): a repeat `FETCH 1:* (ENVELOPE BODYSTRUCTURE)` over the
same generated Maildir through Loft and through Debian's Dovecot 2.3, first run (parse
every message) vs second run (from the cache), then again after a restart (Loft reads
loft.cache, Dovecot its dovecot.index.cache). Needs root and Dovecot.
usage: fetch_cache_vs_dovecot.py [MESSAGES]   (LOFT_BUILDDIR points at the build tree)"""
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))
from loft_harness import MAIL_GID, MAIL_UID, Dovecot, Loft  # noqa: E402

QUERY = "FETCH 1:* (ENVELOPE BODYSTRUCTURE)"


def message(i):
    kind = i % 3
    head = ("From: \"Sender %d\" <s%d@example.org>\r\nTo: a@example.org, b%d@example.net\r\n"
            "Subject: message %d about things\r\nDate: Mon, 30 Nov 2026 03:00:00 +0100\r\n"
            "Message-ID: <%d@bench.example>\r\nMIME-Version: 1.0\r\n" % (i, i, i, i, i))
    if kind == 0:
        return head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + "line of text\r\n" * 40
    if kind == 1:
        return (head + "Content-Type: multipart/alternative; boundary=\"b%d\"\r\n\r\n"
                "--b%d\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b%d\r\nContent-Type: text/html\r\n\r\n"
                "<p>html</p>\r\n--b%d--\r\n" % (i, i, i, i))
    return (head + "Content-Type: multipart/mixed; boundary=\"m%d\"\r\n\r\n--m%d\r\n"
            "Content-Type: text/plain\r\n\r\nsee attachment\r\n--m%d\r\nContent-Type: application/pdf; name=x.pdf\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--m%d--\r\n" % (i, i, i, "QUJD" * 500, i))


def generate(maildir, count):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    for i in range(1, count + 1):
        data = message(i).replace("\r\n", "\n").encode()
        with open(os.path.join(maildir, "cur", "1796000000.M%dP1.bench:2,S" % i), "wb") as f:
            f.write(data)
    subprocess.check_call(["chown", "-R", "%d:%d" % (MAIL_UID, MAIL_GID), os.path.dirname(maildir)])


def timed_fetch(port):
    """Seconds for QUERY (the whole response read) and the response size."""
    sock = socket.create_connection(("127.0.0.1", port), 30)
    stream = sock.makefile("rb")
    stream.readline()

    def command(tag, text):
        sock.sendall(("%s %s\r\n" % (tag, text)).encode())
        size = 0
        while True:
            line = stream.readline()
            if not line:
                raise RuntimeError("connection closed")
            size += len(line)
            literal = re.search(rb"\{(\d+)\}\r\n$", line)
            if literal:
                size += len(stream.read(int(literal.group(1))))
                continue
            if line.startswith(tag.encode() + b" "):
                if not line.split(b" ")[1] == b"OK":
                    raise RuntimeError(line.decode())
                return size

    command("a", "LOGIN alice secret")
    command("b", "EXAMINE INBOX")
    start = time.time()
    size = command("c", QUERY)
    elapsed = time.time() - start
    sock.close()
    return elapsed, size


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    if not Dovecot.available():
        print("needs root and Debian's dovecot packages")
        return 77
    loft = Loft(users=("alice",))
    dovecot = Dovecot(loft)
    figures = {}
    try:
        generate(loft.maildir("alice"), count)
        dovecot.start()
        figures["dovecot", "first"] = timed_fetch(dovecot.imap_port)
        figures["dovecot", "second"] = timed_fetch(dovecot.imap_port)
        dovecot.stop()
        dovecot.start()
        figures["dovecot", "restarted"] = timed_fetch(dovecot.imap_port)
        dovecot.stop()
        loft.start()
        figures["loft", "first"] = timed_fetch(loft.imap_port)
        figures["loft", "second"] = timed_fetch(loft.imap_port)
        loft.stop()
        loft.start()
        figures["loft", "restarted"] = timed_fetch(loft.imap_port)
        loft.stop()
    finally:
        dovecot.stop()
        loft.cleanup()
    print("%d messages, %s" % (count, QUERY))
    print("%-10s %10s %12s %8s %14s" % ("run", "loft_s", "dovecot_s", "ratio", "bytes l/d"))
    for run in ("first", "second", "restarted"):
        lt, ls = figures["loft", run]
        dt, ds = figures["dovecot", run]
        print("%-10s %10.3f %12.3f %8.2f %14s" % (run, lt, dt, lt / dt if dt else 0, "%d/%d" % (ls, ds)))
    print("loft second/first %.2f, dovecot second/first %.2f" % (
        figures["loft", "second"][0] / figures["loft", "first"][0],
        figures["dovecot", "second"][0] / figures["dovecot", "first"][0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
