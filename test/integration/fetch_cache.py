#!/usr/bin/env python3
"""The storage daemon's fetch cache through real loftd: repeat FETCHes of ENVELOPE,
BODY and BODYSTRUCTURE answer the same as the first, loft.cache appears next to
loft.index, and a damaged or foreign loft.cache is ignored (same answers again)."""
import os
import re
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import Loft, TestCounter, lmtp_session  # noqa: E402

QUERY = "FETCH 1:* (ENVELOPE BODY BODYSTRUCTURE)"


def fetch(port):
    sock = socket.create_connection(("127.0.0.1", port), 10)
    stream = sock.makefile("rb")
    stream.readline()

    def command(tag, text):
        sock.sendall(f"{tag} {text}\r\n".encode())
        out = b""
        while True:
            line = stream.readline()
            if not line:
                return out + b"<closed>"
            literal = re.search(rb"\{(\d+)\}\r\n$", line)
            if literal:
                out += line + stream.read(int(literal.group(1)))
                continue
            if line.startswith(tag.encode() + b" "):
                return out + line.split(b" (")[0]
            out += line

    command("a", "LOGIN alice secret")
    command("b", "EXAMINE INBOX")
    result = command("c", QUERY)
    sock.close()
    return result


def main():
    t = TestCounter("fetch_cache")
    loft = Loft(users=("alice",))
    try:
        loft.start()
        for i in range(30):
            body = (f"From: \"S {i}\" <s{i}@example.org>\r\nSubject: message {i}\r\nMIME-Version: 1.0\r\n"
                    f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\nContent-Type: text/plain\r\n\r\n"
                    f"text {i}\r\n--b{i}--\r\n").encode()
            lmtp_session(loft.lmtp_port, "s@example.org", ["alice"], body)
        first = fetch(loft.imap_port)
        t.check(first.count(b"* ") == 30 and first.endswith(b"c OK Fetch completed"), "first FETCH answers")
        second = fetch(loft.imap_port)
        t.check(second == first, "repeat FETCH answers the same")
        loft.stop()
        cache = os.path.join(loft.maildir("alice"), "loft.cache")
        t.check(os.path.exists(cache) and os.path.getsize(cache) > 30 * 50, "loft.cache written")
        loft.start()
        t.check(fetch(loft.imap_port) == first, "answers from loft.cache after a restart")
        loft.stop()
        with open(cache, "r+b") as f:
            f.seek(os.path.getsize(cache) // 2)
            f.write(b"\xff" * 64)
        loft.start()
        t.check(fetch(loft.imap_port) == first, "damaged loft.cache ignored")
        loft.stop()
        with open(cache, "wb") as f:
            f.write(b"LOFTCACHE\x09 some future version")
        loft.start()
        t.check(fetch(loft.imap_port) == first, "foreign loft.cache version ignored")
        loft.stop()
        os.unlink(cache)
        loft.start()
        t.check(fetch(loft.imap_port) == first, "deleted loft.cache rebuilt")
    finally:
        loft.stop()
        if t.failed:
            print(loft.log(), file=sys.stderr)
        loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
