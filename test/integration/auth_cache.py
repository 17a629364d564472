#!/usr/bin/env python3
"""The auth cache end to end (auth_cache_size/ttl/negative_ttl) with passdb/userdb sql
(sqlite, which Dovecot caches by the query's % variables), step by step on Loft and on
real Dovecot with the same config, comparing every verdict: after a password change the
cached password still logs in (and the new one too: a mismatch with a cached entry asks
the database again), an unknown user stays unknown after being added (negative cache),
and `doveadm auth cache flush` over the auth-master socket makes the database win.
auth_debug shows the cache hits and misses. Each login comes from its own loopback
address so the auth penalty stays out of the way. Without root/Dovecot/its sqlite
driver, only Loft's verdicts are checked against the expected list."""
import os
import shutil
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("LOFT_SRCDIR", os.path.join(os.path.dirname(__file__), "../..")),
                                "test"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
from loft_harness import MAIL_GID, MAIL_UID, Dovecot, Loft, TestCounter  # noqa: E402
from auth_imap_client import ImapClient  # noqa: E402

SQLITE_MODULE = "/usr/lib/dovecot/modules/libdriver_sqlite.so"

SQL_CONF = """driver = sqlite
connect = {db}
default_pass_scheme = PLAIN
password_query = SELECT username AS user, password FROM users WHERE username = '%u'
user_query = SELECT home, {uid} AS uid, {gid} AS gid FROM users WHERE username = '%u'
"""

AUTH_CONFIG = """disable_plaintext_auth = no
auth_cache_size = 1M
auth_cache_ttl = 1 hour
auth_cache_negative_ttl = 1 hour
auth_debug = yes
passdb {{
  driver = sql
  args = {sql_conf}
}}
userdb {{
  driver = sql
  args = {sql_conf}
}}
"""
# Dovecot has base_dir/auth-master by default; Loft serves only the listeners configured.
MASTER_LISTENER = """service auth {
  unix_listener auth-master {
    mode = 0600
  }
}
"""

# (what, action) in order; an action is ("login", user, password) or ("sql", statement)
# or ("flush",). Logins expect True (OK) or False (NO).
STEPS = [
    ("first login fills the cache", ("login", "alice", "old"), True),
    ("password changed in the database", ("sql", "UPDATE users SET password = 'new' WHERE username = 'alice'"), None),
    ("the cached password still works", ("login", "alice", "old"), True),
    ("unknown user", ("login", "carol", "pw"), False),
    ("user added", ("sql", "INSERT INTO users VALUES ('carol', 'pw', '{home}/carol')"), None),
    ("negative cache: still unknown", ("login", "carol", "pw"), False),
    ("doveadm auth cache flush", ("flush",), None),
    ("after the flush the new user exists", ("login", "carol", "pw"), True),
    ("after the flush the old password is refused", ("login", "alice", "old"), False),
    ("and the new one works", ("login", "alice", "new"), True),
]


def make_db(path, home):
    if os.path.exists(path):
        os.unlink(path)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (username TEXT PRIMARY KEY, password TEXT, home TEXT)")
    db.execute("INSERT INTO users VALUES ('alice', 'old', ?)", (home + "/alice",))
    db.commit()
    db.close()
    os.chmod(path, 0o644)


def login(port, source, user, password):
    client = ImapClient(port, source)
    reply = client.command(f"LOGIN {user} {password}")[-1]
    client.close()
    return " OK " in reply


def run_steps(port, db_path, home, master_socket, config_path, first_source):
    verdicts = []
    source = first_source
    for what, action, _ in STEPS:
        if action[0] == "login":
            source += 1
            verdicts.append(login(port, f"127.0.1.{source}", action[1], action[2]))
        elif action[0] == "sql":
            db = sqlite3.connect(db_path)
            db.execute(action[1].format(home=home))
            db.commit()
            db.close()
            verdicts.append(None)
        else:
            done = subprocess.run(["doveadm", "-c", config_path, "auth", "cache", "flush", "-a", master_socket],
                                  capture_output=True, text=True, timeout=30)
            verdicts.append(done.returncode == 0 or done.stderr)
    return verdicts


def main():
    loft = Loft(users=())
    home = os.path.join(loft.dir, "home")
    for user in ("alice", "carol"):
        os.makedirs(os.path.join(home, user), exist_ok=True)
        if os.geteuid() == 0:
            os.chown(os.path.join(home, user), MAIL_UID, MAIL_GID)
    db_path = os.path.join(loft.dir, "users.db")
    sql_conf = os.path.join(loft.dir, "dovecot-sql.conf.ext")
    with open(sql_conf, "w") as f:
        f.write(SQL_CONF.format(db=db_path, uid=MAIL_UID, gid=MAIL_GID))
    loft_master = os.path.join(loft.dir, "run", "auth-master")
    with open(loft.config_path, "a") as f:
        f.write(AUTH_CONFIG.format(sql_conf=sql_conf) + MASTER_LISTENER)
    t = TestCounter("auth_cache")
    have_doveadm = shutil.which("doveadm") is not None
    if not have_doveadm:
        print("doveadm not installed: skipped")
        return 77
    make_db(db_path, home)
    loft.start()
    try:
        ours = run_steps(loft.imap_port, db_path, home, loft_master, loft.config_path, 0)
    finally:
        loft.stop()
    for (what, _, expected), verdict in zip(STEPS, ours):
        if expected is not None:
            t.check(verdict == expected, f"Loft: {what}: {verdict}")
        elif verdict is not None:
            t.check(verdict is True, f"Loft: {what}: {verdict}")
    log = loft.log()
    t.check("sql(alice,127.0.1.1,<" in log and "): cache miss" in log, "auth_debug: cache miss line")
    t.check("): cache hit: <hidden>" in log, "auth_debug: cache hit line hides the password")
    t.check("sql(carol,127.0.1.3,<" in log and "): cache hit: \n" in log.replace("\r", ""),
            "auth_debug: negative cache hit line")
    t.check("userdb cache miss" in log and "Performing passdb lookup" in log and "Finished userdb lookup" in log,
            "auth_debug: passdb/userdb lookup lines")

    if Dovecot.available() and os.path.exists(SQLITE_MODULE):
        make_db(db_path, home)
        dovecot = Dovecot(loft)
        dovecot_master = os.path.join(dovecot.dir, "run", "auth-master")
        with open(dovecot.config_path, "a") as f:
            f.write(AUTH_CONFIG.format(sql_conf=sql_conf))
        dovecot.start()
        try:
            theirs = run_steps(dovecot.imap_port, db_path, home, dovecot_master, dovecot.config_path, 100)
        finally:
            dovecot.stop()
        t.check(theirs == ours, f"same verdicts as Dovecot: Loft {ours}, Dovecot {theirs}")
    else:
        print("no root, Dovecot or its sqlite driver: Dovecot comparison left out")
    if t.failed:
        print(log[-5000:])
    loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
