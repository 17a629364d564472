#!/usr/bin/env python3
"""passdb/userdb sql (sqlite) and checkpassword: the same dovecot.conf, the same
dovecot-sql.conf.ext and the same checkpassword script given to real Dovecot
(doveadm auth test / doveadm user against its auth process) and to loftadm give the
same verdicts, fields and exit codes. Without root or Dovecot (or its sqlite driver)
only loftadm's own answers are checked."""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

BUILDDIR = os.environ.get("LOFT_BUILDDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
SRCDIR = os.environ.get("LOFT_SRCDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
sys.path.insert(0, os.path.join(SRCDIR, "test"))
from loft_harness import TestCounter  # noqa: E402

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


def main():
    t = TestCounter("auth_sql_checkpassword")
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
