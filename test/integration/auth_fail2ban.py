#!/usr/bin/env python3
"""Debian's fail2ban filter for Dovecot (filter.d/dovecot.conf) finds Loft's failed
IMAP logins in Loft's log, with the client's IP, and ignores successful ones:
fail2ban-regex against the log of a real loftd. Skips (77) without fail2ban."""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("LOFT_SRCDIR", os.path.join(os.path.dirname(__file__), "../..")),
                                "test"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
from loft_harness import SKIP, Loft, TestCounter  # noqa: E402

FILTER = "/etc/fail2ban/filter.d/dovecot.conf"


def session(port, source, commands):
    from auth_imap_client import ImapClient
    client = ImapClient(port, source)
    replies = [client.command(command)[-1] for command in commands]
    client.close()
    return replies


def main():
    if not shutil.which("fail2ban-regex") or not os.path.exists(FILTER):
        print("fail2ban-regex or its dovecot filter is missing: skipped")
        return SKIP
    # 127.0.0.0/8 is trusted so plaintext LOGIN works from every test address.
    loft = Loft(users=("alice",), extra_config="auth_verbose = yes\nlogin_trusted_networks = 127.0.0.0/8\n")
    t = TestCounter("auth_fail2ban")
    loft.start()
    try:
        port = loft.imap_port
        replies = session(port, "127.0.0.5", ["LOGIN alice wrong"])
        t.check("NO [AUTHENTICATIONFAILED]" in replies[0], "bad password refused")
        replies = session(port, "127.0.0.6", ["LOGIN mallory guess"])
        t.check("NO [AUTHENTICATIONFAILED]" in replies[0], "unknown user refused")
        replies = session(port, "127.0.0.7", ["LOGIN alice secret", "LOGOUT"])
        t.check(" OK " in replies[0], "good password accepted")
        session(port, "127.0.0.8", ["LOGOUT"])  # no attempt at all: only the aggressive mode counts that
        time.sleep(1)
    finally:
        loft.stop()
    log_path = os.path.join(loft.dir, "loft.log")
    result = subprocess.run(["fail2ban-regex", "-o", "ip", log_path, FILTER], capture_output=True, text=True,
                            timeout=120)
    t.check(result.returncode == 0, f"fail2ban-regex ran: {result.stderr[-500:]}")
    found = result.stdout.split()
    t.check(found.count("127.0.0.5") >= 2, f"bad password: auth line and Disconnected line matched ({found})")
    t.check(found.count("127.0.0.6") >= 2, f"unknown user: auth line and Disconnected line matched ({found})")
    t.check("127.0.0.7" not in found, "a successful login is not a failure")
    t.check("127.0.0.8" not in found, "a client without attempts is not a failure in normal mode")
    t.check(set(found) <= {"127.0.0.5", "127.0.0.6"}, f"nothing else matched: {found}")
    if t.failed:
        print(loft.log()[-4000:])
    loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
