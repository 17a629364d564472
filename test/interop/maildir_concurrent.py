#!/usr/bin/env python3
"""Interop (issue 4, 8d): dovecot-lda, a Dovecot IMAP session and Loft deliver and
change flags in the same Maildir at the same time. Afterwards no message is lost or
duplicated, every UID is unique, dovecot-uidlist parses, and Loft and Dovecot show
the same state."""
import os
import re
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from store_common import Dovecot, Loft, compare, imap_state, message, skip_unless_possible

ROUNDS = 25


def main():
    skip_unless_possible()
    builddir = os.environ.get("LOFT_BUILDDIR", os.getcwd())
    dc = Dovecot("concurrent")
    errors = []
    try:
        dc.deliver("alice", message(0))  # creates the Maildir the Dovecot way
        loft = Loft(builddir, dc.maildir("alice"))
        msgdir = os.path.join(dc.inst, "msgs")
        os.makedirs(msgdir)
        os.chmod(msgdir, 0o755)

        def lda():
            try:
                for i in range(ROUNDS):
                    dc.deliver("alice", message(1000 + i))
            except Exception as e:  # noqa: BLE001 - report whatever broke
                errors.append("lda: %r" % e)

        def loft_append():
            try:
                for i in range(ROUNDS):
                    path = os.path.join(msgdir, "m%d" % i)
                    with open(path, "wb") as f:
                        f.write(message(2000 + i))
                    os.chmod(path, 0o644)
                    flags = ["\\Seen"] if i % 2 else []
                    loft.run("append", "INBOX", path, *flags)
            except Exception as e:  # noqa: BLE001
                errors.append("loft append: %r" % e)

        def loft_flags():
            try:
                for i in range(ROUNDS):
                    loft.run("store", "INBOX", ",".join(str(u) for u in range(1, 40)), "+", "LoftSeen")
                    loft.run("dump")
            except Exception as e:  # noqa: BLE001
                errors.append("loft flags: %r" % e)

        def imap_flags():
            try:
                imap = dc.imap()
                for i in range(ROUNDS):
                    imap.select("INBOX")
                    imap.uid("STORE", "1:*", "+FLAGS", r"(\Flagged DovecotSeen)")
                    imap.noop()
                imap.logout()
            except Exception as e:  # noqa: BLE001
                errors.append("imap: %r" % e)

        threads = [threading.Thread(target=t) for t in (lda, loft_append, loft_flags, imap_flags)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        problems = len(errors)
        for e in errors:
            print(e)
        with open(os.path.join(dc.maildir("alice"), "dovecot-uidlist")) as f:
            lines = f.read().splitlines()
        uids = [int(line.split(" ", 1)[0]) for line in lines[1:]]
        names = [line.split(":", 1)[1] for line in lines[1:]]
        if uids != sorted(set(uids)):
            print("uidlist UIDs not unique and ascending: %r" % uids)
            problems += 1
        if len(names) != len(set(names)):
            print("uidlist lists a file twice")
            problems += 1

        loft_view = loft.state()
        dovecot_view = imap_state(dc.imap())
        problems += compare("after concurrent work", dovecot_view, loft_view)
        inbox = loft_view[0]["INBOX"][3]
        expected = 1 + 2 * ROUNDS
        if len(inbox) != expected:
            print("INBOX has %d messages, expected %d" % (len(inbox), expected))
            problems += 1
        # Every message body is there exactly once.
        ids = []
        for sub in ("cur", "new"):
            d = os.path.join(dc.maildir("alice"), sub)
            for name in os.listdir(d):
                with open(os.path.join(d, name), "rb") as f:
                    m = re.search(rb"Subject: test (\d+)", f.read())
                    ids.append(int(m.group(1)))
        if sorted(ids) != sorted([0] + list(range(1000, 1000 + ROUNDS)) + list(range(2000, 2000 + ROUNDS))):
            print("message files lost or duplicated: %r" % sorted(ids))
            problems += 1
        if problems:
            print("%d problems; Dovecot log tail:\n%s" % (problems, dc.log()[-3000:]))
            return 1
        print("consistent after %d concurrent deliveries by each side" % ROUNDS)
        return 0
    finally:
        dc.stop()


if __name__ == "__main__":
    sys.exit(main())
