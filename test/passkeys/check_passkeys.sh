#!/usr/bin/env bash
# Passkey ceremonies against acctsec, as an application role given its rights
# by grant_app_role, with responses made by a software authenticator
# (soft_authenticator.py: P-256, Ed25519 and RSA keys from python3-cryptography,
# authenticator data, CBOR and client data built as an authenticator and a
# browser build them).  Every check the verifier makes is exercised by a
# response that passes it and one that fails it; registration failures must
# be SQLSTATE 22023 (23505 for a credential registered twice), login
# failures a failed login with the passkey.rejected (or
# passkey.clone_detected) event naming the check.  Mutated and truncated
# responses must never give another SQLSTATE.
set -eu -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../lib/db.sh"
DB=acctsec_passkeys
app_db $DB acctsec_pk_app \
  "acctsec.passkey_rp_id = 'localhost'" \
  "acctsec.passkey_rp_name = 'Example'" \
  "acctsec.passkey_origins = 'http://localhost:8080, https://app.example'" \
  "acctsec.max_failed_attempts = 1000"

ACCTSEC_DB=$DB PYTHONPATH=$HERE /usr/bin/python3 - <<'PY'
import json, os, random, sys
import psycopg2
from soft_authenticator import *

def connect(user):
    c = psycopg2.connect(host=os.environ["PGHOST"], port=os.environ["PGPORT"],
                         user=user, dbname=os.environ["ACCTSEC_DB"])
    c.autocommit = True
    return c
app = connect("acctsec_pk_app").cursor()
admin = connect("postgres").cursor()

failures = []
def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (("  (" + str(detail) + ")") if detail and not ok else ""))
    if not ok:
        failures.append(what)

def sqlstate(sql, args):
    try:
        app.execute(sql, args)
        return "00000", app.fetchone()
    except psycopg2.Error as e:
        return e.pgcode, e.pgerror

def reg_begin(account):
    app.execute("SELECT acctsec.passkey_register_begin(%s)", (account,))
    return app.fetchone()[0]

def reg_finish(account, resp, name=None):
    return sqlstate("SELECT acctsec.passkey_register_finish(%s, %s, %s)",
                    (account, json.dumps(resp), name))

def login_begin(account):
    app.execute("SELECT acctsec.passkey_login_begin(%s)", (account,))
    return app.fetchone()[0]

def login_finish(resp, ip=None, ua=None):
    code, row = sqlstate("SELECT (r).status, (r).failed_attempts FROM"
                         " acctsec.passkey_login_finish(%s::jsonb, %s, %s) r",
                         (resp if isinstance(resp, str) else json.dumps(resp), ip, ua))
    return code, row

def last_event(account):
    admin.execute("SELECT operation, new_values->>'reason' FROM acctsec.audit_log"
                  " WHERE account = %s AND operation LIKE 'passkey.%%' ORDER BY id DESC LIMIT 1",
                  (account,))
    return admin.fetchone()

# --- the options -----------------------------------------------------------
opts = reg_begin("alice")
check("creation options: rp from the settings", opts["rp"] == {"id": "localhost", "name": "Example"}, opts)
check("creation options: ES256, EdDSA and RS256, in that order",
      [p["alg"] for p in opts["pubKeyCredParams"]] == [-7, -8, -257], opts)
check("creation options: 80-character challenge, 32-byte user id",
      len(opts["challenge"]) == 80 and len(unb64u(opts["user"]["id"])) == 32, opts)
check("creation options: user name defaults to the account, attestation none",
      opts["user"]["name"] == "alice" and opts["attestation"] == "none"
      and opts["excludeCredentials"] == [], opts)

