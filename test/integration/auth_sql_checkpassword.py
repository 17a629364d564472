#!/usr/bin/env python3
"""passdb/userdb sql (sqlite) and checkpassword. Through loftd: IMAP logins with sql +
prefetch and the auth-userdb socket answering from sql. Against Dovecot: the same dovecot.conf, the same
dovecot-sql.conf.ext and the same checkpassword script given to real Dovecot
(doveadm auth test / doveadm user against its auth process) and to loftadm give the
same verdicts, fields and exit codes. Without root or Dovecot (or its sqlite driver)
only loftadm's own answers are checked."""
import imaplib
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

BUILDDIR = os.environ.get("LOFT_BUILDDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
SRCDIR = os.environ.get("LOFT_SRCDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
sys.path.insert(0, os.path.join(SRCDIR, "test"))
from loft_harness import MAIL_GID, MAIL_UID, Loft, TestCounter  # noqa: E402

LOFTADM = os.path.join(BUILDDIR, "loftadm")
DOVECOT_REPLY = "/usr/lib/dovecot/checkpassword-reply"
SQLITE_MODULE = "/usr/lib/dovecot/modules/libdriver_sqlite.so"

CHECKPASSWORD = r"""#!/bin/bash
# A checkpassword program in the qmail convention, with Dovecot's AUTHORIZED extension.
IFS= read -r -d '' user <&3
IFS= read -r -d '' pass <&3
case "$user" in
  alice) want=secret; uid=5000 ;;
  bob) want=hunter2; uid=5001 ;;
  broken) exit 111 ;;
  *) [ "$AUTHORIZED" = 1 ] && exit 3; exit 1 ;;
esac
if [ "$AUTHORIZED" = 1 ]; then
  export AUTHORIZED=2
elif [ "$pass" != "$want" ]; then
  exit 1
fi
export USER="$user" HOME="/srv/mail/$user" userdb_uid=$uid userdb_gid=5000
export userdb_quota_rule="*:storage=1G" seen_service="$SERVICE"
export EXTRA="userdb_uid userdb_gid userdb_quota_rule seen_service"
exec "$@"
"""

SQL_CONF = """# as in /etc/dovecot/dovecot-sql.conf.ext
driver = sqlite
connect = {db}
default_pass_scheme = SHA256

password_query = \\
  SELECT username, domain, password, nopassword, quota AS userdb_quota_rule \\
  FROM users WHERE username = '%n' AND domain = '%d'
user_query = \\
  SELECT home, uid, gid, quota AS quota_rule \\
  FROM users WHERE username = '%n' AND domain = '%d'
iterate_query = SELECT username, domain FROM users
"""

USERS = [
    # username, domain, password, home, uid, gid, quota, nopassword
    ("alice", "example.com", "{PLAIN}secret", "/srv/mail/alice", 5000, 5000, "*:storage=1G", None),
    # a bare SHA256 (base64) in default_pass_scheme: "hunter2"
    ("bob", "example.com", "9S+9MrKzuG/4jvbEkGKChfSCrxXdyylUH5S89Saj9sc=", "/srv/mail/bob", 5001, 5000, None, None),
    ("o'brien", "example.com", "{PLAIN}irish", "/srv/mail/ob", 5002, 5000, None, None),
    ("guest", "example.com", None, "/srv/mail/guest", 5003, 5000, None, "y"),
    ("nopass", "example.com", None, "/srv/mail/np", 5004, 5000, None, None),
]

AUTH_CASES = {
    "sql": [("alice@example.com", "secret"), ("alice@example.com", "Secret"), ("bob@example.com", "hunter2"),
            ("bob@example.com", "hunter3"), ("o'brien@example.com", "irish"), ("x' OR '1'='1@example.com", "x"),
            ("guest@example.com", "anything"), ("nopass@example.com", "x"), ("nobody@example.com", "secret"),
            ("alice", "secret")],
    "checkpassword": [("alice", "secret"), ("alice", "wrong"), ("bob", "hunter2"), ("nobody", "x"),
                      ("broken", "x")],
}
USER_CASES = {
    "sql": ["alice@example.com", "bob@example.com", "o'brien@example.com", "nobody@example.com", "alice"],
    "checkpassword": ["alice", "bob", "nobody", "broken"],
}


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def make_setup(top, driver):
    """A dovecot.conf for one driver, readable by Dovecot's unprivileged processes."""
    inst = os.path.join(top, driver)
    os.makedirs(os.path.join(inst, "run"))
    os.chmod(inst, 0o755)
    if driver == "sql":
        db = os.path.join(inst, "users.db")
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE users (username TEXT, domain TEXT, password TEXT, home TEXT, uid INTEGER,"
                         " gid INTEGER, quota TEXT, nopassword TEXT)")
            conn.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?)", USERS)
        os.chmod(db, 0o644)
        args = os.path.join(inst, "dovecot-sql.conf.ext")
        write(args, SQL_CONF.format(db=db))
    else:
        args = os.path.join(inst, "checkpassword.sh")
        write(args, CHECKPASSWORD, 0o755)
    conf = os.path.join(inst, "dovecot.conf")
    write(conf, f"""protocols = none
base_dir = {inst}/run
state_dir = {inst}
instance_name = loft-{driver}-{os.getpid()}
log_path = {inst}/log
ssl = no
auth_mechanisms = plain
# o'brien: allow every character, the quoting is what is tested
auth_username_chars =
mail_location = maildir:~/Maildir
passdb {{
  driver = {driver}
  args = {args}
}}
userdb {{
  driver = {driver}
  args = {args}
}}
""")
    return inst, conf


def run(args, env=None):
    done = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, env=env,
                          stdin=subprocess.DEVNULL)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def without_hidden_marker(output):
    """doveadm prints an empty extra field when the passdb gave only hidden fields
    (sql's username/domain columns); loftadm does not: compare without it."""
    return "".join(line for line in output.splitlines(keepends=True) if line != "  \n")


