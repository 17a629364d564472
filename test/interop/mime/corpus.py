"""Deterministic corpus of varied RFC 5322/MIME messages for the differential test.

generate(seed, count) returns a list of (name, bytes). The same seed always gives the
same messages. The mix covers plain mail, address and subject oddities, single-part
MIME with every Content-* field, nested multiparts, message/rfc822 and digests, broken
MIME, RFC 2047/2231 encodings, 8-bit and NUL bytes, long lines, missing final newlines,
CRLF and mixed line ends, and huge headers.
"""
import base64
import random

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi "
         "omicron pi rho sigma tau upsilon phi chi psi omega report meeting lunch "
         "invoice budget draft review notes update hello again").split()
NAMES = ["Joe Q. Public", "Alice", "Bob Smith", "O'Brien, Pat", "Dr. Who", "M\u00fcller",
         "\u5c71\u7530 \u592a\u90ce", "Jos\u00e9", "Anne \"The Hammer\" Lee", "back\\slash"]
DOMAINS = ["example.com", "example.org", "mail.example.net", "[192.0.2.1]", "sub.domain.example"]


def words(r, n):
    return " ".join(r.choice(WORDS) for _ in range(n))


def encoded_word(r, text):
    data = text.encode("utf-8")
    charset = r.choice(["utf-8", "UTF-8", "iso-8859-1"])
    if charset == "iso-8859-1":
        data = text.encode("latin-1", "replace")
    if r.random() < 0.5:
        return "=?%s?B?%s?=" % (charset, base64.b64encode(data).decode())
    out = []
    for b in data:
        c = chr(b)
        if c.isalnum():
            out.append(c)
        elif c == " ":
            out.append("_")
        else:
            out.append("=%02X" % b)
    return "=?%s?%s?%s?=" % (charset, r.choice("Qq"), "".join(out))


def address(r):
    local = r.choice(["joe", "a.b", "first.last", "x_y", "\"quoted local\"", "o'neil", "u+tag"])
    domain = r.choice(DOMAINS)
    kind = r.randrange(9)
    name = r.choice(NAMES)
    if kind == 0:
        return "%s@%s" % (local, domain)
    if kind == 1:
        return "\"%s\" <%s@%s>" % (name.replace("\\", "\\\\").replace('"', '\\"'), local, domain)
    if kind == 2:
        return "%s <%s@%s>" % (encoded_word(r, name), local, domain)
    if kind == 3:
        return "%s@%s (%s)" % (local, domain, name.replace("(", "").replace(")", ""))
    if kind == 4:
        return "<@relay.example,@hop.example:%s@%s>" % (local, domain)
    if kind == 5:
        return "%s <%s@%s>" % (r.choice(["Joe", "Mary Ann", "A. B. C.", "x.y"]), local, domain)
    if kind == 6:
        return name + " <" + local + "@" + domain + ">"  # may carry raw 8-bit
    if kind == 7:
        return "%s@%s" % (local, domain)
    return "<%s@%s>" % (local, domain)


BROKEN_ADDRESSES = [
    "", " ", "foo", "foo bar", "<>", "@example.com", "user@", "user@example.com,",
    ",user@example.com", "\"unterminated <a@b.c>", "a@b.c (unterminated comment",
    "<a@b.c", "a@b.c>", "Group: ;", "undisclosed-recipients:;", "Team: a@b.c, d@e.f;",
    "Team: a@b.c, d@e.f", "List: <x@y.z>;, other@example.com", ":;", "a@b.c;d@e.f",
    "\"\" <a@b.c>", "<a@[1.2.3.4]>", "a@[broken", "(only comment)", "a @ b . c",
    "a..b@c.d", ".a@b.c", "a.@b.c", "<@route:a@b.c>", "<@route a@b.c>", "Name <>",
    "x@y\tz", "first@a.b, , second@c.d", "\"a\\\"b\" <c@d.e>", "=?utf-8?q?broken <a@b.c>",
    "a@b.c (c1) (c2)", "(lead) a@b.c", "Mu\u00f1oz <m@example.com>", "a\u0000b@c.d",
]


