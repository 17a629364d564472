"""The vouching invariant: a compromised worker reaches only the mail of sessions
loft-auth vouched for through it. A stand-in worker (rogue_worker) replaces loft-imap
and attacks; loftd, loft-auth and loft-storage are the real ones."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import BUILDDIR, Loft, TestCounter, lmtp_session  # noqa: E402


def main():
    t = TestCounter("vouching")
    loft = Loft()
    helpers = os.path.join(loft.dir, "helpers")
    os.makedirs(helpers)
    os.chmod(loft.dir, 0o755)
    for name in ("loft-auth", "loft-lmtp", "loft-storage"):
        os.symlink(os.path.join(BUILDDIR, name), os.path.join(helpers, name))
    os.symlink(os.path.join(BUILDDIR, "test", "integration", "rogue_worker"), os.path.join(helpers, "loft-imap"))
    os.environ["LOFT_HELPER_DIR"] = helpers
    try:
        # The rogue stands in for the IMAP worker, so wait for LMTP only.
        loft.imap_ready = False
        loft.start(wait_imap=False)
        rcpt, data = lmtp_session(loft.lmtp_port, "s@example.org", ["bob"], b"Subject: secret\r\n\r\nfor bob\r\n")
        t.check([c for c, _ in data] == [250], "bob has mail")
        deadline = time.time() + 20
        while time.time() < deadline and "ROGUE: done" not in loft.log():
            time.sleep(0.1)
        lines = [line for line in loft.log().splitlines() if "ROGUE: " in line]
        t.check(any("ROGUE: done" in line for line in lines), "the rogue worker finished its attempts")
        for line in lines:
            if line.endswith(": ok") or line.endswith(": FAIL"):
                t.check(line.endswith(": ok"), line.split("ROGUE: ", 1)[1])
        expected = 9 if os.geteuid() == 0 else 8
        t.check(sum(1 for line in lines if line.endswith(": ok")) >= expected, f"all attempts ran: {len(lines)} lines")
    finally:
        del os.environ["LOFT_HELPER_DIR"]
        loft.stop()
        if t.failed:
            print(loft.log(), file=sys.stderr)
        loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
