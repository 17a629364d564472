#!/usr/bin/env python3
# Regenerates src/config/registry_table.inc from the installed Dovecot's doveconf.
# The table is a list of facts (setting names, types, defaults, the stock services);
# it is committed, so building Loft never needs Dovecot. Run after a Dovecot upgrade:
#   python3 src/config/gen_registry.py > src/config/registry_table.inc
# Types are learned by feeding doveconf a bad value and classifying its complaint.
import os
import re
import subprocess
import sys
import tempfile

# Dovecot keeps an enum's allowed values in its default string ("a:b:c"); doveconf
# only prints the first, so the rest are listed here (from Dovecot 2.3 settings sources).
ENUM_VALUES = {
    ("passdb", "skip"): "never:authenticated:unauthenticated",
    ("userdb", "skip"): "never:found:notfound",
    ("passdb", "result_success"): "return-ok:return:return-fail:continue:continue-ok:continue-fail",
    ("userdb", "result_success"): "return-ok:return:return-fail:continue:continue-ok:continue-fail",
    ("passdb", "result_failure"): "continue:return:return-ok:return-fail:continue-ok:continue-fail",
    ("userdb", "result_failure"): "continue:return:return-ok:return-fail:continue-ok:continue-fail",
    ("passdb", "result_internalfail"): "continue:return:return-ok:return-fail:continue-ok:continue-fail",
    ("userdb", "result_internalfail"): "continue:return:return-ok:return-fail:continue-ok:continue-fail",
    ("passdb", "auth_verbose"): "default:yes:no",
    ("userdb", "auth_verbose"): "default:yes:no",
    ("", "doveadm_ssl"): "no:ssl:starttls",
    ("", "imap_fetch_failure"): "disconnect-immediately:disconnect-after:no-after",
    ("", "ssl"): "yes:no:required",
    ("", "submission_ssl"): "no:smtps:submissions:starttls",
    ("", "imapc_ssl"): "no:imaps:starttls",
    ("", "mbox_md5"): "apop3d:all",
    ("", "pop3c_ssl"): "no:pop3s:starttls",
    ("", "mail_fsync"): "optimized:never:always",
    ("", "lock_method"): "fcntl:flock:dotlock",
    ("mailbox", "auto"): "no:create:subscribe",
    ("namespace", "type"): "private:shared:public",
    ("namespace", "list"): "yes:no:children",
    ("", "lmtp_hdr_delivery_address"): "final:none:original",
    ("", "pop3_uidl_duplicates"): "allow:rename",
    ("", "pop3_delete_type"): "default:expunge:flag",
    ("", "submission_relay_ssl"): "no:smtps:starttls",
}

# Where a key of each section type is placed to probe it (doveconf syntax around "{KEY}").
CONTEXTS = {
    "": "{KEY}\n",
    "service": "service probe {\n{KEY}\n}\n",
    "inet_listener": "service probe {\ninet_listener l {\n{KEY}\n}\n}\n",
    "unix_listener": "service probe {\nunix_listener u {\n{KEY}\n}\n}\n",
    "fifo_listener": "service probe {\nfifo_listener f {\n{KEY}\n}\n}\n",
    "namespace": "namespace probe {\n{KEY}\n}\n",
    "mailbox": "namespace probe {\nmailbox m {\n{KEY}\n}\n}\n",
    "passdb": "passdb {\ndriver = static\n{KEY}\n}\n",
    "userdb": "userdb {\ndriver = static\n{KEY}\n}\n",
    "metric": "metric probe {\nfilter = event=x\n{KEY}\n}\n",
    "event_exporter": "event_exporter probe {\nformat = json\ntransport = log\nformat_args = time-rfc3339\n{KEY}\n}\n",
}

SHOW_ALL = """service probe {
inet_listener l {
}
unix_listener u {
}
fifo_listener f {
}
}
namespace probe {
mailbox m {
}
}
passdb {
driver = static
}
userdb {
driver = static
}
metric probe {
filter = event=x
}
event_exporter probe {
format = json
transport = log
format_args = time-rfc3339
}
"""


def doveconf(text, *args):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "p.conf")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run(["doveconf", *args, "-c", path], capture_output=True, text=True)
        return r.returncode, r.stdout, r.stderr