def header_lines(r, extra=None, no_mime=False, nl="\n"):
    lines = []
    if r.random() < 0.9:
        lines.append("From: " + r.choice([address(r), address(r) + ", " + address(r)]))
    if r.random() < 0.1:
        lines.append("From: " + address(r))
    if r.random() < 0.3:
        lines.append("Sender: " + address(r))
    if r.random() < 0.3:
        lines.append("Reply-To: " + address(r))
    if r.random() < 0.9:
        tos = [address(r) for _ in range(r.randrange(1, 4))]
        lines.append("To: " + (",\n\t" if r.random() < 0.3 else ", ").join(tos))
    if r.random() < 0.3:
        lines.append("Cc: " + ", ".join(address(r) for _ in range(r.randrange(1, 3))))
    if r.random() < 0.1:
        lines.append("Bcc: " + address(r))
    if r.random() < 0.9:
        lines.append("Subject: " + subject(r))
    if r.random() < 0.85:
        lines.append("Date: " + r.choice([
            "Mon, 01 Jan 2024 10:00:00 +0000", "Tue, 2 Feb 2021 03:04:05 -0800 (PST)",
            "31 Dec 1999 23:59:59 GMT", "garbage date", "", "Wed,\n 3 Mar 2021 01:02:03 +0100"]))
    if r.random() < 0.8:
        lines.append("Message-ID: " + r.choice([
            "<%d.%d@example.com>" % (r.randrange(10**6), r.randrange(10**6)), "<a@b>",
            "no-brackets@example.com", "<multi@line>\n <continued@x>", ""]))
    if r.random() < 0.3:
        lines.append("In-Reply-To: <%d@example.com>" % r.randrange(10**6))
    if r.random() < 0.2:
        lines.append("References: <1@x> <2@y>\n\t<3@z>")
    if r.random() < 0.2:
        lines.append("X-Mailer: loft corpus %d" % r.randrange(100))
    if extra:
        lines.extend(extra)
    if not no_mime and r.random() < 0.85:
        lines.insert(r.randrange(len(lines) + 1), "MIME-Version: 1.0")
    return nl.join(lines) + nl


def subject(r):
    kind = r.randrange(12)
    if kind == 0:
        return encoded_word(r, r.choice(NAMES) + " " + words(r, 2))
    if kind == 1:
        return words(r, 3) + " " + encoded_word(r, "\u00e4\u00f6\u00fc") + " " + encoded_word(r, "x")
    if kind == 2:
        return "  leading and trailing  "
    if kind == 3:
        return words(r, 4) + "\n\t" + words(r, 3)
    if kind == 4:
        return "tab\tinside  double  spaces"
    if kind == 5:
        return "quote \" and backslash \\ here"
    if kind == 6:
        return "Gr\u00fc\u00dfe aus K\u00f6ln"  # raw 8-bit after encoding
    if kind == 7:
        return ""
    if kind == 8:
        return "Re: Fwd: " + words(r, 3)
    if kind == 9:
        return "\"\"\"\"\"many quotes\"\"\""
    if kind == 10:
        return words(r, 60)  # a long unfolded line
    return words(r, r.randrange(1, 8))


def text_body(r, nl="\n", lines=None):
    n = lines if lines is not None else r.randrange(0, 12)
    return "".join(words(r, r.randrange(0, 14)) + nl for _ in range(n))


