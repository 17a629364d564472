#!/usr/bin/env python3
"""BINARY (RFC 3516) compared byte for byte with real Dovecot 2.3 on the same Maildir:
FETCH BINARY[section]<partial>, BINARY.PEEK, BINARY.SIZE, literal8 (~{n}) answers, the
NO [UNKNOWN-CTE] / [PARSE] failures and APPEND of a literal8, through loft-imap and
loft-storage. Needs root and Dovecot (else 77)."""
import os
import re
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import MAIL_GID, MAIL_UID, SKIP, Dovecot, Loft, TestCounter, lmtp_session  # noqa: E402

MESSAGES = [
    # 1: base64 text with a NUL
    b"From: a@example.org\r\nSubject: b64\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    b"aGVsbG8Ad29ybGQ=\r\n",
    # 2: unknown transfer encoding
    b"From: a@example.org\r\nSubject: unk\r\nContent-Transfer-Encoding: x-foo\r\n\r\nhello\r\n",
    # 3: multipart with quoted-printable and base64 parts
    b"From: a@example.org\r\nSubject: mp\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
    b"--XX\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nhej =C3=A5=\r\nx\r\n"
    b"--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--XX--\r\n",
    # 4: invalid base64
    b"From: a@example.org\r\nSubject: bad b64\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n",
    # 5: quoted-printable decoding to ASCII
    b"From: a@example.org\r\nSubject: qp ascii\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nhello=\r\n world=3D\r\n",
    # 6: raw 8bit, nothing to decode
    b"From: a@example.org\r\nSubject: 8bit raw\r\nContent-Transfer-Encoding: 8bit\r\n\r\nhej \xc3\xa5\r\n",
    # 7: plain
    b"From: a@example.org\r\nSubject: plain\r\n\r\nhello\r\n",
    # 8: multipart, one plain and one base64 part
    b"From: a@example.org\r\nSubject: mp2\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
    b"--XX\r\nContent-Type: text/plain\r\n\r\nplain\r\n--XX\r\nContent-Type: text/plain\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--XX--\r\n",
    # 9: message/rfc822 inside, with an encoded body
    b"From: b@example.org\r\nSubject: nested\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n"
    b"--b1\r\nContent-Type: text/plain\r\n\r\ntext\r\n--b1\r\nContent-Type: message/rfc822\r\n\r\n"
    b"From: inner@example.org\r\nSubject: inner\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"caf=C3=A9\r\n--b1--\r\n",
]

QUERIES = [
    "CAPABILITY",
    "FETCH 1 (BINARY.PEEK[])",
    "FETCH 1 (BINARY.SIZE[] BINARY.SIZE[1] BINARY.SIZE[TEXT])",
    "FETCH 1 (BINARY.PEEK[]<0.5> BINARY.PEEK[]<200.5> BINARY.PEEK[1]<3>)",
    "FETCH 1:* (BINARY.PEEK[])",
    "FETCH 2 (FLAGS BINARY.PEEK[1])",
    "FETCH 2 (BINARY.SIZE[1])",
    "FETCH 2 (BINARY.PEEK[HEADER] BINARY.PEEK[1.MIME] BINARY.SIZE[HEADER])",
    "FETCH 3 (BINARY.PEEK[1] BINARY.PEEK[2]<1.3> BINARY.SIZE[2])",
    "FETCH 3 (BINARY.PEEK[TEXT] BINARY.PEEK[1.MIME] BINARY.PEEK[3] BINARY.PEEK[1.2])",
    "FETCH 3 (BINARY.SIZE[1.MIME] BINARY.SIZE[HEADER.FIELDS (FROM)] BINARY.SIZE[1.2])",
    "FETCH 4 (BINARY.PEEK[1])",
    "FETCH 5:8 (BINARY.PEEK[1])",
    "FETCH 5:8 (BINARY.PEEK[] BINARY.SIZE[])",
    "FETCH 8 (BINARY.PEEK[1] BINARY.PEEK[2] BINARY.PEEK[TEXT])",
    "FETCH 9 (BINARY.PEEK[2] BINARY.PEEK[2.1] BINARY.PEEK[2.TEXT] BINARY.SIZE[2] BINARY.SIZE[2.1])",
    "FETCH 7 (BINARY.PEEK[1] RFC822.SIZE BINARY.SIZE[1] UID)",
    "UID FETCH 3 (BINARY.PEEK[2])",
    "FETCH 1 BINARY",
    "FETCH 7 (BINARY[1])",
    "FETCH 7 (FLAGS)",
    "APPEND INBOX ~{21+}\r\nSubject: x\r\n\r\nhe\x00lo\r\n",
    "FETCH 10 (BODY.PEEK[] BINARY.PEEK[])",
]


def run_queries(port):
    sock = socket.create_connection(("127.0.0.1", port), 10)
    stream = sock.makefile("rb")
    stream.readline()

    def command(tag, text):
        sock.sendall(f"{tag} {text}\r\n".encode("latin-1"))
        out = b""
        while True:
            line = stream.readline()
            if not line:
                return out, b"<closed>"
            literal = re.search(rb"~?\{(\d+)\}\r\n$", line)
            if literal:
                line += stream.read(int(literal.group(1)))
                out += line
                continue
            if line.startswith(tag.encode() + b" "):
                # The tagged line without Dovecot's timing text.
                return out, re.sub(rb" \(\d+\.\d+ .*secs\)", b"", line.rstrip(b"\r\n"))
            out += line

    command("a", "LOGIN alice secret")
    command("b", "SELECT INBOX")
    results = {}
    for n, query in enumerate(QUERIES):
        untagged, tagged = command(f"q{n}", query)
        if query == "CAPABILITY":
            untagged = b"BINARY" in untagged  # only whether it is announced
        if query.startswith("APPEND"):
            tagged = re.sub(rb"APPENDUID \d+ ", b"APPENDUID x ", tagged)
        results[query] = (untagged, tagged)
    sock.close()
    return results


def main():
    if not Dovecot.available():
        print("binary_compare: needs root and Debian's dovecot packages, skipping")
        return SKIP
    t = TestCounter("binary_compare")
    loft = Loft(users=("alice",))
    dovecot = Dovecot(loft)
    maildir = loft.maildir("alice")
    try:
        dovecot.start()
        for body in MESSAGES:
            lmtp_session(dovecot.lmtp_port, "s@example.org", ["alice"], body)
        dovecot.stop()
        # The queries change the mailbox (APPEND, \Seen): Loft gets the state from before.
        pristine = maildir + ".pristine"
        shutil.copytree(maildir, pristine, symlinks=True)
        dovecot.start()
        expected = run_queries(dovecot.imap_port)
        dovecot.stop()
        shutil.rmtree(maildir)
        shutil.copytree(pristine, maildir, symlinks=True)
        subprocess.run(["chown", "-R", "%d:%d" % (MAIL_UID, MAIL_GID), maildir], check=True)
        loft.start()
        actual = run_queries(loft.imap_port)
        loft.stop()
        for query in QUERIES:
            t.check(actual[query] == expected[query],
                    f"{query!r}:\n  dovecot {expected[query]!r}\n  loft    {actual[query]!r}")
    finally:
        dovecot.stop()
        loft.stop()
        if t.failed:
            print(loft.log(), file=sys.stderr)
        loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
