"""FETCH answers compared byte for byte with real Dovecot 2.3 on the same Maildir:
ENVELOPE, BODYSTRUCTURE, BODY, RFC822.SIZE and body sections of MIME messages, as a
client sees them through loft-imap and loft-storage. Needs root and Dovecot (else 77)."""
import os
import re
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import SKIP, Dovecot, Loft, TestCounter, lmtp_session  # noqa: E402

MESSAGES = [
    b"From: =?UTF-8?B?SsO8cmdlbg==?= <j@example.org>\r\nTo: a@example.org, \"B, C\" <b@example.org>\r\n"
    b"Cc: undisclosed-recipients:;\r\nSubject: =?ISO-8859-1?Q?caf=E9?= plain\r\nDate: Mon, 30 Nov 2026 03:00:00 +0100\r\n"
    b"Message-ID: <plain@example.org>\r\nIn-Reply-To: <earlier@example.org>\r\n\r\nplain body\r\n",
    b"From: a@example.org\r\nSubject: multipart\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npreamble\r\n--XX\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nhej =C3=A5\r\n"
    b"--XX\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\nContent-Disposition: attachment; filename=\"a.bin\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--XX--\r\nepilogue\r\n",
    b"From: b@example.org\r\nSubject: nested\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b1\r\n\r\n"
    b"--b1\r\nContent-Type: text/plain\r\n\r\ntext\r\n--b1\r\nContent-Type: message/rfc822\r\n\r\n"
    b"From: inner@example.org\r\nSubject: inner\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n<p>hi</p>\r\n--b1--\r\n",
    b"Subject: no from, no final newline\r\nContent-Type: text/plain; format=flowed; delsp=yes\r\n\r\nlast line",
]

QUERIES = [
    "FETCH 1:* (ENVELOPE)",
    "FETCH 1:* (BODYSTRUCTURE)",
    "FETCH 1:* (BODY)",
    "FETCH 1:* (RFC822.SIZE)",
    "FETCH 1:* (BODY.PEEK[1])",
    "FETCH 1:* (BODY.PEEK[1.MIME])",
    "FETCH 1:* (BODY.PEEK[2])",
    "FETCH 1:* (BODY.PEEK[2.1.HEADER])",
    "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])",
    "FETCH 1:* (BODY.PEEK[HEADER.FIELDS.NOT (FROM SUBJECT RETURN-PATH RECEIVED DELIVERED-TO)])",
    "FETCH 1:* (BODY.PEEK[TEXT]<3.20>)",
    "FETCH 2 (BODY.PEEK[2.TEXT])",
]


def run_queries(port):
    sock = socket.create_connection(("127.0.0.1", port), 10)
    stream = sock.makefile("rb")
    stream.readline()

    def command(tag, text):
        sock.sendall(f"{tag} {text}\r\n".encode())
        out = b""
        while True:
            line = stream.readline()
            literal = re.search(rb"\{(\d+)\}\r\n$", line)
            if literal:
                line += stream.read(int(literal.group(1)))
                out += line
                continue
            if line.startswith(tag.encode() + b" "):
                return out, line.split(b" ")[1]
            out += line

    command("a", "LOGIN alice secret")
    command("b", "EXAMINE INBOX")
    results = {}
    for n, query in enumerate(QUERIES):
        results[query] = command(f"q{n}", query)
    sock.close()
    return results


def main():
    if not Dovecot.available():
        print("fetch_compare: needs root and Debian's dovecot packages, skipping")
        return SKIP
    t = TestCounter("fetch_compare")
    loft = Loft(users=("alice",))
    dovecot = Dovecot(loft)
    try:
        dovecot.start()
        for body in MESSAGES:
            lmtp_session(dovecot.lmtp_port, "s@example.org", ["alice"], body)
        run_queries(dovecot.imap_port)  # Dovecot answers some items differently before its cache is warm
        expected = run_queries(dovecot.imap_port)
        dovecot.stop()
        loft.start()
        actual = run_queries(loft.imap_port)
        loft.stop()
        for query in QUERIES:
            t.check(actual[query] == expected[query],
                    f"{query}:\n  dovecot {expected[query]!r}\n  loft    {actual[query]!r}")
    finally:
        dovecot.stop()
        loft.stop()
        if t.failed:
            print(loft.log(), file=sys.stderr)
        loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