# --- registration ---------------------------------------------------------------
es = Authenticator("ES256")
ed = Authenticator("EdDSA")
code, row = reg_finish("alice", es.register(opts), "laptop")
check("register ES256, attestation none", code == "00000", row)
es_id = row[0] if code == "00000" else None
code, row = reg_finish("alice", ed.register(reg_begin("alice"), fmt="packed"), "key")
check("register EdDSA, packed self attestation", code == "00000", row)
es2 = Authenticator("ES256")
code, row = reg_finish("alice", es2.register(reg_begin("alice"), fmt="packed"))
check("register ES256, packed self attestation", code == "00000", row)
rs = Authenticator("RS256")
code, row = reg_finish("alice", rs.register(reg_begin("alice")), "windows hello")
check("register RS256 (2048-bit), attestation none", code == "00000", row)
rs4 = Authenticator("RS256", rsa_bits=4096)
code, row = reg_finish("alice", rs4.register(reg_begin("alice"), fmt="packed"))
check("register RS256 (4096-bit), packed self attestation", code == "00000", row)
admin.execute("SELECT alg, octet_length(public_key) FROM acctsec.passkey_credentials"
              " WHERE credential_id = %s", (rs4.cred_id,))
row = admin.fetchone()
check("an RS256 key is stored with its alg, as its COSE key", row == (-257, len(cbor(rs4.cose))), row)

opts = reg_begin("alice")
check("excludeCredentials lists the account's passkeys",
      sorted(c["id"] for c in opts["excludeCredentials"])
      == sorted(b64u(a.cred_id) for a in (es, ed, es2, rs, rs4)), opts["excludeCredentials"])

def reg_refused(what, build, state="22023", needle=None):
    a = Authenticator(random.choice(["ES256", "EdDSA", "RS256"]))
    o = reg_begin("alice")
    code, msg = reg_finish("alice", build(a, o))
    ok = code == state and (needle is None or needle in (msg or ""))
    check("register refused: " + what + " -> " + state, ok, (code, msg))

reg_refused("replayed response (challenge used)",
            lambda a, o: es.register(opts), needle="challenge")
old = reg_begin("alice")
reg_refused("superseded challenge", lambda a, o: a.register(old), needle="challenge")
bob_opts = reg_begin("bob")
reg_refused("another account's challenge", lambda a, o: a.register(bob_opts), needle="challenge")
reg_refused("invented challenge",
            lambda a, o: a.register({"challenge": b64u(b"act_" + b"A" * 56)}), needle="challenge")
reg_refused("wrong type", lambda a, o: a.register(o, type_="webauthn.get"), needle="type")
reg_refused("wrong origin", lambda a, o: a.register(o, origin="https://evil.example"), needle="origin")
reg_refused("cross-origin iframe",
            lambda a, o: a.register(o, client_data=a.client_data("webauthn.create", o["challenge"],
                                                                  crossOrigin=True)), needle="cross-origin")
reg_refused("topOrigin without crossOrigin",
            lambda a, o: a.register(o, client_data=a.client_data("webauthn.create", o["challenge"],
                                                                  topOrigin="https://evil.example")),
            needle="topOrigin")
reg_refused("wrong rpId", lambda a, o: a.register(o, rp_id="evil.example"), needle="rpIdHash")
reg_refused("UP missing", lambda a, o: a.register(o, flags=FLAG_UV), needle="UP")
reg_refused("BS without BE", lambda a, o: a.register(o, flags=FLAG_UP | FLAG_BS), needle="BS")
reg_refused("packed signature wrong", lambda a, o: a.register(o, fmt="packed", bad_sig=True),
            needle="signature")
reg_refused("packed alg not the key's",
            lambda a, o: a.register(o, fmt="packed", packed_alg=-7 if a.cose_alg != -7 else -257),
            needle="alg")
reg_refused("packed with a certificate chain (x5c)",
            lambda a, o: a.register(o, fmt="packed", x5c=True), needle="certificate")
reg_refused("ES384 key (alg -35)",
            lambda a, o: a.register(o, cose={**Authenticator("ES256").cose, 3: -35}), needle="algorithm")
reg_refused("PS256 key (alg -37)",
            lambda a, o: a.register(o, cose={**Authenticator("RS256").cose, 3: -37}), needle="algorithm")

