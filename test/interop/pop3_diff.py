#!/usr/bin/env python3
"""POP3 compared with real Dovecot 2.3: the same scripted POP3 sessions run against
Dovecot (user alice) and Loft (user bob) on byte-equal Maildirs that Dovecot created
(one run as they are, one with UIDLs stored in dovecot-uidlist's P fields, as a
migration leaves them), and every reply must be byte-identical: greetings, CAPA, errors,
STAT/LIST sizes, UIDLs, RETR and TOP bodies (CRLF, dot-stuffing, messages without a final
newline), logout counters and pop3-login log lines. Afterwards both Maildirs must hold the
same files with the same flags (DELE expunged at QUIT, RETR set \\Seen). The same again on
an mbox INBOX that Dovecot has synced. Then poplib and curl as real clients against Loft,
and Loft's log lines. Needs root and Dovecot (else 77).
"""
import os
import poplib
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import MAIL_GID, MAIL_UID, SKIP, Dovecot, Loft, TestCounter, lmtp_session  # noqa: E402

# (file name in new/, content as stored: LF line ends, as Dovecot keeps them).
MESSAGES = [
    ("1700000001.M1P1.test", b"From: a@example.org\nSubject: one\n\nfirst body\nsecond line\n"),
    ("1700000002.M2P1.test", b"From: b@example.org\nSubject: two\n\nline 1\nline 2\nline 3\nline 4\n"),
    ("1700000003.M3P1.test", b"Subject: dots\n\n.leading dot\n..two dots\n.\nend\n"),
    ("1700000004.M4P1.test", b"Subject: no final newline\n\nlast line without newline"),
    ("1700000005.M5P1.test", b"Subject: crlf\r\n\r\nalready crlf\r\nand a bare\nLF\r\n"),
    ("1700000006.M6P1.test", b"Subject: header only\n"),
    ("1700000007.M7P1.test", b"Subject: big\n\n" + b"".join(b"line %05d ........................\n" % i
                                                            for i in range(20000))),
    ("1700000008.M8P1.test", b"Subject: nul\n\nbefore\0after\n"),
]

# Sessions: (session, line). "{user}" is the account. Lines starting with "!" are
# actions of the test itself.
SCRIPT = [
    ("Q", "QUIT"),
    ("A", "CAPA"),
    ("A", "NOOP"),
    ("A", "STLS"),
    ("A", "APOP {user} 0123456789abcdef0123456789abcdef"),
    ("A", "PASS secret"),
    ("A", "AUTH"),
    ("A", "USER {user}"),
    ("A", "PASS secret"),
    ("A", "CAPA"),
    ("A", "STAT"),
    ("A", "LIST"),
    ("A", "LIST 2"),
    ("A", "LIST 0"),
    ("A", "LIST 99"),
    ("A", "LIST x"),
    ("A", "LIST 1x"),
    ("A", "LIST 99999999999"),
    ("A", "list   3"),
    ("A", "UIDL"),
    ("A", "UIDL 3"),
    ("A", "RETR 1"),
    ("A", "RETR 3"),
    ("A", "RETR 4"),
    ("A", "RETR 5"),
    ("A", "RETR 6"),
    ("A", "TOP 2 0"),
    ("A", "TOP 2 2"),
    ("A", "TOP 3 1"),
    ("A", "TOP 1 100"),
    ("A", "TOP 6 0"),
    ("A", "TOP 7 3"),
    ("A", "TOP 1"),
    ("A", "TOP 1 x"),
    ("A", "TOP 1 1 2"),
    ("A", "DELE 2"),
    ("A", "DELE 2"),
    ("A", "RETR 2"),
    ("A", "STAT"),
    ("A", "LIST"),
    ("A", "UIDL"),
    ("A", "RSET"),
    ("A", "STAT"),
    ("A", "DELE 6"),
    ("A", "DELE 99"),
    ("A", "LAST"),
    ("A", "XYZZY"),
    ("A", ""),
    ("A", "USER x"),
    ("A", "QUIT"),
    ("B", "AUTH PLAIN {plain}"),
    ("B", "STAT"),
    ("B", "UIDL"),
    ("B", "!deliver"),
    ("B", "STAT"),
    ("B", "LIST"),
    ("B", "RETR 7"),
    ("B", "DELE 1"),
    ("B", "RETR 5"),
    ("B", "QUIT"),
    ("C", "AUTH PLAIN"),
    ("C", "{plain}"),
    ("C", "UIDL"),
    ("C", "TOP 1 1"),
    ("C", "QUIT"),
    ("D", "USER {user}"),
    ("D", "PASS wrong"),
    ("D", "AUTH PLAIN"),
    ("D", "*"),
    ("D", "AUTH NOSUCH"),
    ("D", "AUTH PLAIN !!!!"),
    ("D", "AUTH PLAIN"),
    ("D", "!!!!"),
    ("D", "AUTH LOGIN"),
    ("D", "e3VzZXJ9"),
    ("D", "*"),
    ("D", "FOO"),
    ("D", "BAR"),
    ("D", "BAZ"),
    # From 127.0.0.2 to 127.0.0.1: not secured, so plaintext logins are refused.
    ("I", "CAPA"),
    ("I", "USER {user}"),
    ("I", "PASS secret"),
    ("I", "AUTH PLAIN {plain}"),
    ("I", "AUTH LOGIN"),
    ("I", "AUTH"),
    ("I", "QUIT"),
    ("J", "AUTH NOSUCH"),
]
INSECURE_SESSIONS = {"I", "J"}

