"""Starting real loftd (and real Dovecot) for integration and interop tests.

Everything runs in a temporary directory on free loopback ports. As root the mail
belongs to an unprivileged uid, so privilege drops are exercised for real."""
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
BUILDDIR = os.environ.get("LOFT_BUILDDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
SRCDIR = os.environ.get("LOFT_SRCDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
MAIL_UID = 5000 if os.geteuid() == 0 else os.getuid()
MAIL_GID = 5000 if os.geteuid() == 0 else os.getgid()


# Listening ports are drawn below the kernel's ephemeral range (32768+): a port the
# kernel handed out as free could be taken as the source port of an outgoing connection
# (the tests make thousands) before the server under test binds it.
LISTEN_PORT_RANGE = (11000, 32000)  # the demo uses 10024, 10110, 10143


def free_port():
    rng = random.Random()
    for _ in range(500):
        port = rng.randrange(*LISTEN_PORT_RANGE)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free listening port")


def wait_for_banner(port, prefix, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 1) as s:
                s.settimeout(2)
                if s.recv(200).startswith(prefix):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


class Loft:
    """A loftd started from the build tree with a config written for the test."""

    def __init__(self, users=("alice", "bob"), extra_config="", directory=None, password="secret"):
        self.dir = directory or tempfile.mkdtemp(prefix="loft-test-")
        os.chmod(self.dir, 0o755)
        self.imap_port = free_port()
        self.lmtp_port = free_port()
        self.log_path = os.path.join(self.dir, "loft.log")
        self.users = users
        self.homes = {}
        lines = []
        for user in users:
            home = os.path.join(self.dir, "home", user)
            os.makedirs(home, exist_ok=True)
            if os.geteuid() == 0:
                os.chown(home, MAIL_UID, MAIL_GID)
            self.homes[user] = home
            lines.append(f"{user}:{{PLAIN}}{password}:{MAIL_UID}:{MAIL_GID}::{home}::")
        with open(os.path.join(self.dir, "users"), "w") as f:
            f.write("\n".join(lines) + "\n")
        self.config_path = os.path.join(self.dir, "dovecot.conf")
        with open(self.config_path, "w") as f:
            f.write(f"""protocols = imap lmtp
listen = 127.0.0.1
base_dir = {self.dir}/run
log_path = {self.log_path}
ssl = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
first_valid_uid = {min(MAIL_UID, 1000) if MAIL_UID else 0}
passdb {{
  driver = passwd-file
  args = {self.dir}/users
}}
userdb {{
  driver = passwd-file
  args = {self.dir}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
{extra_config}
""")
        self.process = None

    def maildir(self, user):
        return os.path.join(self.homes[user], "Maildir")

    def start(self, wait_imap=True):
        loftd = os.path.join(BUILDDIR, "loftd")
        self.process = subprocess.Popen([loftd, "-F", "-c", self.config_path],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        if (wait_imap and not wait_for_banner(self.imap_port, b"* OK")) or not wait_for_banner(self.lmtp_port, b"220"):
            self.stop()
            raise RuntimeError("loftd did not come up; log:\n" + self.log())
        return self

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def children(self):
        """pid -> command name of loftd's descendants."""
        result = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            if ppid == self.process.pid:
                result[int(entry)] = name
        return result

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class TestCounter:
    """Counts checks so a script can report what it verified, and fails loudly."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = []

    def check(self, condition, what):
        if condition:
            self.passed += 1
        else:
            self.failed.append(what)
            print(f"FAIL: {what}", file=sys.stderr)

    def finish(self):
        print(f"{self.name}: {self.passed} checks passed, {len(self.failed)} failed")
        return 1 if self.failed else 0


def lmtp_session(port, sender, recipients, body):
    """One LMTP transaction over a raw socket (smtplib.LMTP reads only one reply
    after DATA, but LMTP answers once per accepted recipient).
    Returns (rcpt_replies, data_replies) as lists of (code, text)."""
    def read_reply(stream):
        lines = []
        while True:
            line = stream.readline()
            if not line:
                raise ConnectionError("LMTP server closed the connection")
            lines.append(line.rstrip(b"\r\n"))
            if line[3:4] != b"-":
                return int(line[:3]), b"\n".join(l[4:] for l in lines).decode()

    with socket.create_connection(("127.0.0.1", port), 10) as sock:
        stream = sock.makefile("rb")
        read_reply(stream)
        sock.sendall(b"LHLO test.example\r\n")
        read_reply(stream)
        sock.sendall(f"MAIL FROM:<{sender}>\r\n".encode())
        read_reply(stream)
        rcpt_replies = []
        for rcpt in recipients:
            sock.sendall(f"RCPT TO:<{rcpt}>\r\n".encode())
            rcpt_replies.append(read_reply(stream))
        accepted = sum(1 for code, _ in rcpt_replies if code == 250)
        data_replies = []
        if accepted:
            sock.sendall(b"DATA\r\n")
            read_reply(stream)
            data = body.replace(b"\r\n.", b"\r\n..")
            if data.startswith(b"."):
                data = b"." + data
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            sock.sendall(data + b".\r\n")
            for _ in range(accepted):
                data_replies.append(read_reply(stream))
        sock.sendall(b"QUIT\r\n")
        read_reply(stream)
        return rcpt_replies, data_replies


class Dovecot:
    """Debian's real Dovecot 2.3 on the same users and homes as a Loft instance, as the
    oracle. Needs root and the dovecot-core/imapd/lmtpd packages."""

    BINARY = "/usr/sbin/dovecot"

    @classmethod
    def available(cls):
        return os.geteuid() == 0 and os.path.exists(cls.BINARY)

    def __init__(self, loft, extra_config=""):
        self.loft = loft
        self.dir = os.path.join(loft.dir, "dovecot")
        os.makedirs(self.dir, exist_ok=True)
        self.imap_port = free_port()
        self.lmtp_port = free_port()
        self.config_path = os.path.join(self.dir, "dovecot.conf")
        with open(self.config_path, "w") as f:
            f.write(f"""protocols = imap lmtp
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
instance_name = loft-test-dovecot
log_path = {self.dir}/dovecot.log
ssl = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = {min(MAIL_UID, 1000) if MAIL_UID else 0}
passdb {{
  driver = passwd-file
  args = {loft.dir}/users
}}
userdb {{
  driver = passwd-file
  args = {loft.dir}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
{extra_config}
""")
        self.pid = None

    def start(self):
        subprocess.run([self.BINARY, "-c", self.config_path], check=True)
        if not wait_for_banner(self.imap_port, b"* OK") or not wait_for_banner(self.lmtp_port, b"220"):
            self.stop()
            raise RuntimeError("dovecot did not come up")
        with open(os.path.join(self.dir, "run", "master.pid")) as f:
            self.pid = int(f.read().strip())
        return self

    def stop(self):
        if not self.pid:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        for _ in range(100):
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        self.pid = None
