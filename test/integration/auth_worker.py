#!/usr/bin/env python3
"""loft-auth-worker through real loftd: blocking passdbs (checkpassword, pam, shadow) run
in worker processes that loftd starts for loft-auth. Checks that a slow checkpassword
look-up (3 s) does not hold up a concurrent passwd-file login, that kill -9 of the worker
in the middle of a look-up fails only that login (a tempfail) and the next one works,
that the worker runs as root only when pam/shadow is configured (its /proc uids against
loft-auth's), and that PAM max_requests makes loftd start a fresh worker (pid changes).
PAM goes through Debian's pam_wrapper + pam_matrix (skipped without them); the uid and
shadow checks need root."""
import imaplib
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

SRCDIR = os.environ.get("LOFT_SRCDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
BUILDDIR = os.environ.get("LOFT_BUILDDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
sys.path.insert(0, os.path.join(SRCDIR, "test"))
from loft_harness import MAIL_GID, MAIL_UID, Loft, TestCounter  # noqa: E402

LIBDIRS = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"]
ROOT = os.geteuid() == 0

CHECKPASSWORD = """#!/bin/sh
# user NUL password NUL on fd 3; "slowpoke" takes 3 seconds.
user=$(tr '\\0' '\\n' <&3 | { read -r u; read -r p; echo "$u:$p"; })
name=${user%%:*}
pass=${user#*:}
[ "$name" = slowpoke ] && sleep 3
[ "$pass" = secret ] || exit 1
USER=$name
export USER
exec "$@"
"""


def find(candidates):
    for path in candidates:
        if os.path.exists(path):
            return path
    return None


def login(loft, user, password):
    """(ok, text, seconds) of an IMAP LOGIN."""
    started = time.monotonic()
    try:
        imap = imaplib.IMAP4("127.0.0.1", loft.imap_port, timeout=30)
    except OSError as error:
        return False, str(error), time.monotonic() - started
    try:
        imap.login(user, password)
        imap.logout()
        return True, "OK", time.monotonic() - started
    except imaplib.IMAP4.error as error:
        return False, str(error), time.monotonic() - started
    finally:
        try:
            imap.shutdown()
        except OSError:
            pass


def in_background(loft, user, password):
    result = {}
    thread = threading.Thread(target=lambda: result.update(answer=login(loft, user, password)))
    thread.start()
    return thread, result


def processes(loft, name):
    """pids of loftd's children whose command starts with name."""
    return sorted(pid for pid, comm in loft.children().items() if comm.startswith(name))


def uids(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    return []


def userdb_static(loft):
    """The userdb for users that only the blocking passdbs know, with homes made here."""
    for user in ("slowpoke", "quick", "carl", "root"):
        home = os.path.join(loft.dir, "home", user)
        os.makedirs(home, exist_ok=True)
        if ROOT:
            os.chown(home, MAIL_UID, MAIL_GID)
    return f"""userdb {{
  driver = static
  args = uid={MAIL_UID} gid={MAIL_GID} home={loft.dir}/home/%u
}}
"""


def checkpassword_checks(t):
    failed_before = len(t.failed)
    loft = Loft()
    script = os.path.join(loft.dir, "checkpassword.sh")
    with open(script, "w") as f:
        f.write(CHECKPASSWORD)
    os.chmod(script, 0o755)
    with open(loft.config_path, "a") as f:
        f.write(f"""passdb {{
  driver = checkpassword
  args = {script}
}}
{userdb_static(loft)}
service auth-worker {{
  process_limit = 1
}}
""")
    try:
        loft.start()
        t.check(processes(loft, "loft-auth-worke") == [], "a worker started before any blocking look-up")
        # A passwd-file login while the only worker runs a 3 s checkpassword look-up.
        slow, slow_result = in_background(loft, "slowpoke", "secret")
        time.sleep(0.5)
        ok, text, quick_secs = login(loft, "alice", "secret")
        slow.join(30)
        slow_ok, slow_text, slow_secs = slow_result.get("answer", (False, "no answer", 0))
        t.check(ok and quick_secs < 1.0, f"passwd-file login during a slow checkpassword: {ok} {text} {quick_secs:.2f}s")
        t.check(slow_ok and slow_secs >= 2.9, f"slow checkpassword login: {slow_ok} {slow_text} {slow_secs:.2f}s")
        print(f"passwd-file login took {quick_secs:.3f}s while checkpassword took {slow_secs:.2f}s")

        workers = processes(loft, "loft-auth-worke")
        auth = processes(loft, "loft-auth")
        auth = [pid for pid in auth if pid not in workers]
        t.check(len(workers) == 1, f"one auth worker (process_limit = 1): {workers}")
        if ROOT and workers and auth:
            t.check(uids(workers[0])[0] != 0 and uids(workers[0]) == uids(auth[0]),
                    f"checkpassword worker runs unprivileged like loft-auth: {uids(workers[0])} vs {uids(auth[0])}")

        # kill -9 of the worker in the middle of a look-up: that login fails temporarily.
        slow, slow_result = in_background(loft, "slowpoke", "secret")
        time.sleep(0.7)
        victims = processes(loft, "loft-auth-worke")
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        slow.join(30)
        slow_ok, slow_text, _ = slow_result.get("answer", (False, "no answer", 0))
        t.check(victims and not slow_ok and "UNAVAILABLE" in slow_text,
                f"login whose worker was killed: {slow_ok} {slow_text}")
        ok, text, _ = login(loft, "quick", "secret")
        t.check(ok, f"checkpassword login after the kill: {text}")
        fresh = processes(loft, "loft-auth-worke")
        t.check(fresh and not set(fresh) & set(victims), f"a new worker after the kill: {victims} -> {fresh}")
        ok, text, _ = login(loft, "quick", "wrong")
        t.check(not ok and "AUTHENTICATIONFAILED" in text, f"wrong password through the worker: {text}")
    finally:
        loft.stop()
        log = loft.log()
        loft.cleanup()
    t.check("service(auth-worker)" in log and "killed with signal 9" in log,
            "loftd logs the killed worker")
    show_log_if_failed(t, failed_before, log)


def pam_checks(t):
    wrapper = find([d + "/libpam_wrapper.so" for d in LIBDIRS])
    matrix = find([d + "/pam_wrapper/pam_matrix.so" for d in LIBDIRS])
    if not (wrapper and matrix):
        print("pam_wrapper/pam_matrix (Debian: libpam-wrapper) not installed: PAM checks left out")
        return
    failed_before = len(t.failed)
    pamdir = tempfile.mkdtemp(prefix="loft-pam-")
    os.chmod(pamdir, 0o755)
    services = os.path.join(pamdir, "pam.d")
    os.mkdir(services)
    matrix_db = os.path.join(pamdir, "passdb")
    with open(matrix_db, "w") as f:
        f.write("carl:pw:dovecot\n")
    os.chmod(matrix_db, 0o644)
    with open(os.path.join(services, "dovecot"), "w") as f:
        f.write(f"auth required {matrix} passdb={matrix_db}\naccount required {matrix} passdb={matrix_db}\n")
    saved = dict(os.environ)
    os.environ.update(LD_PRELOAD=wrapper, PAM_WRAPPER="1", PAM_WRAPPER_SERVICE_DIR=services)
    loft = Loft()
    with open(loft.config_path, "a") as f:
        f.write(f"""import_environment = TZ LD_PRELOAD PAM_WRAPPER PAM_WRAPPER_SERVICE_DIR
passdb {{
  driver = pam
  args = max_requests=2 dovecot
}}
{userdb_static(loft)}
""")
    try:
        loft.start()
        ok, text, _ = login(loft, "carl", "pw")
        t.check(ok, f"PAM login through the worker: {text}")
        first = processes(loft, "loft-auth-worke")
        auth = [pid for pid in processes(loft, "loft-auth") if pid not in first]
        t.check(len(first) == 1, f"one worker after one PAM login: {first}")
        if ROOT and first and auth:
            t.check(uids(first[0]) == [0, 0, 0, 0], f"the pam worker runs as root: {uids(first[0])}")
            t.check(uids(auth[0])[0] != 0, f"loft-auth stays unprivileged: {uids(auth[0])}")
        ok, text, _ = login(loft, "carl", "wrong")
        t.check(not ok and "AUTHENTICATIONFAILED" in text, f"PAM wrong password: {text}")
        # That was the worker's 2nd PAM request (max_requests=2): it exits, a new one follows.
        for _ in range(50):
            if not set(processes(loft, "loft-auth-worke")) & set(first):
                break
            time.sleep(0.05)
        ok, text, _ = login(loft, "carl", "pw")
        second = processes(loft, "loft-auth-worke")
        t.check(ok, f"PAM login after max_requests: {text}")
        t.check(len(second) == 1 and second != first, f"max_requests=2 restarted the worker: {first} -> {second}")
        ok, text, _ = login(loft, "alice", "secret")
        t.check(ok, f"passwd-file login beside pam: {text}")
    finally:
        loft.stop()
        os.environ.clear()
        os.environ.update(saved)
        log = loft.log()
        loft.cleanup()
        shutil.rmtree(pamdir, ignore_errors=True)
    t.check("killed with signal" not in log, "no worker was killed: max_requests is a clean exit")
    show_log_if_failed(t, failed_before, log)


def shadow_checks(t):
    """passdb shadow reads /etc/shadow: only the root worker can. A wrong password for
    root is then a plain failure, never the tempfail of an unreadable shadow file."""
    if not ROOT:
        print("not root: shadow checks left out")
        return
    failed_before = len(t.failed)
    loft = Loft()
    with open(loft.config_path, "a") as f:
        f.write(f"""passdb {{
  driver = shadow
}}
{userdb_static(loft)}
""")
    try:
        loft.start()
        ok, text, _ = login(loft, "root", "certainly-not-the-root-password")
        t.check(not ok and "AUTHENTICATIONFAILED" in text, f"shadow, wrong root password: {text}")
        workers = processes(loft, "loft-auth-worke")
        t.check(len(workers) == 1 and uids(workers[0])[0] == 0, f"the shadow worker runs as root: {workers}")
    finally:
        loft.stop()
        log = loft.log()
        loft.cleanup()
    show_log_if_failed(t, failed_before, log)


def show_log_if_failed(t, failed_before, log):
    """The loftd log of a part that failed, to see why."""
    if len(t.failed) > failed_before:
        print(log[-4000:])


def main():
    t = TestCounter("auth_worker")
    checkpassword_checks(t)
    pam_checks(t)
    shadow_checks(t)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
