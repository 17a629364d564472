#!/usr/bin/env python3
"""The auth penalty per client IP, as Dovecot 2.3 applies it (measured on Debian's
2.3.19 with the same steps): after the first failed login from an IP, the next request
from it waits 4 s before the passdb is asked, after the second 8 s (then 15 s); a retry
of the same user and password does not raise it; a success clears it; other IPs are not
affected; login_trusted_networks are penalized too (Dovecot does); an auth-client
request with no-penalty is never delayed. auth_failure_delay = 0 keeps only the penalty
in the timings."""
import base64
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("LOFT_SRCDIR", os.path.join(os.path.dirname(__file__), "../..")),
                                "test"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
from loft_harness import Loft, TestCounter  # noqa: E402
from auth_imap_client import ImapClient  # noqa: E402
from auth_client import AuthClient  # noqa: E402


def timed_login(port, source, user, password):
    client = ImapClient(port, source)
    started = time.monotonic()
    reply = client.command(f"LOGIN {user} {password}")[-1]
    elapsed = time.monotonic() - started
    client.close()
    return elapsed, reply


def timed_plain(client, request_id, rip, user, password, extra=""):
    response = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
    started = time.monotonic()
    client.send(f"AUTH\t{request_id}\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip={rip}\tsecured{extra}"
                f"\tresp={response}")
    reply = client.reply()
    return time.monotonic() - started, reply


def main():
    loft = Loft(users=("alice",), extra_config="disable_plaintext_auth = no\nlogin_trusted_networks = 127.0.0.4\n")
    socket_path = os.path.join(loft.dir, "auth-client-test")
    with open(loft.config_path, "a") as f:
        f.write(f"service auth {{\n  unix_listener {socket_path} {{\n    mode = 0666\n  }}\n}}\n")
    t = TestCounter("auth_penalty")
    loft.start()
    try:
        port = loft.imap_port
        elapsed, reply = timed_login(port, "127.0.0.2", "alice", "wrong1")
        t.check("NO [AUTHENTICATIONFAILED]" in reply and elapsed < 1.5, f"first failure not delayed ({elapsed:.2f}s)")
        elapsed, reply = timed_login(port, "127.0.0.2", "alice", "wrong2")
        t.check("NO" in reply and 3.3 < elapsed < 6, f"second attempt held back ~4 s ({elapsed:.2f}s)")
        elapsed, reply = timed_login(port, "127.0.0.3", "alice", "wrong")
        t.check("NO" in reply and elapsed < 1.5, f"another IP is not delayed ({elapsed:.2f}s)")
        elapsed, reply = timed_login(port, "127.0.0.2", "alice", "secret")
        t.check(" OK " in reply and 7 < elapsed < 10.5, f"third attempt held back ~8 s, then succeeds ({elapsed:.2f}s)")
        elapsed, reply = timed_login(port, "127.0.0.2", "alice", "wrong3")
        t.check("NO" in reply and elapsed < 1.5, f"the success cleared the penalty ({elapsed:.2f}s)")

        # Same user and password again: a client retrying by itself is not raised further.
        timed_login(port, "127.0.0.4", "alice", "oldpass")
        first, _ = timed_login(port, "127.0.0.4", "alice", "oldpass")
        second, _ = timed_login(port, "127.0.0.4", "alice", "oldpass")
        t.check(3.3 < first < 6, f"trusted network delayed as in Dovecot ({first:.2f}s)")
        t.check(3.3 < second < 6, f"a repeated password does not raise the penalty ({second:.2f}s)")

        # auth-client socket (Postfix): penalty by the rip= of the request, unless no-penalty.
        client = AuthClient(socket_path)
        elapsed, reply = timed_plain(client, 1, "127.0.0.9", "alice", "bad1")
        t.check(reply[0] == "FAIL" and elapsed < 1.5, f"auth-client first failure immediate ({elapsed:.2f}s)")
        elapsed, reply = timed_plain(client, 2, "127.0.0.9", "alice", "bad2", "\tno-penalty")
        t.check(reply[0] == "FAIL" and elapsed < 1.5, f"no-penalty is not delayed ({elapsed:.2f}s)")
        elapsed, reply = timed_plain(client, 3, "127.0.0.9", "alice", "secret")
        t.check(reply[0] == "OK" and 3.3 < elapsed < 6, f"auth-client request held back ~4 s ({elapsed:.2f}s)")
        client.close()
    finally:
        loft.stop()
    if t.failed:
        print(loft.log()[-4000:])
    loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
