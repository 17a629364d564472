"""Shared helpers for the Maildir and mbox interop tests: a private Dovecot 2.3 instance
on its own ports and data dir (Maildir++, or Debian's mbox layout mbox:~/mail:INBOX=~/inbox),
IMAP state snapshots, and the maildir_dump / mbox_dump drivers."""
import base64
import imaplib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import free_port  # noqa: E402

SKIP = 77
MAIL_UID = 5000
DOVECOT = "/usr/sbin/dovecot"
LDA = "/usr/lib/dovecot/dovecot-lda"


def skip_unless_possible():
    if os.geteuid() != 0:
        print("SKIP: needs root (Dovecot switches to the mail user)")
        sys.exit(SKIP)
    for binary in (DOVECOT, LDA, "/usr/bin/doveadm"):
        if not os.path.exists(binary):
            print("SKIP: %s not installed" % binary)
            sys.exit(SKIP)


def mutf7_decode(name):
    def repl(m):
        text = m.group(1)
        if text == "":
            return "&"
        data = text.replace(",", "/")
        data += "=" * (-len(data) % 4)
        return base64.b64decode(data).decode("utf-16-be")
    return re.sub(r"&([^-]*)-", repl, name)


def mutf7_encode(name):
    out, pending = [], []

    def flush():
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


class Dovecot:
    """A private Dovecot: passwd-file users alice/bob (uid 5000), mail under datadir in
    the given format ("maildir" or "mbox")."""

    def __init__(self, name, location_options="", mail_format="maildir"):
        self.mail_format = mail_format
        # A free port (fixed ranges collided with other tests running under make -j).
        self.imap_port = free_port()
        self.inst = tempfile.mkdtemp(prefix="loft-%s-" % name)
        os.chmod(self.inst, 0o755)
        self.data = os.path.join(self.inst, "data")
        os.makedirs(self.data)
        self.conf = os.path.join(self.inst, "dovecot.conf")
        users = os.path.join(self.inst, "users")
        with open(users, "w") as f:
            for user in ("alice", "bob"):
                f.write("%s:{PLAIN}secret:%d:%d::%s/%s::\n" % (user, MAIL_UID, MAIL_UID, self.data, user))
        with open(self.conf, "w") as f:
            f.write("""
protocols = imap
listen = 127.0.0.1
base_dir = {inst}/run
state_dir = {inst}/state
instance_name = loft-{name}-{pid}
log_path = {inst}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = {users}
}}
userdb {{
  driver = passwd-file
  args = {users}
}}
first_valid_uid = 100
mail_location = {mail_location}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
""".format(inst=self.inst, name=name, pid=os.getpid(), users=users, data=self.data, port=self.imap_port,
           mail_location=self.location("%u", location_options)))
        self.location_options = location_options
        for user in ("alice", "bob"):
            os.makedirs(os.path.join(self.data, user))
        subprocess.check_call(["chown", "-R", "%d:%d" % (MAIL_UID, MAIL_UID), self.data])
        # The daemon must not keep the test's stdout/stderr open (the harness waits for EOF).
        subprocess.check_call([DOVECOT, "-c", self.conf], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.imap_port), 1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("dovecot did not start:\n" + self.log())
                time.sleep(0.1)

    def log(self):
        try:
            with open(os.path.join(self.inst, "dovecot.log")) as f:
                return f.read()
        except OSError:
            return ""

    def maildir(self, user):
        return os.path.join(self.data, user, "Maildir")

    def inbox(self, user):
        return os.path.join(self.data, user, "inbox")

    def location(self, user, options=None):
        """mail_location for user ("%u" gives the config's), with the format prefix for
        the config and without it for the dump tools."""
        options = self.location_options if options is None else options
        if self.mail_format == "maildir":
            path = "%s/%s/Maildir%s" % (self.data, user, options)
        else:
            path = "%s/%s/mail:INBOX=%s/%s/inbox%s" % (self.data, user, self.data, user, options)
        return (self.mail_format + ":" + path) if user == "%u" else path

    def stop(self):
        subprocess.call(["doveadm", "-c", self.conf, "stop"], stderr=subprocess.DEVNULL)
        pidfile = os.path.join(self.inst, "run", "master.pid")
        for _ in range(100):
            if not os.path.exists(pidfile):
                break
            time.sleep(0.1)
        shutil.rmtree(self.inst, ignore_errors=True)

    def imap(self, user="alice"):
        conn = imaplib.IMAP4("127.0.0.1", self.imap_port)
        conn.login(user, "secret")
        return conn

    def deliver(self, user, message, mailbox=None):
        cmd = [LDA, "-c", self.conf, "-d", user]
        if mailbox:
            cmd += ["-m", mailbox]
        subprocess.run(cmd, input=message, check=True)


