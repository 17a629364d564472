"""TLS client certificates as Dovecot 2.3 uses them: SASL EXTERNAL, auth_ssl_require_client_cert,
auth_ssl_username_from_cert, ssl_require_crl and ssl_cert_username_field. openssl makes a CA
(with a CRL revoking one client), a second CA and client certificates at test time; every
scenario runs against Loft and, when it is installed, against the real Dovecot with the same
configuration, and the tagged replies (and AUTH= lists) must be the same."""
import base64
import os
import re
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loft_harness import MAIL_GID, MAIL_UID, SKIP, Dovecot, Loft, TestCounter  # noqa: E402

USERS = ("alice", "bob", "carol")
PASSWORDS = {user: f"pw-{user}" for user in USERS}
CA_CONFIG = """[ ca ]
default_ca = testca
[ testca ]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 2
"""


def make_certificates(directory):
    """ca-crl.pem: the CA and its CRL (revoked.pem revoked); other.pem: an unrelated CA."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "ca.cnf"), "w") as f:
        f.write(CA_CONFIG)
    ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
    clients = [("alice", "/CN=alice/emailAddress=bob/x500UniqueIdentifier=carol", "ca"),
               ("zed", "/CN=zed", "ca"), ("nocn", "/O=Nobody", "ca"), ("revoked", "/CN=alice", "ca"),
               ("otheralice", "/CN=alice", "other")]
    script = f"""set -e
touch index.txt; echo 01 > crlnumber
openssl req -x509 -nodes -days 2 {ec} -subj /CN=TestCA -keyout ca.key -out ca.pem
openssl req -x509 -nodes -days 2 {ec} -subj /CN=OtherCA -keyout other.key -out other.pem
openssl req -nodes {ec} -subj /CN=localhost -keyout server.key -out server.csr
openssl x509 -req -days 2 -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem
"""
    for name, subject, ca in clients:
        script += f"""openssl req -nodes {ec} -subj "{subject}" -keyout {name}.key -out {name}.csr
openssl x509 -req -days 2 -in {name}.csr -CA {ca}.pem -CAkey {ca}.key -CAcreateserial -out {name}.pem
"""
    script += """openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -revoke revoked.pem
openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -gencrl -out ca.crl
cat ca.pem ca.crl > ca-crl.pem
"""
    subprocess.run(["sh", "-c", script], cwd=directory, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def base_config(certs, directory, extra):
    # login_trusted_networks: the clients come from 127.0.0.N (each its own address, so
    # no failure penalty carries over) and still count as secured before TLS.
    return f"""ssl = yes