# The settings run: LAST, pop3_deleted_flag, another pop3_uidl_format, the client
# workarounds and more of pop3_logout_format's variables.
SETTINGS = """pop3_enable_last = yes
pop3_deleted_flag = POP3Deleted
pop3_uidl_format = %f-%g-%u-%Lv
pop3_client_workarounds = oe-ns-eoh outlook-no-nuls
pop3_logout_format = top=%t/%p, retr=%r/%b, del=%d/%m, size=%s, in=%i, out=%o, bytes=%{deleted_bytes}
"""
SETTINGS_SCRIPT = [
    ("A", "USER {user}"),
    ("A", "PASS secret"),
    ("A", "UIDL"),
    ("A", "LAST"),
    ("A", "RETR 2"),
    ("A", "LAST"),
    ("A", "TOP 6 0"),
    ("A", "RETR 8"),
    ("A", "RSET"),
    ("A", "LAST"),
    ("A", "RETR 1"),
    ("A", "DELE 3"),
    ("A", "QUIT"),
    ("B", "USER {user}"),
    ("B", "PASS secret"),
    ("B", "STAT"),
    ("B", "UIDL"),
    ("B", "LAST"),
    ("B", "DELE 1"),
    ("B", "RSET"),
    ("B", "QUIT"),
]

MULTILINE = {"CAPA", "LIST", "UIDL", "RETR", "TOP"}


class Pop3Conn:
    def __init__(self, port, source=None):
        self.sock = socket.create_connection(("127.0.0.1", port), 10,
                                             source_address=(source, 0) if source else None)
        self.stream = self.sock.makefile("rb")
        self.greeting = self.stream.readline()
        self.closed = False

    def read_multiline(self):
        lines = []
        while True:
            line = self.stream.readline()
            if not line:
                raise ConnectionError("closed inside a multi-line reply")
            lines.append(line)
            if line == b".\r\n":
                return b"".join(lines)

    def command(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        first = self.stream.readline()
        if not first:
            self.closed = True
            return b"<closed>"
        words = line.split()
        name = words[0].upper() if words else ""
        multi = (name in MULTILINE and first.startswith(b"+OK") and
                 not (name in ("LIST", "UIDL") and len(words) > 1)) or \
                (name == "AUTH" and len(words) == 1 and first == b"+OK\r\n")
        if multi:
            return first + self.read_multiline()
        reply = first
        if first.startswith(b"-ERR Too many"):
            self.closed = True
        return reply

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def make_maildir(path):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    for name, content in MESSAGES:
        with open(os.path.join(path, "new", name), "wb") as f:
            f.write(content)
        os.utime(os.path.join(path, "new", name), (1700000000, 1700000000))


def chown_tree(path):
    if os.geteuid() != 0:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, MAIL_UID, MAIL_GID)
        for name in files:
            os.chown(os.path.join(root, name), MAIL_UID, MAIL_GID)