def loft_checks(t, driver, conf):
    """What loftadm must answer, whether or not Dovecot is here to compare."""
    code, out, err = run([LOFTADM, "-c", conf, "auth", "test", *AUTH_CASES[driver][0]])
    t.check(code == 0 and "auth succeeded" in out, f"{driver}: loftadm auth test good password: {code} {out} {err}")
    code, out, err = run([LOFTADM, "-c", conf, "auth", "test", *AUTH_CASES[driver][1]])
    t.check(code == 77 and "auth failed" in out, f"{driver}: loftadm auth test wrong password: {code} {out} {err}")
    code, out, err = run([LOFTADM, "-c", conf, "user", USER_CASES[driver][0]])
    t.check(code == 0 and "uid\t5000" in out and "quota_rule\t*:storage=1G" in out,
            f"{driver}: loftadm user: {code} {out} {err}")


def start_dovecot(conf, inst):
    # No pipes: the daemonized Dovecot would keep them open.
    code = subprocess.run(["dovecot", "-c", conf], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=60).returncode
    if code != 0:
        return f"exit {code}"
    for _ in range(100):
        if os.path.exists(os.path.join(inst, "run", "auth-client")):
            return None
        time.sleep(0.05)
    return "no auth-client socket"


def compare(t, driver, conf, inst):
    error = start_dovecot(conf, inst)
    if error:
        print(f"note: Dovecot did not start for {driver}: {error}", file=sys.stderr)
        return
    try:
        for user, password in AUTH_CASES[driver]:
            ref = run(["doveadm", "-c", conf, "auth", "test", user, password])
            ours = run([LOFTADM, "-c", conf, "auth", "test", user, password])
            ref = (ref[0], without_hidden_marker(ref[1]), ref[2])
            t.check(ref[:2] == ours[:2], f"{driver}: auth test {user} {password}:\n doveadm {ref}\n loftadm {ours}")
        for user in USER_CASES[driver]:
            ref = run(["doveadm", "-c", conf, "user", user])
            ours = run([LOFTADM, "-c", conf, "user", user])
            t.check(ref[:2] == ours[:2], f"{driver}: user {user}:\n doveadm {ref}\n loftadm {ours}")
        if driver == "sql":
            for mask in ("*", "*@example.com", "b*"):
                ref = run(["doveadm", "-c", conf, "user", mask])
                ours = run([LOFTADM, "-c", conf, "user", mask])
                t.check(ref[:2] == ours[:2], f"sql: user {mask}: doveadm {ref[:2]} loftadm {ours[:2]}")
            ref = run(["doveadm", "-c", conf, "user", "-f", "home", "bob@example.com"])
            ours = run([LOFTADM, "-c", conf, "user", "-f", "home", "bob@example.com"])
            t.check(ref[:2] == ours[:2], f"sql: user -f home: doveadm {ref[:2]} loftadm {ours[:2]}")
    finally:
        run(["doveadm", "-c", conf, "stop"])