def content_headers(r, ctype, nl="\n"):
    hs = ["Content-Type: " + ctype]
    if r.random() < 0.3:
        hs.append("Content-Transfer-Encoding: " + r.choice(
            ["7bit", "8bit", "quoted-printable", "base64", "BASE64", "binary", "x-uuencode",
             " base64 ", "base64 (comment)", "quoted-printable garbage", ""]))
    if r.random() < 0.2:
        hs.append("Content-ID: <part%d@example.com>" % r.randrange(1000))
    if r.random() < 0.2:
        hs.append("Content-Description: " + r.choice(
            [words(r, 3), "multi\n line description", "Beschreibung \u00fc", "\"quoted\""]))
    if r.random() < 0.25:
        hs.append("Content-Disposition: " + r.choice([
            "attachment", "inline", "attachment; filename=report.pdf",
            "attachment; filename=\"a b c.txt\"; size=1234",
            "inline; filename*=utf-8''%E2%82%AC%20rates.txt",
            "attachment; filename*0*=utf-8''part%20one; filename*1=\" and two\"",
            "attachment; filename*1=\"second\"; filename*0=\"first\"",
            "attachment; filename*0=\"a\"; filename*2=\"gap\"",
            "ATTACHMENT; FILENAME=UPPER.TXT", "attachment;", "; filename=x",
            "attachment; filename=\"unterminated", "attachment; filename==?utf-8?b?w6Q=?="]))
    if r.random() < 0.1:
        hs.append("Content-Language: " + r.choice(["en", "en, de", "en-US,\n fr", "(c) de", ""]))
    if r.random() < 0.1:
        hs.append("Content-Location: " + r.choice(["http://example.com/x", "a\n b", ""]))
    if r.random() < 0.1:
        hs.append("Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==")
    r.shuffle(hs) if r.random() < 0.2 else None
    return nl.join(hs) + nl


SINGLE_TYPES = [
    "text/plain", "text/plain; charset=us-ascii", "text/plain; charset=\"utf-8\"",
    "text/html; charset=iso-8859-1", "TEXT/PLAIN; CHARSET=UTF-8; format=flowed",
    "application/octet-stream", "application/pdf; name=\"report.pdf\"", "image/png",
    "text/plain; charset=utf-8 (comment)", "text/plain;charset=utf-8;delsp=yes",
    "text", "text/", "/plain", "garbage", "text/plain; charset", "text/plain; =x",
    "text/plain; charset=\"unterminated", "application/x-thing; a=1; a=2; b*=us-ascii'en'x%20y",
    "message/delivery-status", "multipart/mixed", "multipart/alternative; boundary=",
    "text/plain; name*0=\"long\"; name*1=\"name\"", "text/plain; charset=\"a\\\"b\"",
    "text/plain; p1=\"\\\\\\\\\\\\\\\\\\\\\"", "audio/x; param=\"8bit \u00e9\"", " text/plain ",
    "text/plain ; charset = utf-8", "text/plain; charset=utf-8; charset=latin1",
    "application/octet-stream; name==?utf-8?B?w6TDtsO8LnR4dA==?=",
]


def single_part(r, nl):
    ctype = r.choice(SINGLE_TYPES)
    head = header_lines(r, nl=nl) + content_headers(r, ctype, nl)
    return head + nl + text_body(r, nl)


def boundary_text(r, depth):
    return r.choice(["b%d" % depth, "=_Part_%d_%d" % (depth, r.randrange(1000)),
                     "----=_NextPart_000_%04d" % r.randrange(10000), "simple boundary",
                     "abc", "abcd", "x" * 75, "y" * 90, "'()+_,-./:=?"])


def quote_boundary(b):
    if all(c.isalnum() or c in "-_" for c in b) and b:
        return b
    return '"' + b + '"'


