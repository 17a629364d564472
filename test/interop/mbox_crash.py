#!/usr/bin/env python3
"""Crash safety of mbox rewrites (issue 5, item 6): a writer that is killed with SIGKILL
at random moments while appending and expunging must leave an mbox in which every message
is complete (old or new state, never a truncated file), and the next writer cleans up."""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def run(tool, location, *args):
    result = subprocess.run([tool, location] + list(args), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("mbox_dump %s failed: %s" % (" ".join(args), result.stderr))
    return result.stdout


def check(tool, location):
    """Returns a list of problems in INBOX: unparsable file, broken or duplicated messages."""
    problems = []
    uids = []
    for line in run(tool, location, "dump").splitlines():
        fields = line.split("\t")
        if fields[0] == "MSG" and fields[1] == "INBOX":
            uids.append(int(fields[2]))
    if uids != sorted(set(uids)):
        problems.append("UIDs not ascending and unique: %r" % uids)
    for uid in uids:
        text = run(tool, location, "fetch", "INBOX", str(uid))
        m = re.match(r"Subject: stress (\d+)\n\n", text)
        if not m:
            problems.append("uid %d: bad header %r" % (uid, text[:80]))
            continue
        n = int(m.group(1))
        expected = "Subject: stress %d\n\n" % n + ("line %d\n" % n) * (20 + n % 50) + \
            "From here on a line that looks like a separator %d\nend %d\n" % (n, n)
        if text != expected:
            problems.append("uid %d (stress %d) is damaged" % (uid, n))
    return problems, len(uids)


def main():
    builddir = os.environ.get("LOFT_BUILDDIR", os.getcwd())
    tool = os.path.join(builddir, "test", "interop", "mbox_dump")
    base = tempfile.mkdtemp(prefix="loft-mbox-crash-", dir=os.environ.get("TMPDIR", "/tmp"))
    location = "%s/mail:INBOX=%s/inbox" % (base, base)
    rng = random.Random(5)
    problems = []
    kills = 0
    try:
        os.makedirs(os.path.join(base, "mail"))
        run(tool, location, "stress", "INBOX", "10")
        for round_ in range(12):
            proc = subprocess.Popen([tool, location, "stress", "INBOX", "400"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.02, 0.25))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
            proc.wait()
            found, count = check(tool, location)
            problems += ["after kill %d: %s" % (round_, p) for p in found]
            if count == 0:
                problems.append("after kill %d: INBOX is empty" % round_)
        # The next writer removes what a killed writer left behind.
        run(tool, location, "stress", "INBOX", "1")
        leftovers = [n for n in os.listdir(base) if ".loft-tmp." in n or n.endswith(".lock")]
        if leftovers:
            problems.append("left behind: %r" % leftovers)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    for problem in problems:
        print(problem)
    print("%d kills, %d problems" % (kills, len(problems)))
    return 1 if problems or kills == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
