"""Loft serving mbox with Debian's stock layout (mail_location = mbox:~/mail:INBOX=
/var/mail/%u, the spool root:mail 2775 with mail_privileged_group = mail), compared with
real Dovecot 2.3 on the same files: LMTP delivery, IMAP changes through Loft, then
Dovecot sees the same UIDs/flags/keywords/bodies; Dovecot's changes show up in Loft;
an MTA append to the spool while Loft has INBOX selected shows up (IDLE, NOOP) with the
UID Dovecot gives it; Loft's flag changes (one that outgrows the padding) and expunges
are written in place: the spool file keeps its inode and Dovecot reads the result the
same. Needs root and Dovecot (else 77)."""
import fcntl
import grp
import imaplib
import os
import re
import select
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import MAIL_UID, SKIP, Dovecot, Loft, TestCounter, lmtp_session  # noqa: E402

PASSWORD = "secret"


def mbox_config(path, spool):
    with open(path) as f:
        text = f.read()
    text = text.replace("mail_location = maildir:~/Maildir",
                        f"mail_location = mbox:~/mail:INBOX={spool}/%u\nmail_privileged_group = mail\n"
                        "mbox_write_locks = fcntl dotlock\n")
    with open(path, "w") as f:
        f.write(text)


def connect(port):
    imap = imaplib.IMAP4("127.0.0.1", port)
    imap.login("alice", PASSWORD)
    return imap


def ok(result, what):
    typ, data = result
    if typ != "OK":
        raise AssertionError(f"{what}: {typ} {data}")
    return data


def mailbox_names(imap):
    names = []
    for line in ok(imap.list('""', "*"), "LIST"):
        match = re.match(rb'\((.*?)\) (?:"(.)"|NIL) (.*)$', line)
        name = match.group(3).decode()
        if name.startswith('"'):
            name = name[1:-1]
        if "\\Noselect" not in match.group(1).decode():
            names.append(name)
    return sorted(names)


def mailbox_state(imap, name):
    """(uidvalidity, uidnext, [(uid, flags, body)]) as the server shows it."""
    status = ok(imap.status(name, "(UIDVALIDITY UIDNEXT MESSAGES)"), "STATUS")[0].decode()
    uidvalidity = int(re.search(r"UIDVALIDITY (\d+)", status).group(1))
    uidnext = int(re.search(r"UIDNEXT (\d+)", status).group(1))
    ok(imap.select(name, readonly=True), "EXAMINE " + name)
    messages = []
    for item in ok(imap.uid("FETCH", "1:*", "(FLAGS)"), "FETCH FLAGS"):
        if item is None:
            continue
        text = item.decode() if isinstance(item, bytes) else item[0].decode()
        uid = int(re.search(r"UID (\d+)", text).group(1))
        flags = sorted(f for f in re.search(r"FLAGS \(([^)]*)\)", text).group(1).split() if f != "\\Recent")
        body = ok(imap.uid("FETCH", str(uid), "(BODY.PEEK[])"), "FETCH BODY")[0][1]
        messages.append((uid, flags, body))
    imap.close()
    return uidvalidity, uidnext, sorted(messages)


def all_state(port, names):
    imap = connect(port)
    try:
        listed = mailbox_names(imap)
        return listed, {name: mailbox_state(imap, name) for name in names}
    finally:
        imap.logout()


def message(subject, text="body"):
    return (f"From: sender@example.org\r\nTo: alice@example.org\r\nSubject: {subject}\r\n"
            f"Date: Mon, 30 Nov 2026 06:00:00 +0000\r\n\r\n{text}\r\n").encode()


def mta_append(path, subject):
    """What an MTA such as Postfix's local(8) does: lock, append a From line message."""
    with open(path, "ab") as f:
        fcntl.lockf(f, fcntl.LOCK_EX)
        f.write(b"From sender@example.org  Mon Nov 30 06:10:00 2026\n"
                + message(subject, "from the MTA").replace(b"\r\n", b"\n") + b"\n")
        f.flush()
        fcntl.lockf(f, fcntl.LOCK_UN)


def idle_for_exists(imap, timeout=15.0):
    """IDLE until an EXISTS arrives; returns the message count (or None)."""
    tag = imap._new_tag()
    imap.send(tag + b" IDLE\r\n")
    if not imap.readline().startswith(b"+"):
        raise AssertionError("IDLE was not accepted")
    found = None
    deadline = time.time() + timeout
    while time.time() < deadline and found is None:
        ready, _, _ = select.select([imap.sock], [], [], 0.5)
        if not ready:
            continue
        line = imap.readline()
        match = re.match(rb"\* (\d+) EXISTS", line)
        if match:
            found = int(match.group(1))
    imap.send(b"DONE\r\n")
    while True:
        line = imap.readline()
        if line.startswith(tag):
            break
    return found