def parse_dump(text):
    """Turns doveconf -a output into [(path, key, value)] with path like 'service/x'."""
    out, stack = [], []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        s = line.strip()
        if s == "}":
            stack.pop()
        elif s.endswith("{"):
            stack.append(s[:-1].strip())
        else:
            key, _, value = s.partition(" = ")
            if key.endswith(" ="):
                key, value = key[:-2], ""
            if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
                # doveconf quotes values with '#' or outer spaces, escaping " ' and \.
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            out.append((tuple(stack), key, value))
    return out


def section_type(path):
    return path[-1].split(" ", 1)[0] if path else ""


def classify(ctx, key):
    def try_value(v):
        return doveconf(CONTEXTS[ctx].replace("{KEY}", f"{key} = {v}"), "-a")

    rc, out, err = try_value("x")
    if rc == 0 or not re.search(r" line \d+: ", err):
        return "String"  # accepted, or rejected only by a later consistency check
    if "Invalid boolean" in err:
        return "Bool"
    if "Invalid size" in err:
        return "Size"
    if "Invalid port" in err:
        return "Port"
    if "Invalid value" in err:
        return "Enum"
    if "Invalid time interval" in err:
        rc, out, err = try_value("1500ms")
        return "TimeMsecs" if rc == 0 else "Time"
    if "Invalid number" in err:
        rc, out, err = try_value("010")
        return "UintOct" if re.search(rf"\b{key} = 010\b", out) else "Uint"
    raise SystemExit(f"cannot classify {ctx}/{key}: {err.strip()}")


def cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    rc, empty_all, err = doveconf("", "-a")
    if rc != 0:
        raise SystemExit(err)
    # -s also shows the hidden settings (accepted, but left out of -a unless set).
    rc, empty_hidden, err = doveconf("", "-s")
    if rc != 0:
        raise SystemExit(err)
    rc, sections_all, err = doveconf(SHOW_ALL, "-s")
    if rc != 0:
        raise SystemExit(err)
    version = empty_all.splitlines()[0].lstrip("# ").split(":")[0]

    keys = {}  # (section type, key) -> default
    for path, key, value in parse_dump(empty_hidden):
        if not path:
            keys[("", key)] = value
    shown = {("", key) for path, key, value in parse_dump(empty_all) if not path}
    probe_paths = {
        ("service probe",): "service",
        ("service probe", "inet_listener l"): "inet_listener",
        ("service probe", "unix_listener u"): "unix_listener",
        ("service probe", "fifo_listener f"): "fifo_listener",
        ("namespace probe",): "namespace",
        ("namespace probe", "mailbox m"): "mailbox",
        ("passdb",): "passdb",
        ("userdb",): "userdb",
        ("metric probe",): "metric",
        ("event_exporter probe",): "event_exporter",
    }
    for path, key, value in parse_dump(sections_all):
        if path in probe_paths:
            ctx = probe_paths[path]
            if ctx in ("passdb", "userdb") and key == "driver":
                value = ""
            if ctx == "event_exporter" and key in ("format", "transport"):
                value = ""
            if ctx == "metric" and key == "filter":
                value = ""
            keys[(ctx, key)] = value

    rows = []
    for (ctx, key), default in sorted(keys.items()):
        typ = classify(ctx, key)
        values = ""
        if typ == "Enum":
            values = ENUM_VALUES.get((ctx, key)) or ENUM_VALUES.get(("", key))
            if values is None:
                raise SystemExit(f"no enum values known for {ctx}/{key}")
        rows.append((ctx, key, typ, default, values, ctx != "" or (ctx, key) in shown))

    # The stock services, as doveconf -a prints them for an empty config.
    lines = empty_all.splitlines()
    services = []
    inside = False
    for line in lines:
        if line.startswith("service "):
            inside = True
        if inside:
            services.append(line)
        if inside and line == "}":
            inside = False

    print(f"// Generated by src/config/gen_registry.py from doveconf {version}: Dovecot's settings")
    print("// (section, name, type, default, enum values, hidden) and its built-in services. Do not edit.")
    print("static constexpr SettingDef kDovecotSettings[] = {")
    for ctx, key, typ, default, values, visible in rows:
        hidden = "false" if visible else "true"
        print(f"    {{{cstr(ctx)}, {cstr(key)}, SettingType::{typ}, {cstr(default)}, {cstr(values)}, {hidden}}},")
    print("};")
    print()
    print("// doveconf -a's view of every built-in service, in dovecot.conf syntax.")
    print('static constexpr std::string_view kDovecotServices = R"DOVECOT(')
    for line in services:
        print(line)
    print(')DOVECOT";')
    print()
    print(f'static constexpr std::string_view kDovecotVersion = {cstr(version)};')


if __name__ == "__main__":
    main()
