#!/usr/bin/env python3
"""loftd binds service auth's auth-userdb socket (Dovecot's default config has it) and
loft-auth answers Dovecot's auth-master protocol there: USER, PASS and LIST from a
Python client, malformed input, the 0666-socket restriction for other uids, and real
Dovecot tools pointed at Loft's socket: doveadm user / user '*' / auth lookup and
dovecot-lda delivering through a USER look-up."""
import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("LOFT_SRCDIR", os.path.join(os.path.dirname(__file__), "../..")), "test"))
from loft_harness import BUILDDIR, MAIL_UID, Loft, TestCounter  # noqa: E402

LDA = "/usr/lib/dovecot/dovecot-lda"


class MasterClient:
    def __init__(self, path, version="VERSION\t1\t0"):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.stream = self.sock.makefile("rb")
        self.greeting = [self.readline(), self.readline()]
        if version:
            self.send(version)

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def readline(self):
        line = self.stream.readline()
        return None if not line else line.decode().rstrip("\n")

    def request(self, line):
        self.send(line)
        return self.readline()

    def close(self):
        self.stream.close()
        self.sock.close()


def fields_of(reply):
    return dict(part.split("=", 1) for part in reply.split("\t")[3:] if "=" in part)


def protocol_checks(t, loft, path):
    client = MasterClient(path)
    t.check(client.greeting[0] == "VERSION\t1\t1" and client.greeting[1].startswith("SPID\t"),
            f"greeting {client.greeting}")
    reply = client.request("USER\t1\talice\tservice=lda\trip=127.0.0.1")
    fields = fields_of(reply or "")
    t.check(reply is not None and reply.startswith("USER\t1\talice\t") and fields.get("uid") == str(MAIL_UID)
            and fields.get("home") == loft.homes["alice"], f"USER alice: {reply}")
    t.check(client.request("USER\t2\tnobody\tservice=lda") == "NOTFOUND\t2", "USER nobody")
    # auth_username_format (default %Lu) applies, and the reply names the user found.
    reply = client.request("USER\t3\tALICE\tservice=lda")
    t.check(reply is not None and reply.startswith("USER\t3\talice\t"), f"USER ALICE: {reply}")
    t.check(client.request("PASS\t4\tbob\tservice=doveadm") == "PASS\t4\tuser=bob", "PASS bob")
    t.check(client.request("PASS\t5\tnobody\tservice=doveadm") == "NOTFOUND\t5", "PASS nobody")
    client.send("LIST\t6\tuser=*\tservice=doveadm")
    listed = [client.readline() for _ in range(3)]
    t.check(listed == ["LIST\t6\talice", "LIST\t6\tbob", "DONE\t6\t"], f"LIST: {listed}")
    # A request id is the client's: any number, answered in order.
    t.check(client.request("USER\t4294967295\tbob\tservice=lmtp").startswith("USER\t4294967295\tbob\t"), "big id")
    # USER without service is a client bug: Dovecot disconnects.
    client.send("USER\t7\talice")
    t.check(client.readline() is None, "USER without service must disconnect")
    client.close()

    for version, what in (("VERSION\t2\t0", "major version 2"), ("USER\t1\talice\tservice=x", "no VERSION")):
        client = MasterClient(path, version)
        t.check(client.readline() is None, f"{what} must disconnect")
        client.close()
    client = MasterClient(path)
    client.send("REQUEST\t1\t2\t3\tcookie")
    t.check(client.readline() is None, "REQUEST on auth-userdb must disconnect")
    client.close()
    client = MasterClient(path)
    client.send("USER\tx\talice\tservice=lda")
    t.check(client.readline() is None, "broken id must disconnect")
    client.close()
    client = MasterClient(path)
    client.send("USER\t1\t" + "a" * 20000 + "\tservice=lda")
    t.check(client.readline() is None, "an overlong line must disconnect")
    client.close()