def imap_state(conn):
    """What Dovecot shows: {mailbox: (attrs, uidvalidity, uidnext, {uid: (flags, size, date)})}, subscriptions."""
    state = {}
    typ, data = conn.list('""', "*")
    for line in data:
        m = re.match(rb'\((.*?)\) "(.)" (.*)', line)
        attrs = m.group(1).decode().split()
        name = m.group(3).decode()
        if name.startswith('"'):
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        name = mutf7_decode(name)
        if "\\Noselect" in attrs:
            state[name] = ({"\\Noselect"}, None, None, {})
            continue
        typ, data = conn.select(imap_quote(mutf7_encode(name)), readonly=True)
        typ, uv = conn.response("UIDVALIDITY")
        typ, un = conn.response("UIDNEXT")
        msgs = {}
        typ, data = conn.uid("FETCH", "1:*", "(FLAGS RFC822.SIZE INTERNALDATE)")
        for item in data:
            if item is None:
                continue
            if isinstance(item, tuple):
                item = item[0]
            m = re.search(rb"UID (\d+)", item)
            if not m:
                continue
            uid = int(m.group(1))
            flags = re.search(rb"FLAGS \((.*?)\)", item).group(1).decode().split()
            flags = sorted(f for f in flags if f != "\\Recent")
            size = int(re.search(rb"RFC822.SIZE (\d+)", item).group(1))
            date = re.search(rb'INTERNALDATE "(.*?)"', item).group(1).decode()
            msgs[uid] = (" ".join(flags), size, int(time.mktime(imaplib.Internaldate2tuple(b'INTERNALDATE "' + date.encode() + b'"'))))
        state[name] = (set(), int(uv[0]), int(un[0]), msgs)
        conn.close()
    typ, data = conn.lsub('""', "*")
    subs = []
    for line in data:
        if line is None:
            continue
        m = re.match(rb'\((.*?)\) "(.)" (.*)', line)
        name = m.group(3).decode()
        if name.startswith('"'):
            name = name[1:-1]
        subs.append(mutf7_decode(name))
    return state, sorted(subs)


def imap_quote(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Loft:
    """Drives test/interop/maildir_dump or mbox_dump on one user's mail."""

    def __init__(self, builddir, location, mail_format="maildir"):
        self.tool_name = mail_format + "_dump"
        self.tool = os.path.join(builddir, "test", "interop", self.tool_name)
        self.location = location

    def run(self, *args):
        result = subprocess.run([self.tool, "--as-owner", self.location] + list(args),
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError("%s %s failed: %s" % (self.tool_name, " ".join(args), result.stderr))
        return result.stdout

    def state(self):
        state, subs = {}, []
        for line in self.run("dump").splitlines():
            fields = line.split("\t")
            if fields[0] == "MAILBOX":
                attrs = int(fields[2])
                if attrs & 1:
                    state[fields[1]] = ({"\\Noselect"}, None, None, {})
                else:
                    state[fields[1]] = (set(), int(fields[3]), int(fields[4]), {})
            elif fields[0] == "MSG":
                state[fields[1]][3][int(fields[2])] = (fields[3], int(fields[4]), int(fields[5]))
            elif fields[0] == "SUB":
                subs.append(fields[1])
        return state, sorted(subs)


def compare(what, dovecot, loft):
    """Prints every difference; returns the number of differences."""
    problems = 0
    d_state, d_subs = dovecot
    l_state, l_subs = loft
    for name in sorted(set(d_state) | set(l_state)):
        if name not in d_state or name not in l_state:
            print("%s: mailbox %r only in %s" % (what, name, "Dovecot" if name in d_state else "Loft"))
            problems += 1
            continue
        d, l = d_state[name], l_state[name]
        for label, i in (("attributes", 0), ("UIDVALIDITY", 1), ("UIDNEXT", 2)):
            if d[i] != l[i]:
                print("%s: %s %s: Dovecot %r, Loft %r" % (what, name, label, d[i], l[i]))
                problems += 1
        for uid in sorted(set(d[3]) | set(l[3])):
            if d[3].get(uid) != l[3].get(uid):
                print("%s: %s uid %d: Dovecot %r, Loft %r" % (what, name, uid, d[3].get(uid), l[3].get(uid)))
                problems += 1
    if d_subs != l_subs:
        print("%s: subscriptions: Dovecot %r, Loft %r" % (what, d_subs, l_subs))
        problems += 1
    return problems


def message(n, extra=""):
    return ("From: sender@example.org\r\nTo: alice@example.org\r\nSubject: test %d\r\n"
            "Message-ID: <%d.%f@example.org>\r\n%s\r\nLine one of message %d.\r\nLine two.\r\n"
            % (n, n, time.time(), extra, n)).encode()
