#!/usr/bin/env python3
"""Side by side (mbox in-place writes): STORE of one flag on one message of a ~50 MB mbox,
by Loft (bench/mbox_store: the storage call an IMAP STORE makes, mailbox open) and by
Debian's Dovecot 2.3 over IMAP with mbox_lazy_writes = no (so every STORE is written to
the file, as Loft does). Both work on the same file, first made by Dovecot (X-UIDs and
padding written). Prints seconds per STORE and the Loft/Dovecot ratio. Needs root.
usage: mbox_store_vs_dovecot.py BUILDDIR [MEGABYTES] [ROUNDS]"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "interop"))
from store_common import MAIL_UID, Dovecot  # noqa: E402


def generate(path, megabytes):
    """An MTA-written mbox: plain From lines, no X-UID; ~5 kB per message."""
    line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n"
    body = line * 60
    count = 0
    with open(path, "w") as f:
        while f.tell() < megabytes * 1024 * 1024:
            count += 1
            f.write("From sender@example.org  Mon Nov 30 06:00:00 2026\n"
                    "From: sender@example.org\nTo: alice@example.org\nSubject: bench %d\n"
                    "Date: Mon, 30 Nov 2026 06:00:00 +0000\n\n%s\n" % (count, body))
    return count


def main():
    builddir = sys.argv[1]
    megabytes = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    if os.geteuid() != 0:
        print("needs root")
        return 77
    dc = Dovecot("mbox-bench", mail_format="mbox")
    try:
        with open(dc.conf, "a") as f:
            f.write("mbox_lazy_writes = no\n")
        subprocess.check_call(["doveadm", "-c", dc.conf, "reload"])
        time.sleep(1)
        inbox = dc.inbox("alice")
        count = generate(inbox, megabytes)
        subprocess.check_call(["chown", "-R", "%d:%d" % (MAIL_UID, MAIL_UID), dc.data])
        uid = count // 2
        imap = dc.imap()
        imap.select("INBOX")  # Dovecot writes X-UIDs and its padding into the whole file once
        imap.uid("STORE", "1", "+FLAGS", r"(\Seen)")
        imap.noop()
        size = os.path.getsize(inbox)
        inode = os.stat(inbox).st_ino
        mtime = os.stat(inbox).st_mtime_ns
        start = time.time()
        for i in range(rounds):
            imap.uid("STORE", str(uid), "-FLAGS" if i % 2 else "+FLAGS", r"(\Flagged)")
        dovecot = (time.time() - start) / rounds
        imap.logout()
        wrote = os.stat(inbox).st_mtime_ns != mtime
        dovecot_inode = os.stat(inbox).st_ino == inode
        location = "%s/alice/mail:INBOX=%s" % (dc.data, inbox)
        out = subprocess.run([os.path.join(builddir, "bench", "mbox_store"), location, str(uid), str(rounds)],
                             capture_output=True, text=True, check=True).stdout
        loft = dict(line.split() for line in out.splitlines())
        print("mbox %.1f MB, %d messages, STORE of \\Flagged on uid %d, %d rounds" % (size / 1e6, count, uid, rounds))
        print("%-14s %12s %12s %8s" % ("figure", "loft_s", "dovecot_s", "ratio"))
        lv = float(loft["store"])
        print("%-14s %12.6f %12.6f %8.2f" % ("store", lv, dovecot, lv / dovecot if dovecot else 0))
        print("Loft open (parse of the whole file) %.3f s; inode kept: Loft %s, Dovecot %s; Dovecot wrote the file: %s"
              % (float(loft["open"]), loft["same_inode"], "yes" if dovecot_inode else "no", "yes" if wrote else "no"))
        # Not quite like for like: Dovecot's figure includes the IMAP round trip.
    finally:
        dc.stop()
        shutil.rmtree(dc.inst, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