# RS256 keys: modulus of 2048 to 4096 bits, odd, minimal; exponent odd, in (2^16, 2^32)
def rsa_cose(n=None, e=None, extra=None):
    c = dict(Authenticator("RS256").cose)
    if n is not None:
        c[-1] = n
    if e is not None:
        c[-2] = e
    c.update(extra or {})
    return {k: v for k, v in c.items() if v is not None}
def int_bytes(v):
    return v.to_bytes((v.bit_length() + 7) // 8, "big")
rsa_n = Authenticator("RS256").cose[-1]
reg_refused("RS256 key of 1024 bits",
            lambda a, o: a.register(o, cose=Authenticator("RS256", rsa_bits=1024).cose),
            needle="RSA modulus must have 2048 to 4096 bits")
reg_refused("RS256 key of 2047 bits",
            lambda a, o: a.register(o, cose=Authenticator("RS256", rsa_bits=2047).cose),
            needle="RSA modulus must have 2048 to 4096 bits")
reg_refused("RS256 modulus of 4104 bits",
            lambda a, o: a.register(o, cose=rsa_cose(n=b"\xc1" * 513)),
            needle="RSA modulus must have 2048 to 4096 bits")
reg_refused("RS256 modulus even",
            lambda a, o: a.register(o, cose=rsa_cose(n=rsa_n[:-1] + bytes([rsa_n[-1] & 0xfe]))),
            needle="RSA modulus")
reg_refused("RS256 modulus with a leading zero byte",
            lambda a, o: a.register(o, cose=rsa_cose(n=b"\x00" + rsa_n)), needle="RSA modulus")
reg_refused("RS256 exponent 3",
            lambda a, o: a.register(o, cose=rsa_cose(e=b"\x03")),
            needle="RSA public exponent must be odd, above 2^16 and below 2^32")
reg_refused("RS256 exponent 65535 (not above 2^16)",
            lambda a, o: a.register(o, cose=rsa_cose(e=int_bytes(65535))), needle="RSA public exponent")
reg_refused("RS256 exponent even",
            lambda a, o: a.register(o, cose=rsa_cose(e=int_bytes(65538))), needle="RSA public exponent")
reg_refused("RS256 exponent 2^32 + 1 (huge)",
            lambda a, o: a.register(o, cose=rsa_cose(e=int_bytes(2 ** 32 + 1))), needle="RSA public exponent")
reg_refused("RS256 exponent of 256 bytes (huge)",
            lambda a, o: a.register(o, cose=rsa_cose(e=b"\x01" * 256)), needle="RSA public exponent")
reg_refused("RS256 exponent with a leading zero byte",
            lambda a, o: a.register(o, cose=rsa_cose(e=b"\x00\x01\x00\x01")), needle="RSA public exponent")
reg_refused("RS256 exponent missing",
            lambda a, o: a.register(o, cose={1: 3, 3: -257, -1: rsa_n}), needle="COSE")
reg_refused("RS256 modulus missing",
            lambda a, o: a.register(o, cose={1: 3, 3: -257, -2: b"\x01\x00\x01"}), needle="COSE")
reg_refused("RS256 modulus an integer, not bytes",
            lambda a, o: a.register(o, cose=rsa_cose(n=65537)), needle="COSE")
reg_refused("RS256 exponent text, not bytes",
            lambda a, o: a.register(o, cose=rsa_cose(e="AQAB")), needle="COSE")
reg_refused("RS256 key with a private exponent (d)",
            lambda a, o: a.register(o, cose=rsa_cose(extra={-3: b"\x01" * 256})), needle="COSE")
reg_refused("RS256 alg with key type EC2",
            lambda a, o: a.register(o, cose=rsa_cose(extra={1: 2})), needle="COSE")
reg_refused("RS256 key over the 1 kB COSE limit",
            lambda a, o: a.register(o, cose=rsa_cose(extra={99: b"\x00" * 800})), needle="too long")
reg_refused("packed RS256 signature wrong",
            lambda a, o: Authenticator("RS256").register(o, fmt="packed", bad_sig=True), needle="signature")
reg_refused("EC2 key with the wrong curve",
            lambda a, o: a.register(o, cose={**Authenticator("ES256").cose, -1: 2}), needle="COSE")
reg_refused("EC2 point not on the curve",
            lambda a, o: a.register(o, cose={**Authenticator("ES256").cose, -3: b"\x00" * 32}),
            needle="COSE")
reg_refused("credential id of 1024 bytes",
            lambda a, o: a.register(o, cred_id=b"\x01" * 1024), needle="1023")
reg_refused("rawId not the authenticator data's",
            lambda a, o: dict(a.register(o), rawId=b64u(b"other")), needle="rawId")
reg_refused("clientDataJSON not JSON",
            lambda a, o: a.register(o, client_data=b'{"type":'), needle="JSON")
reg_refused("clientDataJSON not UTF-8",
            lambda a, o: a.register(o, client_data=b'{"type":"\xff"}'), needle="JSON")
reg_refused("clientDataJSON with \\u0000",
            lambda a, o: a.register(o, client_data=b'{"type":"\\u0000"}'), needle="JSON")
reg_refused("clientDataJSON not base64url",
            lambda a, o: dict(a.register(o), response=dict(a.register(o)["response"], clientDataJSON="***")),
            needle="base64url")
reg_refused("attestationObject missing",
            lambda a, o: dict(a.register(o), response={"clientDataJSON": a.register(o)["response"]["clientDataJSON"]}),
            needle="attestationObject")
reg_refused("response not an object", lambda a, o: [1, 2])
reg_refused("response over 64 kB", lambda a, o: dict(a.register(o), pad="x" * 70000), needle="64 kB")

def mutate_att(a, o, how):
    r = a.register(o)
    att = bytearray(unb64u(r["response"]["attestationObject"]))
    att = how(att)
    r["response"]["attestationObject"] = b64u(bytes(att))
    return r
reg_refused("attestationObject truncated",
            lambda a, o: mutate_att(a, o, lambda b: b[:len(b) // 2]), needle="CBOR")
reg_refused("attestationObject with a trailing byte",
            lambda a, o: mutate_att(a, o, lambda b: b + b"\x00"), needle="CBOR")
reg_refused("attestationObject declaring 2^32 elements",
            lambda a, o: mutate_att(a, o, lambda b: bytearray(b"\x9b\x00\x00\x00\x01\x00\x00\x00\x00\x00")),
            needle="CBOR")
reg_refused("attestationObject nested 20 deep",
            lambda a, o: mutate_att(a, o, lambda b: bytearray(b"\x81" * 20 + b"\x00")), needle="CBOR")
reg_refused("attestationObject with indefinite lengths",
            lambda a, o: mutate_att(a, o, lambda b: bytearray(b"\xbf\x63fmt\x64none\xff")), needle="CBOR")
reg_refused("attestationObject in non-ASCII base64",
            lambda a, o: dict(a.register(o), response=dict(a.register(o)["response"],
                              attestationObject="o2Nm\u0088\u008e")), needle="base64url")
reg_refused("fmt unknown", lambda a, o: mutate_att(a, o, lambda b: b.replace(b"none", b"nonf")), needle="format")

# a credential registered twice (23505), also by another account
code, msg = reg_finish("alice", es.register(reg_begin("alice")))
check("register refused: credential already registered -> 23505", code == "23505", (code, msg))
code, msg = reg_finish("bob", es.register(reg_begin("bob")))
check("register refused: another account's credential -> 23505", code == "23505", (code, msg))

# UV required
admin.execute("ALTER DATABASE acctsec_passkeys SET acctsec.passkey_user_verification = 'required'")
app.connection.close()
app = connect("acctsec_pk_app").cursor()
o = reg_begin("alice")
check("creation options: userVerification from the setting",
      o["authenticatorSelection"]["userVerification"] == "required", o)
a = Authenticator()
code, msg = reg_finish("alice", a.register(o, flags=FLAG_UP))
check("register refused: UV required, flag missing -> 22023", code == "22023" and "UV" in msg, (code, msg))

# random mutations: a clear refusal or a success, never another SQLSTATE
bad = []
rnd = random.Random(7)
for i in range(300):
    a = Authenticator(rnd.choice(["ES256", "EdDSA", "RS256"]))
    r = a.register(reg_begin("mut"), fmt=rnd.choice(["none", "packed"]))
    att = bytearray(unb64u(r["response"]["attestationObject"]))
    for _ in range(rnd.randint(1, 4)):
        if not att:
            att = bytearray(b"\xa0")
        k = rnd.randrange(3)
        if k == 0:
            att[rnd.randrange(len(att))] = rnd.randrange(256)
        elif k == 1:
            del att[rnd.randrange(len(att)):]
        else:
            p = rnd.randrange(len(att)); att[p:p] = bytes([rnd.randrange(256)])
    r["response"]["attestationObject"] = b64u(bytes(att))
    code, msg = reg_finish("mut", r)
    if code not in ("00000", "22023"):
        bad.append((code, msg))
check("300 mutated attestation objects: 22023 or accepted, nothing else", not bad, bad[:3])
admin.execute("ALTER DATABASE acctsec_passkeys SET acctsec.passkey_user_verification = 'preferred'")
app.connection.close()
app = connect("acctsec_pk_app").cursor()

# --- login -----------------------------------------------------------------------
lo = login_begin("alice")
check("request options: rpId, allowCredentials of the account",
      lo["rpId"] == "localhost" and len(lo["allowCredentials"]) == 5
      and len(lo["challenge"]) == 80, lo)
resp = es.login(lo)
code, row = login_finish(resp, "192.0.2.1", "test agent")
check("login ES256", code == "00000" and row[0] == "ok", (code, row))
admin.execute("SELECT outcome::text, host(ip), user_agent FROM acctsec.login_attempts"
              " WHERE account = 'alice' ORDER BY id DESC LIMIT 1")
row = admin.fetchone()
check("the login went through login_attempt with its ip and user agent",
      row == ("ok", "192.0.2.1", "test agent"), row)
code, row = login_finish(resp)
check("login refused: replayed response", code == "00000" and row[0] == "failed"
      and "challenge" in (last_event("alice")[1] or ""), (code, row, last_event("alice")))
code, row = login_finish(ed.login(login_begin("alice"),
                                  user_handle=reg_begin("alice")["user"]["id"]))
check("login EdDSA with the userHandle", code == "00000" and row[0] == "ok", (code, row))
code, row = login_finish(es2.login(login_begin("alice")))
check("login ES256 (packed-registered)", code == "00000" and row[0] == "ok", (code, row))
code, row = login_finish(rs.login(login_begin("alice")))
check("login RS256 (2048-bit)", code == "00000" and row[0] == "ok", (code, row))
code, row = login_finish(rs4.login(login_begin("alice")))
check("login RS256 (4096-bit)", code == "00000" and row[0] == "ok", (code, row))

def login_refused(what, build, needle, event="passkey.rejected", auth=None):
    a = auth or es
    code, row = login_finish(build(a, login_begin("alice")))
    ev = last_event("alice")
    ok = code == "00000" and row[0] == "failed" and ev[0] == event and \
        (needle is None or needle in (ev[1] or ""))
    check("login refused: " + what, ok, (code, row, ev))

login_refused("wrong origin", lambda a, o: a.login(o, origin="https://evil.example"), "origin")
o = login_begin("alice")
login_finish(es.login(o, origin="https://evil.example"))
code, row = login_finish(es.login(o))
check("login refused: a challenge refused once (wrong origin) is used up",
      code == "00000" and row[0] == "failed" and "challenge" in (last_event("alice")[1] or ""),
      (code, row, last_event("alice")))
login_refused("topOrigin without crossOrigin",
              lambda a, o: a.login(o, client_data=a.client_data("webauthn.get", o["challenge"],
                                                                 topOrigin="https://evil.example")),
              "topOrigin")
login_refused("wrong type", lambda a, o: a.login(o, type_="webauthn.create"), "type")
login_refused("wrong rpId", lambda a, o: a.login(o, rp_id="evil.example"), "rpIdHash")
login_refused("UP missing", lambda a, o: a.login(o, flags=FLAG_UV), "UP")
login_refused("bad signature ES256", lambda a, o: a.login(o, bad_sig=True), "signature")
login_refused("bad signature EdDSA", lambda a, o: a.login(o, bad_sig=True), "signature", auth=ed)
login_refused("bad signature RS256", lambda a, o: a.login(o, bad_sig=True), "signature", auth=rs)
def resign(a, o, f):
    r = a.login(o)
    r["response"]["signature"] = b64u(f(unb64u(r["response"]["signature"])))
    return r
login_refused("RS256 signature one byte short",
              lambda a, o: resign(a, o, lambda s: s[:-1]), "signature", auth=rs)
login_refused("RS256 signature with a zero byte in front",
              lambda a, o: resign(a, o, lambda s: b"\x00" + s), "signature", auth=rs)
login_refused("RS256 signature with one bit flipped",
              lambda a, o: resign(a, o, lambda s: s[:100] + bytes([s[100] ^ 1]) + s[101:]),
              "signature", auth=rs4)
login_refused("RS256 signature of the 4096-bit key for the 2048-bit one",
              lambda a, o: dict(a.login(o), response=dict(a.login(o)["response"],
                                signature=rs4.login(o)["response"]["signature"])), "signature", auth=rs)
login_refused("signature of another key",
              lambda a, o: dict(a.login(o), response=dict(a.login(o)["response"],
                                signature=es2.login(o)["response"]["signature"])), "signature")
login_refused("userHandle of another user", lambda a, o: a.login(o, user_handle=b64u(b"x" * 32)), "userHandle")
login_refused("challenge of another account",
              lambda a, o: a.login(login_begin("bob")), "challenge")
login_refused("authenticatorData truncated",
              lambda a, o: dict(a.login(o), response=dict(a.login(o)["response"],
                                authenticatorData=b64u(b"\x00" * 36))), "truncated")
login_refused("signature missing",
              lambda a, o: dict(a.login(o), response={k: v for k, v in a.login(o)["response"].items()
                                                       if k != "signature"}), "signature")
def stored_count(a):
    admin.execute("SELECT sign_count FROM acctsec.passkey_credentials WHERE credential_id = %s",
                  (a.cred_id,))
    return admin.fetchone()[0]
def with_counter(a, n):
    a.counter = n - 1
    return a
code, row = login_finish(es.login(login_begin("alice"), counter_step=5))
check("login with the counter ahead by 5", code == "00000" and row[0] == "ok"
      and stored_count(es) == es.counter, (code, row))
login_refused("counter going backwards",
              lambda a, o: with_counter(a, stored_count(a) - 2).login(o), None,
              event="passkey.clone_detected")
login_refused("counter not increasing",
              lambda a, o: with_counter(a, stored_count(a)).login(o), None,
              event="passkey.clone_detected")
code, row = login_finish(es.login(login_begin("alice"), counter_step=5))
check("login after the refusals, counter ahead", code == "00000" and row[0] == "ok", (code, row))

# --- discoverable credentials: passkey_login_begin(NULL) ------------------------
alice_handle = reg_begin("alice")["user"]["id"]
bob_handle = reg_begin("bob")["user"]["id"]
def unbound_challenges():
    admin.execute("SELECT count(*) FROM acctsec.one_time_tokens"
                  " WHERE account IS NULL AND purpose = 'passkey.login'")
    return admin.fetchone()[0]
def failed_attempts(account):
    admin.execute("SELECT failed_attempts FROM acctsec.accounts WHERE account = %s", (account,))
    return admin.fetchone()[0]
before = unbound_challenges()
d1 = login_begin(None)
d2 = login_begin(None)
check("discoverable request options: empty allowCredentials, a fresh challenge",
      d1["allowCredentials"] == [] and d1["rpId"] == "localhost"
      and len(d1["challenge"]) == 80 and d1["challenge"] != d2["challenge"], d1)
check("discoverable challenges are tokens of no account, each live at once",
      unbound_challenges() == before + 2, unbound_challenges())
d1_token = unb64u(d1["challenge"]).decode()
admin.execute("SELECT count(*) FROM acctsec.one_time_tokens WHERE account IS NULL"
              " AND selector = %s AND position(%s::bytea in verifier_hash) = 0",
              (unb64u(d1_token[4:16]), unb64u(d1_token[16:])))
check("a discoverable challenge is stored as its selector and a keyed hash of its verifier",
      admin.fetchone()[0] == 1)
app.execute("SELECT acctsec.token_peek(%s, 'passkey.login'), acctsec.token_consume(%s, 'passkey.login')",
            (d1_token, d1_token))
check("token_peek and token_consume answer NULL for a challenge of no account",
      app.fetchone() == (None, None))
check("... and leave it live", unbound_challenges() == before + 2, unbound_challenges())
resp = es2.login(d2, user_handle=alice_handle)
code, row = login_finish(resp, "192.0.2.7", "discoverable agent")
check("discoverable login ES256 with alice's userHandle: ok",
      code == "00000" and row[0] == "ok", (code, row))
admin.execute("SELECT outcome::text, host(ip), user_agent FROM acctsec.login_attempts"
              " WHERE account = 'alice' ORDER BY id DESC LIMIT 1")
row = admin.fetchone()
check("the discoverable login went through login_attempt for the credential's account",
      row == ("ok", "192.0.2.7", "discoverable agent"), row)
code, row = login_finish(rs.login(d1, user_handle=alice_handle))
check("discoverable login RS256 (the challenge issued before the ES256 one): ok",
      code == "00000" and row[0] == "ok", (code, row))
check("the discoverable challenges are consumed", unbound_challenges() == before, unbound_challenges())
fa = failed_attempts("alice")
code, row = login_finish(resp)
check("discoverable login refused: challenge already used (replayed response)",
      code == "00000" and row[0] == "failed" and row[1] == fa + 1
      and "challenge" in (last_event("alice")[1] or ""), (code, row, last_event("alice")))

def disc_refused(what, build, needle, auth=None):
    a = auth or es2
    before_fa = failed_attempts("alice")
    code, row = login_finish(build(a, login_begin(None)))
    ev = last_event("alice")
    ok = code == "00000" and row[0] == "failed" and row[1] == before_fa + 1 and \
        ev[0] == "passkey.rejected" and needle in (ev[1] or "")
    check("discoverable login refused: " + what, ok, (code, row, ev))
disc_refused("userHandle missing", lambda a, o: a.login(o), "userHandle is missing")
disc_refused("userHandle of another account (bob's)",
             lambda a, o: a.login(o, user_handle=bob_handle), "userHandle is not")
disc_refused("userHandle not base64url", lambda a, o: a.login(o, user_handle="***"), "userHandle is not")
disc_refused("bad signature", lambda a, o: a.login(o, bad_sig=True, user_handle=alice_handle), "signature")
disc_refused("wrong origin",
             lambda a, o: a.login(o, origin="https://evil.example", user_handle=alice_handle), "origin")
o = login_begin(None)
admin.execute("UPDATE acctsec.one_time_tokens SET expires_at = now() - interval '1 second'"
              " WHERE account IS NULL AND purpose = 'passkey.login'")
disc_refused("challenge expired", lambda a, b: a.login(o, user_handle=alice_handle), "challenge")
admin.execute("SELECT acctsec.prune_expired()")
# what stays is the challenge disc_refused began and did not use
check("expired discoverable challenges are pruned, live ones kept",
      unbound_challenges() == 1, unbound_challenges())
disc_refused("challenge issued for bob, credential of alice",
             lambda a, o: a.login(login_begin("bob"), user_handle=alice_handle), "challenge")
disc_refused("a registration challenge (purpose passkey.register)", lambda a, o: a.login(reg_begin("alice"),
             user_handle=alice_handle), "challenge")
code, row = login_finish(Authenticator().login(login_begin(None), user_handle=alice_handle))
check("discoverable login refused without an account: unknown credential",
      code == "00000" and row == ("failed", 0), (code, row))
admin.execute("UPDATE acctsec.accounts SET failed_attempts = 0 WHERE account = 'alice'")

# unknown credential, garbage: a failed login counted against no account
for what, r in [("unknown credential", Authenticator().login(login_begin("alice"))),
                ("not an object", "[]"), ("rawId missing", "{}"),
                ("rawId not base64url", '{"rawId": "***"}'),
                ("response over 64 kB", json.dumps({"rawId": "AA", "pad": "x" * 70000}))]:
    code, row = login_finish(r)
    check("login refused without an account: " + what,
          code == "00000" and row == ("failed", 0), (code, row))

bad = []
for i in range(200):
    r = es.login(login_begin("alice"))
    ad = bytearray(unb64u(r["response"]["authenticatorData"]))
    p = rnd.randrange(len(ad) + 1)
    ad = ad[:p] + bytes(rnd.randrange(256) for _ in range(rnd.randrange(3))) + ad[p + 1:]
    r["response"]["authenticatorData"] = b64u(bytes(ad)) if ad else "AA"
    code, row = login_finish(r)
    if code != "00000" or row[0] not in ("ok", "failed"):
        bad.append((code, row))
check("200 mutated authenticator data: ok or failed, never an error", not bad, bad[:3])

# failures count toward lockout like any failed login
admin.execute("UPDATE acctsec.accounts SET failed_attempts = 0 WHERE account = 'alice'")
admin.execute("ALTER DATABASE acctsec_passkeys SET acctsec.max_failed_attempts = 2")
app.connection.close()
app = connect("acctsec_pk_app").cursor()
login_finish(es.login(login_begin("alice"), bad_sig=True))
login_finish(es.login(login_begin("alice"), bad_sig=True))
code, row = login_finish(es.login(login_begin("alice")))
check("a valid passkey on a locked account: locked", code == "00000" and row[0] == "locked", (code, row))
admin.execute("ALTER DATABASE acctsec_passkeys SET acctsec.max_failed_attempts = 1000")
admin.execute("SELECT acctsec.unlock('alice')")

# listing and removal
app.execute("SELECT credential_id, name, alg, transports, sign_count > 0 FROM acctsec.passkeys('alice')")
rows = app.fetchall()
check("passkeys() lists the credentials", [r[1:4] for r in rows] ==
      [("laptop", -7, ["internal"]), ("key", -8, ["internal"]), (None, -7, ["internal"]),
       ("windows hello", -257, ["internal"]), (None, -257, ["internal"])], rows)
app.execute("SELECT acctsec.passkey_remove('bob', %s), acctsec.passkey_remove('alice', %s)", (es_id, es_id))
check("passkey_remove: only the owner's", app.fetchone() == (False, True))
code, row = login_finish(es.login(login_begin("alice")))
check("login with a removed passkey: failed", code == "00000" and row == ("failed", 0), (code, row))

# the tables are not readable by the application
code, msg = sqlstate("SELECT count(*) FROM acctsec.passkey_credentials", ())
check("passkey_credentials not readable by the application -> 42501", code == "42501", (code, msg))

print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
PY
