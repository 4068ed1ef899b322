#!/usr/bin/env bash
# Benchmark: passkey_login_finish verifications per second, ES256, EdDSA and
# RS256 (2048-bit),
# in the same run, against
#  - login_attempt(account, true) on the same accounts: the lockout policy
#    every login pays whatever verified it (passkey_login_finish calls it);
#  - the same assertions verified in the application with python3-cryptography
#    (OpenSSL): signature over authenticatorData || SHA-256(clientDataJSON)
#    only, no challenge, origin, counter or policy: the floor of the work;
#  - the same assertions verified in Node by @simplewebauthn/server
#    (verifyAuthenticationResponse: type, challenge, origin, rpIdHash, flags,
#    counter and signature, given each one's expected challenge and stored
#    key; no database, no policy), one after the other as a server would
#    (test/clients/webauthn/bench_verify.js; npm, pinned there).
# N accounts each register one passkey per algorithm (software authenticator,
# test/passkeys/soft_authenticator.py); each round begins N logins, signs
# them, and times the N finishes in one statement (server time only).
# Prints verifications per second and the ratios (passkey_login_finish over
# the peer: above 1 is acctsec faster).  Not a test.
set -eu -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../lib/bench.sh"
WEBAUTHN=$HERE/../clients/webauthn
(cd "$WEBAUTHN" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
N=${BENCH_PASSKEYS:-2000}
bench_db acctsec_bench_passkeys
"${PSQL[@]}" -d $DB -c "ALTER DATABASE $DB SET acctsec.passkey_rp_id = 'localhost'" \
  -c "ALTER DATABASE $DB SET acctsec.passkey_origins = 'http://localhost:8080'"
RESP=$(mktemp "${ACCTSEC_TMP:-/tmp}/bench-passkeys.XXXXXX.json")
trap 'rm -f "$RESP"' EXIT
ACCTSEC_DB=$DB N=$N RESP=$RESP WEBAUTHN=$WEBAUTHN PYTHONPATH=$HERE/../passkeys /usr/bin/python3 - <<'PY'
import hashlib, json, os, subprocess, time
import psycopg2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from soft_authenticator import *
n = int(os.environ["N"])
ALGS = ("ES256", "EdDSA", "RS256")
c = psycopg2.connect(host=os.environ["PGHOST"], port=os.environ["PGPORT"],
                     user="postgres", dbname=os.environ["ACCTSEC_DB"])
c.autocommit = True
cur = c.cursor()
cur.execute("CREATE TABLE bench_resp (alg text, r jsonb)")
auths = {}
for alg in ALGS:
    auths[alg] = []
    for i in range(n):
        a = Authenticator(alg)
        acct = "%s-%d" % (alg, i)
        cur.execute("SELECT acctsec.passkey_register_begin(%s)", (acct,))
        cur.execute("SELECT acctsec.passkey_register_finish(%s, %s)",
                    (acct, json.dumps(a.register(cur.fetchone()[0]))))
        auths[alg].append((acct, a))

def rate(sql, count=n):
    t = time.perf_counter()
    cur.execute(sql)
    assert cur.fetchone()[0] == count, "not every login succeeded"
    return count / (time.perf_counter() - t)

res = {}
for alg in ALGS:
    cur.execute("TRUNCATE bench_resp")
    rows, app, node = [], [], []
    for acct, a in auths[alg]:
        cur.execute("SELECT acctsec.passkey_login_begin(%s)", (acct,))
        o = cur.fetchone()[0]
        counter = a.counter
        r = a.login(o)
        rows.append(cur.mogrify("(%s, %s)", (alg, json.dumps(r))).decode())
        app.append((a, r))
        node.append({"response": r, "challenge": o["challenge"], "counter": counter,
                     "publicKey": b64u(cbor(a.cose))})
    cur.execute("INSERT INTO bench_resp VALUES " + ",".join(rows))
    res[alg] = rate("SELECT count(*) FILTER (WHERE (f).status = 'ok') FROM"
                    " (SELECT acctsec.passkey_login_finish(r) f FROM bench_resp) s")
    t = time.perf_counter()
    for a, r in app:
        ad = unb64u(r["response"]["authenticatorData"])
        msg = ad + hashlib.sha256(unb64u(r["response"]["clientDataJSON"])).digest()
        sig = unb64u(r["response"]["signature"])
        if alg == "ES256":
            a.key.public_key().verify(sig, msg, ec.ECDSA(hashes.SHA256()))
        elif alg == "RS256":
            a.key.public_key().verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
        else:
            a.key.public_key().verify(sig, msg)
    res[alg + " app"] = n / (time.perf_counter() - t)
    # the same responses, the same expectations, verified by simplewebauthn
    with open(os.environ["RESP"], "w") as f:
        json.dump({"origin": "http://localhost:8080", "rpID": "localhost", "items": node}, f)
    out = subprocess.run(["node", os.path.join(os.environ["WEBAUTHN"], "bench_verify.js"), os.environ["RESP"]],
                         check=True, capture_output=True, text=True).stdout.split()
    assert int(out[0]) == n, "simplewebauthn did not verify every response: " + " ".join(out)
    res[alg + " swa"] = float(out[1])
res["login_attempt"] = rate("SELECT count(*) FILTER (WHERE (acctsec.login_attempt(account, true)).status = 'ok')"
                            " FROM acctsec.accounts", len(ALGS) * n)
print("accounts per algorithm: %d" % n)
for alg in ALGS:
    print("passkey_login_finish %-5s %8.0f/s   signature only in the app (cryptography) %8.0f/s   ratio %.2f"
          % (alg, res[alg], res[alg + " app"], res[alg] / res[alg + " app"]))
    print("                           @simplewebauthn/server (Node) full verification   %8.0f/s   ratio %.2f"
          % (res[alg + " swa"], res[alg] / res[alg + " swa"]))
print("login_attempt alone        %8.0f/s   (passkey / login_attempt: %s)"
      % (res["login_attempt"], ", ".join("%s %.2f" % (alg, res[alg] / res["login_attempt"]) for alg in ALGS)))
PY
