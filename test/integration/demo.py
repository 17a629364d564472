"""The embedded demo: loftd with no config serves demo/demo on 127.0.0.1:10143 (IMAP), 10110 (POP3)
(IMAP) and 127.0.0.1:10024 (LMTP). Skips (77) if those ports are taken."""
import imaplib
import poplib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import BUILDDIR, SKIP, TestCounter, lmtp_session, wait_for_banner  # noqa: E402


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as loftd binds
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def main():
    if not (port_free(10143) and port_free(10110) and port_free(10024)):
        print("demo: ports 10143/10110/10024 are in use, skipping")
        return SKIP
    t = TestCounter("demo")
    directory = tempfile.mkdtemp(prefix="loft-demo-")
    os.chmod(directory, 0o755)
    demo_dir = os.path.join(directory, "demo")
    process = subprocess.Popen([os.path.join(BUILDDIR, "loftd"), "-F", "--demo-dir", demo_dir],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = ""
        for _ in range(20):
            banner = process.stdout.readline()
            if not banner or banner.startswith("Loft demo:"):
                break
        t.check("127.0.0.1:10143" in banner and "127.0.0.1:10110" in banner and "demo / demo" in banner, f"loftd says how to use it: {banner!r}")
        t.check(wait_for_banner(10143, b"* OK") and wait_for_banner(10024, b"220"), "IMAP and LMTP answer")
        rcpt, data = lmtp_session(10024, "someone@example.org", ["demo"], b"Subject: hello demo\r\n\r\nhi\r\n")
        t.check([c for c, _ in data] == [250], f"LMTP delivery to demo: {data}")
        imap = imaplib.IMAP4("127.0.0.1", 10143)
        typ, _ = imap.login("demo", "demo")
        t.check(typ == "OK", "demo / demo logs in")
        typ, data = imap.select("INBOX")
        t.check(data == [b"1"], f"the delivered message is there: {data}")
        typ, data = imap.fetch("1", "(BODY.PEEK[HEADER])")
        t.check(b"Subject: hello demo" in data[0][1], "and readable")
        imap.logout()
        pop = poplib.POP3("127.0.0.1", 10110)
        pop.user("demo")
        pop.pass_("demo")
        count, _ = pop.stat()
        t.check(count == 1, f"POP3 sees the message too: {count}")
        t.check(b"Subject: hello demo" in b"\n".join(pop.retr(1)[1]), "and RETR gives it")
        pop.quit()
        t.check(os.path.isdir(os.path.join(demo_dir, "home", "demo", "Maildir", "cur")), "mail under the demo directory")
        result = subprocess.run([os.path.join(BUILDDIR, "loftd"), "--demo-dir", demo_dir, "stop"],
                                capture_output=True, text=True, timeout=30)
        t.check(result.returncode == 0, f"loftd stop: {result.returncode} {result.stdout}{result.stderr}")
        t.check(process.wait(20) == 0, "the demo exits cleanly after loftd stop")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
