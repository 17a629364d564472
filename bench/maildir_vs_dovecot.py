#!/usr/bin/env python3
"""Side by side (issue 4, item 7): the same generated Maildir opened by Loft
(bench/maildir_open) and by Debian's Dovecot 2.3 over IMAP (SELECT cold, i.e.
without dovecot.index*, then warm; UID FETCH 1:* FLAGS). Needs root.
usage: maildir_vs_dovecot.py BUILDDIR [MESSAGES]"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "interop"))
from maildir_common import MAIL_UID, Dovecot  # noqa: E402


def loft_figures(builddir, maildir, count):
    out = subprocess.run([os.path.join(builddir, "bench", "maildir_open"), maildir, str(count)],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split() for line in out.splitlines())


def dovecot_figures(dc):
    figures = {}
    for label in ("open_cold", "open_warm"):
        imap = dc.imap()
        start = time.time()
        imap.select("INBOX", readonly=True)
        figures[label] = time.time() - start
        if label == "open_warm":
            start = time.time()
            imap.uid("FETCH", "1:*", "(FLAGS)")
            figures["fetch_flags_all"] = time.time() - start
        imap.logout()
    return figures


def main():
    builddir = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    dc = Dovecot("bench")
    try:
        maildir = dc.maildir("alice")
        loft = loft_figures(builddir, maildir, count)
        for name in os.listdir(maildir):
            if name.startswith("loft.index"):
                os.unlink(os.path.join(maildir, name))
        subprocess.check_call(["chown", "-R", "%d:%d" % (MAIL_UID, MAIL_UID), maildir])
        dovecot = dovecot_figures(dc)
        print("%-18s %10s %10s %8s" % ("figure", "loft_s", "dovecot_s", "ratio"))
        for key in ("open_cold", "open_warm"):
            lv, dv = float(loft[key]), dovecot[key]
            print("%-18s %10.3f %10.3f %8.2f" % (key, lv, dv, lv / dv if dv else 0))
        # Not a like-for-like ratio: Dovecot's figure includes the IMAP round trip and
        # imaplib parsing; Loft's is the storage walk plus response formatting.
        print("%-18s %10.3f %10.3f %8s" % ("fetch_flags_all", float(loft["fetch_flags_all"]),
                                            dovecot["fetch_flags_all"], "n/a"))
        print("messages %s, Loft resync of an unchanged open folder %.6f s, Loft max RSS %s kB"
              % (loft["messages"], float(loft["resync_unchanged"]), loft["max_rss_kb"]))
    finally:
        dc.stop()
        shutil.rmtree(dc.inst, ignore_errors=True)


if __name__ == "__main__":
    main()
