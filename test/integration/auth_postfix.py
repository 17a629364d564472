#!/usr/bin/env python3
"""Real Postfix against Loft's auth-client socket: a private Postfix instance with
smtpd_sasl_type = dovecot pointed at the socket loftd binds, then SMTP AUTH PLAIN and
LOGIN with good and bad passwords. Skips (77) unless root with Postfix installed."""
import os
import shutil
import smtplib
import subprocess
import sys
import time

SRCDIR = os.environ.get("LOFT_SRCDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
sys.path.insert(0, os.path.join(SRCDIR, "test"))
from loft_harness import SKIP, Loft, TestCounter, free_port  # noqa: E402

POSTFIX = "/usr/sbin/postfix"


def postfix(config_dir, action):
    return subprocess.run([POSTFIX, "-c", config_dir, action], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, timeout=60)


def wait_smtp(port, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                smtp.ehlo()
                return True
        except OSError:
            time.sleep(0.1)
    return False


def try_auth(port, mechanism, user, password):
    """SMTP reply code of AUTH with one mechanism (235 accepted, 535 refused)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("client.example")
        smtp.user, smtp.password = user, password
        authobject = {"PLAIN": smtp.auth_plain, "LOGIN": smtp.auth_login}[mechanism]
        try:
            code, _ = smtp.auth(mechanism, authobject, initial_response_ok=(mechanism == "PLAIN"))
            return code, smtp.esmtp_features.get("auth", "")
        except smtplib.SMTPAuthenticationError as error:
            return error.smtp_code, smtp.esmtp_features.get("auth", "")


def main():
    if os.geteuid() != 0 or not os.path.exists(POSTFIX):
        print("needs root and Postfix: skipping")
        return SKIP
    loft = Loft(users=("alice", "bob"))
    socket_path = os.path.join(loft.dir, "sasl", "auth")
    os.makedirs(os.path.dirname(socket_path))
    with open(loft.config_path, "a") as f:
        f.write(f"service auth {{\n  unix_listener {socket_path} {{\n    mode = 0666\n  }}\n}}\n")
    pf_dir = os.path.join(loft.dir, "postfix")
    config_dir = os.path.join(pf_dir, "etc")
    os.makedirs(config_dir)
    os.makedirs(os.path.join(pf_dir, "queue"))
    os.makedirs(os.path.join(pf_dir, "data"))
    shutil.chown(os.path.join(pf_dir, "data"), "postfix")
    port = free_port()
    with open(os.path.join(config_dir, "main.cf"), "w") as f:
        f.write(f"""compatibility_level = 3.6
queue_directory = {pf_dir}/queue
data_directory = {pf_dir}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = loft-test.example
mydestination =
maillog_file = {pf_dir}/postfix.log
maillog_file_prefixes = {pf_dir}
local_recipient_maps =
alias_maps =
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {socket_path}
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = none
smtpd_relay_restrictions = permit_sasl_authenticated, reject
""")
    with open(os.path.join(config_dir, "master.cf"), "w") as f:
        f.write(f"127.0.0.1:{port} inet n - n - - smtpd\n"
                "postlog unix-dgram n - n - 1 postlogd\n")
    t = TestCounter("auth_postfix")
    started = False
    try:
        loft.start()
        result = postfix(config_dir, "start")
        started = result.returncode == 0
        t.check(started, "postfix start: " + result.stdout.decode())
        if started and wait_smtp(port):
            code, mechanisms = try_auth(port, "PLAIN", "alice", "secret")
            t.check("PLAIN" in mechanisms.split() and "LOGIN" in mechanisms.split(),
                    f"Postfix offers the mechanisms loft-auth announced: {mechanisms}")
            t.check(code == 235, f"AUTH PLAIN alice/secret accepted: {code}")
            code, _ = try_auth(port, "PLAIN", "alice", "wrong")
            t.check(code == 535, f"AUTH PLAIN alice/wrong refused: {code}")
            code, _ = try_auth(port, "LOGIN", "bob", "secret")
            t.check(code == 235, f"AUTH LOGIN bob/secret accepted: {code}")
            code, _ = try_auth(port, "LOGIN", "bob", "wrong")
            t.check(code == 535, f"AUTH LOGIN bob/wrong refused: {code}")
            code, _ = try_auth(port, "PLAIN", "nobody", "secret")
            t.check(code == 535, f"AUTH PLAIN unknown user refused: {code}")
        else:
            t.check(False, "Postfix smtpd did not answer")
    except Exception as error:  # noqa: BLE001 - report with the logs
        t.check(False, f"exception: {error!r}")
    finally:
        if started:
            postfix(config_dir, "stop")
        if t.failed:
            print(loft.log(), file=sys.stderr)
            try:
                with open(os.path.join(pf_dir, "postfix.log")) as f:
                    print(f.read(), file=sys.stderr)
            except OSError:
                pass
        loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
