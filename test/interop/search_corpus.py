"""Deterministic corpus for the SEARCH/SORT/THREAD differential test.

generate(seed, count) returns a list of dicts: bytes (the message), mtime (INTERNALDATE),
flags (Maildir info letters) and keywords. Messages form reply chains (Message-ID,
References, In-Reply-To, some broken or missing), share subjects with Re:/Fwd:/[list]
decorations, carry dates in several zones (some missing or invalid), encoded words,
MIME alternatives with quoted-printable/base64 and Latin-1 text parts.
"""
import base64
import random

WORDS = ("alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega report "
         "meeting lunch invoice budget draft review notes update hello again").split()
PEOPLE = [("Alice Example", "alice", "example.com"), ("bob", "bob", "example.org"),
          ("Carol Q. Public", "carol", "example.net"), ("", "dave", "example.com"),
          ("M\u00fcller", "mueller", "example.de"), ("Zo\u00eb", "zoe", "example.com"),
          ("eve", "Eve", "Example.COM"), ("Frank", "frank", "mail.example.org")]
SUBJECTS = ["budget meeting", "lunch plans", "quarterly report", "Hello again",
            "invoice 42", "review notes", "caf\u00e9 order", "draft", ""]
ZONES = ["+0000", "-0500", "+0100", "+0930", "-0800", "+1200"]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()


def encode_word(text):
    data = text.encode("utf-8")
    return "=?utf-8?B?%s?=" % base64.b64encode(data).decode()


def header_text(r, text):
    if any(ord(c) > 127 for c in text):
        return encode_word(text)
    return text


def address(r, person):
    name, local, domain = person
    if not name:
        return "%s@%s" % (local, domain)
    shown = header_text(r, name)
    if "." in name and shown == name:
        shown = '"%s"' % name
    return "%s <%s@%s>" % (shown, local, domain)


