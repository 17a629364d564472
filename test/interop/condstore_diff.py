#!/usr/bin/env python3
"""CONDSTORE and QRESYNC (RFC 7162) compared with real Dovecot 2.3: the same scripted
IMAP sessions run against Dovecot (user alice) and Loft (user bob) on equal mailboxes,
and every reply must match after normalising only what must differ: timings, UIDVALIDITY
and the absolute modseq values. A modseq is written as "old" when it is not above the
HIGHESTMODSEQ both servers had when the script started, else as its rank among the
newer values the server sent, so the order and grouping of changes are still compared.
Then, on Loft alone: modseqs survive a restart and keep growing when Dovecot changes the
Maildir meanwhile, and imaplib copes with the replies. Needs root and Dovecot (else 77).
"""
import imaplib
import os
import re
import select
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import SKIP, Dovecot, Loft, TestCounter  # noqa: E402

MESSAGES = [
    ("", "one"), ("\\Seen", "two"), ("", "three"), ("\\Flagged", "four"), ("", "five"), ("\\Seen", "six"),
]

# (session, command). {H0} is the HIGHESTMODSEQ when the script starts, {UV} the
# UIDVALIDITY, {H1} a HIGHESTMODSEQ captured later (see CAPTURES).
SCRIPT = [
    ("A", "CAPABILITY"),
    ("A", "SELECT INBOX"),
    ("A", "FETCH 1:* (FLAGS)"),
    ("A", "STORE 1 +FLAGS (\\Seen)"),
    ("A", "FETCH 1 (MODSEQ)"),                    # enables CONDSTORE: * OK [HIGHESTMODSEQ]
    ("A", "STORE 2 +FLAGS (\\Flagged)"),
    ("A", "STORE 2 +FLAGS (\\Flagged)"),          # no change, no reply
    ("A", "STORE 3:4 +FLAGS.SILENT (\\Answered)"),
    ("A", "UID STORE 5 FLAGS.SILENT (\\Draft)"),
    ("A", "UID STORE 5 +FLAGS (\\Answered)"),
    ("A", "FETCH 1:* (UID FLAGS) (CHANGEDSINCE {H0})"),
    ("A", "FETCH 1:* (FLAGS MODSEQ)"),
    ("A", "STORE 1:6 (UNCHANGEDSINCE {H0}) +FLAGS (\\Answered)"),
    ("A", "UID STORE 1:6 (UNCHANGEDSINCE {H0}) -FLAGS (\\Answered)"),
    ("A", "STORE 2 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)"),
    ("A", "FETCH 1 (FLAGS) (CHANGEDSINCE x)"),
    ("A", "FETCH 1 (FLAGS) (FOO)"),
    ("A", "UID FETCH 1 (FLAGS) (VANISHED CHANGEDSINCE 1)"),  # QRESYNC not enabled
    ("A", "STORE 1 (FOO 1) +FLAGS (\\Seen)"),
    ("A", "SEARCH MODSEQ {H0}"),
    ("B", "SELECT INBOX"),
    ("B", "STORE 6 +FLAGS (\\Draft)"),
    ("A", "NOOP"),                                # MODSEQ in the unsolicited FETCH
    ("A", "ENABLE QRESYNC"),
    ("A", "ENABLE CONDSTORE FOO"),
    ("A", "UID FETCH 1 (FLAGS) (VANISHED)"),
    ("B", "STORE 6 +FLAGS (\\Deleted)"),
    ("B", "EXPUNGE"),
    ("A", "NOOP"),                                # * VANISHED, OK [HIGHESTMODSEQ]
    ("A", "STORE 1 +FLAGS (\\Deleted)"),
    ("A", "EXPUNGE"),
    ("B", "NOOP"),
    ("A", "STORE 1 +FLAGS.SILENT (\\Deleted)"),
    ("A", "UID EXPUNGE 2"),
    ("A", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE {H0} VANISHED)"),
    ("A", "UID FETCH 3:4 (FLAGS) (CHANGEDSINCE 1 VANISHED)"),
    ("A", "FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)"),
    ("C", "STATUS INBOX (HIGHESTMODSEQ MESSAGES UIDVALIDITY)"),
    ("B", "UID STORE 3 -FLAGS (\\Answered)"),
    ("A", "SELECT INBOX (QRESYNC ({UV} {H1}))"),
    ("A", "SELECT INBOX (QRESYNC ({UV} {H0} 1:6))"),
    ("A", "EXAMINE INBOX (QRESYNC ({UV} {H0} 3:5))"),
    ("A", "SELECT INBOX (QRESYNC ({UV} 0))"),
    ("A", "SELECT INBOX (QRESYNC (1 x))"),
    ("A", "SELECT INBOX (QRESYNC)"),
    ("A", "SELECT INBOX (FOO)"),
    ("A", "SELECT INBOX (CONDSTORE)"),
    ("A", "STORE 1 +FLAGS (\\Flagged)"),
    ("A", "UID STORE 4 +FLAGS.SILENT (\\Flagged)"),
    ("A", "FETCH 2 (BODY[TEXT])"),                # implicit \Seen: MODSEQ follows
    ("A", "CREATE Other"),
    ("A", "UID MOVE 5 Other"),
    ("C", "SELECT INBOX (CONDSTORE)"),
    ("C", "EXAMINE INBOX"),
    ("C", "STORE 1 (UNCHANGEDSINCE 5) +FLAGS (\\Seen)"),
    ("C", "STORE 1 +FLAGS (\\Seen)"),
    ("D", "STATUS INBOX (HIGHESTMODSEQ)"),
    ("D", "SELECT INBOX (QRESYNC ({UV} 1))"),     # QRESYNC not enabled
    ("D", "ENABLE CONDSTORE QRESYNC"),
    ("D", "SELECT INBOX (QRESYNC ({UV} {H0} 1:10 (1:2 3:4)))"),
    ("D", "UNSELECT"),
    # Expunges of several messages: highest sequence number first, or one VANISHED.
    # (Dovecot's SELECT shows HIGHESTMODSEQ only once CONDSTORE was used on a mailbox.)
    ("E", "ENABLE CONDSTORE"),
    ("E", "CREATE Third"),
    *[("E", "APPEND Third {{%d+}}\r\n%s" % (len(m), m)) for m in
      ("Subject: %s\r\n\r\nbody\r\n" % w for w in ("a", "b", "c", "d", "e"))],
    ("E", "SELECT Third"),
    ("D", "EXAMINE Third"),
    ("E", "STORE 1,3:4 +FLAGS.SILENT (\\Deleted)"),
    ("E", "EXPUNGE"),
    ("D", "NOOP"),
    ("E", "UID STORE 2,5 +FLAGS.SILENT (\\Deleted)"),
    ("E", "UID EXPUNGE 1:5"),
    ("D", "NOOP"),
    # IDLE: a flag change with MODSEQ, then VANISHED and the new HIGHESTMODSEQ untagged.
    ("E", "APPEND Third {{20+}}\r\nSubject: f\r\n\r\nbody\r\n"),
    ("D", "NOOP"),
    ("D", ("IDLE", [("E", "STORE 1 +FLAGS.SILENT (\\Deleted)", "FETCH"), ("E", "EXPUNGE", "VANISHED")])),
]
# Variables taken from the reply to a command.
CAPTURES = {"STATUS INBOX (HIGHESTMODSEQ MESSAGES UIDVALIDITY)": ("H1", r"HIGHESTMODSEQ (\d+)")}