def add_p_fields(maildir):
    """Give some records a migrated UIDL (P<value>) and one an empty P (the base name)."""
    path = os.path.join(maildir, "dovecot-uidlist")
    with open(path) as f:
        lines = f.read().split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        m = re.match(r"(\d+) (.*)", line)
        if m and m.group(1) == "1":
            line = f"1 Pmigrated-uidl-one {m.group(2)}"
        elif m and m.group(1) == "3":
            line = f"3 P {m.group(2)}"
        out.append(line)
    with open(path, "w") as f:
        f.write("\n".join(out))


def maildir_state(maildir):
    """Sorted (base name, flags) of every message file; mail delivered during the test
    has a server-made name, so only its flags count."""
    ours = {name for name, _ in MESSAGES}
    state = []
    for sub in ("new", "cur"):
        for name in os.listdir(os.path.join(maildir, sub)):
            base, _, info = name.partition(":")
            base = base.split(",")[0]
            state.append((base if base in ours else "<delivered>", info.partition(",")[2] if info else ""))
    return sorted(state)


def run_script(port, user, deliver, script=SCRIPT):
    import base64
    plain = base64.b64encode(b"\0" + user.encode() + b"\0secret").decode()
    conns, transcript = {}, []
    for session, line in script:
        if session not in conns:
            conns[session] = Pop3Conn(port, "127.0.0.2" if session in INSECURE_SESSIONS else None)
            transcript.append((session, "<greeting>", conns[session].greeting))
        conn = conns[session]
        if conn.closed:
            continue
        if line == "!deliver":
            deliver()
            continue
        text = line.replace("{user}", user).replace("{plain}", plain)
        if line == "e3VzZXJ9":
            text = base64.b64encode(user.encode()).decode()
        transcript.append((session, line, conn.command(text)))
        if line == "QUIT":
            time.sleep(0.2)
    for session, conn in conns.items():
        # Whatever else the server says before it closes (e.g. after too many bad commands).
        rest = b""
        conn.sock.settimeout(1.0)
        try:
            while True:
                data = conn.stream.read1(65536)
                if not data:
                    break
                rest += data
        except (socket.timeout, OSError):
            pass
        transcript.append((session, "<rest>", rest))
        conn.close()
    return transcript


def compare(t, what, dovecot, loft):
    for (session, line, expected), (_, _, got) in zip(dovecot, loft):
        if expected != got:
            t.check(False, f"{what}: {session} {line!r}: Dovecot {expected[:300]!r} Loft {got[:300]!r}")
        else:
            t.check(True, "")
    t.check(len(dovecot) == len(loft), f"{what}: same number of replies")


def use_mbox(config_path):
    with open(config_path) as f:
        text = f.read()
    with open(config_path, "w") as f:
        f.write(text.replace("mail_location = maildir:~/Maildir", "mail_location = mbox:~/mail:INBOX=~/mbox"))


def make_mbox(home):
    os.makedirs(os.path.join(home, "mail"), exist_ok=True)
    with open(os.path.join(home, "mbox"), "wb") as f:
        for _, content in MESSAGES:
            if content == b"Subject: header only\n":
                # Loft's mbox reader keeps the separator line as this message's body
                # (24 bytes where Dovecot has 22): a known mbox difference, not POP3's.
                content = b"Subject: header only\n\nbody\n"
            f.write(b"From sender@example.org Tue Nov 14 22:13:20 2023\n" + content)
            f.write(b"\n" if content.endswith(b"\n") else b"\n\n")


