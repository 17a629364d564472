#!/usr/bin/env python3
"""auth_debug through real loftd: the lines admins grep in Dovecot 2.3's auth debug log
("client in: AUTH ...", the passdb/userdb "Performing/Finished ... lookup" lines,
"client passdb out: OK/FAIL") for an IMAP login and for the auth-client socket, in
Dovecot's shape (measured on 2.3.19), with resp= hidden (no auth_debug_passwords); and,
with info_log_path and debug_log_path set, the split Dovecot's log process makes: Info
lines in info_log_path, Debug lines in debug_log_path, the others in log_path."""
import base64
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("LOFT_SRCDIR", os.path.join(os.path.dirname(__file__), "../..")),
                                "test"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
from loft_harness import Loft, TestCounter  # noqa: E402
from auth_imap_client import ImapClient  # noqa: E402
from auth_client import AuthClient  # noqa: E402


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def main():
    loft = Loft(users=("alice",))
    info_path = os.path.join(loft.dir, "info.log")
    debug_path = os.path.join(loft.dir, "debug.log")
    socket_path = os.path.join(loft.dir, "auth-client-test")
    with open(loft.config_path, "a") as f:
        f.write("auth_debug = yes\nauth_verbose = yes\ndisable_plaintext_auth = no\n"
                f"info_log_path = {info_path}\ndebug_log_path = {debug_path}\n"
                f"service auth {{\n  unix_listener {socket_path} {{\n    mode = 0666\n  }}\n}}\n")
    t = TestCounter("auth_debug_log")
    loft.start()
    try:
        client = ImapClient(loft.imap_port, "127.0.0.1")
        reply = client.command("LOGIN alice wrong")[-1]
        t.check("NO" in reply, f"wrong password refused: {reply}")
        client.close()
        client = ImapClient(loft.imap_port, "127.0.0.5")
        reply = client.command("LOGIN alice secret")[-1]
        t.check(" OK " in reply, f"good password accepted: {reply}")
        client.close()
        auth = AuthClient(socket_path)
        response = base64.b64encode(b"\0alice\0secret").decode()
        auth.send(f"AUTH\t7\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.9\tsecured\tresp={response}")
        t.check(auth.reply()[:2] == ["OK", "7"], "auth-client PLAIN accepted")
        auth.close()
        time.sleep(1)
    finally:
        loft.stop()
    time.sleep(0.5)  # the level-splitting process writes the last lines after the writers exit
    main_log, info, debug = loft.log(), read(info_path), read(debug_path)
    t.check(re.search(r"auth: Debug: client in: AUTH\t\d+\tPLAIN\tservice=imap\tsecured\tsession=[^\t]+\t"
                      r"lip=127\.0\.0\.1\trip=127\.0\.0\.1\tresp=<hidden>", debug), "IMAP: client in: AUTH line")
    t.check(re.search(r"auth: Debug: passwd-file\(alice,127\.0\.0\.1,<[^>]+>\): Performing passdb lookup", debug),
            "Performing passdb lookup line")
    t.check(re.search(r"auth: Debug: passwd-file\(alice,127\.0\.0\.1,<[^>]+>\): Finished passdb lookup", debug),
            "Finished passdb lookup line")
    t.check(re.search(r"auth: Debug: client passdb out: FAIL\tuser=alice", debug), "client passdb out: FAIL line")
    t.check(re.search(r"auth: Debug: client in: AUTH\t7\tPLAIN\tservice=smtp\tnologin\tlip=127\.0\.0\.1\t"
                      r"rip=127\.0\.0\.9\tsecured\tresp=<hidden>", debug), "auth-client: client in line, resp hidden")
    t.check(re.search(r"auth: Debug: client passdb out: OK\t7\tuser=alice", debug), "auth-client: OK out line")
    t.check(re.search(r"auth: Info: passwd-file\(alice,127\.0\.0\.1,<[^>]+>\): Password mismatch", info),
            "Password mismatch Info line")
    t.check("secret" not in debug and "c2VjcmV0" not in debug, "no password in the debug log")
    t.check(re.search(r"auth: Debug: passwd-file\(alice,127\.0\.0\.5,<[^>]+>\): Performing userdb lookup", debug),
            "Performing userdb lookup line")
    t.check(re.search(r"imap-login: Info: Login: user=<alice>", info), "imap-login's Info lines too")
    t.check(" Info: " not in debug and " Debug: " not in info, "Info and Debug lines each in their own file")
    t.check(" Info: " not in main_log and " Debug: " not in main_log, "log_path keeps neither")
    if t.failed:
        print("--- log_path\n" + main_log[-2000:] + "\n--- info\n" + info[-2000:] + "\n--- debug\n" + debug[-3000:])
    loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