class Session:
    def __init__(self, port, user):
        self.sock = socket.create_connection(("127.0.0.1", port), 20)
        self.buffer = b""
        self.count = 0
        self.readline()
        self.command(f"LOGIN {user} secret")

    def _fill(self, timeout):
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            raise TimeoutError("no data from the server")
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buffer += data

    def readline(self, timeout=20.0):
        while b"\n" not in self.buffer:
            self._fill(timeout)
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"

    def read(self, size):
        while len(self.buffer) < size:
            self._fill(20.0)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def command(self, text):
        self.count += 1
        tag = f"x{self.count}"
        self.sock.sendall(f"{tag} {text}\r\n".encode())
        lines = []
        while True:
            line = self.readline()
            literal = re.search(rb"\{(\d+)\}\r\n$", line)
            if literal:
                line += self.read(int(literal.group(1)))
                line += self.readline()
            text_line = line.decode("utf-8", "replace").rstrip("\r\n")
            if text_line.startswith(tag + " "):
                lines.append("T " + text_line[len(tag) + 1:])
                return lines
            lines.append(text_line)

    def read_until(self, pattern, quiet=0.5, timeout=15.0):
        """Untagged lines until one matches pattern, then any that follow within quiet."""
        lines = []
        try:
            while True:
                line = self.readline(timeout).decode("utf-8", "replace").rstrip("\r\n")
                lines.append(line)
                if re.search(pattern, line):
                    break
            while True:
                lines.append(self.readline(quiet).decode("utf-8", "replace").rstrip("\r\n"))
        except TimeoutError:
            pass
        return lines

    def idle(self, triggers, sessions):
        """IDLE while other sessions run commands; each trigger waits for its echo."""
        self.count += 1
        tag = f"x{self.count}"
        self.sock.sendall(f"{tag} IDLE\r\n".encode())
        lines = [self.readline().decode().rstrip("\r\n")]
        for name, command, pattern in triggers:
            lines.append(f"[{name}: {command}] " + " | ".join(sessions[name].command(command)))
            lines += self.read_until(pattern)
        self.sock.sendall(b"DONE\r\n")
        while True:
            line = self.readline().decode().rstrip("\r\n")
            if line.startswith(tag + " "):
                return lines + ["T " + line[len(tag) + 1:]]
            lines.append(line)

    def append(self, body, flags):
        data = body.encode()
        self.count += 1
        tag = f"x{self.count}"
        self.sock.sendall(f"{tag} APPEND INBOX ({flags}) {{{len(data)}+}}\r\n".encode() + data + b"\r\n")
        while True:
            line = self.readline().decode()
            if line.startswith(tag + " "):
                return line

    def close(self):
        try:
            self.command("LOGOUT")
        except OSError:
            pass
        self.sock.close()