ssl_cert = <{certs}/server.pem
ssl_key = <{certs}/server.key
auth_verbose = yes
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
auth_mechanisms = plain login external
{extra}
passdb {{
  driver = passwd-file
  args = {directory}/certusers
  mechanisms = external
}}
"""


class Servers:
    """Loft, and Dovecot when available, on the same users and configuration."""

    def __init__(self, certs, extra):
        self.loft = Loft(users=USERS)
        directory = self.loft.dir
        with open(os.path.join(directory, "users"), "w") as f:
            for user in USERS:
                f.write(f"{user}:{{PLAIN}}{PASSWORDS[user]}:{MAIL_UID}:{MAIL_GID}::{self.loft.homes[user]}::\n")
        # Certificate logins need a passdb that takes them without a password; this one
        # serves EXTERNAL only (passdb mechanisms filter), so PLAIN cannot use it.
        with open(os.path.join(directory, "certusers"), "w") as f:
            for user in USERS:
                f.write(f"{user}:::::::nopassword\n")
        config = base_config(certs, directory, extra)
        with open(self.loft.config_path, "a") as f:
            f.write(config)
        self.dovecot = None
        if Dovecot.available():
            self.dovecot = Dovecot(self.loft)
            with open(self.dovecot.config_path, "a") as f:
                f.write(config)

    def __enter__(self):
        self.loft.start()
        if self.dovecot:
            self.dovecot.start()
        return self

    def __exit__(self, *exc):
        if self.dovecot:
            self.dovecot.stop()
        self.loft.cleanup()

    def dovecot_log(self):
        try:
            with open(os.path.join(self.dovecot.dir, "dovecot.log")) as f:
                return f.read()
        except OSError:
            return ""


class Client:
    _next_source = [10]

    def __init__(self, port, certs):
        Client._next_source[0] = Client._next_source[0] % 240 + 1
        self.source = f"127.0.0.{Client._next_source[0] + 10}"
        self.sock = socket.create_connection(("127.0.0.1", port), 15, source_address=(self.source, 0))
        self.certs = certs
        self.buffer = b""
        self.banner = self.line()

    def line(self):
        while b"\r\n" not in self.buffer:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("connection closed")
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line.decode()

    def command(self, text, tag="a"):
        """The untagged lines and the tagged reply (or a "+" continuation)."""
        self.sock.sendall(f"{tag} {text}\r\n".encode())
        return self.until(tag)

    def send_line(self, text, tag="a"):
        self.sock.sendall(f"{text}\r\n".encode())
        return self.until(tag)

    def until(self, tag):
        lines = []
        while True:
            lines.append(self.line())
            if lines[-1].startswith(tag + " ") or lines[-1].startswith("+"):
                return lines

    def starttls(self, cert=None):
        self.command("STARTTLS", "s")
        context = ssl.create_default_context(cafile=os.path.join(self.certs, "ca.pem"))
        context.check_hostname = False
        if cert:
            context.load_cert_chain(os.path.join(self.certs, cert + ".pem"), os.path.join(self.certs, cert + ".key"))
        self.sock = context.wrap_socket(self.sock, server_hostname="localhost")
        return self

    def close(self):
        self.sock.close()


def shape(line):
    """A tagged reply without what legitimately differs: the timing of an OK (refusals
    must match to the byte) and capability lists."""
    if " OK " in line:
        line = re.sub(r" \(\d+\.\d+ \+ [^)]*secs\)\.$", "", line)
    return re.sub(r"\[CAPABILITY [^]]*\]", "[CAPABILITY]", line)


def auth_caps(lines):
    for line in lines:
        if "CAPABILITY " in line:
            return [token for token in re.split(r"[ \]]", line) if token.startswith("AUTH=") or token == "STARTTLS"]
    return []


def run_scenarios(port, certs, scenarios):
    """name -> list of reply shapes; each scenario: (cert or None or "notls", [commands])."""
    results = {}
    for name, cert, commands in scenarios:
        client = Client(port, certs)
        out = []
        try:
            if cert != "notls":
                client.starttls(None if cert is None else cert)
            for command in commands:
                if command.startswith("+"):
                    out.append(shape(client.send_line(command[1:])[-1]))
                else:
                    lines = client.command(command)
                    out.append(shape(lines[-1]) if command != "CAPABILITY" else " ".join(auth_caps(lines)))
        except (OSError, EOFError, ssl.SSLError) as error:
            out.append(f"error: {type(error).__name__}")
        finally:
            client.close()
        results[name] = out
    return results


def compare(t, servers, certs, scenarios, what):
    ours = run_scenarios(servers.loft.imap_port, certs, scenarios)
    if servers.dovecot:
        theirs = run_scenarios(servers.dovecot.imap_port, certs, scenarios)
        for name, _, _ in scenarios:
            t.check(ours[name] == theirs[name], f"{what}/{name}: as Dovecot: {ours[name]} vs {theirs[name]}")
    return ours


def wait_log(loft, pattern, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if re.search(pattern, loft.log()):
            return True
        time.sleep(0.05)
    return False


OK_LOGIN = "a OK [CAPABILITY] Logged in"
FAILED = "a NO [AUTHENTICATIONFAILED] Authentication failed."
NO_CERT = "a NO [ALERT] Client didn't present valid SSL certificate"


def check_external(t, certs):
    extra = f"""ssl_verify_client_cert = yes
