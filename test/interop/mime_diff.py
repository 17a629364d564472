#!/usr/bin/env python3
"""Differential test of the message engine against Debian's Dovecot 2.3.

Generates a deterministic corpus (test/interop/mime/corpus.py), puts it into a private
Dovecot's Maildir, FETCHes ENVELOPE, BODY, BODYSTRUCTURE, RFC822.SIZE and a set of
BODY[section]<partial> items over IMAP, and compares them byte for byte with what
test/interop/mime_fetch prints for the same files. Needs root and Dovecot (exit 77
otherwise). Env: REF_INST, REF_PORT_BASE (defaults: a directory
in the run's data directory and free ports),
MIME_DIFF_SEED, MIME_DIFF_COUNT, MIME_DIFF_KEEP=1 to keep the data directory.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile

SKIP = 77
SECTIONS = [
    "HEADER", "TEXT", "1", "1.MIME", "2", "2.MIME", "3", "1.1", "1.2", "2.1", "2.2",
    "1.1.MIME", "1.HEADER", "2.HEADER", "1.TEXT", "2.TEXT", "2.1.HEADER",
    "HEADER.FIELDS (CONTENT-TYPE FROM SUBJECT)", "HEADER.FIELDS.NOT (FROM RECEIVED TO)",
    "HEADER.FIELDS (X-NOT-THERE)", "1.HEADER.FIELDS (SUBJECT)", "2.HEADER.FIELDS.NOT (SUBJECT)",
]
PARTIALS = [("", "<0.10>"), ("TEXT", "<7.100>"), ("", "<1000.5>"), ("1", "<3.40>")]
# Fetched one per command, because Dovecot fails the whole FETCH when decoding fails.
BINARY_ITEMS = ["BINARY[]", "BINARY[1]", "BINARY[2]", "BINARY[1.1]", "BINARY[2.1]",
                "BINARY[1]<2.10>", "BINARY.SIZE[]", "BINARY.SIZE[1]", "BINARY.SIZE[2]"]


def requested_items():
    items = ["RFC822.SIZE", "ENVELOPE", "BODY", "BODYSTRUCTURE", "BODY[]"]
    items += ["BODY[%s]" % s for s in SECTIONS]
    items += ["BODY[%s]%s" % (s, p) for s, p in PARTIALS]
    return items


def response_name(item):
    """The name Dovecot uses in the reply: partial <o.n> is echoed as <o>."""
    if "]<" in item:
        head, partial = item.split("]<", 1)
        return head + "]<" + partial.split(".")[0] + ">"
    return item


class Imap:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.file = self.sock.makefile("rb")
        self.tag = 0
        self.file.readline()

    def read_response(self):
        """One response line with its literals inlined."""
        out = b""
        while True:
            line = self.file.readline()
            if not line:
                raise RuntimeError("connection closed")
            out += line
            if line.endswith(b"}\r\n") and b"{" in line:
                size = int(line[line.rindex(b"{") + 1:-3])
                out += self.file.read(size)
                continue
            return out

    def command(self, text):
        ok, untagged = self.try_command(text)
        if not ok:
            raise RuntimeError("%s failed" % text)
        return untagged

    def try_command(self, text):
        """(True, untagged responses) on OK, (False, []) on NO."""
        self.tag += 1
        tag = b"t%d" % self.tag
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        untagged = []
        while True:
            resp = self.read_response()
            if resp.startswith(tag + b" "):
                if resp.startswith(tag + b" NO"):
                    return False, []
                if not resp.startswith(tag + b" OK"):
                    raise RuntimeError("%s failed: %r" % (text, resp))
                return True, untagged
            untagged.append(resp)


def parse_value(data, i):
    """Returns (end, decoded) for the IMAP value at data[i]."""
    if data[i:i + 2] == b"~{":
        i += 1  # literal8
    c = data[i:i + 1]
    if data.startswith(b"NIL", i):
        return i + 3, b""
    if c == b'"':
        out = bytearray()
        i += 1
        while data[i:i + 1] != b'"':
            if data[i:i + 1] == b"\\":
                i += 1
            out += data[i:i + 1]
            i += 1
        return i + 1, bytes(out)
    if c == b"{":
        close = data.index(b"}", i)
        size = int(data[i + 1:close])
        start = close + 3
        return start + size, data[start:start + size]
    if c == b"(":
        i += 1
        while data[i:i + 1] != b")":
            if data[i:i + 1] == b" ":
                i += 1
                continue
            i, _ = parse_value(data, i)
        return i + 1, None
    end = i
    while data[end:end + 1] not in (b" ", b")", b""):
        end += 1
    return end, data[i:end]


def parse_fetch(resp):
    """{item name: (raw value bytes, decoded bytes)} from '* n FETCH (...)'."""
    start = resp.index(b"FETCH (") + 7
    items = {}
    i = start
    while resp[i:i + 1] != b")":
        if resp[i:i + 1] == b" ":
            i += 1
            continue
        j = i
        while resp[j:j + 1] not in (b" ", b"["):
            j += 1
        if resp[j:j + 1] == b"[":
            j = resp.index(b"]", j) + 1
            if resp[j:j + 1] == b"<":
                j = resp.index(b">", j) + 1
        name = resp[i:j].decode()
        i = j + 1
        end, decoded = parse_value(resp, i)
        items[name] = (resp[i:end], decoded)
        i = end
    return items


def run_driver(driver, path, items):
    out = subprocess.run([driver, path] + items, stdout=subprocess.PIPE, check=True).stdout
    result = {}
    i = 0
    for item in items:
        header = (item + " ").encode()
        if not out.startswith(header, i):
            raise RuntimeError("driver output out of step at %s" % item)
        i += len(header)
        if out.startswith(b"ERROR\n", i):
            result[item] = "ERROR"
            i += 6
            continue
        nl = out.index(b"\n", i)
        size = int(out[i:nl])
        result[item] = out[nl + 1:nl + 1 + size]
        i = nl + 1 + size + 1
    return result


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root to run the reference Dovecot")
        return SKIP
    if shutil.which("dovecot") is None and not os.path.exists("/usr/sbin/dovecot"):
        print("SKIP: dovecot is not installed")
        return SKIP
    builddir = os.environ.get("LOFT_BUILDDIR", os.getcwd())
    srcdir = os.environ.get("LOFT_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    driver = os.path.join(builddir, "test", "interop", "mime_fetch")
    script = os.environ.get("REF_DOVECOT", os.path.join(srcdir, "test", "interop", "ref-dovecot.sh"))
    if not os.path.exists(script):
        script = "/work/shared/tools/ref-dovecot.sh"
    if not os.path.exists(script):
        print("SKIP: ref-dovecot.sh not found (set REF_DOVECOT)")
        return SKIP
    sys.path.insert(0, os.path.join(srcdir, "test", "interop", "mime"))
    sys.path.insert(0, os.path.join(srcdir, "test", "interop"))
    import corpus

    seed = int(os.environ.get("MIME_DIFF_SEED", "20261130"))
    count = int(os.environ.get("MIME_DIFF_COUNT", "600"))
    messages = corpus.generate(seed, count)

    env = dict(os.environ)
    import ref_ports
    if "REF_PORT_BASE" not in env:
        env["REF_PORT_BASE"] = str(ref_ports.free_port_base())
    port = int(env["REF_PORT_BASE"]) + 143
    data_dir = tempfile.mkdtemp(prefix="loft-mime-diff-")
    maildir = os.path.join(data_dir, "alice", "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub))
    files = {}
    for index, (name, body) in enumerate(messages):
        base = "%d.M%dP1.corpus" % (1700000000 + index, index)
        path = os.path.join(maildir, "cur", base + ":2,")
        with open(path, "wb") as f:
            f.write(body)
        files[base] = (name, path)

    own_inst = "REF_INST" not in env
    env.setdefault("REF_INST", "/tmp/ref-mail-%d" % os.getpid())
    log = open(os.path.join(data_dir, "ref-dovecot.out"), "w")
    subprocess.run([script, "stop", data_dir], env=env, stdout=log, stderr=log)
    started = subprocess.run([script, "start", data_dir], env=env, stdout=log, stderr=log)
    if started.returncode != 0:
        print("FAIL: could not start the reference Dovecot, see", log.name)
        return 1
    items = requested_items()
    mismatched = {}
    dovecot_errors = {}
    matched = 0
    try:
        imap = Imap(port)
        imap.command("LOGIN alice secret")
        imap.command("SELECT INBOX")
        uids = {}
        with open(os.path.join(maildir, "dovecot-uidlist"), "rb") as f:
            next(f)
            for line in f:
                uid, rest = line.decode().rstrip("\n").split(" ", 1)
                uids[int(uid)] = rest[rest.index(":") + 1:]
        fetch_items = " ".join(("BODY.PEEK" + it[4:]) if it.startswith("BODY[") else it
                               for it in items)
        # Dovecot answers the top-level HEADER.FIELDS from its cache on every fetch but the
        # first, with slightly different line ends; Loft gives the cached form, so warm it.
        header_fields = " ".join("BODY.PEEK[%s]" % s for s in SECTIONS if s.startswith("HEADER.FIELDS ("))
        imap.command("FETCH 1:* (%s)" % header_fields)
        for seq, uid in enumerate(sorted(uids), start=1):
            name, path = files[uids[uid]]
            responses = imap.command("FETCH %d (%s)" % (seq, fetch_items))
            theirs = parse_fetch([r for r in responses if b" FETCH (" in r][0])
            ours = run_driver(driver, path, items + BINARY_ITEMS)
            bad = []
            for item in items:
                raw, decoded = theirs.get(response_name(item), (None, None))
                expected = decoded if item.startswith("BODY[") else raw
                if expected != ours[item]:
                    bad.append((item, expected, ours[item]))
            for item in BINARY_ITEMS:
                peek = item.replace("BINARY[", "BINARY.PEEK[")
                try:
                    ok, responses = imap.try_command("FETCH %d (%s)" % (seq, peek))
                except (RuntimeError, OSError):
                    # Dovecot disconnects when a base64 part ends prematurely.
                    ok = False
                    imap = Imap(port)
                    imap.command("LOGIN alice secret")
                    imap.command("SELECT INBOX")
                if not ok:
                    expected = "ERROR"
                else:
                    raw, decoded = parse_fetch([r for r in responses if b" FETCH (" in r][0])[
                        response_name(item)]
                    expected = decoded if item.startswith("BINARY[") else raw
                if expected != ours[item]:
                    bad.append((item, expected, ours[item]))
            if bad and all(item.startswith("BINARY") and expected == "ERROR" for item, expected, _ in bad):
                # Dovecot fails some BINARY fetches on its own size bookkeeping ("got too
                # little data"); Loft answers them. Count those apart, after checking its log.
                dovecot_errors[name] = (uid, bad)
            elif bad:
                mismatched[name] = bad
            else:
                matched += 1
        try:
            with open(os.path.join(env["REF_INST"], "dovecot.log"), errors="replace") as f:
                dovecot_log = f.read()
        except OSError:
            dovecot_log = ""
        for name, (uid, bad) in list(dovecot_errors.items()):
            marker = "UID %d: Broken fields" % uid
            if not any(marker in line and "got too little data" in line and data_dir in line
                       for line in dovecot_log.splitlines()):
                mismatched[name] = bad
                del dovecot_errors[name]
    finally:
        subprocess.run([script, "stop", data_dir], env=env, stdout=log, stderr=log)
        log.close()
        if os.environ.get("MIME_DIFF_KEEP") != "1":
            shutil.rmtree(data_dir, ignore_errors=True)
            if own_inst:
                shutil.rmtree(env["REF_INST"], ignore_errors=True)

    print("mime_diff: %d of %d messages byte-identical on %d FETCH items each (seed %d)"
          % (matched, len(messages), len(items) + len(BINARY_ITEMS), seed))
    if dovecot_errors:
        print("  %d messages match except BINARY items where Dovecot failed on its own size "
              "check (\"got too little data\" in its log): %s"
              % (len(dovecot_errors), ", ".join(sorted(dovecot_errors))))
    per_item = {}
    for name, bad in sorted(mismatched.items()):
        for item, _, _ in bad:
            per_item[item] = per_item.get(item, 0) + 1
    for item, n in sorted(per_item.items()):
        print("  %-50s differs in %d messages" % (item, n))
    for name, bad in sorted(mismatched.items())[:int(os.environ.get("MIME_DIFF_SHOW", "5"))]:
        for item, expected, got in bad[:3]:
            print("--- %s %s\n  dovecot: %r\n  loft:    %r" % (name, item, expected[:400] if expected else expected, got[:400]))
    return 0 if not mismatched else 1


if __name__ == "__main__":
    sys.exit(main())