def populate(port, user):
    session = Session(port, user)
    for flags, word in MESSAGES:
        session.append(f"From: a@example.org\r\nSubject: {word}\r\n\r\nbody {word}\r\n", flags)
    # Dovecot keeps modseqs
    # for a mailbox only once CONDSTORE was used on it (before that its SELECT has no
    # HIGHESTMODSEQ; Loft's always has), and gives every message a modseq at the
    # first change after: a change of every message's flags gets both past that.
    session.command("SELECT INBOX (CONDSTORE)")
    session.command("STORE 1:* +FLAGS.SILENT (\\Draft)")
    session.command("STORE 1:* -FLAGS.SILENT (\\Draft)")
    session.command("CLOSE")
    status = session.command("STATUS INBOX (HIGHESTMODSEQ UIDVALIDITY)")
    session.close()
    text = " ".join(status)
    return {"H0": re.search(r"HIGHESTMODSEQ (\d+)", text).group(1),
            "UV": re.search(r"UIDVALIDITY (\d+)", text).group(1)}


def run_script(port, user, variables):
    sessions = {}
    transcript = []
    for name, template in SCRIPT:
        if name not in sessions:
            sessions[name] = Session(port, user)
        if isinstance(template, tuple):
            reply = sessions[name].idle(template[1], sessions)
            template = repr(template)
        else:
            reply = sessions[name].command(template.format(**variables))
        transcript.append((name, template, reply))
        if template in CAPTURES:
            var, pattern = CAPTURES[template]
            variables[var] = re.search(pattern, " ".join(reply)).group(1)
    for session in sessions.values():
        session.close()
    return transcript


MODSEQ_PATTERNS = [r"(MODSEQ \()(\d+)(\))", r"(HIGHESTMODSEQ )(\d+)()", r"(\(MODSEQ )(\d+)(\))"]


def normalise(transcript, variables):
    """Timings, UIDVALIDITY and CAPABILITY (other extensions differ) out; modseqs as
    'old' or their rank among the newer values."""
    base = int(variables["H0"])
    newer = set()
    for _, _, reply in transcript:
        for line in reply:
            for pattern in MODSEQ_PATTERNS:
                for match in re.finditer(pattern, line):
                    if int(match.group(2)) > base:
                        newer.add(int(match.group(2)))
    rank = {value: i + 1 for i, value in enumerate(sorted(newer))}

    def modseq(match):
        value = int(match.group(2))
        return match.group(1) + ("old" if value <= base else f"new{rank[value]}") + match.group(3)

    out = []
    for name, template, reply in transcript:
        lines = []
        for line in reply:
            line = re.sub(r" \(\d+\.\d+( \+ \d+\.\d+)+ secs\)\.", ".", line)
            line = re.sub(r"(UIDVALIDITY |COPYUID |APPENDUID )\d+", r"\1UV", line)
            if line.startswith("* CAPABILITY"):
                line = "* CAPABILITY " + " ".join(w for w in line.split()[2:] if w in ("CONDSTORE", "QRESYNC", "ENABLE"))
            for pattern in MODSEQ_PATTERNS:
                line = re.sub(pattern, modseq, line)
            lines.append(line)
        out.append((name, template, lines))
    return out


