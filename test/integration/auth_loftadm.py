#!/usr/bin/env python3
"""loftadm pw, auth test and user against doveadm: the same verdicts for hashes of
every scheme both make, and the same output for users of a passwd-file config.
Skips (77) without doveadm; the doveadm user/auth test half needs root (it runs a
private Dovecot through ref-dovecot.sh) and is left out otherwise."""
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
BUILDDIR = os.environ.get("LOFT_BUILDDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
SRCDIR = os.environ.get("LOFT_SRCDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
sys.path.insert(0, os.path.join(SRCDIR, "test"))
from loft_harness import TestCounter  # noqa: E402

LOFTADM = os.path.join(BUILDDIR, "loftadm")
REF_SCRIPT = os.environ.get("REF_DOVECOT_SH", "/work/shared/tools/ref-dovecot.sh")
# Schemes both can generate; the others are covered by verifying doveadm's hashes.
SCHEMES = ["PLAIN", "CLEAR", "CRYPT", "MD5-CRYPT", "SHA256-CRYPT", "SHA512-CRYPT", "BLF-CRYPT",
           "SHA", "SHA1", "SSHA", "SHA256", "SSHA256", "SHA512", "SSHA512", "MD5", "SMD5",
           "PLAIN-MD5", "LDAP-MD5", "PLAIN-MD4", "CRAM-MD5", "HMAC-MD5", "DIGEST-MD5", "PBKDF2",
           "SCRAM-SHA-1", "SCRAM-SHA-256", "ARGON2I", "ARGON2ID"]


def run(args):
    done = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def pw_checks(t, doveadm):
    for scheme in SCHEMES:
        user = ["-u", "alice@example.com"] if scheme == "DIGEST-MD5" else []
        code, theirs, err = run([doveadm, "pw", "-s", scheme, "-p", "Secret1!"] + user)
        if code != 0:
            print(f"note: doveadm cannot make {scheme}: {err.strip()}", file=sys.stderr)
            continue
        theirs = theirs.strip()
        for password in ("Secret1!", "secret1!"):
            verdicts = [run([tool, "pw", "-t", theirs, "-p", password] + user)
                        for tool in (doveadm, LOFTADM)]
            t.check(verdicts[0][0] == verdicts[1][0] and verdicts[0][1] == verdicts[1][1],
                    f"pw -t {theirs} -p {password}: doveadm {verdicts[0]} loftadm {verdicts[1]}")
        code, ours, err = run([LOFTADM, "pw", "-s", scheme, "-p", "Secret1!"] + user)
        t.check(code == 0 and ours.startswith("{" + scheme + "}"), f"loftadm pw -s {scheme}: {code} {ours} {err}")
        if code == 0:
            code, out, err = run([doveadm, "pw", "-t", ours.strip(), "-p", "Secret1!"] + user)
            t.check(code == 0 and out.strip().endswith("(verified)"), f"doveadm verifies loftadm's {ours.strip()}: {err}")
    code, out, _ = run([LOFTADM, "pw", "-s", "SHA256", "-p", "x", "-V"])
    t.check(code == 0 and out.endswith(" (verified)\n"), f"pw -V: {out}")
    for args in (["pw", "-t", "nobrace", "-p", "x"], ["pw", "-s", "NOSUCH", "-p", "x"]):
        ref = run([doveadm] + args)
        ours = run([LOFTADM] + args)
        t.check(ref[0] == ours[0], f"{' '.join(args)}: exit {ref[0]} vs {ours[0]}")
    code, out, _ = run([LOFTADM, "pw", "-l"])
    listed = out.split()
    t.check(code == 0 and "SHA512-CRYPT" in listed and "ARGON2ID" in listed, f"pw -l: {out}")


def user_checks(t, doveadm):
    inst = tempfile.mkdtemp(prefix="loft-ref-authd-")
    os.chmod(inst, 0o755)  # Dovecot's unprivileged auth process reads the passwd-file in it
    data = os.path.join(inst, "data")
    env = dict(os.environ, REF_INST=os.path.join(inst, "ref"))
    env["REF_PORT_BASE"] = str(30000 + os.getpid() % 20000)
    try:
        code, out, err = run_env([REF_SCRIPT, "start", data], env)
        if code != 0:
            print(f"note: reference Dovecot did not start, user checks skipped: {err}", file=sys.stderr)
            return
        conf = os.path.join(env["REF_INST"], "dovecot.conf")
        for user in ("alice", "bob", "carol", "ALICE", "nobody"):
            ref = run([doveadm, "-c", conf, "user", user])
            ours = run([LOFTADM, "-c", conf, "user", user])
            t.check(ref[:2] == ours[:2], f"user {user}: doveadm {ref[:2]} loftadm {ours[:2]}")
        ref = run([doveadm, "-c", conf, "user", "-f", "home", "bob"])
        ours = run([LOFTADM, "-c", conf, "user", "-f", "home", "bob"])
        t.check(ref[:2] == ours[:2], f"user -f home bob: doveadm {ref[:2]} loftadm {ours[:2]}")
        for user, password in (("alice", "secret"), ("bob", "secret"), ("bob", "wrong"), ("nobody", "secret")):
            ref = run([doveadm, "-c", conf, "auth", "test", user, password])
            ours = run([LOFTADM, "-c", conf, "auth", "test", user, password])
            t.check(ref[:2] == ours[:2], f"auth test {user} {password}: doveadm {ref[:2]} loftadm {ours[:2]}")
    finally:
        run_env([REF_SCRIPT, "stop", data], env)
        shutil.rmtree(inst, ignore_errors=True)


def run_env(args, env):
    # Files, not pipes: the daemonized Dovecot would keep a pipe open and hang the read.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        done = subprocess.run(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL, timeout=120, env=env)
        out.seek(0)
        err.seek(0)
        return done.returncode, out.read().decode(), err.read().decode()


def main():
    doveadm = shutil.which("doveadm")
    if not doveadm:
        print("doveadm not installed: skipping")
        return SKIP
    t = TestCounter("auth_loftadm")
    pw_checks(t, doveadm)
    if os.geteuid() == 0 and os.path.exists(REF_SCRIPT):
        user_checks(t, doveadm)
    else:
        print("not root or no ref-dovecot.sh: doveadm user/auth test comparison left out")
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
