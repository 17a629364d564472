#!/usr/bin/env python3
"""passdb pam through a real PAM stack without touching system users: loftadm auth test
runs under Debian's pam_wrapper (LD_PRELOAD=libpam_wrapper.so, PAM_WRAPPER=1) with
pam_matrix as the password database, for good and bad passwords, unknown users, the
service name ("*" = the request's service), account checks, session=yes and
max_requests. When Dovecot is installed, real doveadm auth test gives the same
verdicts through the same PAM stack (import_environment passes the wrapper on).
Skips (77) when pam_wrapper is missing."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77
BUILDDIR = os.environ.get("LOFT_BUILDDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
SRCDIR = os.environ.get("LOFT_SRCDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
sys.path.insert(0, os.path.join(SRCDIR, "test"))
from loft_harness import TestCounter  # noqa: E402

LOFTADM = os.path.join(BUILDDIR, "loftadm")
LIBDIRS = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"]
SECURITY_DIRS = [d + "/security" for d in LIBDIRS] + ["/lib/x86_64-linux-gnu/security", "/lib/security"]


def find(candidates):
    for path in candidates:
        if os.path.exists(path):
            return path
    return None


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class PamSetup:
    """A private PAM configuration directory and pam_matrix password file."""

    def __init__(self, wrapper, matrix, permit, deny):
        self.dir = tempfile.mkdtemp(prefix="loft-pam-")
        os.chmod(self.dir, 0o755)
        self.services = os.path.join(self.dir, "pam.d")
        os.mkdir(self.services)
        passdb = os.path.join(self.dir, "passdb")
        # username:password:service allowed by the account check
        write(passdb, "alice:secret:dovecot\nbob:hunter2:dovecot\ncarol:pw:imap\n"
                      "dave:pw:otherservice\nerin:pw:denysession\n")
        os.chmod(passdb, 0o644)
        stack = f"auth required {matrix} passdb={passdb}\naccount required {matrix} passdb={passdb}\n"
        write(os.path.join(self.services, "dovecot"), stack + f"session required {permit}\n")
        write(os.path.join(self.services, "imap"), stack + f"session required {permit}\n")
        # A session stack that refuses: only session=yes reaches it.
        write(os.path.join(self.services, "denysession"), stack + f"session required {deny}\n")
        self.env = dict(os.environ, LD_PRELOAD=wrapper, PAM_WRAPPER="1", PAM_WRAPPER_SERVICE_DIR=self.services)

    def config(self, args, name):
        path = os.path.join(self.dir, name)
        write(path, f"""auth_mechanisms = plain
passdb {{
  driver = pam
  args = {args}
}}
userdb {{
  driver = static
  args = uid=5000 gid=5000 home=/tmp/%u
}}
""")
        os.chmod(path, 0o644)
        return path

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def auth_test(tool, conf, env, user, password, service=None):
    args = [tool, "-c", conf, "auth", "test"]
    if service:
        args += ["-x", f"service={service}"]
    done = subprocess.run(args + [user, password], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


# (args, user, password, service, expected exit code of auth test)
CASES = [
    ("dovecot", "alice", "secret", None, 0),
    ("dovecot", "alice", "wrong", None, 77),
    ("dovecot", "bob", "hunter2", None, 0),
    ("dovecot", "nobody", "secret", None, 77),
    # the account stack refuses dave for this service
    ("dovecot", "dave", "pw", None, 77),
    ("*", "carol", "pw", "imap", 0),
    ("*", "carol", "wrong", "imap", 77),
    ("*", "alice", "secret", "imap", 77),
    ("session=yes dovecot", "alice", "secret", None, 0),
    ("session=yes denysession", "erin", "pw", None, 77),
    ("denysession", "erin", "pw", None, 0),
    ("max_requests=1 dovecot", "alice", "secret", None, 0),
    ("max_requests=1 session=yes failure_show_msg=yes dovecot", "bob", "wrong", None, 77),
]


def loft_checks(t, pam):
    for number, (args, user, password, service, expected) in enumerate(CASES):
        conf = pam.config(args, f"loft-{number}.conf")
        code, out, err = auth_test(LOFTADM, conf, pam.env, user, password, service)
        t.check(code == expected, f"loftadm [{args}] {user}/{password}: exit {code}, expected {expected}: {out} {err}")
        verdict = "succeeded" if expected == 0 else "failed"
        t.check(f"auth {verdict}" in out, f"loftadm [{args}] {user}: output {out!r}")
    # max_requests is checked as an argument: nonsense is refused at startup.
    conf = pam.config("max_requests=0 dovecot", "loft-bad.conf")
    code, _, err = auth_test(LOFTADM, conf, pam.env, "alice", "secret")
    t.check(code not in (0, 77), f"max_requests=0 accepted: exit {code} {err}")
    # Without the wrapper the system PAM has no user alice: never a success.
    conf = pam.config("dovecot", "loft-nowrap.conf")
    env = {k: v for k, v in pam.env.items() if not k.startswith(("LD_PRELOAD", "PAM_WRAPPER"))}
    code, out, _ = auth_test(LOFTADM, conf, env, "alice", "secret")
    t.check(code != 0, f"alice authenticated by the system PAM stack: {out}")


def dovecot_checks(t, pam):
    """The same cases through real Dovecot's auth process under the same wrapper."""
    doveadm = shutil.which("doveadm")
    dovecot = shutil.which("dovecot")
    if not (doveadm and dovecot and os.geteuid() == 0):
        print("no Dovecot or not root: differential PAM checks left out")
        return
    for number, (args, user, password, service, expected) in enumerate(CASES):
        inst = os.path.join(pam.dir, f"dovecot-{number}")
        os.makedirs(os.path.join(inst, "run"))
        conf = os.path.join(inst, "dovecot.conf")
        write(conf, f"""protocols = none
base_dir = {inst}/run
state_dir = {inst}
instance_name = loft-pam-{os.getpid()}-{number}
log_path = {inst}/log
ssl = no
auth_mechanisms = plain
import_environment = TZ LD_PRELOAD PAM_WRAPPER PAM_WRAPPER_SERVICE_DIR
passdb {{
  driver = pam
  args = {args}
}}
userdb {{
  driver = static
  args = uid=5000 gid=5000 home=/tmp/%u
}}
""")
        started = subprocess.run([dovecot, "-c", conf], env=pam.env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        if started.returncode != 0:
            print(f"note: Dovecot did not start for [{args}], differential checks left out")
            return
        try:
            for _ in range(50):
                if os.path.exists(os.path.join(inst, "run", "auth-client")):
                    break
                time.sleep(0.1)
            ref = auth_test(doveadm, conf, None, user, password, service)
            t.check(ref[0] == expected, f"doveadm [{args}] {user}/{password}: exit {ref[0]}, expected {expected}")
        finally:
            subprocess.run([doveadm, "-c", conf, "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=30)


def main():
    wrapper = find([d + "/libpam_wrapper.so" for d in LIBDIRS])
    matrix = find([d + "/pam_wrapper/pam_matrix.so" for d in LIBDIRS])
    permit = find([d + "/pam_permit.so" for d in SECURITY_DIRS])
    deny = find([d + "/pam_deny.so" for d in SECURITY_DIRS])
    if not (wrapper and matrix and permit and deny):
        print("pam_wrapper/pam_matrix (Debian: libpam-wrapper) not installed: skipping")
        return SKIP
    t = TestCounter("auth_pam")
    pam = PamSetup(wrapper, matrix, permit, deny)
    try:
        loft_checks(t, pam)
        dovecot_checks(t, pam)
    finally:
        pam.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
