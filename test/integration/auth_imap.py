#!/usr/bin/env python3
"""Every SASL mechanism and password scheme through Loft's IMAP, as Dovecot does it:
the AUTH= list, LOGINDISABLED and PRIVACYREQUIRED off loopback, login_trusted_networks,
SASL-IR, cancel and bad base64, CRAM-MD5/DIGEST-MD5/SCRAM against stored hashes
(made by loftadm pw and, where installed, doveadm pw), master users, and the auth
and imap-login log lines (auth_verbose, auth_verbose_passwords)."""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.join(os.environ.get("LOFT_SRCDIR", os.path.join(os.path.dirname(__file__), "../..")), "test")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "integration"))
from loft_harness import BUILDDIR, MAIL_GID, MAIL_UID, Loft, TestCounter  # noqa: E402
from auth_imap_client import (ImapClient, cram_md5_responder, digest_md5_responder,  # noqa: E402
                              login_responder, plain_initial, scram_responder)

PASSWORD = "secret"
MASTER_PASSWORD = "m4ster"
MECHANISMS = ["PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"]
# Schemes that hash the password one way: only PLAIN and LOGIN can check them.
ONE_WAY = ["CRYPT", "MD5-CRYPT", "SHA256-CRYPT", "SHA512-CRYPT", "BLF-CRYPT", "PLAIN-MD5", "LDAP-MD5", "SHA",
           "SHA256", "SHA512", "SSHA", "SSHA256", "SSHA512", "SMD5", "PBKDF2", "ARGON2I", "ARGON2ID"]
# Stored scheme -> mechanisms beyond PLAIN/LOGIN that can use it.
CHALLENGE_SCHEMES = {"PLAIN": ["CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"],
                     "CLEAR": ["CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"],
                     "CRAM-MD5": ["CRAM-MD5"], "DIGEST-MD5": ["DIGEST-MD5"],
                     "SCRAM-SHA-1": ["SCRAM-SHA-1"], "SCRAM-SHA-256": ["SCRAM-SHA-256"]}


def make_hash(tool, scheme, user):
    if tool == "loftadm":
        command = [os.path.join(BUILDDIR, "loftadm"), "pw", "-s", scheme, "-p", PASSWORD, "-u", user]
    else:
        command = ["doveadm", "-c", "/dev/null", "pw", "-s", scheme, "-p", PASSWORD, "-u", user]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        return None
    return result.stdout.strip()


def responder(mechanism, user, password):
    if mechanism == "LOGIN":
        return login_responder(user, password)
    if mechanism == "CRAM-MD5":
        return cram_md5_responder(user, password)
    if mechanism == "DIGEST-MD5":
        return digest_md5_responder(user, password)
    if mechanism == "SCRAM-SHA-1":
        return scram_responder(user, password, "sha1")
    if mechanism == "SCRAM-SHA-256":
        return scram_responder(user, password, "sha256")
    raise ValueError(mechanism)


SOURCES = (f"127.0.{4 + n // 250}.{1 + n % 250}" for n in range(1000))  # 127.0.4.0/22


def try_login(port, mechanism, user, password, source=None):
    # Each attempt from its own address by default: Dovecot's auth penalty (4, 8, 15 s
    # after failures from one IP) would otherwise slow the many wrong passwords down.
    client = ImapClient(port, source or next(SOURCES))
    try:
        if mechanism == "PLAIN":
            reply = client.authenticate("PLAIN", lambda challenge: b"", initial=plain_initial(user, password))
            check = None
        else:
            check = responder(mechanism, user, password)
            reply = client.authenticate(mechanism, check)
        ok = " OK " in reply
        if ok and mechanism.startswith("SCRAM"):
            ok = check.state.get("verified", False)  # the server proved it knows the key too
        if ok and mechanism == "DIGEST-MD5":
            ok = check.state.get("rspauth_ok", False)
        if ok:
            client.command("LOGOUT")
        return ok, reply
    finally:
        client.close()


