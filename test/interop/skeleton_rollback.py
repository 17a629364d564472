"""Switching a Maildir between real Dovecot 2.3 and Loft in both directions: the same
UIDVALIDITY, UIDs, flags, keywords and bodies on each side. Needs root and Dovecot;
skips (77) otherwise."""
import imaplib
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import SKIP, Dovecot, Loft, TestCounter, lmtp_session  # noqa: E402


def message(n):
    return (f"From: sender{n}@example.org\r\nTo: alice@example.org\r\nSubject: message {n}\r\n"
            f"Message-ID: <rollback-{n}@example.org>\r\n\r\nBody of message {n}.\r\n").encode()


def mailbox_state(port):
    """UIDVALIDITY and uid -> (flags without \\Recent, body) as the server shows them."""
    imap = imaplib.IMAP4("127.0.0.1", port)
    imap.login("alice", "secret")
    imap.select("INBOX", readonly=True)
    uidvalidity = int(imap.response("UIDVALIDITY")[1][0])
    messages = {}
    typ, data = imap.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
    for item in data:
        if not isinstance(item, tuple):
            continue
        head = item[0].decode()
        uid = int(re.search(r"UID (\d+)", head).group(1))
        flags = set(re.search(r"FLAGS \(([^)]*)\)", head).group(1).split()) - {"\\Recent"}
        messages[uid] = (frozenset(flags), item[1])
    imap.logout()
    return uidvalidity, messages


def change(port, actions):
    imap = imaplib.IMAP4("127.0.0.1", port)
    imap.login("alice", "secret")
    imap.select("INBOX")
    for uid, op, flags in actions:
        imap.uid("STORE", str(uid), op, flags)
    imap.expunge()
    imap.logout()


def main():
    if not Dovecot.available():
        print("skeleton_rollback: needs root and Debian's dovecot packages, skipping")
        return SKIP
    t = TestCounter("skeleton_rollback")
    loft = Loft(users=("alice",))
    dovecot = Dovecot(loft)
    try:
        # 1. Dovecot builds the mailbox.
        dovecot.start()
        for n in range(1, 5):
            rcpt, data = lmtp_session(dovecot.lmtp_port, "s@example.org", ["alice"], message(n))
            t.check([c for c, _ in data] == [250], f"Dovecot delivered message {n}")
        change(dovecot.imap_port, [(1, "+FLAGS", "(\\Seen)"), (2, "+FLAGS", "(\\Flagged $Label1)"),
                                   (3, "+FLAGS", "(\\Deleted)"), (4, "+FLAGS", "(\\Answered Junk)")])
        lmtp_session(dovecot.lmtp_port, "s@example.org", ["alice"], message(5))  # stays in new/
        dovecot_state = mailbox_state(dovecot.imap_port)
        dovecot.stop()
        t.check(sorted(dovecot_state[1]) == [1, 2, 4, 5], f"Dovecot's UIDs: {sorted(dovecot_state[1])}")

        # 2. Loft opens it and shows the same.
        loft.start()
        loft_state = mailbox_state(loft.imap_port)
        t.check(loft_state[0] == dovecot_state[0], f"UIDVALIDITY kept: {loft_state[0]} vs {dovecot_state[0]}")
        t.check(sorted(loft_state[1]) == sorted(dovecot_state[1]), f"UIDs kept: {sorted(loft_state[1])}")
        for uid, (flags, body) in dovecot_state[1].items():
            mine = loft_state[1].get(uid)
            t.check(mine is not None and mine[0] == flags, f"uid {uid} flags: Loft {mine and mine[0]} Dovecot {flags}")
            t.check(mine is not None and mine[1] == body, f"uid {uid} body identical")

        # 3. Loft changes it.
        rcpt, data = lmtp_session(loft.lmtp_port, "s@example.org", ["alice"], message(6))
        t.check([c for c, _ in data] == [250], "Loft delivered message 6")
        change(loft.imap_port, [(1, "+FLAGS", "(\\Answered)"), (2, "-FLAGS", "(\\Flagged)"),
                                (6, "+FLAGS", "($Label2 \\Seen)"), (5, "+FLAGS", "(\\Deleted)")])
        loft_after = mailbox_state(loft.imap_port)
        loft.stop()
        t.check(sorted(loft_after[1]) == [1, 2, 4, 6], f"Loft's UIDs after changes: {sorted(loft_after[1])}")

        # 4. Back to Dovecot: it shows what Loft showed.
        dovecot.start()
        back = mailbox_state(dovecot.imap_port)
        dovecot.stop()
        t.check(back[0] == loft_after[0], "UIDVALIDITY survives the rollback")
        t.check(sorted(back[1]) == sorted(loft_after[1]), f"UIDs after rollback: {sorted(back[1])}")
        for uid, (flags, body) in loft_after[1].items():
            theirs = back[1].get(uid)
            t.check(theirs is not None and theirs[0] == flags,
                    f"uid {uid} flags after rollback: Dovecot {theirs and theirs[0]} Loft {flags}")
            t.check(theirs is not None and theirs[1] == body, f"uid {uid} body identical after rollback")
    finally:
        dovecot.stop()
        loft.stop()
        if t.failed:
            print(loft.log(), file=sys.stderr)
        loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
