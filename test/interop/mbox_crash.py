#!/usr/bin/env python3
"""Crash safety of mbox rewrites (issue 5, item 6): a writer that is killed with SIGKILL
at random moments while appending and expunging must leave an mbox in which every message
is complete (old or new state, never a truncated file), and the next writer cleans up.
The second phase kills writers in the middle of in-place flag/keyword rewrites (some too
long for the padding, so the rest of the file moves) and in-place expunges: the file
keeps its inode, every message stays whole with flags from the known set, and the redo
journal a killed writer leaves is finished by the next reader."""
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


KNOWN_FLAGS = {"\\Seen", "\\Flagged", "\\Deleted"} | {"kw%d" % i for i in range(5)} | \
    {"$LongerKeywordNumber%d" % i for i in range(8)}


def check(tool, location):
    """Returns a list of problems in INBOX: unparsable file, broken or duplicated messages."""
    problems = []
    uids = []
    for line in run(tool, location, "dump").splitlines():
        fields = line.split("\t")
        if fields[0] == "MSG" and fields[1] == "INBOX":
            uids.append(int(fields[2]))
            unknown = set(fields[3].split()) - KNOWN_FLAGS
            if unknown:
                problems.append("uid %s has flags nobody set: %r" % (fields[2], unknown))
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

        # Phase 2: in-place flag rewrites, moves and expunges.
        run(tool, location, "stress", "INBOX", "40")
        inode = os.stat(os.path.join(base, "inbox")).st_ino
        for round_ in range(12):
            proc = subprocess.Popen([tool, location, "flagstress", "INBOX", "300"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.02, 0.3))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
            proc.wait()
            found, count = check(tool, location)
            problems += ["after in-place kill %d: %s" % (round_, p) for p in found]
            if count == 0:
                problems.append("after in-place kill %d: INBOX is empty" % round_)
            if os.stat(os.path.join(base, "inbox")).st_ino != inode:
                problems.append("after in-place kill %d: the mbox was replaced (new inode)" % round_)
        run(tool, location, "flagstress", "INBOX", "1")
        leftovers = [n for n in os.listdir(base) if ".loft-" in n or n.endswith(".lock")]
        if leftovers:
            problems.append("left behind after in-place writes: %r" % leftovers)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    for problem in problems:
        print(problem)
    print("%d kills, %d problems" % (kills, len(problems)))
    return 1 if problems or kills == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