def main():
    users = []  # (name, scheme, tool)
    tools = ["loftadm"] + (["doveadm"] if shutil.which("doveadm") else [])
    schemes = list(CHALLENGE_SCHEMES) + ONE_WAY
    for tool in tools:
        for scheme in schemes:
            users.append((f"{tool[:4]}-{scheme.lower()}", scheme, tool))
    names = [name for name, _, _ in users] + ["alice", "bob"]
    loft = Loft(users=names, extra_config=f"""
auth_mechanisms = plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256
auth_verbose = yes
auth_verbose_passwords = sha1:8
auth_master_user_separator = *
login_trusted_networks = 127.0.0.3 127.0.4.0/22
""")
    lines = []
    made = {}
    for name, scheme, tool in users:
        hashed = make_hash(tool, scheme, name)
        if hashed is None:
            continue  # this tool does not know the scheme (e.g. doveadm without argon2)
        if not hashed.startswith("{"):
            hashed = "{" + scheme + "}" + hashed
        made[name] = scheme
        lines.append(f"{name}:{hashed}:{MAIL_UID}:{MAIL_GID}::{loft.homes[name]}::")
    for name in ("alice", "bob"):
        lines.append(f"{name}:{{PLAIN}}{PASSWORD}:{MAIL_UID}:{MAIL_GID}::{loft.homes[name]}::")
    with open(os.path.join(loft.dir, "users"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(loft.dir, "masters"), "w") as f:
        f.write("admin:{SHA256-CRYPT}" + make_hash("loftadm", "SHA256-CRYPT", "admin").split("}", 1)[-1] + "\n")
        # Challenge-response mechanisms need a master password they can use.
        f.write(f"plainmaster:{{PLAIN}}{MASTER_PASSWORD}\n")
    with open(loft.config_path) as f:
        config = f.read()
    config = config.replace("passdb {", f"passdb {{\n  driver = passwd-file\n  args = {loft.dir}/masters\n"
                            "  master = yes\n}\npassdb {", 1)
    with open(loft.config_path, "w") as f:
        f.write(config)

    print(f"{len(made)} users, one per scheme and tool: " + " ".join(sorted(made)))
    t = TestCounter("auth_imap")
    loft.start()
    try:
        port = loft.imap_port
        # What is offered, by connection.
        local = ImapClient(port)
        caps = local.capabilities()
        t.check([c for c in caps if c.startswith("AUTH=")] == ["AUTH=" + m for m in MECHANISMS],
                f"loopback offers every configured mechanism in order: {caps}")
        t.check("LOGINDISABLED" not in caps and "SASL-IR" in caps, "loopback: SASL-IR, no LOGINDISABLED")
        t.check("AUTH=PLAIN" in local.greeting, "the greeting carries the same capabilities")
        local.close()

        remote = ImapClient(port, "127.0.0.2")
        caps = remote.capabilities()
        t.check("LOGINDISABLED" in caps and "AUTH=PLAIN" not in caps and "AUTH=LOGIN" not in caps and
                "AUTH=CRAM-MD5" in caps, f"insecure client: LOGINDISABLED, no plaintext mechanisms: {caps}")
        reply = remote.command(f"LOGIN alice {PASSWORD}")
        t.check(reply[0].startswith("* BAD [ALERT] Plaintext authentication not allowed") and
                reply[-1].endswith("NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure "
                                   "(SSL/TLS) connections."), f"LOGIN refused as Dovecot does: {reply}")
        reply = remote.authenticate("PLAIN", lambda c: b"", initial=plain_initial("alice", PASSWORD))
        t.check(reply.endswith("NO [PRIVACYREQUIRED] Plaintext authentication disabled."),
                f"AUTHENTICATE PLAIN refused: {reply}")
        remote.command("LOGOUT")
        remote.close()
        ok, reply = try_login(port, "CRAM-MD5", "alice", PASSWORD, source="127.0.0.2")
        t.check(ok, f"CRAM-MD5 works from an insecure client: {reply}")
        trusted = ImapClient(port, "127.0.0.3")
        t.check("AUTH=PLAIN" in trusted.capabilities(), "login_trusted_networks counts as secured")
        reply = trusted.command(f"LOGIN alice {PASSWORD}")
        t.check(" OK " in reply[-1], f"LOGIN from a trusted network: {reply}")
        trusted.close()

        # Every stored scheme with every mechanism that can use it, good and bad passwords.
        for name, scheme in sorted(made.items()):
            for mechanism in MECHANISMS:
                usable = mechanism in ("PLAIN", "LOGIN") or mechanism in CHALLENGE_SCHEMES.get(scheme, [])
                ok, reply = try_login(port, mechanism, name, PASSWORD)
                t.check(ok == usable, f"{name} ({scheme}) via {mechanism}: {'accepted' if usable else 'refused'}"
                        f" ({reply})")
                if usable:
                    ok, reply = try_login(port, mechanism, name, "wrong")
                    t.check(not ok and "NO [AUTHENTICATIONFAILED]" in reply,
                            f"{name} ({scheme}) via {mechanism}: wrong password refused ({reply})")
        ok, _ = try_login(port, "SCRAM-SHA-256", "nobody", PASSWORD)
        t.check(not ok, "SCRAM for an unknown user fails")

        # SASL-IR, cancel, bad base64, unknown mechanism.
        client = ImapClient(port)
        reply = client.authenticate("PLAIN", lambda c: None)
        t.check(reply.endswith("BAD Authentication aborted by client."), f"'*' cancels: {reply}")
        reply = client.authenticate("PLAIN", lambda c: "!!!")
        t.check(reply.endswith("NO [ALERT] Invalid base64 in response"), f"bad base64 continuation: {reply}")
        tag = client.next_tag()
        client.send(f"{tag} AUTHENTICATE PLAIN !!!")
        reply = client.read_until(tag)[-1]
        t.check(reply == f"{tag} BAD Invalid base64 data in initial response", f"bad base64 initial: {reply}")
        reply = client.command("AUTHENTICATE X-UNKNOWN")[-1]
        t.check(reply.endswith("NO [ALERT] Unsupported authentication mechanism."), f"unknown mechanism: {reply}")
        reply = client.authenticate("PLAIN", lambda c: plain_initial("bob", PASSWORD))
        t.check(" OK " in reply and "[CAPABILITY " in reply, f"PLAIN without SASL-IR after the errors: {reply}")
        client.close()

        # Master users: LOGIN user*master and PLAIN authzid; the session is the target's.
        client = ImapClient(port)
        reply = client.command(f"LOGIN alice*admin {PASSWORD}")[-1]
        t.check(" OK " in reply, f"LOGIN alice*admin with the master password: {reply}")
        client.command("LOGOUT")
        client.close()
        client = ImapClient(port, next(SOURCES))
        reply = client.authenticate("PLAIN", lambda c: b"", initial=plain_initial("admin", PASSWORD, "bob"))
        t.check(" OK " in reply, f"PLAIN authzid=bob authcid=admin: {reply}")
        client.close()
        # The other mechanisms, as Dovecot 2.3 takes them (measured): the authzid of
        # DIGEST-MD5 and SCRAM, user*master with CRAM-MD5 and SCRAM, not with DIGEST-MD5.
        master_cases = [
            ("CRAM-MD5 alice*plainmaster", "CRAM-MD5", cram_md5_responder("alice*plainmaster", MASTER_PASSWORD), True),
            ("DIGEST-MD5 authzid=alice", "DIGEST-MD5",
             digest_md5_responder("plainmaster", MASTER_PASSWORD, authzid="alice"), True),
            ("DIGEST-MD5 alice*plainmaster", "DIGEST-MD5",
             digest_md5_responder("alice*plainmaster", MASTER_PASSWORD), False),
            ("SCRAM-SHA-256 a=alice", "SCRAM-SHA-256",
             scram_responder("plainmaster", MASTER_PASSWORD, authzid="alice"), True),
            ("SCRAM-SHA-1 a=bob", "SCRAM-SHA-1",
             scram_responder("plainmaster", MASTER_PASSWORD, "sha1", authzid="bob"), True),
            ("SCRAM-SHA-256 alice*plainmaster", "SCRAM-SHA-256",
             scram_responder("alice*plainmaster", MASTER_PASSWORD), True),
            ("SCRAM-SHA-256 a=bob by a normal user", "SCRAM-SHA-256",
             scram_responder("alice", PASSWORD, authzid="bob"), False),
            ("CRAM-MD5 alice*plainmaster, wrong password", "CRAM-MD5",
             cram_md5_responder("alice*plainmaster", "wrong"), False),
        ]
        for what, mechanism, responder, accepted in master_cases:
            client = ImapClient(port, next(SOURCES))
            reply = client.authenticate(mechanism, responder)
            t.check((" OK " in reply) == accepted, f"master user via {what}: {reply}")
            client.close()
        client = ImapClient(port, next(SOURCES))
        reply = client.authenticate("PLAIN", lambda c: b"", initial=plain_initial("admin", "wrong", "bob"))
        t.check("NO [AUTHENTICATIONFAILED]" in reply, f"master with a wrong password: {reply}")
        reply = client.authenticate("PLAIN", lambda c: b"", initial=plain_initial("alice", PASSWORD, "bob"))
        t.check("NO [AUTHENTICATIONFAILED]" in reply, f"a normal user cannot act as another: {reply}")
        client.close()

        # User-name rules on the IMAP path: auth_username_format (%Lu) and auth_username_chars.
        client = ImapClient(port)
        reply = client.command('LOGIN "al/ice" secret')[-1]
        t.check("NO [AUTHENTICATIONFAILED]" in reply, f"a disallowed character is refused: {reply}")
        reply = client.command("LOGIN BOB secret")[-1]
        t.check(" OK " in reply, f"the default format lowercases the name: {reply}")
        client.close()
        ok, reply = try_login(port, "CRAM-MD5", "ALICE", PASSWORD)
        t.check(ok, f"CRAM-MD5 with an upper-case name, lowercased before the passdb: {reply}")

        # Log lines (auth_verbose, auth_verbose_passwords = sha1:8) and imap-login's.
        client = ImapClient(port)
        client.command("LOGIN alice wrong")
        client.command("LOGIN nosuchuser wrong")
        client.close()
        client = ImapClient(port)
        client.command("LOGOUT")
        client.close()
        client = ImapClient(port)
        client.send("T1 AUTHENTICATE PLAIN")
        client.line()
        client.close()
        time.sleep(1)
        log = loft.log()
        sha = hashlib.sha1(b"wrong").hexdigest()[:8]
        t.check(re.search(r"auth: Info: passwd-file\(alice,127\.0\.0\.1,<[^>]+>\): Password mismatch "
                          rf"\(SHA1 of given password: {sha}\)", log), "Password mismatch line with SHA1")
        t.check(re.search(r"auth: Info: passwd-file\(nosuchuser,127\.0\.0\.1,<[^>]+>\): unknown user "
                          rf"\(SHA1 of given password: {sha}\)", log), "unknown user line")
        t.check(re.search(r"imap-login: Info: Disconnected: Connection closed \(auth failed, 2 attempts in \d+ "
                          r"secs\): user=<nosuchuser>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, "
                          r"secured, session=<[^>]+>", log), "Disconnected (auth failed) line")
        t.check(re.search(r"imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, "
                          r"lip=127\.0\.0\.1, mpid=\d+, secured, session=<[^>]+>", log), "Login line")
        t.check(re.search(r"imap-login: Info: Login: user=<dove?-scram-sha-256>, method=SCRAM-SHA-256", log) or
                re.search(r"imap-login: Info: Login: user=<loft-scram-sha-256>, method=SCRAM-SHA-256", log),
                "Login line names the SCRAM mechanism")
        t.check(re.search(r"imap-login: Info: Disconnected: Aborted login by logging out \(no auth attempts in "
                          r"\d+ secs\): user=<>, rip=127\.0\.0\.1", log), "Aborted login by logging out line")
        t.check(re.search(r"imap-login: Info: Disconnected: Connection closed \(client didn't finish SASL auth, "
                          r"waited \d+ secs\): user=<>, method=PLAIN", log), "client didn't finish SASL auth line")
        t.check(re.search(r"imap-login: Info: Disconnected: Aborted login by logging out \(auth failed, 2 attempts"
                          r" in \d+ secs\): user=<alice>, method=PLAIN, rip=127\.0\.0\.2", log),
                "plaintext refusals count as attempts")
        t.check(re.search(r"imap-login: Info: Login failed: Plaintext authentication disabled: user=<>, "
                          r"rip=127\.0\.0\.2", log), "Login failed: Plaintext authentication disabled line")
        t.check(re.search(r"auth: Info: Master user logging in as alice", log), "master user line")
        t.check(re.search(r"imap-login: Info: Login: user=<bob>, method=PLAIN", log), "authzid login is bob")
        t.check(re.search(r"auth: Info: passwd-file\(admin,127\.0\.\d+\.\d+,master,<[^>]+>\): Password mismatch",
                          log),
                "master password mismatch line")
        t.check(re.search(r"auth: Info: cram-md5\([a-z-]+,127\.0\.\d+\.\d+,<[^>]+>\): Password mismatch", log),
                "CRAM-MD5 mismatch line")
        t.check(re.search(r"auth: Info: passwd-file\(loft-sha512-crypt,127\.0\.\d+\.\d+,<[^>]+>\): Requested "
                          r"CRAM-MD5 scheme, but we have only SHA512-CRYPT", log), "scheme not available line")
        t.check(re.search(r"auth: Info: plain\(\?,127\.0\.0\.1,<[^>]+>\): Username character disallowed by "
                          r"auth_username_chars: 0x2f \(username: al/ice\)", log), "disallowed character line")
        t.check(re.search(r"imap-login: Info: Login: user=<bob>, method=PLAIN", log), "BOB logged in as bob")
        t.check("secret" not in log.replace("SHA1 of given password", ""), "no password in the log")
    finally:
        loft.stop()
        if t.failed:
            print(loft.log()[-6000:])
        loft.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