def main():
    if not Dovecot.available():
        print("needs root and Dovecot")
        return SKIP
    try:
        mail_gid = grp.getgrnam("mail").gr_gid
    except KeyError:
        print("no group 'mail'")
        return SKIP
    counter = TestCounter("mbox_imap")
    loft = Loft(users=("alice",), password=PASSWORD)
    spool = os.path.join(loft.dir, "spool")
    os.makedirs(spool)
    os.chown(spool, 0, mail_gid)
    os.chmod(spool, 0o2775)
    inbox = os.path.join(spool, "alice")
    with open(inbox, "w"):
        pass
    os.chown(inbox, MAIL_UID, mail_gid)
    os.chmod(inbox, 0o660)
    mbox_config(loft.config_path, spool)
    dovecot = Dovecot(loft)
    mbox_config(dovecot.config_path, spool)
    names = ["Archive", "INBOX", "Work/Old"]
    inode = os.stat(inbox).st_ino
    try:
        # Phase 1: Loft delivers and changes the mailboxes.
        loft.start()
        for subject in ("first", "second"):
            _, data = lmtp_session(loft.lmtp_port, "sender@example.org", ["alice"], message(subject))
            counter.check(data and data[0][0] == 250, f"LMTP delivery of {subject}: {data}")
        with open(inbox, "rb") as f:
            spool_text = f.read()
        counter.check(spool_text.startswith(b"From ") and b"Subject: second" in spool_text,
                      "the delivery went into the spool file in mbox format")
        counter.check(not os.path.exists(inbox + ".lock"), "no dotlock left in the spool")
        imap = connect(loft.imap_port)
        ok(imap.create("Archive"), "CREATE Archive")
        ok(imap.create("Work/Projects"), "CREATE Work/Projects")
        counter.check(os.path.isfile(os.path.join(loft.homes["alice"], "mail", "Work", "Projects")),
                      "CREATE made an mbox file under ~/mail")
        exists = int(ok(imap.select("INBOX"), "SELECT")[0])
        counter.check(exists == 2, f"SELECT INBOX shows the 2 deliveries ({exists})")
        ok(imap.store("1", "+FLAGS", "(\\Seen $Label1)"), "STORE 1")
        ok(imap.store("2", "+FLAGS", "(\\Deleted)"), "STORE 2")
        ok(imap.copy("1", "Archive"), "COPY")
        ok(imap.append("Archive", "(\\Flagged)", imaplib.Time2Internaldate(1764480000), message("appended")),
           "APPEND")
        expunged = ok(imap.expunge(), "EXPUNGE")
        counter.check(expunged == [b"2"], f"EXPUNGE removed message 2 ({expunged})")
        ok(imap.rename("Work/Projects", "Work/Old"), "RENAME")
        listed = mailbox_names(imap)
        counter.check(listed == names, f"LIST after RENAME: {listed}")
        imap.logout()
        loft_listed, loft_state = all_state(loft.imap_port, names)
        counter.check(len(loft_state["INBOX"][2]) == 1 and loft_state["INBOX"][2][0][1] == ["$Label1", "\\Seen"],
                      f"INBOX through Loft: {loft_state['INBOX']}")
        counter.check(len(loft_state["Archive"][2]) == 2, f"Archive through Loft: {loft_state['Archive']}")
        loft.stop()

        # Phase 2: Dovecot on the same files sees the same, then changes them.
        dovecot.start()
        dovecot_listed, dovecot_state = all_state(dovecot.imap_port, names)
        counter.check(dovecot_listed == loft_listed, f"LIST: Dovecot {dovecot_listed} vs Loft {loft_listed}")
        for name in names:
            counter.check(dovecot_state[name] == loft_state[name],
                          f"{name}: Dovecot {dovecot_state[name]} vs Loft {loft_state[name]}")
        imap = connect(dovecot.imap_port)
        ok(imap.append("INBOX", "(\\Answered $Other)", imaplib.Time2Internaldate(1764480000), message("by dovecot")),
           "Dovecot APPEND")
        ok(imap.select("INBOX"), "Dovecot SELECT")
        ok(imap.store("1", "-FLAGS", "($Label1)"), "Dovecot STORE -")
        ok(imap.store("1", "+FLAGS", "(\\Flagged)"), "Dovecot STORE +")
        ok(imap.select("Archive"), "Dovecot SELECT Archive")
        ok(imap.store("1", "+FLAGS", "(\\Deleted)"), "Dovecot STORE Deleted")
        ok(imap.expunge(), "Dovecot EXPUNGE")
        imap.logout()
        _, dovecot_state = all_state(dovecot.imap_port, names)
        dovecot.stop()

        # Phase 3: Loft shows Dovecot's changes.
        loft.start()
        _, loft_state = all_state(loft.imap_port, names)
        for name in names:
            counter.check(loft_state[name] == dovecot_state[name],
                          f"after Dovecot's changes, {name}: Loft {loft_state[name]} vs Dovecot {dovecot_state[name]}")

        # Phase 4: an MTA appends while Loft has INBOX selected.
        imap = connect(loft.imap_port)
        uidnext = int(re.search(rb"UIDNEXT (\d+)", ok(imap.status("INBOX", "(UIDNEXT)"), "STATUS")[0]).group(1))
        before = int(ok(imap.select("INBOX"), "SELECT")[0])
        mta_append(inbox, "mta idle")
        seen = idle_for_exists(imap)
        counter.check(seen == before + 1, f"IDLE reported the MTA's message ({seen}, had {before})")
        mta_append(inbox, "mta noop")
        ok(imap.noop(), "NOOP")
        counter.check(imap.untagged_responses.get("EXISTS", [b"0"])[-1] == str(before + 2).encode(),
                      f"NOOP reported the second MTA message: {imap.untagged_responses.get('EXISTS')}")
        fetched = ok(imap.uid("FETCH", f"{uidnext}:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"), "FETCH new")
        loft_uids = {}
        for item in fetched:
            if isinstance(item, tuple):
                uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
                loft_uids[item[1].strip().decode()] = uid
        counter.check(loft_uids == {"Subject: mta idle": uidnext, "Subject: mta noop": uidnext + 1},
                      f"MTA messages got the next UIDs: {loft_uids} (UIDNEXT was {uidnext})")
        imap.logout()
        _, loft_state = all_state(loft.imap_port, names)
        loft.stop()
        dovecot.start()
        _, dovecot_state = all_state(dovecot.imap_port, names)
        counter.check(dovecot_state["INBOX"] == loft_state["INBOX"],
                      f"Dovecot agrees on the MTA messages: {dovecot_state['INBOX']} vs {loft_state['INBOX']}")
        dovecot.stop()

        # Phase 5: in-place writes through Loft's IMAP, one too long for the padding.
        loft.start()
        imap = connect(loft.imap_port)
        ok(imap.select("INBOX"), "SELECT")
        long_keywords = " ".join("$InPlaceKeyword%02d" % i for i in range(12))
        ok(imap.store("1", "+FLAGS", f"(\\Answered {long_keywords})"), "STORE long keywords")
        ok(imap.store("2", "+FLAGS", "(\\Seen \\Deleted)"), "STORE 2")
        ok(imap.expunge(), "EXPUNGE")
        ok(imap.store("2", "-FLAGS", "(\\Seen)"), "STORE after EXPUNGE")
        imap.logout()
        _, loft_state = all_state(loft.imap_port, names)
        loft.stop()
        counter.check(os.stat(inbox).st_ino == inode, "the spool file kept its inode through Loft's changes")
        dovecot.start()
        _, dovecot_state = all_state(dovecot.imap_port, names)
        counter.check(dovecot_state["INBOX"] == loft_state["INBOX"],
                      f"Dovecot reads Loft's in-place writes the same: {dovecot_state['INBOX']} vs "
                      f"{loft_state['INBOX']}")
        dovecot.stop()
        counter.check(not os.path.exists(inbox + ".lock"), "no dotlock left in the spool at the end")
        counter.check(not [n for n in os.listdir(spool) if ".loft-" in n], "no Loft journal left in the spool")
        counter.check(os.stat(inbox).st_gid == mail_gid and os.stat(inbox).st_uid == MAIL_UID,
                      "the spool file keeps its owner and group mail")
    except Exception as error:  # report what was verified so far
        counter.check(False, f"{type(error).__name__}: {error}\n--- loft log ---\n{loft.log()[-3000:]}")
    finally:
        dovecot.stop()
        loft.cleanup()
    return counter.finish()


if __name__ == "__main__":
    sys.exit(main())
