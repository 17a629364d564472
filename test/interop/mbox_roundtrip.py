#!/usr/bin/env python3
"""Interop (issue 5): an mbox tree built by real Dovecot 2.3 (Debian's layout
mbox:~/mail:INBOX=~/inbox) opened by Loft shows the same state (folders, UIDVALIDITY,
UIDNEXT, UIDs, flags, keywords, sizes, dates, bodies, subscriptions); after Loft changes
it, Dovecot shows what Loft shows; MTA-style appends get the same UIDs from both.
Loft's flag changes and expunges are written in place (the INBOX file keeps its inode,
Dovecot's padding is reused), Dovecot then changes the same file in place again, and
Loft reads that identically."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from store_common import (Dovecot, Loft, compare, imap_quote, imap_state, message, mutf7_encode,
                         skip_unless_possible)


def build_with_dovecot(dc):
    for i in range(1, 7):
        dc.deliver("alice", message(i, "X-Body-Test: yes\r\n") + b"From the beginning of a line.\r\n")
    imap = dc.imap()
    for name in ("Archive/2024", "Lists/", "Entwürfe", "Empty", "Temp", "OldName"):
        imap.create(imap_quote(mutf7_encode(name)))
    for name in ("Archive/2024", "Entwürfe", "Empty"):
        imap.subscribe(imap_quote(mutf7_encode(name)))
    imap.delete("Temp")
    imap.rename("OldName", "Renamed")
    dc.deliver("alice", message(7), "Archive/2024")
    dc.deliver("alice", message(8), "Entwürfe")
    imap.append("Empty", None, None, b"Subject: soon gone\r\n\r\nbody\r\n")
    imap.select("Empty")
    imap.uid("STORE", "1", "+FLAGS", r"(\Deleted)")
    imap.expunge()
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
    dc.deliver("alice", message(9))  # a late delivery


def bodies_differ(dc, loft, state, what):
    """Compares BODY.PEEK[] of every message as Dovecot serves it with Loft's message_text."""
    problems = 0
    imap = dc.imap()
    for name, (attrs, _, _, msgs) in sorted(state[0].items()):
        if attrs:
            continue
        imap.select(imap_quote(mutf7_encode(name)), readonly=True)
        for uid in sorted(msgs):
            typ, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
            dovecot_text = data[0][1]
            loft_text = loft.run("fetch", name, str(uid)).encode().replace(b"\n", b"\r\n")
            if dovecot_text != loft_text:
                print("%s: %s uid %d body differs:\nDovecot %r\nLoft    %r" % (what, name, uid, dovecot_text[:300],
                                                                            loft_text[:300]))
                problems += 1
        imap.close()
    imap.logout()
    return problems


def change_with_loft(loft, tmpdir):
    path = os.path.join(tmpdir, "msg.eml")
    with open(path, "wb") as f:
        f.write(message(100, "X-Loft: yes\r\n"))
    os.chmod(path, 0o644)
    loft.run("append", "INBOX", path)
    loft.run("append", "INBOX", path, "\\Seen", "\\Flagged", "$label1", "LoftKeyword", "@1706778000")
    loft.run("append", "Entwürfe", path, "Junk")
    loft.run("append", "Empty", path, "\\Seen")
    loft.run("store", "INBOX", "1,2,3", "+", "\\Flagged", "Important")
    loft.run("store", "INBOX", "2", "-", "$label1", "\\Flagged")
    loft.run("store", "INBOX", "3", "=", "\\Seen")
    loft.run("store", "INBOX", "8", "+", "\\Deleted")
    loft.run("expunge", "INBOX")
    loft.run("copy", "INBOX", "Archive/2024", "1,2")
    loft.run("move", "INBOX", "Entwürfe", "6")
    loft.run("create", "Loft/Made")
    loft.run("subscribe", "Loft/Made")
    loft.run("unsubscribe", "Empty")
    loft.run("rename", "Renamed", "Renamed Again")
    loft.run("store", "Archive/2024", "1", "+", "\\Deleted")
    loft.run("expunge", "Archive/2024")