def date_header(r, when):
    zone = r.choice(ZONES)
    sign = 1 if zone[0] == "+" else -1
    offset = sign * (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60)
    local = when + offset
    days = local // 86400
    secs = local % 86400
    # civil from days (proleptic Gregorian)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y += m <= 2
    weekday = DAYS[(days + 3) % 7]
    return "%s, %d %s %d %02d:%02d:%02d %s" % (weekday, d, MONTHS[m - 1], y, secs // 3600,
                                               secs // 60 % 60, secs % 60, zone)


def body_words(r, n):
    return " ".join(r.choice(WORDS) for _ in range(n))


ODD_DATES = ["2 Jan 06 22:04 GMT", "Sun, 19 Nov 2023 10:00 EST", "19 Nov 2023 23:59:59 PDT",
             "Mon, 20 Nov 2023 00:00:00 +0000 (UTC)", "20 nov 2023 01:02:03 -0000", "Tue, 21 Nov 23 5:06:07 +0200",
             "Sat, 25 Nov 2023 12:00:00 XYZ", "Fri, 1 Dec 2023 24:00:00 +0000", "1 Dec 2023"]
ODD_ADDRESSES = ["undisclosed-recipients:;", "Team: alice@example.com, bob@example.org;",
                 "<@route.example:carol@example.net>", "broken@", "\"Quoted, Name\" <q@example.com>",
                 "=?iso-8859-1?q?J=F6rg?= <jorg@example.de>", "(comment) dave@example.com (Dave)", ""]
ODD_SUBJECTS = ["=?utf-8?q?Re=3A_budget_meeting?=", "Re: [Fwd: lunch plans]", "[a][b] lunch plans",
                "Fwd: Re: FW: draft (fwd) (fwd)", "re:review notes", "Re : draft", "[list]", "[x] ",
                "RE: =?utf-8?b?Y2Fmw6kgb3JkZXI=?=", "\tHello\t again  ", "Re: [list] Re: invoice 42"]


def oddities(r, lines, ids, msgid):
    """Replaces a few headers with awkward but real-world forms."""
    out = []
    for line in lines:
        name = line.split(":", 1)[0].lower() if ":" in line and not line.startswith(" ") else ""
        roll = r.random()
        if name == "date" and roll < 0.3:
            line = "Date: " + r.choice(ODD_DATES)
        elif name in ("from", "to", "cc") and roll < 0.15:
            line = line.split(":", 1)[0] + ": " + r.choice(ODD_ADDRESSES)
        elif name == "subject" and roll < 0.3:
            line = "Subject: " + r.choice(ODD_SUBJECTS)
        elif name == "message-id" and roll < 0.1:
            line = r.choice(["Message-ID: < %s >" % msgid, "Message-ID: %s" % msgid,
                             "Message-ID: <%s> (extra)" % msgid, "Message-ID: <no-at-sign>"])
        out.append(line)
    if ids and r.random() < 0.05:
        # A reference loop: point at a later message's id (it does not exist yet) and back.
        out.insert(1, "References: <m%d.0@corpus.example> <%s>" % (len(ids) + 1, msgid))
    if r.random() < 0.05:
        out.insert(1, "In-Reply-To: Your message of yesterday <%s> (sic)" % (r.choice(ids)[0] if ids else msgid))
    return out


def generate(seed, count):
    r = random.Random(seed)
    base_time = 1700000000
    messages = []
    ids = []
    subjects_of = {}
    for i in range(count):
        when = base_time + r.randrange(0, 40 * 86400)
        mtime = when + r.randrange(-7200, 86400) if r.random() < 0.8 else base_time + r.randrange(0, 40 * 86400)
        msgid = "m%d.%d@corpus.example" % (i, r.randrange(1000))
        refs = []
        parent = None
        if ids and r.random() < 0.55:
            parent = r.choice(ids)
            refs = list(parent[1]) + [parent[0]]
            if r.random() < 0.15 and len(refs) > 1:
                refs.pop(r.randrange(len(refs) - 1))  # a gap in the chain
        if r.random() < 0.05:
            refs = ["lost%d@elsewhere.example" % r.randrange(5)] + refs
        subject = r.choice(SUBJECTS)
        if parent is not None and r.random() < 0.8:
            subject = subjects_of.get(parent[0], subject)
            subject = r.choice(["Re: ", "RE: ", "Fwd: ", "re: Re: ", "[list] Re: ", "Re[2]: ", ""]) + subject
        elif r.random() < 0.15:
            subject = r.choice(["[list] ", "Fw: ", "  ", "[Fwd: "]) + subject + (
                "]" if subject and r.random() < 0.5 else r.choice(["", " (fwd)", "  "]))
        subjects_of[msgid] = subject.replace("Re: ", "").replace("RE: ", "")
        sender = r.choice(PEOPLE)
        to = r.sample(PEOPLE, r.randrange(1, 3))
        lines = []
        lines.append("From: " + address(r, sender))
        if r.random() < 0.95:
            lines.append("To: " + ", ".join(address(r, p) for p in to))
        if r.random() < 0.3:
            lines.append("Cc: " + address(r, r.choice(PEOPLE)))
        if r.random() < 0.1:
            lines.append("Bcc: " + address(r, r.choice(PEOPLE)))
        if subject or r.random() < 0.5:
            lines.append("Subject: " + header_text(r, subject))
        roll = r.random()
        if roll < 0.85:
            lines.append("Date: " + date_header(r, when))
        elif roll < 0.92:
            lines.append("Date: not a date at all")
        if r.random() < 0.93:
            lines.append("Message-ID: <%s>" % msgid)
        elif r.random() < 0.5:
            lines.append("Message-ID: <%s>" % (ids[-1][0] if ids else msgid))  # duplicate id
        if refs:
            if r.random() < 0.7:
                lines.append("References: " + "\n ".join("<%s>" % x for x in refs))
            else:
                lines.append("In-Reply-To: <%s>" % refs[-1])
        if r.random() < 0.2:
            lines.append("X-Priority: %d" % r.randrange(1, 5))
        if r.random() < 0.3:
            lines = oddities(r, lines, ids, msgid)
        if r.random() < 0.1 and messages:
            # Same second as an earlier message: SORT and THREAD must break the tie the same way.
            mtime = messages[-1]["mtime"]
        kind = r.random()
        text = body_words(r, r.randrange(3, 60))
        if kind < 0.6:
            lines.append("")
            lines.append(text)
        elif kind < 0.8:
            latin = text + " gr\u00fc\u00dfe K\u00e4se"
            lines.append("MIME-Version: 1.0")
            lines.append("Content-Type: multipart/alternative; boundary=BOUND")
            lines.append("")
            lines.append("--BOUND")
            lines.append("Content-Type: text/plain; charset=iso-8859-1")
            lines.append("Content-Transfer-Encoding: quoted-printable")
            lines.append("")
            lines.append("".join("=%02X" % b if b > 127 else chr(b) for b in latin.encode("latin-1")))
            lines.append("--BOUND")
            lines.append("Content-Type: text/html; charset=utf-8")
            lines.append("Content-Transfer-Encoding: base64")
            lines.append("")
            lines.append(base64.b64encode(("<p>" + body_words(r, 5) + " secretword</p>").encode()).decode())
            lines.append("--BOUND--")
        elif kind < 0.9:
            lines.append("MIME-Version: 1.0")
            lines.append("Content-Type: message/rfc822")
            lines.append("")
            lines.append("From: inner@example.com")
            lines.append("Subject: =?iso-8859-1?q?inner_K=E4se?=")
            lines.append("Content-Type: text/plain; charset=windows-1252")
            lines.append("Content-Transfer-Encoding: 8bit")
            lines.append("")
            lines.append(text + " innerword")
        else:
            lines.append("MIME-Version: 1.0")
            lines.append("Content-Type: multipart/mixed; boundary=MIX")
            lines.append("")
            lines.append("--MIX")
            lines.append("")
            lines.append(text)
            lines.append("--MIX")
            lines.append("Content-Type: application/octet-stream")
            lines.append("Content-Transfer-Encoding: base64")
            lines.append("")
            lines.append(base64.b64encode(b"binaryword hidden " + bytes([r.randrange(256)])).decode())
            lines.append("--MIX--")
        data = ("\n".join(lines) + "\n").encode("utf-8")
        if b"windows-1252" in data:
            data = data.replace(b"innerword", b"innerword \x80uro caf\xe9")
        flags = "".join(f for f in "DFRST" if r.random() < 0.3)
        keywords = [k for k in ("$Work", "todo") if r.random() < 0.2]
        messages.append({"bytes": data, "mtime": mtime, "flags": flags, "keywords": keywords})
        ids.append((msgid, refs))
    return messages