ssl_ca = <{certs}/ca-crl.pem
auth_ssl_username_from_cert = yes
"""
    scenarios = [
        ("banner", "notls", ["CAPABILITY"]),
        ("caps-no-cert", None, ["CAPABILITY"]),
        ("ir-empty", "alice", ["AUTHENTICATE EXTERNAL ="]),
        ("no-ir", "alice", ["AUTHENTICATE EXTERNAL", "+"]),
        ("authzid-self", "alice", ["AUTHENTICATE EXTERNAL YWxpY2U="]),
        ("authzid-other", "alice", ["AUTHENTICATE EXTERNAL Ym9i"]),
        ("unknown-user", "zed", ["AUTHENTICATE EXTERNAL ="]),
        ("no-name-field", "nocn", ["AUTHENTICATE EXTERNAL ="]),
        ("revoked", "revoked", ["AUTHENTICATE EXTERNAL ="]),
        ("other-ca", "otheralice", ["AUTHENTICATE EXTERNAL =", f"LOGIN bob {PASSWORDS['bob']}"]),
        ("no-cert", None, ["AUTHENTICATE EXTERNAL =", "LOGIN alice ''"]),
        ("cert-overrides-login", "alice", [f"LOGIN bob {PASSWORDS['bob']}", f"LOGIN bob {PASSWORDS['alice']}"]),
        ("plain-not-passwordless", "notls", ["LOGIN alice \"\"", "AUTHENTICATE PLAIN AGFsaWNlAA=="]),
    ]
    with Servers(certs, extra) as servers:
        ours = compare(t, servers, certs, scenarios, "external")
        t.check("AUTH=EXTERNAL" in ours["banner"][0] and "STARTTLS" in ours["banner"][0],
                f"EXTERNAL listed before TLS, as Dovecot: {ours['banner']}")
        t.check("AUTH=EXTERNAL" in ours["caps-no-cert"][0], f"and without a certificate: {ours['caps-no-cert']}")
        t.check(ours["ir-empty"] == [OK_LOGIN], f"EXTERNAL with '=' logs in: {ours['ir-empty']}")
        t.check(ours["no-ir"] == ["+ ", OK_LOGIN], f"EXTERNAL with an empty response: {ours['no-ir']}")
        t.check(ours["authzid-self"] == [OK_LOGIN], f"authzid = the cert's user: {ours['authzid-self']}")
        t.check(ours["authzid-other"] == [FAILED], f"authzid of someone else: {ours['authzid-other']}")
        for name in ("unknown-user", "no-name-field", "revoked"):
            t.check(ours[name] == [FAILED], f"EXTERNAL refused ({name}): {ours[name]}")
        t.check(ours["other-ca"] == [FAILED, OK_LOGIN],
                f"another CA's cert: no EXTERNAL, but the handshake and PLAIN work: {ours['other-ca']}")
        t.check(ours["no-cert"] == [FAILED, FAILED], f"no cert: EXTERNAL refused: {ours['no-cert']}")
        t.check(ours["cert-overrides-login"] == [FAILED, OK_LOGIN],
                f"username_from_cert: the password is checked for the cert's user: {ours['cert-overrides-login']}")
        t.check(ours["plain-not-passwordless"] == [FAILED, FAILED],
                f"the nopassword passdb is for EXTERNAL only: {ours['plain-not-passwordless']}")
        log = servers.loft.log()
        t.check(len(re.findall(r"Login: user=<alice>, method=EXTERNAL, rip=127\.0\.0\.\d+, lip=127\.0\.0\.1, "
                               r"mpid=\d+, TLS, session=", log)) == 3, "three EXTERNAL logins of alice logged")
        t.check(re.search(r"auth: Info: external\(\?,127\.0\.0\.\d+,<[^>]+>\): username not known", log),
                "EXTERNAL without a cert user logged as Dovecot does")
        t.check(re.search(r"passwd-file\(zed,127\.0\.0\.\d+,<[^>]+>\): unknown user", log),
                "the unknown cert user logged by the passdb")
        t.check(len(re.findall(r"Login: user=<alice>, method=PLAIN", log)) == 1 and
                len(re.findall(r"Login: user=<bob>, method=PLAIN", log)) == 1,
                "the cert's name replaced bob's login; the other CA's cert replaced nothing")


def check_require(t, certs):
    extra = f"""ssl_verify_client_cert = yes
