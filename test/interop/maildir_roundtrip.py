#!/usr/bin/env python3
"""Interop (issue 4, 8a): a Maildir built by real Dovecot 2.3 opened by Loft shows the
same state (folders, UIDVALIDITY, UIDNEXT, UIDs, flags, keywords, sizes, dates,
subscriptions, non-ASCII names); after Loft changes it, Dovecot shows what Loft shows."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from store_common import (Dovecot, Loft, compare, imap_quote, imap_state, message, mutf7_encode,
                            skip_unless_possible)


def build_with_dovecot(dc):
    for i in range(1, 7):
        dc.deliver("alice", message(i))
    imap = dc.imap()
    for name in ("Archive", "Archive/2024", "Work/Projects/Alpha", "Entwürfe", "Test & Co", "日本語/台北", "Temp", "OldName"):
        imap.create(imap_quote(mutf7_encode(name)))
    for name in ("Drafts", "Archive/2024", "Entwürfe", "Trash", "日本語/台北"):
        imap.subscribe(imap_quote(mutf7_encode(name)))
    imap.unsubscribe("Drafts")
    imap.delete("Temp")
    imap.rename("OldName", "Renamed")
    dc.deliver("alice", message(7), "Archive/2024")
    dc.deliver("alice", message(8), "Entwürfe")
    imap.select("INBOX")
    imap.uid("STORE", "1", "+FLAGS", r"(\Seen \Answered)")
    imap.uid("STORE", "2", "+FLAGS", r"(\Flagged $Forwarded $label1)")
    imap.uid("STORE", "3", "+FLAGS", r"(Junk NonJunk \Draft)")
    imap.uid("STORE", "4", "+FLAGS", r"(\Deleted)")
    imap.expunge()
    imap.uid("STORE", "5", "+FLAGS", r"(\Deleted \Seen)")  # deleted but not expunged
    imap.uid("COPY", "2", imap_quote(mutf7_encode("Entwürfe")))
    imap.append("Renamed", r"(\Seen $label1)", '"01-Feb-2024 10:00:00 +0100"',
                b"Subject: appended\r\n\r\nno final newline")
    imap.logout()
    for i in (9, 10):  # late deliveries stay in new/ with UIDs in the uidlist
        dc.deliver("alice", message(i))


def change_with_loft(loft, tmpdir):
    path = os.path.join(tmpdir, "msg.eml")
    with open(path, "wb") as f:
        f.write(message(100, "X-Loft: yes\r\n"))
    os.chmod(path, 0o644)
    loft.run("append", "INBOX", path)
    loft.run("append", "INBOX", path, "\\Seen", "\\Flagged", "$label1", "LoftKeyword", "@1706778000")
    loft.run("append", "Entwürfe", path, "Junk")
    loft.run("store", "INBOX", "1,2,3", "+", "\\Flagged", "Important")
    loft.run("store", "INBOX", "2", "-", "$label1", "\\Flagged")
    loft.run("store", "INBOX", "3", "=", "\\Seen")
    loft.run("store", "INBOX", "9", "+", "\\Deleted")
    loft.run("expunge", "INBOX")
    loft.run("copy", "INBOX", "Archive/2024", "1,2")
    loft.run("move", "INBOX", "Entwürfe", "6")
    loft.run("create", "Loft/Made")
    loft.run("subscribe", "Loft/Made")
    loft.run("unsubscribe", "Trash")
    loft.run("rename", "Renamed", "Renamed Again")
    loft.run("delete", "Work/Projects/Alpha")


def roundtrip(builddir, layout_options):
    dc = Dovecot("roundtrip", layout_options)
    try:
        build_with_dovecot(dc)
        loft = Loft(builddir, dc.location("alice"))
        built = imap_state(dc.imap())
        problems = compare("Dovecot-built", built, loft.state())
        change_with_loft(loft, dc.inst)
        loft_view = loft.state()
        dovecot_view = imap_state(dc.imap())
        problems += compare("after Loft changes", dovecot_view, loft_view)
        # The Loft-made changes really happened (not just both sides agreeing on nothing).
        inbox = loft_view[0]["INBOX"][3]
        checks = [
            # Dovecot delivered UIDs 1-8 (4 expunged, 5 \Deleted); Loft appended 9 and 10,
            # then marked 9 \Deleted and expunged both 5 and 9.
            ("uids 5 and 9 expunged", 5 not in inbox and 9 not in inbox and 4 not in inbox),
            ("Loft append got UID 10", 10 in inbox),
            ("keywords and date on uid 10",
             inbox.get(10, ("", 0, 0))[0] == "$label1 LoftKeyword \\Flagged \\Seen" and inbox[10][2] == 1706778000),
            ("flags replaced on uid 3", inbox.get(3, ("",))[0] == "\\Seen"),
            ("rename keeps UIDVALIDITY", "Renamed" not in dovecot_view[0] and
             dovecot_view[0].get("Renamed Again", (0, -1))[1] == built[0]["Renamed"][1]),
            ("Loft/Made subscribed", "Loft/Made" in dovecot_view[1] and "Trash" not in dovecot_view[1]),
            ("Entwürfe has 4 messages (one moved in)", len(dovecot_view[0].get("Entwürfe", (0, 0, 0, {}))[3]) == 4),
            ("uid 6 moved out of INBOX", 6 not in inbox),
            ("Archive/2024 has 3 messages (two copied in)",
             len(dovecot_view[0].get("Archive/2024", (0, 0, 0, {}))[3]) == 3),
        ]
        for label, ok in checks:
            if not ok:
                print("check failed: " + label)
                problems += 1
        layout = layout_options or "Maildir++"
        if problems:
            print("%s: %d differences; Dovecot log:\n%s" % (layout, problems, dc.log()[-3000:]))
        else:
            print("%s: Dovecot and Loft agree (%d mailboxes)" % (layout, len(loft_view[0])))
        return problems
    finally:
        if os.environ.get("LOFT_KEEP_DOVECOT"):
            print("kept Dovecot instance in " + dc.inst)
        else:
            dc.stop()


def main():
    skip_unless_possible()
    builddir = os.environ.get("LOFT_BUILDDIR", os.getcwd())
    problems = roundtrip(builddir, "")
    problems += roundtrip(builddir, ":LAYOUT=fs")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