def mime_entity(r, depth, nl, in_digest=False):
    """A body part: its MIME header + blank line + body (no trailing boundary newline)."""
    choice = r.random()
    if depth < 4 and choice < 0.25:
        return multipart(r, depth + 1, nl)
    if depth < 4 and choice < 0.35:
        inner = message(r, depth + 1, nl)
        return "Content-Type: message/rfc822" + nl + nl + inner
    if in_digest and choice < 0.6:
        return nl + message(r, depth + 1, nl) if r.random() < 0.5 else \
            "Content-Type: message/rfc822" + nl + nl + message(r, depth + 1, nl)
    ctype = r.choice(SINGLE_TYPES[:12])
    head = content_headers(r, ctype, nl)
    body = text_body(r, nl)
    if "base64" in head.lower() and r.random() < 0.7:
        raw = bytes(r.randrange(256) for _ in range(r.randrange(0, 200)))
        enc = base64.encodebytes(raw).decode().replace("\n", nl)
        body = enc
    if r.random() < 0.15:
        head = ""  # no MIME header at all: defaults apply
    return head + nl + body


def multipart(r, depth, nl):
    b = boundary_text(r, depth)
    subtype = r.choice(["mixed", "alternative", "related", "digest", "MIXED", "report", "signed"])
    head = "Content-Type: multipart/%s; boundary=%s" % (subtype, quote_boundary(b))
    if r.random() < 0.2:
        head = "Content-Type: multipart/%s;\n\tboundary=\"%s\"" % (subtype, b)
    head += nl
    if r.random() < 0.1:
        head += "Content-Disposition: inline" + nl
    parts = []
    for _ in range(r.randrange(0, 4)):
        parts.append(mime_entity(r, depth, nl, in_digest=(subtype == "digest")))
    out = head + nl
    if r.random() < 0.5:
        out += text_body(r, nl, r.randrange(1, 3))  # preamble
    for p in parts:
        out += "--" + b + (r.choice(["", "  ", "\t"]) if r.random() < 0.1 else "") + nl + p
        if not p.endswith(nl):
            out += nl
    ending = r.random()
    if ending < 0.75:
        out += "--" + b + "--" + nl
        if r.random() < 0.4:
            out += text_body(r, nl, r.randrange(1, 3))  # epilogue
    elif ending < 0.85:
        out += "--" + b + "--"  # closing boundary without newline
    # otherwise: the closing boundary is missing
    return out


def message(r, depth, nl):
    if depth < 4 and r.random() < 0.45:
        return header_lines(r, nl=nl) + multipart(r, depth + 1, nl)
    return single_part(r, nl)