ssl_ca = <{certs}/ca-crl.pem
auth_ssl_require_client_cert = yes
"""
    scenarios = [
        ("before-tls", "notls", [f"LOGIN alice {PASSWORDS['alice']}"]),
        ("no-cert", None, [f"LOGIN alice {PASSWORDS['alice']}",
                           "AUTHENTICATE PLAIN " + base64.b64encode(f"\0alice\0{PASSWORDS['alice']}".encode()).decode()]),
        ("other-ca", "otheralice", [f"LOGIN alice {PASSWORDS['alice']}"]),
        ("revoked", "revoked", [f"LOGIN alice {PASSWORDS['alice']}"]),
        ("valid", "alice", [f"LOGIN bob {PASSWORDS['bob']}"]),
        ("valid-external", "alice", ["AUTHENTICATE EXTERNAL ="]),
    ]
    with Servers(certs, extra) as servers:
        ours = compare(t, servers, certs, scenarios, "require")
        t.check(ours["before-tls"] == [NO_CERT], f"no TLS: refused: {ours['before-tls']}")
        t.check(ours["no-cert"] == [NO_CERT, NO_CERT], f"no cert: refused: {ours['no-cert']}")
        t.check(ours["other-ca"] == [NO_CERT] and ours["revoked"] == [NO_CERT],
                f"invalid certs refused: {ours['other-ca']} {ours['revoked']}")
        t.check(ours["valid"] == [OK_LOGIN], f"a valid cert lets the password decide: {ours['valid']}")
        t.check(ours["valid-external"] == [FAILED],
                f"EXTERNAL needs auth_ssl_username_from_cert: {ours['valid-external']}")
        t.check(wait_log(servers.loft, r"Login: user=<bob>, method=PLAIN"), "without username_from_cert the login names the user")
        log = servers.loft.log()
        t.check(re.search(r"auth: Info: plain\(\?,127\.0\.0\.\d+,<[^>]+>\): Client didn't present valid SSL certificate",
                          log), "the refusal logged as Dovecot does")
        for reason in ("cert required, client didn't start TLS", "client didn't send a cert",
                       "client sent an invalid cert"):
            t.check(wait_log(servers.loft, re.escape(f"Disconnected: Connection closed ({reason}): ")),
                    f"disconnect reason '{reason}' as Dovecot's")


def check_require_name(t, certs):
    extra = f"""ssl_verify_client_cert = yes
ssl_ca = <{certs}/ca-crl.pem
auth_ssl_require_client_cert = yes
auth_ssl_username_from_cert = yes
"""
    scenarios = [
        ("no-name-field", "nocn", [f"LOGIN alice {PASSWORDS['alice']}"]),
        ("no-cert", None, [f"LOGIN alice {PASSWORDS['alice']}"]),
        ("override", "alice", [f"LOGIN bob {PASSWORDS['alice']}"]),
    ]
    with Servers(certs, extra) as servers:
        ours = compare(t, servers, certs, scenarios, "require+name")
        t.check(ours["no-name-field"] == ["a NO [AUTHORIZATIONFAILED] Unable to validate certificate"],
                f"a valid cert without the name field: {ours['no-name-field']}")
        t.check(ours["no-cert"] == [NO_CERT] and ours["override"] == [OK_LOGIN], f"{ours}")
        t.check(wait_log(servers.loft, r"imap-login: Error: Cannot get username from certificate: "
                                       r"Missing username in certificate: user=<>, method=PLAIN"),
                "the missing name logged as Dovecot does")
        t.check(wait_log(servers.loft, r"\(authorization failed, 1 attempts in \d+ secs\)"),
                "disconnect as 'authorization failed'")


def check_fields_and_crl(t, certs):
    base = f"""ssl_verify_client_cert = yes
auth_ssl_username_from_cert = yes
"""
    for name, extra, expected_user in [
            ("no-crl-required", f"ssl_ca = <{certs}/ca.pem\n", None),
            ("emailAddress", f"ssl_ca = <{certs}/ca.pem\nssl_require_crl = no\nssl_cert_username_field = emailAddress\n",
             "bob"),
            ("x500UniqueIdentifier", f"ssl_ca = <{certs}/ca.pem\nssl_require_crl = no\n"
                                     "ssl_cert_username_field = x500UniqueIdentifier\n", "carol")]:
        with Servers(certs, base + extra) as servers:
            ours = compare(t, servers, certs, [(name, "alice", ["AUTHENTICATE EXTERNAL ="])], "fields")
            if expected_user is None:
                t.check(ours[name] == [FAILED], f"ssl_require_crl with a CA without CRL: cert invalid: {ours[name]}")
            else:
                t.check(ours[name] == [OK_LOGIN] and wait_log(
                    servers.loft, rf"Login: user=<{expected_user}>, method=EXTERNAL"),
                    f"ssl_cert_username_field = {name} names {expected_user}: {ours[name]}")


def main():
    if subprocess.run(["sh", "-c", "command -v openssl"], stdout=subprocess.DEVNULL).returncode != 0:
        return SKIP
    t = TestCounter("auth_external")
    certs_holder = Loft(users=())  # only for its temp dir
    certs = os.path.join(certs_holder.dir, "ssl")
    try:
        make_certificates(certs)
        check_external(t, certs)
        check_require(t, certs)
        check_require_name(t, certs)
        check_fields_and_crl(t, certs)
    finally:
        certs_holder.cleanup()
    if not Dovecot.available():
        print("auth_external: real Dovecot not available, comparisons skipped")
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
