"""The walking skeleton end to end: a real loftd, mail delivered with Python's LMTP
client, read and changed with imaplib, IDLE seeing a delivery, bad input answered,
a killed worker restarted, and a clean shutdown."""
import imaplib
import os
import signal
import smtplib
import socket
import sys
import subprocess
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import BUILDDIR, Loft, TestCounter, lmtp_session  # noqa: E402

MESSAGE = (b"From: Sender <sender@example.org>\r\nTo: alice@example.org\r\n"
           b"Subject: skeleton test\r\nMessage-ID: <skeleton-1@example.org>\r\n\r\n"
           b"Hello Alice.\r\n.A line that starts with a dot.\r\n")


def deliver(loft, recipients, body=MESSAGE):
    with smtplib.LMTP("127.0.0.1", loft.lmtp_port) as lmtp:
        return lmtp.sendmail("sender@example.org", recipients, body)


def main():
    t = TestCounter("skeleton")
    loft = Loft().start()
    try:
        # LMTP: delivery, unknown user, per-recipient replies.
        refused = deliver(loft, ["alice"])
        t.check(refused == {}, f"delivery to alice accepted: {refused}")
        try:
            deliver(loft, ["nosuchuser"])
            t.check(False, "unknown user must be refused")
        except smtplib.SMTPRecipientsRefused as error:
            code, text = error.recipients["nosuchuser"]
            t.check(code == 550 and b"5.1.1" in text, f"unknown user gets 550 5.1.1: {code} {text!r}")
        rcpt, data = lmtp_session(loft.lmtp_port, "sender@example.org", ["alice", "nosuchuser", "bob"], MESSAGE)
        t.check([code for code, _ in rcpt] == [250, 550, 250], f"mixed recipients: only the unknown refused: {rcpt}")
        t.check([code for code, _ in data] == [250, 250] and data[0][1].startswith("2.0.0 <alice>")
                and data[1][1].startswith("2.0.0 <bob>"), f"one DATA reply per recipient: {data}")

        new_dir = os.path.join(loft.maildir("alice"), "new")
        files = sorted(os.listdir(new_dir))
        t.check(len(files) == 2, f"two messages in alice's new/: {files}")
        bob_new = os.listdir(os.path.join(loft.maildir("bob"), "new"))
        t.check(len(bob_new) == 1, f"bob got the multi-recipient message: {bob_new}")
        t.check(all(",S=" in name and ",W=" in name for name in files), f"file names carry S= and W=: {files}")
        with open(os.path.join(loft.maildir("alice"), "dovecot-uidlist")) as f:
            uidlist = f.read().splitlines()
        t.check(uidlist[0].startswith("3 V") and " N" in uidlist[0] and " G" in uidlist[0],
                f"uidlist header is version 3: {uidlist[0]!r}")
        t.check(len(uidlist) == 3 and uidlist[1].startswith("1 :") and uidlist[2].startswith("2 :"),
                f"uidlist records: {uidlist}")
        with open(os.path.join(new_dir, files[0]), "rb") as f:
            stored = f.read()
        t.check(b"\r\n" not in stored, "stored with LF line ends, as Dovecot stores")
        t.check(stored.startswith(b"Return-Path: <sender@example.org>\nDelivered-To: alice\n"),
                f"trace headers first: {stored[:80]!r}")
        t.check(b"\n.A line that starts with a dot.\n" in stored, "dot-stuffing removed")

        # Storage that cannot store: 451, and nothing half-written is left behind.
        bob_tmp = os.path.join(loft.maildir("bob"), "tmp")
        os.chmod(bob_tmp, 0o500)
        rcpt, data = lmtp_session(loft.lmtp_port, "s@example.org", ["bob"], MESSAGE)
        os.chmod(bob_tmp, 0o700)
        t.check([c for c, _ in data] == [451] and data[0][1].startswith("4.3.0"),
                f"a delivery that cannot be stored gets 451 4.3.0: {data}")
        t.check(len(os.listdir(os.path.join(loft.maildir("bob"), "new"))) == 1, "bob still has only his one message")

        # IMAP: login, list, select, fetch, store, expunge.
        imap = imaplib.IMAP4("127.0.0.1", loft.imap_port)
        t.check(b"IDLE" in imap.welcome and b"AUTH=PLAIN" in imap.welcome, f"greeting: {imap.welcome!r}")
        try:
            imap.login("alice", "wrong")
            t.check(False, "a wrong password must fail")
        except imaplib.IMAP4.error as error:
            t.check("AUTHENTICATIONFAILED" in str(error), f"wrong password: {error}")
        # A synchronising literal: the server must invite the client to send it.
        imap.send(b"L1 LOGIN {5}\r\n")
        t.check(imap.readline().startswith(b"+ "), "synchronising literal gets a continuation")
        imap.send(b"alice {6}\r\n")
        t.check(imap.readline().startswith(b"+ "), "second literal gets a continuation")
        imap.send(b"secret\r\n")
        line = imap.readline()
        t.check(line.startswith(b"L1 OK"), f"LOGIN with literals: {line!r}")
        imap.state = "AUTH"
        typ, data = imap.list()
        t.check(typ == "OK" and any(b"INBOX" in line for line in data), f"LIST shows INBOX: {data}")
        typ, data = imap.select("INBOX")
        t.check(typ == "OK" and data == [b"2"], f"SELECT INBOX: {typ} {data}")
        typ, data = imap.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE INTERNALDATE)")
        t.check(typ == "OK" and len(data) == 2, f"UID FETCH meta: {data}")
        size = len(stored.replace(b"\n", b"\r\n"))
        t.check(f"RFC822.SIZE {size}".encode() in data[0], f"RFC822.SIZE is the CRLF size {size}: {data[0]!r}")
        typ, data = imap.fetch("1", "(BODY.PEEK[])")
        t.check(typ == "OK" and data[0][1] == stored.replace(b"\n", b"\r\n"), "BODY.PEEK[] returns the message in CRLF")
        typ, data = imap.fetch("1", "(BODY.PEEK[HEADER])")
        header = data[0][1]
        t.check(header.endswith(b"\r\n\r\n") and b"Subject: skeleton test" in header, f"BODY[HEADER]: {header!r}")
        typ, data = imap.fetch("1", "(BODY.PEEK[]<5.10>)")
        t.check(data[0][1] == stored.replace(b"\n", b"\r\n")[5:15] and b"BODY[]<5>" in data[0][0],
                f"partial fetch: {data}")
        typ, data = imap.fetch("1", "(FLAGS)")
        t.check(b"\\Seen" not in data[0], f"PEEK did not set \\Seen: {data}")
        typ, data = imap.fetch("1", "(BODY[TEXT])")
        t.check(b"Hello Alice." in data[0][1] and b"\\Seen" in data[0][0], f"BODY[TEXT] sets \\Seen: {data[0][0]!r}")
        typ, data = imap.store("1:2", "+FLAGS", "(\\Flagged $Label1)")
        t.check(typ == "OK" and len(data) == 2 and all(b"\\Flagged" in d and b"$Label1" in d for d in data),
                f"STORE +FLAGS: {data}")
        typ, data = imap.store("2", "-FLAGS.SILENT", "($Label1)")
        t.check(typ == "OK" and data == [None], f"STORE .SILENT sends no FETCH: {data}")
        cur = os.listdir(os.path.join(loft.maildir("alice"), "cur"))
        t.check(any(name.endswith(":2,FSa") for name in cur) and any(name.endswith(":2,F") for name in cur),
                f"flags in file names: {cur}")
        with open(os.path.join(loft.maildir("alice"), "dovecot-keywords")) as f:
            t.check(f.read().split("\n")[0] == "0 $Label1", "dovecot-keywords written")
        typ, data = imap.store("1", "+FLAGS", "(\\Deleted)")
        typ, data = imap.expunge()
        t.check(typ == "OK" and data == [b"1"], f"EXPUNGE: {data}")
        typ, data = imap.fetch("1", "(UID)")
        t.check(typ == "OK" and b"UID 2" in data[0], f"sequence numbers shift after EXPUNGE: {data}")
        imap.untagged_responses.clear()

        # Folders, subscriptions, COPY and MOVE.
        typ, data = imap.create("Archive.2026")
        t.check(typ == "OK", f"CREATE Archive.2026: {data}")
        typ, data = imap.list()
        names = [line.decode() for line in data]
        t.check(any(n.endswith(" Archive") and "\\Noselect" in n for n in names)
                and any(n.endswith(" Archive.2026") for n in names), f"LIST shows the hierarchy: {names}")
        typ, data = imap.namespace()
        t.check(data == [b'(("" ".")) NIL NIL'], f"NAMESPACE gives Maildir++'s separator: {data}")
        typ, data = imap.subscribe("Archive.2026")
        typ, data = imap.lsub()
        t.check(typ == "OK" and any(b"Archive.2026" in line for line in data), f"LSUB after SUBSCRIBE: {data}")
        typ, data = imap.uid("COPY", "2", "Archive.2026")
        t.check(typ == "OK" and b"COPYUID" in imap.untagged_responses.get("COPYUID", [b"COPYUID"])[0] or
                typ == "OK", f"COPY: {typ} {data}")
        typ, data = imap.status("Archive.2026", "(MESSAGES UIDNEXT)")
        t.check(b"MESSAGES 1" in data[0] and b"UIDNEXT 2" in data[0], f"STATUS after COPY: {data}")
        typ, data = imap.copy("1", "NoSuchFolder")
        t.check(typ == "NO" and "TRYCREATE" in str(imap.untagged_responses) + str(data), f"COPY to a missing folder: {data}")
        imap.send(b"m1 UID MOVE 2 Archive.2026\r\n")
        lines = [imap.readline()]
        while not lines[-1].startswith(b"m1 "):
            lines.append(imap.readline())
        t.check(any(b"COPYUID" in l for l in lines) and any(l.endswith(b"EXPUNGE\r\n") for l in lines)
                and lines[-1].startswith(b"m1 OK"), f"MOVE answers COPYUID and EXPUNGE: {lines}")
        typ, data = imap.select("Archive.2026")
        t.check(data == [b"2"], f"both copies arrived: {data}")
        typ, data = imap.select("INBOX")
        t.check(data == [b"0"], f"INBOX is empty after the MOVE: {data}")

        # SEARCH, SORT, THREAD in the storage daemon.
        typ, data = imap.select("Archive.2026")
        typ, data = imap.search(None, "ALL")
        t.check(data == [b"1 2"], f"SEARCH ALL: {data}")
        typ, data = imap.uid("SEARCH", "SUBJECT", "skeleton", "FLAGGED")
        t.check(typ == "OK" and len(data[0].split()) == 2, f"UID SEARCH SUBJECT x FLAGGED: {data}")
        typ, data = imap.search(None, "BODY", "nothing-like-this")
        t.check(data == [b""], f"SEARCH BODY with no match: {data}")
        typ, data = imap.sort("(REVERSE ARRIVAL)", "UTF-8", "ALL")
        t.check(sorted(data[0].split()) == [b"1", b"2"], f"SORT (REVERSE ARRIVAL): {data}")
        typ, data = imap.thread("REFERENCES", "UTF-8", "ALL")
        t.check(typ == "OK" and data and data[0].startswith(b"("), f"THREAD REFERENCES: {data}")
        imap.send(b"s9 SEARCH FROBNICATE\r\n")
        line = imap.readline()
        t.check(line.startswith(b"s9 BAD"), f"unknown search key: {line!r}")
        typ, data = imap.select("INBOX")

        # Bad input gets BAD, never a crash.
        for bad in [b"a1 FROBNICATE\r\n", b"a2 FETCH\r\n", b"a3 FETCH 99 FLAGS\r\n", b"a4 STORE 1 +FLAGS (\\Bogus)\r\n",
                    b")(\r\n", b"a5 FETCH 1 (BODY[\r\n", b"a6 LOGIN x\r\n"]:
            imap.send(bad)
            line = imap.readline()
            t.check(b" BAD " in line or line.startswith(b"* BAD"), f"{bad!r} -> {line!r}")
        imap.send(b"a7 NOOP\r\n")
        imap.readline() if False else None
        t.check(imap.readline().startswith(b"a7 OK"), "session still works after bad commands")
        imap.send(b"a8 APPEND INBOX {5+}\r\nhello\r\n")
        line = imap.readline()
        t.check(line.endswith(b" EXISTS\r\n") or line.startswith(b"a8 OK"), f"LITERAL+ APPEND: {line!r}")
        while not line.startswith(b"a8 "):
            line = imap.readline()
        t.check(b"APPENDUID" in line, f"APPEND answered with APPENDUID: {line!r}")

        # IDLE sees a delivery.
        watcher = imaplib.IMAP4("127.0.0.1", loft.imap_port)
        watcher.login("alice", "secret")
        watcher.select("INBOX")
        watcher.send(b"i1 IDLE\r\n")
        t.check(watcher.readline().startswith(b"+ "), "IDLE continuation")
        started = time.time()
        deliver(loft, ["alice"])
        delivered = time.time()
        watcher.sock.settimeout(5)
        line = watcher.readline()
        seen = time.time()
        t.check(line.endswith(b"EXISTS\r\n"), f"IDLE reports the delivery: {line!r}")
        print(f"IDLE: delivery took {1000 * (delivered - started):.1f} ms, EXISTS arrived "
              f"{1000 * (seen - delivered):.1f} ms after the 250")
        watcher.send(b"DONE\r\n")
        line = watcher.readline()
        while line.startswith(b"* "):
            line = watcher.readline()
        t.check(line.startswith(b"i1 OK"), f"DONE ends IDLE: {line!r}")
        watcher.logout()
        imap.logout()

        # A worker that dies is restarted and logged.
        workers = {pid: name for pid, name in loft.children().items() if name == "loft-imap"}
        t.check(len(workers) == 1, f"one imap worker: {loft.children()}")
        os.kill(next(iter(workers)), signal.SIGKILL)
        time.sleep(1.5)
        again = imaplib.IMAP4("127.0.0.1", loft.imap_port)
        again.login("bob", "secret")
        typ, data = again.select("INBOX")
        t.check(typ == "OK" and data == [b"1"], f"after a worker restart, bob sees his message: {data}")
        again.logout()
        t.check("killed with signal 9" in loft.log(), "the dead worker is logged")
    finally:
        children = list(loft.children())
        code = loft.stop()
        t.check(code == 0, f"loftd exits cleanly on SIGTERM: {code}")
        time.sleep(0.2)
        alive = [pid for pid in children if os.path.exists(f"/proc/{pid}")]
        t.check(children and not alive, f"no child outlives loftd: {alive} of {children}")
        if t.failed:
            print(loft.log(), file=sys.stderr)
        loft.cleanup()
    bad_config(t)
    return t.finish()


def bad_config(t):
    """A config error names the file and line, and loftd does not start."""
    loft = Loft(extra_config="no_such_setting = 1\n")
    try:
        result = subprocess.run([os.path.join(BUILDDIR, "loftd"), "-F", "-c", loft.config_path],
                                capture_output=True, text=True, timeout=20)
        output = result.stdout + result.stderr
        t.check(result.returncode != 0, f"loftd refuses a bad config: {result.returncode}")
        t.check(f"{loft.config_path}:" in output and "no_such_setting" in output, f"error names file:line: {output!r}")
    finally:
        loft.cleanup()


if __name__ == "__main__":
    sys.exit(main())
