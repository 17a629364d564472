#!/usr/bin/env python3
# Differential test: loftconf against Debian's doveconf on the stock /etc/dovecot tree
# and on the corpus in test/interop/config/. For good configs, -n, -N and -a output must
# be byte-identical apart from the version banner lines; for broken ones both must fail
# and loftconf's first error must name the same file and line with the same message
# (for doveconf's consistency checks, which name no line, loftconf adds the line).
# snippets.txt holds one-line edge cases of the syntax, checked the same way.
# Skips (77) when doveconf is not installed.
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

SRCDIR = os.environ.get("LOFT_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILDDIR = os.environ.get("LOFT_BUILDDIR", ".")
LOFTCONF = os.path.join(BUILDDIR, "loftconf")
CORPUS = os.path.join(SRCDIR, "test", "interop", "config")
BANNER = re.compile(r"^# (\d+\.\d+[^:]*|Loft [^:]*|Pigeonhole version .*)(: .*)?$")
ERROR = re.compile(r"Error in configuration file (\S+?)(?: line (\d+))?: (.*)$")


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def strip_banner(text):
    return "".join(l for l in text.splitlines(True) if not BANNER.match(l.rstrip("\n")))


def warnings(stderr):
    out = []
    for line in stderr.splitlines():
        m = re.match(r"^(doveconf|loftconf): Warning: (.*)$", line)
        if m:
            out.append(m.group(2).replace("doveconf -Pn", "loftconf -Pn"))
    return out


def first_error(stderr):
    for line in stderr.splitlines():
        m = ERROR.search(line)
        if m:
            return m.group(1), m.group(2), m.group(3)
    return None


DUMP_MODES = (
    ["-n"], ["-N"], ["-a"], ["-n", "-P"],
    ["-n", "-f", "protocol=imap"], ["-N", "-f", "protocol=pop3"], ["-a", "-f", "protocol=lmtp"],
    ["-n", "-f", "remote=10.1.2.3"], ["-n", "-f", "local=192.168.1.10"], ["-n", "-f", "lname=mail.example.com"],
)
LOOKUPS = (
    ["-h", "mail_location"], ["mail_plugins", "protocols"], ["service/imap-login"], ["namespace"],
    ["plugin"], ["-h", "ssl_key"], ["-n", "passdb"], ["-f", "protocol=imap", "mail_plugins"], ["service"],
    ["nosuchsetting"],
)


def compare_good(path, failures):
    for opts in LOOKUPS:
        drc, dout, derr = run(["doveconf", "-c", path, *opts])
        lrc, lout, lerr = run([LOFTCONF, "-c", path, *opts])
        if (drc, dout) != (lrc, lout):
            failures.append(f"{path}: doveconf {' '.join(opts)} differs:\n  doveconf: {dout!r}\n  loftconf: {lout!r}")
    # -x reads <file values: where a file is missing both must fail the same way.
    drc, dout, derr = run(["doveconf", "-x", "-n", "-P", "-c", path])
    lrc, lout, lerr = run([LOFTCONF, "-x", "-n", "-P", "-c", path])
    if drc != 0:
        if lrc == 0 or first_error(derr) != first_error(lerr):
            failures.append(f"{path}: -x errors differ\n  doveconf: {first_error(derr)}\n  loftconf: {first_error(lerr)}")
    elif lrc != 0 or strip_banner(dout) != strip_banner(lout):
        failures.append(f"{path}: -x -n -P differs")
    for opts in DUMP_MODES:
        drc, dout, derr = run(["doveconf", *opts, "-c", path])
        lrc, lout, lerr = run([LOFTCONF, *opts, "-c", path])
        if drc != 0:
            failures.append(f"{path}: doveconf {' '.join(opts)} failed (corpus bug): {derr.strip()}")
            return
        if lrc != 0:
            failures.append(f"{path}: loftconf {' '.join(opts)} failed: {lerr.strip()}")
            return
        if opts == ["-n"] and warnings(derr) != warnings(lerr):
            failures.append(f"{path}: warnings differ:\n  doveconf: {warnings(derr)}\n  loftconf: {warnings(lerr)}")
        if strip_banner(dout) != strip_banner(lout):
            import difflib
            diff = "".join(difflib.unified_diff(strip_banner(dout).splitlines(True),
                                                strip_banner(lout).splitlines(True),
                                                "doveconf", "loftconf", n=1))
            failures.append(f"{path}: {' '.join(opts)} differs:\n{diff[:3000]}")


def compare_broken(path, failures):
    drc, _, derr = run(["doveconf", "-n", "-c", path])
    lrc, _, lerr = run([LOFTCONF, "-n", "-c", path])
    if drc == 0:
        failures.append(f"{path}: doveconf accepts it (corpus bug)")
        return
    if lrc == 0:
        failures.append(f"{path}: loftconf accepts a config doveconf rejects: {derr.strip()}")
        return
    want, got = first_error(derr), first_error(lerr)
    # Where doveconf names no line (its consistency checks), loftconf may name one.
    if want is not None and got is not None and want[1] is None:
        got = (got[0], None, got[2])
    if want is None or got is None or want != got:
        failures.append(f"{path}: first error differs\n  doveconf: {want}\n  loftconf: {got}")


def compare_snippet(number, text, tmpdir, failures):
    """One line of snippets.txt (\\n for newlines): same -n output, same first error."""
    path = os.path.join(tmpdir, f"snippet{number}.conf")
    with open(path, "w") as f:
        f.write(text.replace("\\n", "\n").replace("\\t", "\t") + "\n")
    for opts in (["-n"], ["-x", "-n"]):
        drc, dout, derr = run(["doveconf", *opts, "-c", path])
        lrc, lout, lerr = run([LOFTCONF, *opts, "-c", path])
        want, got = first_error(derr), first_error(lerr)
        if want is not None and got is not None and want[1] is None:
            got = (got[0], None, got[2])
        if (drc == 0) != (lrc == 0) or strip_banner(dout) != strip_banner(lout) or want != got:
            failures.append(f"snippet {number} {' '.join(opts)} {text!r}:\n"
                            f"  doveconf rc={drc} {strip_banner(dout)!r} {want}\n"
                            f"  loftconf rc={lrc} {strip_banner(lout)!r} {got}")


def main():
    if shutil.which("doveconf") is None:
        print("doveconf not installed; skipping")
        return 77
    if not os.access(LOFTCONF, os.X_OK):
        print(f"{LOFTCONF} not built")
        return 1
    failures = []
    good = sorted(glob.glob(os.path.join(CORPUS, "good", "*", "dovecot.conf")))
    broken = sorted(glob.glob(os.path.join(CORPUS, "broken", "*.conf")) +
                    glob.glob(os.path.join(CORPUS, "broken", "*", "dovecot.conf")))
    if os.path.exists("/etc/dovecot/dovecot.conf") and os.access("/etc/dovecot/dovecot.conf", os.R_OK):
        good.insert(0, "/etc/dovecot/dovecot.conf")
    # Each check only runs two processes and compares; run them side by side.
    with concurrent.futures.ThreadPoolExecutor(max_workers=4 * (os.cpu_count() or 2)) as pool:
        results = []
        for path in good:
            results.append((pool.submit(compare_good, path, out := []), out))
        for path in broken:
            results.append((pool.submit(compare_broken, path, out := []), out))
        with open(os.path.join(CORPUS, "snippets.txt")) as f:
            snippets = [line.rstrip("\n") for line in f if line.strip()]
        tmpdir = tempfile.mkdtemp(prefix="loft-config-snippets-")
        for number, text in enumerate(snippets, 1):
            results.append((pool.submit(compare_snippet, number, text, tmpdir, out := []), out))
        for future, out in results:
            future.result()
            failures.extend(out)
    shutil.rmtree(tmpdir, ignore_errors=True)
    for f in failures:
        print("FAIL", f)
    print(f"{len(good)} good configs, {len(broken)} broken configs, {len(snippets)} snippets, "
          f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
