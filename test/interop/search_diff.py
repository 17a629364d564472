#!/usr/bin/env python3
"""Differential test of the search engine against Debian's Dovecot 2.3.

Generates a deterministic corpus (test/interop/search_corpus.py), puts it into a private
Dovecot's Maildir with flags, keywords and INTERNALDATEs, then runs a fixed list of
SEARCH, SORT and THREAD commands against Dovecot and through test/interop/search_driver
(libloft_search) and compares the untagged replies. Needs root and Dovecot (exit 77
otherwise). Env: REF_INST, REF_PORT_BASE (defaults: a directory
in the run's data directory and free ports),
SEARCH_DIFF_SEED, SEARCH_DIFF_COUNT, SEARCH_DIFF_KEEP=1 keeps the data directory,
SEARCH_DIFF_VERBOSE=1 prints every mismatch in full, SEARCH_DIFF_ONLY=TEXT runs only the
queries containing TEXT.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

SKIP = 77
KEYWORDS = ["$Work", "todo"]

SEARCHES = [
    "ALL", "SEEN", "UNSEEN", "ANSWERED", "UNANSWERED", "FLAGGED", "UNFLAGGED", "DELETED",
    "UNDELETED", "DRAFT", "UNDRAFT", "RECENT", "NEW", "OLD", "KEYWORD $Work", "UNKEYWORD todo",
    "KEYWORD todo SEEN", "1:10", "5,7,9:12", "*", "100:*", "UID 1:50", "UID 30:*", "UID 1,3,5,200",
    "NOT 2:300", "OR SEEN FLAGGED", "OR (SEEN ANSWERED) NOT DRAFT", "NOT (OR SEEN DELETED)",
    "BEFORE 20-Nov-2023", "ON 20-Nov-2023", "SINCE 1-Dec-2023", "SINCE 15-Nov-2023 BEFORE 25-Nov-2023",
    "ON 5-Dec-2023", "BEFORE 1-Jan-2020", "SINCE 1-Jan-2030",
    "SENTBEFORE 20-Nov-2023", "SENTON 20-Nov-2023", "SENTSINCE 1-Dec-2023", "SENTON 1-Dec-2023",
    "NOT SENTSINCE 1-Jan-2000", "SENTSINCE 15-Nov-2023 SENTBEFORE 17-Nov-2023",
    "LARGER 500", "SMALLER 400", "LARGER 300 SMALLER 700", "LARGER 100000",
    "FROM alice", "FROM ALICE", "FROM example.org", "FROM \"Carol Q\"", "FROM \"m\u00fcller\"",
    "FROM \"M\u00dcLLER\"", "FROM \"zo\u00eb\"", "FROM \"<dave@\"", "FROM eve@example", "TO bob", "TO \"Frank\"",
    "CC carol", "CC example", "BCC dave", "BCC \"\"", "CC \"\"", "SUBJECT budget", "SUBJECT \"re:\"",
    "SUBJECT \"caf\u00e9\"", "SUBJECT \"CAF\u00c9\"", "SUBJECT \"[list]\"", "SUBJECT \"\"", "SUBJECT fwd",
    "HEADER X-Priority 3", "HEADER X-Priority \"\"", "HEADER Message-ID corpus", "HEADER References lost",
    "HEADER In-Reply-To \"\"", "HEADER Date \"-0500\"", "HEADER Subject \"  \"",
    "BODY budget", "BODY BUDGET", "BODY secretword", "BODY \"gr\u00fc\u00dfe\"", "BODY \"k\u00c4se\"",
    "BODY binaryword", "BODY \"alpha beta\"", "TEXT alice", "TEXT secretword", "TEXT \"multipart/mixed\"",
    "TEXT \"x-priority: 2\"", "TEXT \"m\u00fcller\"", "TEXT binaryword", "BODY zzznotthere",
    "OR BODY lunch SUBJECT lunch", "NOT BODY alpha", "UID SEARCH FROM bob", "UID SEARCH OR ANSWERED FLAGGED",
    "BODY innerword", "TEXT \"inner k\u00e4se\"", "BODY \"\u20acuro\"", "TEXT \"caf\u00e9\"",
    "SUBJECT inner", "FROM inner", "TO undisclosed", "TO team", "FROM \"quoted, name\"", "FROM \"j\u00f6rg\"",
    "FROM route.example", "FROM comment", "CC broken", "HEADER Message-ID \"no-at\"",
    "SENTON 19-Nov-2023", "SENTON 20-Nov-2023", "SENTON 21-Nov-2023", "SENTBEFORE 2-Dec-2023 SENTSINCE 1-Dec-2023",
    "KEYWORD $work", "KEYWORD TODO", "UNKEYWORD $WORK", "KEYWORD nosuchkeyword", "HEADER FROM alice",
    "HEADER To \"carol@\"", "LARGER 0", "SMALLER 1", "2:4 OR 1 3", "OR OR SEEN DRAFT DELETED",
    "MODSEQ 2", "MODSEQ 1", "NOT MODSEQ 3", "OLDER 3600", "YOUNGER 3600",
    # HEADER <address field> matches the field as written (decoded), FROM/TO/CC the
    # normalized address list; SUBJECT compresses whitespace runs, HEADER SUBJECT not.
    "HEADER FROM comment", "HEADER FROM \"(Dave)\"", "FROM \"(Dave)\"", "HEADER FROM \"<dave@\"",
    "HEADER FROM route.example", "HEADER FROM \"<@route\"", "FROM \"<@route\"", "HEADER FROM \"Carol Q\"",
    "HEADER FROM \"\\\"Carol\"", "FROM \"\\\"Carol\"", "HEADER FROM \"J=F6rg\"", "HEADER FROM \"j\u00f6rg\"",
    "HEADER FROM \"<q@\"", "FROM \"<q@\"", "HEADER FROM \"Quoted, Name\"", "HEADER TO \"<bob@\"", "TO \"<bob@\"",
    "HEADER CC broken", "HEADER CC \"broken@\"", "CC \"broken@\"", "HEADER BCC dave",
    "SUBJECT \"hello again\"", "HEADER SUBJECT \"hello again\"", "SUBJECT \"Hello\tagain\"",
    "HEADER SUBJECT \"Hello\tagain\"", "SUBJECT \"again  \"", "HEADER SUBJECT \"again  \"",
    "FROM \"Public\\\" <carol@\"", "TO \"Public\\\"\"", "FROM \"Name\\\" <q@\"", "FROM \"M\u00fcller <\"",
    "FROM \"Frank <\"", "TO \"Frank <\"", "FROM \"eve <\"", "HEADER FROM \"Public <\"",
    # i;unicode-casemap: titlecase plus canonical decomposition.
    "SUBJECT \"cafe\u0301\"", "SUBJECT \"CAFE\"", "SUBJECT \"cafe\"", "FROM \"mu\u0308ller\"",
    "FROM \"MU\u0308LLER\"", "FROM \"muller\"", "BODY \"gru\u0308\u00dfe\"", "BODY \"GR\u00dcSSE\"",
    "BODY \"GR\u00dc\u1e9eE\"", "FROM \"zoe\u0308\"", "FROM \"ZO\u00cb\"", "TEXT \"k\u00e4se\"",
    "TEXT \"KA\u0308SE\"", "HEADER FROM \"M\u00dcLLER\"", "BODY \"\u212auro\"", "BODY \"\u20acURO\"",
]
SORTS = [
    "ARRIVAL", "DATE", "SIZE", "SUBJECT", "FROM", "TO", "CC", "DISPLAYFROM", "DISPLAYTO",
    "REVERSE ARRIVAL", "REVERSE DATE", "REVERSE SIZE", "REVERSE SUBJECT", "REVERSE FROM",
    "SUBJECT DATE", "SUBJECT REVERSE DATE", "FROM SUBJECT", "REVERSE TO ARRIVAL", "CC REVERSE SIZE",
    "DISPLAYFROM DATE", "REVERSE DISPLAYTO", "SIZE REVERSE ARRIVAL",
]
SORT_FILTERS = ["ALL", "SEEN", "FROM alice", "OR FLAGGED DRAFT", "SENTSINCE 19-Nov-2023"]
THREADS = ["ORDEREDSUBJECT", "REFERENCES", "REFS"]
THREAD_FILTERS = ["ALL", "NOT DELETED", "SINCE 20-Nov-2023", "1:120", "SUBJECT lunch", "UNSEEN"]


def queries():
    out = []
    for q in SEARCHES:
        if q.startswith("UID SEARCH"):
            out.append(q)
        else:
            charset = "CHARSET UTF-8 " if any(ord(c) > 127 for c in q) else ""
            out.append("SEARCH " + charset + q)
    for i, s in enumerate(SORTS):
        out.append("SORT (%s) UTF-8 %s" % (s, SORT_FILTERS[i % len(SORT_FILTERS)]))
        if i % 3 == 0:
            out.append("UID SORT (%s) UTF-8 ALL" % s)
    for t in THREADS:
        for f in THREAD_FILTERS:
            out.append("THREAD %s UTF-8 %s" % (t, f))
        out.append("UID THREAD %s UTF-8 ALL" % t)
    return out


class Imap:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.file = self.sock.makefile("rb")
        self.tag = 0
        self.file.readline()

    def command(self, text):
        """Sends a command (8-bit quoted strings become LITERAL+); returns (status, untagged)."""
        self.tag += 1
        tag = b"t%d" % self.tag
        data = text.encode("utf-8")

        def literal(match):
            raw = match.group(1)
            if all(b < 128 for b in raw):
                return match.group(0)
            return b"{%d+}\r\n" % len(raw) + raw
        data = re.sub(rb'"([^"]*)"', literal, data)
        self.sock.sendall(tag + b" " + data + b"\r\n")
        untagged = []
        while True:
            line = self.file.readline()
            if not line:
                raise RuntimeError("connection closed")
            line = line.rstrip(b"\r\n")
            if line.startswith(tag + b" "):
                return line[len(tag) + 1:].split(b" ")[0].decode(), untagged
            untagged.append(line)


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root to run the reference Dovecot")
        return SKIP
    if shutil.which("dovecot") is None and not os.path.exists("/usr/sbin/dovecot"):
        print("SKIP: dovecot is not installed")
        return SKIP
    builddir = os.environ.get("LOFT_BUILDDIR", os.getcwd())
    srcdir = os.environ.get("LOFT_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    driver = os.path.join(builddir, "test", "interop", "search_driver")
    script = os.environ.get("REF_DOVECOT", os.path.join(srcdir, "test", "interop", "ref-dovecot.sh"))
    if not os.path.exists(script):
        script = "/work/shared/tools/ref-dovecot.sh"
    if not os.path.exists(script):
        print("SKIP: ref-dovecot.sh not found (set REF_DOVECOT)")
        return SKIP
    sys.path.insert(0, os.path.join(srcdir, "test", "interop"))
    import search_corpus

    seed = int(os.environ.get("SEARCH_DIFF_SEED", "20261130"))
    count = int(os.environ.get("SEARCH_DIFF_COUNT", "240"))
    corpus = search_corpus.generate(seed, count)

    env = dict(os.environ)
    import ref_ports
    if "REF_PORT_BASE" not in env:
        env["REF_PORT_BASE"] = str(ref_ports.free_port_base())
    env["TZ"] = "UTC"
    port = int(env["REF_PORT_BASE"]) + 143
    data_dir = tempfile.mkdtemp(prefix="loft-search-diff-")
    maildir = os.path.join(data_dir, "alice", "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub))
    with open(os.path.join(maildir, "dovecot-keywords"), "w") as f:
        for i, k in enumerate(KEYWORDS):
            f.write("%d %s\n" % (i, k))
    for index, m in enumerate(corpus):
        letters = "".join(chr(ord("a") + KEYWORDS.index(k)) for k in m["keywords"])
        base = "%d.M%dP1.corpus" % (1700000000 + index, index)
        path = os.path.join(maildir, "cur", base + ":2," + m["flags"] + letters)
        with open(path, "wb") as f:
            f.write(m["bytes"])
        os.utime(path, (m["mtime"], m["mtime"]))
    subprocess.run(["chown", "-R", "5000:5000", data_dir], check=False)

    own_inst = "REF_INST" not in env
    env.setdefault("REF_INST", "/tmp/ref-search-%d" % os.getpid())
    log = open(os.path.join(data_dir, "ref-dovecot.out"), "w")
    subprocess.run([script, "stop", data_dir], env=env, stdout=log, stderr=log)
    started = subprocess.run([script, "start", data_dir], env=env, stdout=log, stderr=log)
    if started.returncode != 0:
        print("FAIL: could not start the reference Dovecot, see", log.name)
        return 1
    matched = 0
    mismatched = []
    try:
        imap = Imap(port)
        imap.command("LOGIN alice secret")
        imap.command("ENABLE CONDSTORE")
        imap.command("SELECT INBOX")
        # Raise some modseqs so MODSEQ searches have something to tell apart.
        imap.command("STORE 3:40 +FLAGS.SILENT (\\Answered)")
        imap.command("STORE 20:30 -FLAGS.SILENT (\\Answered)")
        status, fetched = imap.command("FETCH 1:* (UID FLAGS MODSEQ)")
        files = {}
        for name in os.listdir(os.path.join(maildir, "cur")):
            files[name.split(":")[0]] = os.path.join(maildir, "cur", name)
        uid_to_base = {}
        with open(os.path.join(maildir, "dovecot-uidlist")) as f:
            next(f)
            for line in f:
                uid, rest = line.rstrip("\n").split(" ", 1)
                uid_to_base[int(uid)] = rest[rest.index(":") + 1:]
        manifest = os.path.join(data_dir, "manifest")
        with open(manifest, "w") as f:
            for line in fetched:
                text = line.decode()
                uid = int(re.search(r"UID (\d+)", text).group(1))
                flags = re.search(r"FLAGS \(([^)]*)\)", text).group(1)
                modseq = re.search(r"MODSEQ \((\d+)\)", text).group(1)
                f.write("%d\t%s\t%s\t%s\n" % (uid, modseq, files[uid_to_base[uid]], flags))
        query_list = queries()
        only = os.environ.get("SEARCH_DIFF_ONLY")
        if only:
            query_list = [q for q in query_list if only in q]
        # Dovecot keeps string sort orders in its index and extends them when a later SORT
        # covers more messages; ties added that way can lose their secondary key (a Dovecot
        # quirk, not RFC 5256). Sorting the whole mailbox once per key first avoids it.
        for key in ("SUBJECT", "FROM", "TO", "CC", "DISPLAYFROM", "DISPLAYTO"):
            imap.command("SORT (%s) UTF-8 ALL" % key)
        theirs = []
        for q in query_list:
            status, untagged = imap.command(q)
            reply = [u for u in untagged if re.match(rb"\* (SEARCH|SORT|THREAD)\b", u)]
            theirs.append(reply[0].decode("utf-8", "replace") if status == "OK" and reply
                          else "ERROR " + status)
        ours = subprocess.run([driver, manifest, "0"], input="\n".join(query_list) + "\n",
                              stdout=subprocess.PIPE, check=True, text=True).stdout.split("\n")
        for q, t, o in zip(query_list, theirs, ours):
            if t == o or (t.startswith("ERROR") and o.startswith("ERROR")):
                matched += 1
            else:
                mismatched.append((q, t, o))
    finally:
        subprocess.run([script, "stop", data_dir], env=env, stdout=log, stderr=log)
        if os.environ.get("SEARCH_DIFF_KEEP") != "1":
            shutil.rmtree(data_dir, ignore_errors=True)
            if own_inst:
                shutil.rmtree(env["REF_INST"], ignore_errors=True)
        else:
            print("kept", data_dir)
    total = matched + len(mismatched)
    for q, t, o in mismatched:
        if os.environ.get("SEARCH_DIFF_VERBOSE") == "1":
            print("MISMATCH %s\n  dovecot: %s\n  loft:    %s" % (q, t, o))
        else:
            print("MISMATCH %s\n  dovecot: %.300s\n  loft:    %.300s" % (q, t, o))
    print("search_diff: %d messages, %d/%d queries identical" % (count, matched, total))
    return 0 if not mismatched else 1


if __name__ == "__main__":
    sys.exit(main())
