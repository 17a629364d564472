#!/usr/bin/env python3
"""loftd binds service auth's auth-client sockets and loft-auth answers Dovecot's
auth-client protocol on them, as Postfix (smtpd_sasl_type = dovecot) speaks it:
handshake, PLAIN and LOGIN with good and bad passwords, refused mechanisms, and
malformed input."""
import base64
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.environ.get("LOFT_SRCDIR", os.path.join(os.path.dirname(__file__), "../..")), "test"))
from loft_harness import Loft, TestCounter  # noqa: E402


class AuthClient:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.stream = self.sock.makefile("rb")
        self.handshake = []
        while True:
            line = self.readline()
            if line is None:
                raise ConnectionError("closed during handshake")
            self.handshake.append(line)
            if line == "DONE":
                break
        self.send("VERSION\t1\t2")
        self.send(f"CPID\t{os.getpid()}")

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def readline(self):
        line = self.stream.readline()
        return None if not line else line.decode().rstrip("\n")

    def reply(self):
        line = self.readline()
        return None if line is None else line.split("\t")

    def close(self):
        self.stream.close()
        self.sock.close()


def b64(data):
    return base64.b64encode(data).decode()


def plain(client, request_id, user, password, extra="\tsecured"):
    response = b64(b"\0" + user.encode() + b"\0" + password.encode())
    # One client address per request id: the auth penalty of repeated failures stays out.
    client.send(f"AUTH\t{request_id}\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.3.{request_id}{extra}"
                f"\tresp={response}")
    return client.reply()


def login(client, request_id, user, password):
    client.send(f"AUTH\t{request_id}\tLOGIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.3.{request_id}"
                "\tsecured")
    first = client.reply()
    if first[0] != "CONT":
        return first
    client.send(f"CONT\t{request_id}\t{b64(user.encode())}")
    second = client.reply()
    if second[0] != "CONT":
        return second
    client.send(f"CONT\t{request_id}\t{b64(password.encode())}")
    return client.reply()


def main():
    loft = Loft(users=("alice", "bob"), extra_config="")
    socket_dir = os.path.join(loft.dir, "postfix-private")
    os.makedirs(socket_dir)
    socket_path = os.path.join(socket_dir, "auth")
    with open(loft.config_path, "a") as f:
        f.write(f"""service auth {{
  unix_listener {socket_path} {{
    mode = 0666
  }}
}}
""")
    t = TestCounter("auth_client")
    try:
        loft.start()
        t.check(os.path.exists(socket_path), "loftd binds the auth-client socket at " + socket_path)
        t.check(os.path.exists(os.path.join(loft.dir, "run", "auth-client")), "the built-in auth-client socket is bound")
        # auth-userdb is bound too, but speaks the auth-master protocol (auth_userdb.py).
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as userdb:
            userdb.settimeout(10)
            userdb.connect(os.path.join(loft.dir, "run", "auth-userdb"))
            greeting = userdb.recv(100)
        t.check(greeting.startswith(b"VERSION\t1\t1\nSPID\t"),
                f"auth-userdb is not an auth-client socket: {greeting!r}")

        client = AuthClient(socket_path)
        hs = client.handshake
        t.check(hs[0] == "VERSION\t1\t2", f"handshake starts with VERSION 1 2: {hs[:1]}")
        mechs = [line.split("\t") for line in hs if line.startswith("MECH\t")]
        t.check(["MECH", "PLAIN", "plaintext"] in mechs, f"PLAIN offered as plaintext: {mechs}")
        t.check(["MECH", "LOGIN", "plaintext"] in mechs, f"LOGIN offered as plaintext: {mechs}")
        for key in ("SPID", "CUID", "COOKIE"):
            t.check(any(line.startswith(key + "\t") for line in hs), f"handshake has {key}")

        r = plain(client, 1, "alice", "secret")
        t.check(r == ["OK", "1", "user=alice"], f"PLAIN good password: {r}")
        r = plain(client, 2, "alice", "wrong")
        t.check(r is not None and r[:2] == ["FAIL", "2"] and "temp" not in r, f"PLAIN bad password: {r}")
        r = plain(client, 3, "nobody", "secret")
        t.check(r is not None and r[:2] == ["FAIL", "3"], f"PLAIN unknown user: {r}")
        r = plain(client, 4, "ALICE", "secret")
        t.check(r == ["OK", "4", "user=alice"], f"PLAIN user name normalized by auth_username_format: {r}")
        r = login(client, 5, "bob", "secret")
        t.check(r == ["OK", "5", "user=bob"], f"LOGIN good password: {r}")
        r = login(client, 6, "bob", "nope")
        t.check(r is not None and r[:2] == ["FAIL", "6"], f"LOGIN bad password: {r}")
        client.send(f"AUTH\t7\tLOGIN\tservice=smtp\tsecured")
        r = client.reply()
        t.check(r == ["CONT", "7", b64(b"Username:")], f"LOGIN asks for Username: {r}")
        client.send(f"CONT\t7\t{b64(b'alice')}")
        r = client.reply()
        t.check(r == ["CONT", "7", b64(b"Password:")], f"LOGIN asks for Password: {r}")
        client.send(f"CONT\t7\t{b64(b'secret')}")
        r = client.reply()
        t.check(r == ["OK", "7", "user=alice"], f"LOGIN step by step: {r}")
        client.send("AUTH\t8\tCRAM-MD5\tservice=smtp\tsecured")
        r = client.reply()
        t.check(r is not None and r[:2] == ["FAIL", "8"], f"mechanism not in auth_mechanisms refused: {r}")
        client.send("AUTH\t9\tPLAIN\tservice=smtp\tsecured\tresp=!!!notbase64")
        r = client.reply()
        t.check(r is not None and r[:2] == ["FAIL", "9"], f"bad base64 refused: {r}")
        r = plain(client, 10, "alice", "secret", extra="")
        t.check(r is not None and r[:2] == ["FAIL", "10"],
                f"plaintext refused on an unsecured connection (disable_plaintext_auth): {r}")
        r = plain(client, 11, "bob", "secret")
        t.check(r == ["OK", "11", "user=bob"], f"connection still usable after failures: {r}")
        client.send("BOGUS\tline")
        t.check(client.readline() is None, "an unknown command closes the connection")
        client.close()

        # Requests before VERSION are refused.
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        raw.settimeout(10)
        raw.connect(socket_path)
        stream = raw.makefile("rb")
        while stream.readline().rstrip(b"\n") != b"DONE":
            pass
        raw.sendall(b"AUTH\t1\tPLAIN\tservice=smtp\tsecured\tresp=" + base64.b64encode(b"\0alice\0secret") + b"\n")
        t.check(stream.readline() == b"", "AUTH before VERSION closes the connection")
        raw.close()

        client = AuthClient(os.path.join(loft.dir, "run", "auth-client"))
        r = plain(client, 1, "alice", "secret")
        t.check(r == ["OK", "1", "user=alice"], f"the built-in auth-client socket answers too: {r}")
        client.close()
    except Exception as error:  # noqa: BLE001 - report with the log
        t.check(False, f"exception: {error!r}\n{loft.log()}")
    finally:
        loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