def one_run(t, mode):
    with_p_fields = mode == "P fields"
    # mbox: Dovecot writes X-IMAPbase/X-UID at once, so the copy carries the UIDs.
    lazy = "mbox_lazy_writes = no\n" if mode == "mbox" else ""
    settings = SETTINGS if mode == "settings" else ""
    loft = Loft(users=("alice", "bob"), pop3=True, extra_config=settings)
    dovecot = Dovecot(loft, extra_config="auth_failure_delay = 0\n" + lazy + settings, pop3=True)
    if mode == "mbox":
        use_mbox(loft.config_path)
        use_mbox(dovecot.config_path)
    try:
        alice_md = loft.maildir("alice")
        bob_md = loft.maildir("bob")
        if mode == "mbox":
            make_mbox(loft.homes["alice"])
            chown_tree(loft.homes["alice"])
        else:
            make_maildir(alice_md)
            chown_tree(alice_md)
        dovecot.start()
        # Dovecot numbers the messages (dovecot-uidlist) on the first login.
        conn = Pop3Conn(dovecot.pop3_port)
        conn.command("USER alice")
        conn.command("PASS secret")
        conn.command("QUIT")
        conn.close()
        time.sleep(0.3)
        if with_p_fields:
            add_p_fields(alice_md)
        if mode == "mbox":
            # The mbox as Dovecot left it (X-IMAPbase, X-UID ...), without its index.
            shutil.copyfile(os.path.join(loft.homes["alice"], "mbox"), os.path.join(loft.homes["bob"], "mbox"))
            os.makedirs(os.path.join(loft.homes["bob"], "mail"), exist_ok=True)
        else:
            shutil.copytree(alice_md, bob_md, symlinks=True)
            for name in os.listdir(bob_md):
                if name.startswith("dovecot.index") or name.startswith("dovecot.list"):
                    os.unlink(os.path.join(bob_md, name))
        chown_tree(loft.homes["bob"])
        loft.start()

        def deliver_to(port, user):
            return lambda: lmtp_session(port, "x@example.org", [user], b"Subject: late\r\n\r\nlate\r\n")

        what = mode
        script = SETTINGS_SCRIPT if mode == "settings" else SCRIPT
        d = run_script(dovecot.pop3_port, "alice", deliver_to(dovecot.lmtp_port, "alice"), script)
        l = run_script(loft.pop3_port, "bob", deliver_to(loft.lmtp_port, "bob"), script)
        compare(t, what, d, l)
        time.sleep(0.3)
        if mode != "mbox":
            t.check(maildir_state(alice_md) == maildir_state(bob_md),
                    f"{what}: same files and flags afterwards: {maildir_state(alice_md)} vs {maildir_state(bob_md)}")
        time.sleep(0.3)
        stats = re.compile(r"pop3\((?:alice|bob)\)<\d+><[^>]+>: Info: Disconnected: (.*)")
        with open(os.path.join(dovecot.dir, "dovecot.log")) as f:
            dovecot_stats = stats.findall(f.read())
        loft_stats = stats.findall(loft.log())
        # Dovecot's first line is the session that numbered the mail before the copy; the
        # last session's size includes the delivered message, whose header names the user.
        dovecot_stats = dovecot_stats[1:]
        for lines in (dovecot_stats, loft_stats):
            if lines:
                lines[-1] = re.sub(r"size=\d+", "size=N", lines[-1])
        t.check(dovecot_stats == loft_stats, f"{what}: same logout lines: {dovecot_stats} vs {loft_stats}")
        with open(os.path.join(dovecot.dir, "dovecot.log")) as f:
            dovecot_login = login_lines(f.read())
        # Up to the first Login: the start-up probes and the session that numbered the mail.
        first_login = next((i for i, line in enumerate(dovecot_login) if line.startswith("Login:")), -1)
        dovecot_login = dovecot_login[first_login + 1:]
        loft_login = login_lines(loft.log())
        t.check(dovecot_login == loft_login, f"{what}: same pop3-login lines:\n{dovecot_login}\nvs\n{loft_login}")
        if mode == "plain":
            check_real_clients(t, loft)
            check_logs(t, loft)
    finally:
        dovecot.stop()
        loft.cleanup()


