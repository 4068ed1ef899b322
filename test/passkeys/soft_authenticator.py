"""A software WebAuthn authenticator and client, for tests.

It makes what a browser hands the application: a registration response
(clientDataJSON, attestationObject with "none" or "packed" self
attestation) and an authentication response (clientDataJSON,
authenticatorData, signature), for ES256 (P-256), EdDSA (Ed25519) and RS256
(RSASSA-PKCS1-v1_5 with SHA-256, any modulus size and exponent) keys made
with python3-cryptography.  Every field can be overridden, so tests
can build the wrong origin, the wrong rpId, missing flags, bad signatures
and counters going backwards.
"""
import base64
import hashlib
import json
import os
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

FLAG_UP, FLAG_UV, FLAG_BE, FLAG_BS, FLAG_AT, FLAG_ED = 0x01, 0x04, 0x08, 0x10, 0x40, 0x80


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def cbor(v):
    """Canonical-enough CBOR for ints, bytes, text, lists and dicts."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for ai, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
            if n < 1 << (8 * struct.calcsize(fmt)):
                return bytes([major << 5 | ai]) + struct.pack(fmt, n)
        raise ValueError(n)
    if isinstance(v, bool):
        return bytes([0xF5 if v else 0xF4])
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(type(v))


_rsa_keys = {}


def rsa_key(bits, exponent):
    """An RSA key, made once per size and exponent (making them is slow)."""
    if (bits, exponent) not in _rsa_keys:
        _rsa_keys[bits, exponent] = rsa.generate_private_key(exponent, bits)
    return _rsa_keys[bits, exponent]


class Authenticator:
    def __init__(self, alg="ES256", rp_id="localhost", origin="http://localhost:8080",
                 rsa_bits=2048, rsa_exponent=65537):
        self.alg, self.rp_id, self.origin = alg, rp_id, origin
        self.cred_id = os.urandom(32)
        self.aaguid = os.urandom(16)
        self.counter = 0
        if alg == "ES256":
            self.key = ec.generate_private_key(ec.SECP256R1())
            n = self.key.public_key().public_numbers()
            self.cose = {1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, "big"), -3: n.y.to_bytes(32, "big")}
            self.cose_alg = -7
        elif alg == "RS256":
            self.key = rsa_key(rsa_bits, rsa_exponent)
            n = self.key.public_key().public_numbers()
            self.cose = {1: 3, 3: -257, -1: n.n.to_bytes((n.n.bit_length() + 7) // 8, "big"),
                         -2: n.e.to_bytes((n.e.bit_length() + 7) // 8, "big")}
            self.cose_alg = -257
        else:
            self.key = ed25519.Ed25519PrivateKey.generate()
            from cryptography.hazmat.primitives import serialization
            raw = self.key.public_key().public_bytes(serialization.Encoding.Raw,
                                                     serialization.PublicFormat.Raw)
            self.cose = {1: 1, 3: -8, -1: 6, -2: raw}
            self.cose_alg = -8

    def sign(self, msg):
        if self.alg == "ES256":
            return self.key.sign(msg, ec.ECDSA(hashes.SHA256()))
        if self.alg == "RS256":
            return self.key.sign(msg, padding.PKCS1v15(), hashes.SHA256())
        return self.key.sign(msg)

    def client_data(self, type_, challenge, origin=None, **extra):
        d = {"type": type_, "challenge": challenge,
             "origin": origin or self.origin, "crossOrigin": False}
        d.update(extra)
        return json.dumps(d, separators=(",", ":")).encode()

    def register(self, options, fmt="none", flags=FLAG_UP | FLAG_UV, rp_id=None,
                 origin=None, type_="webauthn.create", cose=None, packed_alg=None,
                 bad_sig=False, x5c=False, client_data=None, cred_id=None):
        cd = client_data or self.client_data(type_, options["challenge"], origin)
        cid = cred_id or self.cred_id
        auth_data = (hashlib.sha256((rp_id or self.rp_id).encode()).digest()
                     + bytes([flags | FLAG_AT]) + struct.pack(">I", self.counter)
                     + self.aaguid + struct.pack(">H", len(cid)) + cid
                     + cbor(cose if cose is not None else self.cose))
        if fmt == "packed":
            sig = self.sign(auth_data + hashlib.sha256(cd).digest())
            if bad_sig:
                sig = self.sign(b"something else")
            stmt = {"alg": packed_alg if packed_alg is not None else self.cose_alg, "sig": sig}
            if x5c:
                stmt["x5c"] = [b"\x30\x00"]
        else:
            stmt = {}
        att = cbor({"fmt": fmt, "attStmt": stmt, "authData": auth_data})
        return self.wrap(cd, {"attestationObject": b64u(att), "transports": ["internal"]})

    def wrap(self, cd, response):
        response = dict(response, clientDataJSON=b64u(cd))
        return {"id": b64u(self.cred_id), "rawId": b64u(self.cred_id),
                "type": "public-key", "response": response}

    def login(self, options, flags=FLAG_UP | FLAG_UV, rp_id=None, origin=None,
              type_="webauthn.get", counter_step=1, bad_sig=False, user_handle=None,
              client_data=None):
        self.counter += counter_step
        cd = client_data or self.client_data(type_, options["challenge"], origin)
        auth_data = (hashlib.sha256((rp_id or self.rp_id).encode()).digest()
                     + bytes([flags]) + struct.pack(">I", self.counter))
        sig = self.sign(auth_data + hashlib.sha256(cd).digest())
        if bad_sig:
            sig = self.sign(auth_data + b"\x00" * 32)
        resp = {"authenticatorData": b64u(auth_data), "signature": b64u(sig)}
        if user_handle is not None:
            resp["userHandle"] = user_handle
        return self.wrap(cd, resp)