def persistence_checks(t, loft, dovecot):
    """Loft alone: modseqs survive a restart and keep growing over Dovecot's changes."""
    def highest(port):
        session = Session(port, "bob")
        reply = " ".join(session.command("STATUS INBOX (HIGHESTMODSEQ)"))
        session.close()
        return int(re.search(r"HIGHESTMODSEQ (\d+)", reply).group(1))

    before = highest(loft.imap_port)
    loft.stop()
    loft.start()
    after_restart = highest(loft.imap_port)
    t.check(after_restart == before, f"HIGHESTMODSEQ after a restart: {before} -> {after_restart}")
    loft.stop()
    # Dovecot (serving the same users and homes) changes bob's flags while Loft is down.
    session = Session(dovecot.imap_port, "bob")
    session.command("SELECT INBOX")
    session.command("STORE 1 +FLAGS (\\Flagged $Dovecot)")
    uid = re.search(r"UID (\d+)", " ".join(session.command("FETCH 1 (UID)"))).group(1)
    session.close()
    loft.start()
    after_dovecot = highest(loft.imap_port)
    t.check(after_dovecot > before, f"HIGHESTMODSEQ after Dovecot changed a flag: {before} -> {after_dovecot}")
    session = Session(loft.imap_port, "bob")
    session.command("SELECT INBOX")
    changed = session.command(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {before})")
    fetched = [line for line in changed if " FETCH " in line]
    t.check(len(fetched) == 1 and f"UID {uid} " in fetched[0] and "$Dovecot" in fetched[0],
            f"CHANGEDSINCE shows Dovecot's change: {changed}")
    # A modseq above Loft's (say Dovecot's, cached by a client before the switch) is
    # not trusted: everything is sent again, expunges worked out from the UID gaps,
    # minus what the client's sequence-match data shows it knows.
    session.command("ENABLE QRESYNC")
    uidvalidity = re.search(r"UIDVALIDITY (\d+)", " ".join(session.command("STATUS INBOX (UIDVALIDITY)"))).group(1)
    reply = session.command(f"SELECT INBOX (QRESYNC ({uidvalidity} 999999999 1:10))")
    t.check("* VANISHED (EARLIER) 1:2,5:6" in reply and sum(" FETCH (UID " in line for line in reply) == 2,
            f"QRESYNC with a modseq from elsewhere resyncs all: {reply}")
    reply = session.command(f"SELECT INBOX (QRESYNC ({uidvalidity} 999999999 1:10 (1 3)))")
    t.check("* VANISHED (EARLIER) 5:6" in reply, f"sequence-match data trims the VANISHED list: {reply}")
    session.close()


def imaplib_checks(t, loft):
    """A real client library through the CONDSTORE/QRESYNC replies."""
    client = imaplib.IMAP4("127.0.0.1", loft.imap_port)
    try:
        client.login("bob", "secret")
        typ, data = client.capability()
        t.check(typ == "OK" and b" CONDSTORE QRESYNC " in data[0], f"imaplib sees CONDSTORE and QRESYNC: {data}")
        typ, _ = client.enable("QRESYNC")
        enabled = client.response("ENABLED")[1]
        t.check(typ == "OK" and enabled and enabled[0] == b"QRESYNC", f"imaplib ENABLE QRESYNC: {typ} {enabled}")
        typ, _ = client.select("INBOX")
        highest = client.response("HIGHESTMODSEQ")[1]
        t.check(typ == "OK" and highest and highest[0] and int(highest[0]) > 0,
                f"imaplib SELECT reports HIGHESTMODSEQ: {highest}")
        typ, data = client.uid("STORE", "1:*", "(UNCHANGEDSINCE 1)", "+FLAGS", "(\\Seen)")
        modified = client.response("MODIFIED")[1]
        t.check(typ == "OK" and modified and modified[0], f"imaplib STORE UNCHANGEDSINCE gives MODIFIED: {modified}")
        typ, data = client.uid("FETCH", "1:*", "(FLAGS)", "(CHANGEDSINCE 1 VANISHED)")
        t.check(typ == "OK" and any(b"MODSEQ" in (d if isinstance(d, bytes) else d[0]) for d in data if d),
                f"imaplib UID FETCH CHANGEDSINCE: {data}")
        client.logout()
    except Exception as error:  # noqa: BLE001 (any failure is a test failure)
        t.check(False, f"imaplib session failed: {error!r}")


def main():
    if not Dovecot.available():
        print("condstore_diff: needs root and Debian's dovecot packages, skipping")
        return SKIP
    t = TestCounter("condstore_diff")
    loft = Loft(users=("alice", "bob"))
    dovecot = Dovecot(loft)
    try:
        dovecot.start()
        loft.start()
        dovecot_vars = populate(dovecot.imap_port, "alice")
        loft_vars = populate(loft.imap_port, "bob")
        expected = normalise(run_script(dovecot.imap_port, "alice", dovecot_vars), dovecot_vars)
        actual = normalise(run_script(loft.imap_port, "bob", loft_vars), loft_vars)
        for (name, command, want), (_, _, got) in zip(expected, actual):
            t.check(got == want, f"{name}: {command}\n  dovecot {want}\n  loft    {got}")
        persistence_checks(t, loft, dovecot)
        imaplib_checks(t, loft)
    finally:
        dovecot.stop()
        loft.stop()
        if t.failed and os.environ.get("CONDSTORE_DIFF_LOG"):
            print(loft.log(), file=sys.stderr)
        loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