def special(r, i, nl):
    """Hand-made broken or extreme shapes, cycled through."""
    kinds = [
        lambda: "Subject: header only, no body" + nl + "From: a@b.c",
        lambda: "Subject: header only with newline" + nl,
        lambda: nl + "Body: without any header" + nl,
        lambda: "no colon line" + nl + "Subject: x" + nl + nl + "body" + nl,
        lambda: " leading space: value" + nl + "Subject: s" + nl + nl + "b",
        lambda: header_lines(r, nl=nl) + nl + "no final newline",
        lambda: "Content-Type: text/plain" + nl + "Content-Transfer-Encoding: base64" + nl + nl + "aGVsbG8=" + nl,
        lambda: "Content-Transfer-Encoding: base64" + nl + nl + "aGVsbG8=" + nl,  # no MIME: ignored
        lambda: "MIME-Version: 1.0" + nl + "Content-Type: multipart/mixed; boundary=zz" + nl + nl,
        lambda: "MIME-Version: 1.0" + nl + "Content-Type: multipart/mixed; boundary=zz" + nl,
        lambda: "MIME-Version: 1.0" + nl + "Content-Type: multipart/mixed" + nl + nl + "--zz" + nl + nl + "x" + nl,
        lambda: "MIME-Version: 1.0" + nl + "Content-Type: multipart/mixed; boundary=zz" + nl + nl +
                "--zz" + nl + "Content-Type: text/plain" + nl + "--zz" + nl + nl + "y" + nl + "--zz--" + nl,
        lambda: "MIME-Version: 1.0" + nl + "Content-Type: multipart/mixed; boundary=zz" + nl + nl +
                "--zz" + nl + "Content-Type: text/plain" + nl + nl + "--zz--",
        lambda: "MIME-Version: 1.0" + nl + "Content-Type: multipart/mixed; boundary=zz" + nl + nl +
                "--zz" + nl + "Content-Type: message/rfc822" + nl + nl + "Subject: inner" + nl +
                "--zz" + nl + nl + "after" + nl + "--zz--" + nl,
        lambda: "MIME-Version: 1.0" + nl + "Content-Type: multipart/mixed; boundary=zz" + nl + nl +
                "--zz" + nl + "Content-Type: message/rfc822" + nl + nl + nl + "--zz--" + nl,
        lambda: "MIME-Version: 1.0" + nl + "Content-Type: multipart/mixed; boundary=\"a\"" + nl + nl +
                "--a" + nl + "Content-Type: multipart/mixed; boundary=\"ab\"" + nl + nl + "--ab" + nl +
                nl + "inner" + nl + "--a" + nl + nl + "outer" + nl + "--ab--" + nl + "--a--" + nl,
        lambda: "MIME-Version: 1.0" + nl + "Content-Type: multipart/mixed; boundary=\"same\"" + nl + nl +
                "--same" + nl + "Content-Type: multipart/alternative; boundary=\"same\"" + nl + nl +
                "--same" + nl + nl + "x" + nl + "--same--" + nl + "--same--" + nl,
        lambda: "MIME-Version: 1.0" + nl + "Content-Type: multipart/digest; boundary=d" + nl + nl +
                "--d" + nl + nl + "Subject: digest 1" + nl + nl + "b1" + nl + "--d" + nl +
                "Content-Type: text/plain" + nl + nl + "b2" + nl + "--d--" + nl,
        lambda: "MIME-Version: 1.0" + nl + "Content-Type: message/rfc822" + nl + nl +
                "MIME-Version: 1.0" + nl + "Content-Type: message/rfc822" + nl + nl + "Subject: deep" + nl + nl + "x",
        lambda: "Content-Type: multipart/mixed; boundary=q" + nl + nl + "--q" + nl + "Content-Type: text/plain" +
                nl + nl + "crlf?" + nl + "--q--" + nl,
        lambda: "Subject: nul\u0000byte" + nl + "From: a\u0000b <x@y.z>" + nl + nl + "body\u0000nul" + nl,
        lambda: "Subject: lone\rcr" + nl + nl + "a\rb" + nl + "\r" + nl,
        lambda: "X-Long: " + "x" * 20000 + nl + "Subject: " + words(r, 3000) + nl + nl + "huge header lines" + nl,
        lambda: "".join("Received: from host%d by relay%d; Mon, 1 Jan 2024 00:00:%02d +0000%s" %
                        (k, k, k % 60, nl) for k in range(400)) + "Subject: many received" + nl + nl + "b" + nl,
        lambda: "To: " + ("," + nl + " ").join("user%d@example.com" % k for k in range(600)) + nl +
                "Subject: huge to" + nl + nl + "b" + nl,
        lambda: "Subject: long body line" + nl + nl + ("z" * 12000) + nl + ("y" * 3000),
        lambda: "Content-Type: text/plain; charset=utf-8" + nl + "MIME-Version: 1.0" + nl + nl +
                "8-bit body: \u00e4\u00f6\u00fc \u20ac" + nl,
        lambda: "From: " + ", ".join(BROKEN_ADDRESSES[k] for k in range(0, 14)) + nl + nl,
        lambda: "From: " + ", ".join(BROKEN_ADDRESSES[k] for k in range(14, 28)) + nl + nl,
        lambda: "From: " + ", ".join(BROKEN_ADDRESSES[k] for k in range(28, len(BROKEN_ADDRESSES))) + nl + nl,
        lambda: "MIME-Version: 1.0" + nl + "Content-Type: multipart/mixed; boundary=" + "L" * 100 + nl + nl +
                "--" + "L" * 100 + nl + nl + "long boundary" + nl + "--" + "L" * 100 + "--" + nl,
        lambda: "MIME-Version: 1.0" + nl + "Content-Type: multipart/mixed; boundary=e" + nl + nl +
                "--e" + nl + "--e" + nl + "--e--" + nl,
        lambda: "Content-Type: text/plain" + nl + "Content-Type: text/html" + nl +
                "Content-Disposition: inline" + nl + "Content-Disposition: attachment; filename=second" + nl + nl + "x",
        lambda: "Subject: =?utf-8?B?4pyTIGNoZWNr?= =?utf-8?Q?_and_more?=" + nl +
                "From: =?iso-8859-1?q?J=F6rg?= <j@example.de>" + nl + nl,
        lambda: deep_multipart(110, nl),
        lambda: deep_rfc822(105, nl),
        lambda: many_parts(10050, nl),
        lambda: deep_multipart(98, nl),
    ]
    return kinds[i % len(kinds)]()