def login_lines(log):
    """pop3-login's lines, with what must differ normalised (user, session id, pid,
    seconds) and without the lines of the harness's banner probes."""
    lines = []
    for line in re.findall(r"pop3-login: Info: (.*)", log):
        if line.startswith("Disconnected: Connection closed (no auth attempts in 0 secs): user=<>"):
            continue
        line = re.sub(r"user=<(alice|bob)>", "user=<U>", line)
        line = re.sub(r"session=<[^>]*>", "session=<S>", line)
        line = re.sub(r"mpid=\d+", "mpid=P", line)
        line = re.sub(r"in \d+ secs", "in N secs", line)
        line = re.sub(r"waited \d+ secs", "waited N secs", line)
        lines.append(line)
    return lines


def check_real_clients(t, loft):
    pop = poplib.POP3("127.0.0.1", loft.pop3_port, timeout=10)
    t.check(pop.getwelcome().startswith(b"+OK"), "poplib: greeting")
    caps = pop.capa()
    t.check("UIDL" in caps and "TOP" in caps and "USER" in caps, f"poplib: CAPA {caps}")
    pop.user("bob")
    pop.pass_("secret")
    count, size = pop.stat()
    t.check(count > 0 and size > 0, f"poplib: STAT {count} {size}")
    reply, lines, octets = pop.retr(1)
    t.check(reply.startswith(b"+OK") and any(b"Subject" in x for x in lines), "poplib: RETR")
    reply, uidls, _ = pop.uidl()
    t.check(len(uidls) == count, f"poplib: UIDL lists every message: {uidls}")
    pop.quit()
    curl = shutil.which("curl")
    if curl:
        result = subprocess.run([curl, "-s", "--max-time", "20", f"pop3://127.0.0.1:{loft.pop3_port}/1",
                                 "-u", "bob:secret"], capture_output=True, timeout=30)
        t.check(result.returncode == 0 and b"Subject" in result.stdout,
                f"curl pop3:// RETR: {result.returncode} {result.stdout[:100]!r} {result.stderr[:200]!r}")
        result = subprocess.run([curl, "-s", "--max-time", "20", f"pop3://127.0.0.1:{loft.pop3_port}/",
                                 "-u", "bob:secret"], capture_output=True, timeout=30)
        t.check(result.returncode == 0 and re.match(rb"1 \d+\r\n", result.stdout),
                f"curl pop3:// LIST: {result.returncode} {result.stdout[:100]!r}")


def check_logs(t, loft):
    time.sleep(0.3)
    log = loft.log()
    t.check(re.search(r"pop3-login: Info: Login: user=<bob>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, "
                      r"mpid=\d+, secured, session=<[^>]+>", log) is not None, "log: pop3-login Login line")
    t.check(re.search(r"pop3\(bob\)<\d+><[^>]+>: Info: Disconnected: Logged out top=\d+/\d+, retr=\d+/\d+, "
                      r"del=\d+/\d+, size=\d+", log) is not None, "log: pop3 logout line")
    t.check(re.search(r"pop3-login: Info: Disconnected: Aborted login by logging out \(no auth attempts in \d+ secs\): "
                      r"user=<>, rip=127\.0\.0\.1", log) is not None, "log: pop3-login aborted login line")
    t.check(re.search(r"pop3-login: Info: Disconnected: Disconnected: Too many bad commands \(auth failed, 6 attempts "
                      r"in \d+ secs\): user=<bob>, method=LOGIN, rip=127\.0\.0\.1", log) is not None,
            "log: pop3-login too many bad commands line")


def main():
    if not Dovecot.available() or not os.path.exists("/usr/lib/dovecot/pop3"):
        print("pop3_diff: needs root and Dovecot's pop3 (dovecot-pop3d)")
        return SKIP
    t = TestCounter("pop3_diff")
    for mode in ("plain", "P fields", "mbox", "settings"):
        one_run(t, mode)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
