#!/usr/bin/env python3
"""IMAP extensions compared with real Dovecot 2.3: ESEARCH (RFC 4731), ESORT (RFC 5267),
SEARCHRES (RFC 5182), what Dovecot does of CONTEXT=SEARCH (PARTIAL, UPDATE, CONTEXT),
WITHIN (RFC 5032), MULTIAPPEND (RFC 3502) and the post-login CAPABILITY. The same
scripted sessions run against Dovecot (user alice) and Loft (user bob) on equal
mailboxes; every reply must match after normalising timings, UIDVALIDITY and modseq
values. Needs root and Dovecot (else 77).
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from condstore_diff import Session  # noqa: E402  (the scripted-session client)
from loft_harness import SKIP, Dovecot, Loft, TestCounter  # noqa: E402

# Subjects chosen so SORT (SUBJECT) is not the sequence order; messages 2 and 4 \Seen.
MESSAGES = [("", "a"), ("\\Seen", "c"), ("", "b"), ("\\Seen", "d"), ("", "e"), ("", "f")]

# Extensions Dovecot advertises that Loft does not have yet, and SPECIAL-USE, which
# Dovecot shows only when a mailbox has a special-use flag configured.
NOT_COMPARED = {"URL-PARTIAL", "CATENATE", "SNIPPET=FUZZY", "PREVIEW=FUZZY", "PREVIEW", "SAVEDATE", "NOTIFY", "QUOTA",
                "SPECIAL-USE"}


def multi(*parts):
    return "".join(parts)


def literal(text, sync=False):
    return "{%d%s}\r\n%s" % (len(text), "" if sync else "+", text)


SCRIPT = [
    ("A", "CAPABILITY"),
    ("A", "SELECT INBOX"),
    # ESEARCH
    ("A", "SEARCH RETURN (MIN MAX COUNT ALL) ALL"),
    ("A", "SEARCH RETURN (ALL COUNT MAX MIN) UNSEEN"),
    ("A", "SEARCH RETURN () ALL"),
    ("A", "SEARCH RETURN (COUNT) SEEN"),
    ("A", "SEARCH RETURN (MIN MAX COUNT ALL) DELETED"),
    ("A", "SEARCH RETURN (MIN) DELETED"),
    ("A", "SEARCH RETURN (ALL) DELETED"),
    ("A", "UID SEARCH RETURN (MIN MAX COUNT ALL) ALL"),
    ("A", "UID SEARCH RETURN (ALL) 1,3:5"),
    ("A", "uid search return (min) charset utf-8 all"),
    ("A", "SEARCH RETURN (MIN MIN) ALL"),
    ("A", "SEARCH RETURN (CONTEXT) ALL"),
    ("A", "SEARCH RETURN (RELEVANCY) ALL"),
    ("A", "SEARCH RETURN (RELEVANCY) DELETED"),
    ("A", "SEARCH RETURN (MIN MAX RELEVANCY) 3"),
    ("A", "SEARCH RETURN (MIN MAX RELEVANCY) 2:4"),
    ("A", "SEARCH RETURN (SAVE MIN RELEVANCY) 2:4"),
    ("A", "FETCH $ (UID)"),
    # CONTEXT=SEARCH's PARTIAL
    ("A", "SEARCH RETURN (PARTIAL 2:3) ALL"),
    ("A", "SEARCH RETURN (PARTIAL 3:2 COUNT) ALL"),
    ("A", "SEARCH RETURN (PARTIAL 10:20) ALL"),
    ("A", "UID SEARCH RETURN (PARTIAL 1:3 MIN MAX) 2,3,5:*"),
    # errors, with Dovecot's texts
    ("A", "SEARCH RETURN (FOO) ALL"),
    ("A", "SEARCH RETURN ALL"),
    ("A", "SEARCH RETURN (\"MIN\") ALL"),
    ("A", "SEARCH CHARSET UTF-8 RETURN (MIN) ALL"),
    ("A", "SEARCH RETURN (MIN) RETURN (MAX) ALL"),
    ("A", "SEARCH RETURN (MODSEQ) ALL"),
    ("A", "SEARCH RETURN (PARTIAL 1:2 ALL) ALL"),
    ("A", "SEARCH RETURN (PARTIAL 1:2 PARTIAL 1:3) ALL"),
    ("A", "SEARCH RETURN (PARTIAL) ALL"),
    ("A", "SEARCH RETURN (PARTIAL 0:2) ALL"),
    ("A", "SEARCH RETURN (PARTIAL x) ALL"),
    ("A", "SEARCH RETURN (UPDATE UPDATE) ALL"),
    ("A", "SEARCH RETURN (MIN)"),
    # ESORT
    ("A", "SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) UTF-8 ALL"),
    ("A", "SORT RETURN (ALL) (REVERSE SUBJECT) UTF-8 ALL"),
    ("A", "UID SORT RETURN (ALL) (SUBJECT) UTF-8 ALL"),
    ("A", "SORT RETURN () (SUBJECT) UTF-8 ALL"),
    ("A", "SORT RETURN (PARTIAL 2:4) (REVERSE SUBJECT) UTF-8 ALL"),
    ("A", "SORT RETURN (MAX) (REVERSE SUBJECT) UTF-8 ALL"),
    ("A", "SORT RETURN (MIN COUNT) (REVERSE SUBJECT) UTF-8 UNSEEN"),
    ("A", "SORT RETURN (ALL) (SUBJECT) UTF-8 RETURN (ALL) ALL"),
    # SEARCHRES: "$" before any SAVE is empty
    ("A", "FETCH $ (UID)"),
    ("A", "SEARCH $"),
    ("A", "UID SEARCH RETURN (ALL) $"),
    ("A", "SEARCH RETURN (SAVE) UNSEEN"),
    ("A", "FETCH $ (UID FLAGS)"),
    ("A", "SEARCH $"),
    ("A", "SEARCH 1,$"),
    ("A", "SEARCH $:3"),
    ("A", "SEARCH NOT $"),
    ("A", "SEARCH OR $ 2"),
    ("A", "SEARCH UID $"),
    ("A", "UID SEARCH RETURN (ALL) $"),
    ("A", "SEARCH RETURN (SAVE MIN) ALL"),
    ("A", "FETCH $ (UID)"),
    ("A", "SEARCH RETURN (SAVE MIN MAX) ALL"),
    ("A", "FETCH $ (UID)"),
    ("A", "SEARCH RETURN (SAVE COUNT) SEEN"),
    ("A", "UID FETCH $ (UID)"),
    ("A", "SORT RETURN (SAVE MAX) (REVERSE SUBJECT) UTF-8 ALL"),
    ("A", "FETCH $ (UID)"),
    ("A", "SORT RETURN (SAVE) (SUBJECT) UTF-8 2:4"),
    ("A", "SORT (SUBJECT) UTF-8 $"),
    ("A", "THREAD REFERENCES UTF-8 $"),
    ("A", "SEARCH RETURN (SAVE) FOO"),     # a failed search keeps the old result
    ("A", "FETCH $ (UID)"),
    ("A", "STORE $ +FLAGS (\\Flagged)"),
    ("A", "CREATE Other"),
    ("A", "COPY $ Other"),
    ("A", "SEARCH RETURN (SAVE) 4:5"),
    ("B", "SELECT INBOX"),
    ("B", "STORE 4 +FLAGS (\\Deleted)"),
    ("A", "NOOP"),
    ("B", "EXPUNGE"),
    ("A", "FETCH $ (UID)"),                # not synced yet: still there
    ("A", "NOOP"),
    ("A", "FETCH $ (UID)"),
    ("A", "UID SEARCH $"),
    ("A", "SEARCH RETURN (SAVE) 1:2"),
    ("A", "UID MOVE $ Other"),
    ("A", "FETCH $ (UID)"),
    ("A", "SEARCH RETURN (SAVE) ALL"),
    ("A", "SELECT INBOX"),                 # a new mailbox: "$" is empty again
    ("A", "FETCH $ (UID)"),
    ("A", "SEARCH RETURN (SAVE) 1"),
    ("A", "UNSELECT"),
    ("A", "SELECT INBOX"),
    ("A", "SEARCH $"),
    # CONDSTORE in ESEARCH: the highest modseq of what is returned
    ("A", "SEARCH RETURN (MIN) MODSEQ 1"),
    ("A", "SEARCH RETURN (ALL) SEEN MODSEQ 1"),
    ("A", "SEARCH RETURN (COUNT) MODSEQ 1"),
    ("A", "SORT RETURN (MAX) (SUBJECT) UTF-8 MODSEQ 1"),
    ("A", "SEARCH RETURN (ALL) MODSEQ 999999"),
    # WITHIN
    ("A", "SEARCH YOUNGER 100000"),
    ("A", "SEARCH OLDER 100000"),
    ("A", "SEARCH RETURN (COUNT) YOUNGER 3600 NOT OLDER 3600"),
    ("A", "SEARCH OLDER 0"),
    ("A", "SEARCH YOUNGER x"),
    # RETURN (UPDATE) is accepted; kept to its own session
    ("U", "EXAMINE INBOX"),
    ("U", "SEARCH RETURN (UPDATE) ALL"),
    ("U", "SEARCH RETURN (UPDATE (FLAGS) MIN) ALL"),
    # MULTIAPPEND
    ("M", "CREATE Multi"),
    ("M", multi("APPEND Multi ", literal("Subject: 1\r\n\r\none\r\n"), " (\\Seen) ",
                literal("Subject: 2\r\n\r\ntwo\r\n"), " ", literal("Subject: 3\r\n\r\nthree\r\n"))),
    ("M", multi("APPEND Multi (\\Flagged $Label) \"1-Jan-2020 10:00:00 +0000\" ", literal("Subject: 4\r\n\r\n4\r\n"),
                " (\\Seen) ", literal("Subject: 5\r\n\r\n5\r\n", sync=True))),
    ("M", multi("APPEND Multi ", literal("Subject: 6\r\n\r\n6\r\n"), " x")),
    ("M", multi("APPEND Multi ", literal("Subject: 6\r\n\r\n6\r\n"), " FOO")),
    ("M", multi("APPEND Multi ", literal("Subject: 6\r\n\r\n6\r\n"), " ()")),
    ("M", multi("APPEND Multi ", literal("Subject: 6\r\n\r\n6\r\n"), " ", literal(""))),
    ("M", multi("APPEND Multi ", literal(""), " ", literal("Subject: 6\r\n\r\n6\r\n"))),
    ("M", multi("APPEND Multi ", literal(""))),
    ("M", multi("APPEND nonexistent ", literal("Subject: 6\r\n\r\n6\r\n"), " ", literal("Subject: 7\r\n\r\n7\r\n"))),
    ("M", "STATUS Multi (MESSAGES UIDNEXT)"),
    ("M", "SELECT Multi"),
    ("M", multi("APPEND Multi ", literal("Subject: 8\r\n\r\n8\r\n"), " ", literal("Subject: 9\r\n\r\n9\r\n"))),
    ("M", "FETCH 1:* (UID FLAGS)"),
    ("M", "FETCH 4 (INTERNALDATE BODY[HEADER])"),
    ("M", "UID SEARCH RETURN (ALL) SEEN"),
]


def populate(port, user):
    session = Session(port, user)
    for flags, word in MESSAGES:
        session.append(f"From: a@example.org\r\nSubject: {word}\r\n\r\nbody {word}\r\n", flags)
    # Takes \Recent away, so the script's \Recent counts do not depend on who saw what first.
    session.command("SELECT INBOX")
    session.close()


def run_script(port, user):
    sessions = {}
    transcript = []
    for name, command in SCRIPT:
        if name not in sessions:
            sessions[name] = Session(port, user)
        transcript.append((name, command, sessions[name].command(command)))
        if name == "U" and command.startswith("SEARCH RETURN (UPDATE (FLAGS)"):
            sessions.pop(name).close()
    for session in sessions.values():
        session.close()
    return transcript


def normalise(transcript):
    out = []
    for name, command, reply in transcript:
        lines = []
        for line in reply:
            line = re.sub(r" \(\d+\.\d+( \+ \d+\.\d+)+ secs\)\.", ".", line)
            line = re.sub(r"(UIDVALIDITY |COPYUID |APPENDUID )\d+", r"\1UV", line)
            line = re.sub(r"(MODSEQ[ (])\d+", r"\1N", line)
            if line.startswith("* CAPABILITY"):
                line = " ".join(w for w in line.split() if w not in NOT_COMPARED)
            # Loft's SELECT always has HIGHESTMODSEQ; Dovecot's only once CONDSTORE
            # was used on the mailbox (condstore_diff.py covers that).
            if command.startswith("SELECT") and line.startswith("* OK [HIGHESTMODSEQ "):
                continue
            lines.append(line)
        out.append((name, command, lines))
    return out


def main():
    if not Dovecot.available():
        print("imap_ext_diff: needs root and Debian's dovecot packages, skipping")
        return SKIP
    t = TestCounter("imap_ext_diff")
    loft = Loft(users=("alice", "bob"))
    dovecot = Dovecot(loft)
    try:
        dovecot.start()
        loft.start()
        populate(dovecot.imap_port, "alice")
        populate(loft.imap_port, "bob")
        expected = normalise(run_script(dovecot.imap_port, "alice"))
        actual = normalise(run_script(loft.imap_port, "bob"))
        for (name, command, want), (_, _, got) in zip(expected, actual):
            t.check(got == want, f"{name}: {command!r}\n  dovecot {want}\n  loft    {got}")
    finally:
        dovecot.stop()
        loft.stop()
        if t.failed and os.environ.get("IMAP_EXT_DIFF_LOG"):
            print(loft.log(), file=sys.stderr)
        loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
