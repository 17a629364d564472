"""A small IMAP client for the auth tests: raw lines (so continuation requests,
SASL-IR and cancels are under the test's control) and the client side of the SASL
mechanisms Loft offers (PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, SCRAM-SHA-1/256)."""
import base64
import hashlib
import hmac
import os
import re
import socket


class ImapClient:
    def __init__(self, port, source="127.0.0.1", timeout=20):
        self.sock = socket.socket()
        self.sock.settimeout(timeout)
        self.sock.bind((source, 0))
        self.sock.connect(("127.0.0.1", port))
        self.stream = self.sock.makefile("rb")
        self.greeting = self.line()
        self.tag_number = 0

    def line(self):
        data = self.stream.readline()
        if not data:
            raise ConnectionError("connection closed")
        return data.decode(errors="replace").rstrip("\r\n")

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def next_tag(self):
        self.tag_number += 1
        return f"T{self.tag_number}"

    def read_until(self, tag):
        """Lines up to and including the tagged reply, or up to a continuation request."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag + " ") or line.startswith("+"):
                return lines

    def command(self, text):
        tag = self.next_tag()
        self.send(f"{tag} {text}")
        return self.read_until(tag)

    def capabilities(self):
        for line in self.command("CAPABILITY"):
            if line.startswith("* CAPABILITY "):
                return line.split()[2:]
        return []

    def authenticate(self, mechanism, respond, initial=None):
        """respond(challenge bytes) -> response bytes, or None to cancel with '*'.
        Returns the tagged reply line."""
        tag = self.next_tag()
        if initial is None:
            self.send(f"{tag} AUTHENTICATE {mechanism}")
        else:
            encoded = base64.b64encode(initial).decode() or "="
            self.send(f"{tag} AUTHENTICATE {mechanism} {encoded}")
        while True:
            line = self.read_until(tag)[-1]
            if not line.startswith("+"):
                return line
            challenge = base64.b64decode(line[2:]) if len(line) > 2 else b""
            answer = respond(challenge)
            if answer is None:
                self.send("*")
            elif isinstance(answer, str):
                self.send(answer)  # raw, e.g. invalid base64
            else:
                self.send(base64.b64encode(answer).decode())

    def close(self):
        try:
            self.stream.close()
            self.sock.close()
        except OSError:
            pass


def plain_initial(user, password, authzid=""):
    return authzid.encode() + b"\0" + user.encode() + b"\0" + password.encode()


def login_responder(user, password):
    answers = [user.encode(), password.encode()]
    return lambda challenge: answers.pop(0) if answers else b""


def cram_md5_responder(user, password):
    def respond(challenge):
        digest = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
        return f"{user} {digest}".encode()
    return respond


def digest_md5_responder(user, password, host="imap", authzid=""):
    state = {}

    def respond(challenge):
        if "sent" in state:
            # The server's rspauth: check it, then answer with an empty response.
            expected = state["rspauth"]
            state["rspauth_ok"] = challenge.decode() == f"rspauth={expected}"
            return b""
        pairs = re.findall(r'([a-zA-Z-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,]*))', challenge.decode())
        fields = {key: quoted or bare for key, quoted, bare in pairs}
        realm = fields.get("realm", "")
        nonce = fields["nonce"]
        cnonce = base64.b64encode(os.urandom(12)).decode()
        uri = f"imap/{host}"
        nc = "00000001"
        a1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).digest() + f":{nonce}:{cnonce}".encode()
        if authzid:
            a1 += f":{authzid}".encode()
        ha1 = hashlib.md5(a1).hexdigest()

        def kd(a2):
            ha2 = hashlib.md5(a2.encode()).hexdigest()
            return hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
        state["sent"] = True
        state["rspauth"] = kd(f":{uri}")
        response = (f'username="{user}",realm="{realm}",nonce="{nonce}",cnonce="{cnonce}",nc={nc},'
                    f'qop=auth,digest-uri="{uri}",response={kd("AUTHENTICATE:" + uri)},charset=utf-8'
                    + (f',authzid="{authzid}"' if authzid else ""))
        return response.encode()
    respond.state = state
    return respond


def scram_responder(user, password, algorithm="sha256", authzid=""):
    state = {"nonce": base64.b64encode(os.urandom(18)).decode()}
    gs2_header = f"n,a={authzid}," if authzid else "n,,"

    def respond(challenge):
        if "first" not in state:
            state["first"] = f"n={user},r={state['nonce']}"
            return (gs2_header + state["first"]).encode()
        text = challenge.decode()
        if text.startswith("v="):
            state["verified"] = base64.b64decode(text[2:]) == state["server_signature"]
            return b""
        fields = dict(item.split("=", 1) for item in text.split(","))
        salted = hashlib.pbkdf2_hmac(algorithm, password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
        client_key = hmac.new(salted, b"Client Key", algorithm).digest()
        stored_key = hashlib.new(algorithm, client_key).digest()
        channel = base64.b64encode(gs2_header.encode()).decode()
        final_without_proof = f"c={channel},r={fields['r']}"
        auth_message = f"{state['first']},{text},{final_without_proof}".encode()
        signature = hmac.new(stored_key, auth_message, algorithm).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_key = hmac.new(salted, b"Server Key", algorithm).digest()
        state["server_signature"] = hmac.new(server_key, auth_message, algorithm).digest()
        return f"{final_without_proof},p={base64.b64encode(proof).decode()}".encode()
    respond.state = state
    return respond