MTA_MESSAGE = ("From mta@example.net  Sat Nov 28 10:00:0%d 2026\n"
               "Return-Path: <mta@example.net>\nFrom: mta@example.net\nTo: alice@example.org\n"
               "Subject: mta %d\n\nDelivered by the MTA, no X-UID.\n\n")


def mta_append(dc, count, start):
    """Appends like a local MTA: plain From line and headers, under the dotlock."""
    inbox = dc.inbox("alice")
    lock = inbox + ".lock"
    fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with open(inbox, "a") as f:
            for i in range(count):
                f.write(MTA_MESSAGE % (i, start + i))
    finally:
        os.close(fd)
        os.unlink(lock)


def known_differences(built, loft_state, tree):
    """Dovecot keeps the UIDVALIDITY of a never-written (0-byte) folder only in its own
    index, never in the mbox; Loft cannot read Dovecot's index, so that one value is not
    compared; everything else is."""
    for name, entry in built[0].items():
        if entry[0] or name not in loft_state[0]:
            continue
        path = os.path.join(tree, name) if name != "INBOX" else None
        if path and os.path.isfile(path):
            if os.path.getsize(path) == 0:
                loft_state[0][name] = (entry[0], entry[1], loft_state[0][name][2], loft_state[0][name][3])


def main():
    skip_unless_possible()
    builddir = os.environ.get("LOFT_BUILDDIR", os.getcwd())
    dc = Dovecot("mbox-roundtrip", mail_format="mbox")
    problems = 0
    try:
        build_with_dovecot(dc)
        tree = os.path.join(dc.data, "alice", "mail")
        loft = Loft(builddir, dc.location("alice"), mail_format="mbox")
        built = imap_state(dc.imap())
        loft_built = loft.state()
        known_differences(built, loft_built, tree)
        problems += compare("Dovecot-built", built, loft_built)
        problems += bodies_differ(dc, loft, built, "Dovecot-built")

        inbox_path = dc.inbox("alice")
        inode = os.stat(inbox_path).st_ino
        size_before = os.path.getsize(inbox_path)
        # A flag change alone fits in the padding Dovecot left: the size stays.
        loft.run("store", "INBOX", "1", "+", "\\Flagged")
        if os.path.getsize(inbox_path) != size_before:
            print("check failed: a one-flag STORE changed the size of Dovecot's mbox (%d -> %d)"
                  % (size_before, os.path.getsize(inbox_path)))
            problems += 1
        loft.run("store", "INBOX", "1", "-", "\\Flagged")
        change_with_loft(loft, dc.inst)
        if os.stat(inbox_path).st_ino != inode:
            print("check failed: Loft replaced INBOX instead of writing it in place")
            problems += 1
        loft_view = loft.state()
        dovecot_view = imap_state(dc.imap())
        known_differences(dovecot_view, loft_view, tree)
        problems += compare("after Loft changes", dovecot_view, loft_view)
        problems += bodies_differ(dc, loft, loft_view, "after Loft changes")
        inbox = loft_view[0]["INBOX"][3]
        checks = [
            # Dovecot gave UIDs 1-7 (4 expunged, 5 \Deleted; the late delivery is 7); Loft
            # appended 8 and 9, then marked 8 \Deleted and expunged 5 and 8.
            ("uids 5 and 8 expunged, 4 stays expunged", not {4, 5, 8} & set(inbox)),
            ("Loft append got UID 9", 9 in inbox),
            ("keywords and date on uid 9",
             inbox.get(9, ("", 0, 0))[0] == "$label1 LoftKeyword \\Flagged \\Seen" and inbox[9][2] == 1706778000),
            ("flags replaced on uid 3", inbox.get(3, ("",))[0] == "\\Seen"),
            ("rename keeps UIDVALIDITY", "Renamed" not in dovecot_view[0] and
             dovecot_view[0].get("Renamed Again", (0, -1))[1] == built[0]["Renamed"][1]),
            ("Loft/Made subscribed", "Loft/Made" in dovecot_view[1] and "Empty" not in dovecot_view[1]),
            ("Entwürfe has 4 messages (one moved in)", len(dovecot_view[0].get("Entwürfe", (0, 0, 0, {}))[3]) == 4),
            ("uid 6 moved out of INBOX", 6 not in inbox),
            ("Archive/2024 has 2 messages", len(dovecot_view[0].get("Archive/2024", (0, 0, 0, {}))[3]) == 2),
            ("Empty got its message", len(dovecot_view[0].get("Empty", (0, 0, 0, {}))[3]) == 1),
        ]
        for label, ok in checks:
            if not ok:
                print("check failed: " + label)
                problems += 1

        # Dovecot changes Loft's in-place writes in place again; Loft reads that.
        imap = dc.imap()
        imap.select("INBOX")
        imap.uid("STORE", "1", "+FLAGS", r"(\Answered $DovecotWasHere)")
        imap.uid("STORE", "2", "-FLAGS", r"(Important)")
        imap.uid("STORE", "3", "+FLAGS", r"(\Deleted)")
        imap.expunge()
        imap.close()
        imap.logout()
        dovecot_now, loft_now = imap_state(dc.imap()), loft.state()
        known_differences(dovecot_now, loft_now, tree)
        problems += compare("after Dovecot changed Loft's in-place writes", dovecot_now, loft_now)
        if os.stat(inbox_path).st_ino != inode:
            print("check failed: INBOX has a new inode after Dovecot's changes")
            problems += 1
        # And Loft once more (a keyword Dovecot introduced, a long keyword list that needs a move).
        loft.run("store", "INBOX", "1", "+", "$DovecotWasHere", "LoftAgain", *["$Long%02d" % i for i in range(12)])
        loft.run("store", "INBOX", "2", "+", "\\Deleted")
        loft.run("expunge", "INBOX")
        dovecot_now, loft_now = imap_state(dc.imap()), loft.state()
        known_differences(dovecot_now, loft_now, tree)
        problems += compare("after Loft changed Dovecot's in-place writes", dovecot_now, loft_now)
        problems += bodies_differ(dc, loft, loft_now, "after alternating in-place writes")
        inbox = loft_now[0]["INBOX"][3]

        # MTA appends: Dovecot looks first (it assigns UIDs lazily, in its index only),
        # then Loft reads and writes; both must agree on the UIDs throughout.
        mta_append(dc, 2, 1)
        def compare_now(what):
            dovecot_now, loft_now = imap_state(dc.imap()), loft.state()
            known_differences(dovecot_now, loft_now, tree)
            return compare(what, dovecot_now, loft_now), loft_now
        found, _ = compare_now("MTA append, Dovecot first")
        problems += found
        loft.run("sync", "INBOX")
        found, _ = compare_now("MTA append, after Loft wrote X-UIDs")
        problems += found
        # And the other way round: Loft writes the UIDs before Dovecot ever sees the mail.
        mta_append(dc, 2, 3)
        loft.run("sync", "INBOX")
        found, loft_view = compare_now("MTA append, Loft first")
        problems += found
        if len(loft_view[0]["INBOX"][3]) != len(inbox) + 4:
            print("check failed: four MTA messages in INBOX")
            problems += 1

        if problems:
            print("%d differences; Dovecot log:\n%s" % (problems, dc.log()[-3000:]))
        else:
            print("Dovecot and Loft agree (%d mailboxes)" % len(loft_view[0]))
    finally:
        if os.environ.get("LOFT_KEEP_DOVECOT"):
            print("kept Dovecot instance in " + dc.inst)
        else:
            dc.stop()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