def loftd_checks(t):
    """Through real loftd: IMAP logins with passdb sql + userdb prefetch + userdb sql, and
    the auth-userdb socket's USER and LIST answered from the sql userdb."""
    loft = Loft(users=("alice",))
    try:
        db = os.path.join(loft.dir, "users.db")
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE users (username TEXT, domain TEXT, password TEXT, home TEXT, uid INT, gid INT)")
            conn.execute("INSERT INTO users VALUES ('alice', 'example.com', '{PLAIN}sqlpw', ?, ?, ?)",
                         (loft.homes["alice"], MAIL_UID, MAIL_GID))
        os.chmod(db, 0o644)
        sql_conf = os.path.join(loft.dir, "sql.conf")
        write(sql_conf, f"driver = sqlite\nconnect = {db}\n"
                        "password_query = SELECT username, domain, password, home AS userdb_home,"
                        " uid AS userdb_uid, gid AS userdb_gid FROM users WHERE username = '%n' AND domain = '%d'\n"
                        "user_query = SELECT home, uid, gid FROM users WHERE username = '%n' AND domain = '%d'\n")
        with open(loft.config_path) as f:
            conf = f.read()
        conf = re.sub(r"passdb \{.*?\}\nuserdb \{.*?\}",
                      f"passdb {{\n  driver = sql\n  args = {sql_conf}\n}}\nuserdb {{\n  driver = prefetch\n}}\n"
                      f"userdb {{\n  driver = sql\n  args = {sql_conf}\n}}", conf, flags=re.S)
        write(loft.config_path, conf)
        loft.start()
        imap = imaplib.IMAP4("127.0.0.1", loft.imap_port)
        status, _ = imap.login("alice@example.com", "sqlpw")
        t.check(status == "OK" and imap.select("INBOX")[0] == "OK", "IMAP login with the sql password")
        imap.logout()
        imap = imaplib.IMAP4("127.0.0.1", loft.imap_port)
        try:
            imap.login("alice@example.com", "wrong")
            t.check(False, "IMAP login with a wrong password succeeded")
        except imaplib.IMAP4.error:
            t.check(True, "")
        imap.logout()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(os.path.join(loft.dir, "run", "auth-userdb"))
            stream = sock.makefile("rb")
            sock.sendall(b"VERSION\t1\t0\nUSER\t1\talice@example.com\tservice=lda\nLIST\t2\tservice=doveadm\n")
            lines = [stream.readline().decode().rstrip("\n") for _ in range(5)]
        t.check(lines[2].startswith("USER\t1\talice@example.com\t") and f"uid={MAIL_UID}" in lines[2],
                f"auth-userdb USER from sql: {lines}")
        t.check(lines[3:] == ["LIST\t2\talice@example.com", "DONE\t2\t"], f"auth-userdb LIST from sql: {lines}")
    finally:
        loft.cleanup()


def main():
    t = TestCounter("auth_sql_checkpassword")
    loftd_checks(t)
    top = tempfile.mkdtemp(prefix="loft-authdb-")
    os.chmod(top, 0o755)
    reference = (os.geteuid() == 0 and shutil.which("doveadm") and shutil.which("dovecot"))
    try:
        for driver in ("sql", "checkpassword"):
            inst, conf = make_setup(top, driver)
            loft_checks(t, driver, conf)
            if not reference:
                continue
            if driver == "sql" and not os.path.exists(SQLITE_MODULE):
                print("Dovecot's sqlite driver (dovecot-sqlite) missing: sql comparison left out")
                continue
            if driver == "checkpassword" and not os.path.exists(DOVECOT_REPLY):
                continue
            compare(t, driver, conf, inst)
        if not reference:
            print("not root or no Dovecot: comparison with doveadm left out")
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