def deep_multipart(depth, nl):
    out = "MIME-Version: 1.0" + nl
    for d in range(depth):
        out += "Content-Type: multipart/mixed; boundary=\"lvl%d\"" % d + nl + nl + "--lvl%d" % d + nl
    out += "Content-Type: text/plain" + nl + nl + "deep" + nl
    for d in reversed(range(depth)):
        out += "--lvl%d--" % d + nl
    return out


def deep_rfc822(depth, nl):
    out = ""
    for d in range(depth):
        out += "Subject: level %d" % d + nl + "Content-Type: message/rfc822" + nl + nl
    return out + "Subject: bottom" + nl + nl + "deep body" + nl


def many_parts(count, nl):
    out = "MIME-Version: 1.0" + nl + "Content-Type: multipart/mixed; boundary=m" + nl + nl
    for k in range(count):
        out += "--m" + nl + nl + "p%d" % k + nl
    return out + "--m--" + nl


def mutate(r, data):
    """Damages a message the way broken software and truncation do."""
    lines = data.split(b"\n")
    for _ in range(r.randrange(1, 4)):
        op = r.randrange(7)
        k = r.randrange(len(lines))
        if op == 0 and len(lines) > 1:
            del lines[k]  # drop a line (a boundary, a blank line, a header...)
        elif op == 1:
            lines.insert(k, lines[r.randrange(len(lines))])  # duplicate a line
        elif op == 2:
            return b"\n".join(lines)[:r.randrange(len(data) + 1)]  # truncate
        elif op == 3:
            lines.insert(k, r.choice([b"--", b"----", b"--=", b"--b1", b"--b1--", b"--abc", b" ", b"\t"]))
        elif op == 4:
            lines[k] = lines[k] + b"\r"
        elif op == 5:
            lines[k] = lines[k][:r.randrange(len(lines[k]) + 1)]
        else:
            lines.insert(k, b"")
    return b"\n".join(lines)


def generate(seed=20261130, count=600):
    r = random.Random(seed)
    out = []
    n_special = 38 * 2
    for i in range(count):
        nl = "\r\n" if r.random() < 0.12 else "\n"
        if i < n_special:
            text = special(r, i, nl)
        else:
            kind = r.random()
            if kind < 0.2:
                text = header_lines(r, nl=nl, no_mime=True) + nl + text_body(r, nl)
            elif kind < 0.45:
                text = single_part(r, nl)
            else:
                text = message(r, 0, nl)
                if not text.startswith("Content-Type") and "multipart" not in text[:2000]:
                    pass
        data = text.encode("utf-8")
        if i >= n_special and r.random() < 0.25:
            data = mutate(r, data)
        if r.random() < 0.05 and data.endswith(b"\n"):
            data = data.rstrip(b"\r\n")  # no final newline
        if r.random() < 0.03:
            data = data.replace(b"\n", b"\r\n", r.randrange(1, 5))  # mixed line ends
        out.append(("msg%04d" % i, data))
    return out
