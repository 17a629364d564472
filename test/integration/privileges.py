"""As root: workers run as the login user inside an empty chroot, loft-auth as the
internal user, and each storage daemon as its mail user, never root. Skips (77) as
a normal user, where there is nothing to drop."""
import os
import pwd
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import MAIL_GID, MAIL_UID, SKIP, Loft, TestCounter, lmtp_session  # noqa: E402


def status_of(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return fields


def user_or_fallback(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return pwd.getpwnam("nobody")


def main():
    if os.geteuid() != 0:
        print("privileges: not root, skipping")
        return SKIP
    t = TestCounter("privileges")
    login_user = user_or_fallback("dovenull")
    internal_user = user_or_fallback("dovecot")
    extra = f"default_login_user = {login_user.pw_name}\ndefault_internal_user = {internal_user.pw_name}\n"
    loft = Loft(extra_config=extra).start()
    try:
        rcpt, data = lmtp_session(loft.lmtp_port, "s@example.org", ["alice"], b"Subject: x\r\n\r\nbody\r\n")
        t.check([c for c, _ in data] == [250], f"delivery works with privileges dropped: {data}")
        time.sleep(0.2)
        children = loft.children()
        names = sorted(children.values())
        t.check(names == ["loft-auth", "loft-imap", "loft-lmtp", "loft-storage"], f"processes: {names}")
        chroot = os.path.join(loft.dir, "run", "empty")
        for pid, name in children.items():
            status = status_of(pid)
            uids = [int(x) for x in status["Uid"]]
            gids = [int(x) for x in status["Gid"]]
            t.check(0 not in uids and 0 not in gids, f"{name} has no root id: uid {uids} gid {gids}")
            if name in ("loft-imap", "loft-lmtp"):
                t.check(set(uids) == {login_user.pw_uid}, f"{name} runs as {login_user.pw_name}: {uids}")
                t.check(os.readlink(f"/proc/{pid}/root") == chroot, f"{name} is chrooted into {chroot}")
                t.check(status.get("NoNewPrivs") == ["1"], f"{name} cannot gain privileges again")
                t.check(status.get("Groups", []) == [str(login_user.pw_gid)] or status.get("Groups") == [],
                        f"{name} has no supplementary groups: {status.get('Groups')}")
            elif name == "loft-auth":
                t.check(set(uids) == {internal_user.pw_uid}, f"loft-auth runs as {internal_user.pw_name}: {uids}")
            elif name == "loft-storage":
                t.check(set(uids) == {MAIL_UID} and set(gids) == {MAIL_GID},
                        f"loft-storage runs as the mail user {MAIL_UID}:{MAIL_GID}: {uids} {gids}")
                t.check(os.readlink(f"/proc/{pid}/root") == "/", "the storage daemon is not chrooted")
        t.check(os.listdir(chroot) == [], f"the workers' chroot is empty: {os.listdir(chroot)}")
        st = os.stat(chroot)
        t.check(st.st_uid == 0 and not (st.st_mode & 0o022), "the chroot is root-owned and not writable by others")
        maildir = loft.maildir("alice")
        st = os.stat(os.path.join(maildir, "dovecot-uidlist"))
        t.check((st.st_uid, st.st_gid) == (MAIL_UID, MAIL_GID), f"mail files belong to the mail user: {st.st_uid}")
    finally:
        code = loft.stop()
        t.check(code == 0, f"loftd stopped cleanly: {code}")
        if t.failed:
            print(loft.log(), file=sys.stderr)
        loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