def as_other_user(path, uid, gid, lines):
    """Runs a client as uid/gid in a child process; returns its replies."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            client = MasterClient(path)
            out = [client.request(line) or "<closed>" for line in lines]
            os.write(writer, "\n".join(out).encode())
        except Exception as error:  # noqa: BLE001 - reported to the parent
            os.write(writer, f"error {error}".encode())
        os._exit(0)
    os.close(writer)
    data = b""
    while True:
        chunk = os.read(reader, 4096)
        if not chunk:
            break
        data += chunk
    os.close(reader)
    os.waitpid(pid, 0)
    return data.decode().split("\n")


def restriction_checks(t, path):
    """As Dovecot: a 0666 socket gives other uids only the USER look-ups of their own uid."""
    if os.geteuid() != 0:
        print("not root: restricted-peer checks left out")
        return
    mode = os.stat(path).st_mode & 0o777
    t.check(mode == 0o666, f"auth-userdb mode {oct(mode)}")
    replies = as_other_user(path, 65534, 65534, ["USER\t1\talice\tservice=lda", "PASS\t2\talice\tservice=lda",
                                                 "LIST\t3\tservice=lda"])
    t.check(replies == ["FAIL\t1", "FAIL\t2", "DONE\t3\tfail"], f"nobody's look-ups: {replies}")
    replies = as_other_user(path, MAIL_UID, MAIL_UID, ["USER\t1\talice\tservice=lda"])
    t.check(replies[0].startswith("USER\t1\talice\t"), f"uid {MAIL_UID} looking up its own user: {replies}")


def run(args, stdin=None):
    done = subprocess.run(args, input=stdin.encode() if stdin else None, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def dovecot_tool_checks(t, loft, path):
    doveadm = shutil.which("doveadm")
    if not doveadm:
        print("doveadm not installed: Dovecot tool checks left out")
        return
    loftadm = os.path.join(BUILDDIR, "loftadm")
    # doveadm reads the same dovecot.conf; its auth_socket_path is Loft's auth-userdb.
    base = [doveadm, "-c", loft.config_path, "-o", f"auth_socket_path={path}"]
    for user in ("alice", "bob", "nobody"):
        theirs = run(base + ["user", user])
        ours = run([loftadm, "-c", loft.config_path, "user", user])
        t.check(theirs[:2] == ours[:2], f"doveadm user {user} through Loft's socket {theirs} vs loftadm {ours}")
    code, out, err = run(base + ["user", "*"])
    t.check(code == 0 and out.split() == ["alice", "bob"], f"doveadm user '*': {code} {out} {err}")
    code, out, err = run(base + ["auth", "lookup", "bob"])
    t.check(code == 0 and "passdb: bob" in out and "user      : bob" in out, f"doveadm auth lookup bob: {out} {err}")
    code, out, err = run(base + ["auth", "lookup", "nobody"])
    t.check(code != 0, f"doveadm auth lookup nobody: {code} {out}")

    if not os.path.exists(LDA) or os.geteuid() != 0:
        print("no dovecot-lda or not root: delivery check left out")
        return
    message = "From: a@example.com\nSubject: through auth-userdb\n\nhello\n"
    code, out, err = run([LDA, "-c", loft.config_path, "-o", f"auth_socket_path={path}", "-d", "alice",
                          "-f", "a@example.com"], message)
    new = os.path.join(loft.maildir("alice"), "new")
    files = os.listdir(new) if os.path.isdir(new) else []
    t.check(code == 0 and len(files) == 1, f"dovecot-lda -d alice: {code} {err} {files}")
    if files:
        info = os.stat(os.path.join(new, files[0]))
        t.check(info.st_uid == MAIL_UID, f"delivered file owned by {info.st_uid}, expected the userdb's {MAIL_UID}")
    code, out, err = run([LDA, "-c", loft.config_path, "-o", f"auth_socket_path={path}", "-d", "nobody",
                          "-f", "a@example.com"], message)
    t.check(code == 67, f"dovecot-lda -d nobody: exit {code} (EX_NOUSER expected) {err}")


def main():
    t = TestCounter("auth_userdb")
    loft = Loft(users=("alice", "bob")).start()
    try:
        path = os.path.join(loft.dir, "run", "auth-userdb")
        t.check(os.path.exists(path), "loftd did not bind auth-userdb")
        protocol_checks(t, loft, path)
        restriction_checks(t, path)
        dovecot_tool_checks(t, loft, path)
    finally:
        loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
