#!/usr/bin/env bash
# Benchmark: acctsec.password_verify of a bcrypt cost-10 hash beside
# pgcrypto's crypt() on the same hash, in the same run; Argon2id
# password_hash / password_verify per second at the default settings
# (19456 kB, 2 passes); acctsec.login; and, per format family,
# password_verify beside the framework's own verification of the same hash
# at the framework's default work factor (Django/Werkzeug check_password,
# hashlib.pbkdf2_hmac, python-bcrypt, PHP password_verify, argon2-cffi,
# hashlib.scrypt, PHP's phpass and Drupal 7 loops, libxcrypt through
# Python's crypt), interleaved rounds, best round of each.  Prints calls per second and
# ratios.  Not a test.
set -eu -o pipefail
. "$(dirname "$0")/../lib/bench.sh"
N=${BENCH_N:-40}
bench_db acctsec_bench_passwords pgcrypto
BCRYPT=$("${PSQL[@]}" -d $DB -c "SELECT crypt('correct horse battery staple', gen_salt('bf', 10))")
ARGON=$("${PSQL[@]}" -d $DB -c "SELECT acctsec.password_hash('correct horse battery staple')")
time_ms() { # run a query in one statement, print elapsed ms
  "${PSQL[@]}" -d $DB -c "\\timing on" -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}
ROWS="generate_series(1, $N) i, (SELECT '$BCRYPT'::text AS h OFFSET 0) b"
Q_ACCTSEC_BF="SELECT count(*) FILTER (WHERE acctsec.password_verify('correct horse battery staple', h)) FROM $ROWS"
Q_PGCRYPTO_BF="SELECT count(*) FILTER (WHERE crypt('correct horse battery staple', h) = h) FROM $ROWS"
Q_HASH="SELECT count(acctsec.password_hash('correct horse battery staple' || i)) FROM generate_series(1, $N) i"
Q_VERIFY="SELECT count(*) FILTER (WHERE acctsec.password_verify('correct horse battery staple', h)) FROM generate_series(1, $N) i, (SELECT '$ARGON'::text AS h OFFSET 0) a"
# both must agree before timing means anything
ok=$("${PSQL[@]}" -d $DB -c "SELECT acctsec.password_verify('correct horse battery staple', '$BCRYPT') AND crypt('correct horse battery staple', '$BCRYPT') = '$BCRYPT'")
[ "$ok" = t ] || { echo "acctsec and pgcrypto disagree on the bcrypt hash"; exit 1; }
time_ms "$Q_ACCTSEC_BF" >/dev/null   # warm-up
a=$(time_ms "$Q_ACCTSEC_BF"); p=$(time_ms "$Q_PGCRYPTO_BF")
a2=$(time_ms "$Q_ACCTSEC_BF"); p2=$(time_ms "$Q_PGCRYPTO_BF")
h=$(time_ms "$Q_HASH"); v=$(time_ms "$Q_VERIFY")
awk -v n=$N -v a=$a -v p=$p -v a2=$a2 -v p2=$p2 -v h=$h -v v=$v 'BEGIN {
  a = (a + a2) / 2; p = (p + p2) / 2;
  printf "bcrypt cost 10, %d verifications each, two rounds interleaved\n", n;
  printf "  acctsec.password_verify (libxcrypt)   %7.2f verifications/s  (%.1f ms each)\n", n/(a/1000), a/n;
  printf "  pgcrypto crypt(pw, h) = h             %7.2f verifications/s  (%.1f ms each)\n", n/(p/1000), p/n;
  printf "  ratio pgcrypto time / acctsec time: %.2f\n", p/a;
  printf "Argon2id at the defaults (m=19456 kB, t=2, p=1), %d calls each\n", n;
  printf "  acctsec.password_hash                 %7.2f hashes/s  (%.1f ms each)\n", n/(h/1000), h/n;
  printf "  acctsec.password_verify               %7.2f verifications/s  (%.1f ms each)\n", n/(v/1000), v/n;
}'
# acctsec.login on a linked table: a known account (wrong password, so the
# row is not rewritten) and an unknown one, beside the two calls an
# application would otherwise make (password_verify, then login_attempt)
"${PSQL[@]}" -d $DB <<SQL2
CREATE TABLE users (id serial PRIMARY KEY, password_hash text);
INSERT INTO users (password_hash) VALUES ('$ARGON');
SELECT acctsec.link_account_table('users', 'id', '{"password_hash": "password_hash"}');
ALTER DATABASE $DB SET acctsec.max_failed_attempts = 0;
SQL2
L_KNOWN="SELECT count((acctsec.login('1', 'wrong' || i)).status) FROM generate_series(1, $N) i"
L_UNKNOWN="SELECT count((acctsec.login('424242', 'wrong' || i)).status) FROM generate_series(1, $N) i"
L_TWO="SELECT count((acctsec.login_attempt('1', acctsec.password_verify('wrong' || i, u.password_hash))).status) FROM generate_series(1, $N) i, users u WHERE u.id = 1"
time_ms "$L_KNOWN" >/dev/null
k=$(time_ms "$L_KNOWN"); u=$(time_ms "$L_UNKNOWN"); t=$(time_ms "$L_TWO")
k2=$(time_ms "$L_KNOWN"); u2=$(time_ms "$L_UNKNOWN"); t2=$(time_ms "$L_TWO")
awk -v n=$N -v k=$k -v u=$u -v t=$t -v k2=$k2 -v u2=$u2 -v t2=$t2 'BEGIN {
  k = (k + k2) / 2; u = (u + u2) / 2; t = (t + t2) / 2;
  printf "acctsec.login at the defaults, %d calls each, two rounds interleaved\n", n;
  printf "  known account, wrong password         %7.2f logins/s  (%.1f ms each)\n", n/(k/1000), k/n;
  printf "  unknown account                       %7.2f logins/s  (%.1f ms each)\n", n/(u/1000), u/n;
  printf "  password_verify + login_attempt       %7.2f logins/s  (%.1f ms each)\n", n/(t/1000), t/n;
  printf "  ratio unknown / known: %.3f\n", u/k;
}'

# Per family: acctsec.password_verify against the framework's own check of
# the same hash, each timed over BENCH_FAMILY_N calls in one process (one
# SQL statement for acctsec), rounds interleaved, best round of each.
PGDATABASE=$DB BENCH_FAMILY_N=${BENCH_FAMILY_N:-4} /usr/bin/python3 -W ignore::DeprecationWarning - <<'PY'
import crypt, hashlib, json, os, subprocess, time
import psycopg2, bcrypt
from argon2 import PasswordHasher
import django
from django.conf import settings
settings.configure(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"])
django.setup()
from django.contrib.auth.hashers import make_password, check_password
import werkzeug.security as ws
from passlib import hash as ph

N = int(os.environ["BENCH_FAMILY_N"])
ROUNDS = int(os.environ.get("BENCH_FAMILY_ROUNDS", "5"))
PW = "correct horse battery staple"
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()

def php_loop(code, h):
    # PHP times its own loop and prints the seconds
    src = '$pw = "%s"; $h = %s; $n = %d; $t = hrtime(true); for ($i = 0; $i < $n; $i++) { $ok = %s; } echo (hrtime(true) - $t) / 1e9, " ", $ok ? "t" : "f";' % (
        PW, json.dumps(h).replace("$", "\\$"), N, code)
    secs, ok = subprocess.run(["php", "-r", src], capture_output=True, check=True, text=True).stdout.split()
    assert ok == "t", "PHP refused the hash"
    return float(secs)

PHPASS = '(function ($pw, $h) { $itoa = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"; $c = 1 << strpos($itoa, $h[3]); $s = substr($h, 4, 8); $x = md5($s . $pw, true); do { $x = md5($x . $pw, true); } while (--$c); return strlen($x) == 16; })($pw, $h)'
def py_loop(fn):
    t = time.perf_counter()
    for _ in range(N):
        assert fn()
    return time.perf_counter() - t

def acctsec(h):
    t = time.perf_counter()
    cur.execute("SELECT count(*) FILTER (WHERE acctsec.password_verify(%s, h)) FROM generate_series(1, %s),"
                " (SELECT %s::text AS h OFFSET 0) x", (PW, N, h))
    assert cur.fetchone()[0] == N
    return time.perf_counter() - t

ph_argon = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
django_pbkdf2 = make_password(PW)                                  # 260000 iterations
werkzeug_h = ws.generate_password_hash(PW)                         # pbkdf2:sha256:260000
werkzeug_512 = ws.generate_password_hash(PW, "pbkdf2:sha512:260000")
passlib_sha1 = ph.pbkdf2_sha1.using(rounds=131000).hash(PW)        # passlib's default
bc10 = bcrypt.hashpw(PW.encode(), bcrypt.gensalt(10)).decode()
argon = ph_argon.hash(PW)
scr = "scrypt$%d$%s$%d$%d$" % (2 ** 14, "saltsaltsaltsalt", 8, 1)
import base64
scr += base64.b64encode(hashlib.scrypt(PW.encode(), salt=b"saltsaltsaltsalt", n=2 ** 14, r=8, p=1, maxmem=2 ** 26, dklen=64)).decode()
phpass = ph.phpass.using(rounds=13).hash(PW)                       # WordPress: 2^13
sha512 = crypt.crypt(PW, crypt.mksalt(crypt.METHOD_SHA512))        # 5000 rounds
yes = subprocess.run(["mkpasswd", "--stdin", "-m", "yescrypt"], input=PW.encode(), capture_output=True, check=True).stdout.decode().strip()
drupal = subprocess.run(["php", "-r", 'require "%s/test/clients/drupal7_faithful.php"; echo drupal7_hash("%s", 15);' % (os.environ.get("ACCTSEC_REPO", "."), PW)],
                        capture_output=True, check=True, text=True).stdout

def pbkdf2_direct(h, name, iters):
    salt, dk = h.split("$")[1], h.split("$")[2]
    return lambda: hashlib.pbkdf2_hmac(name, PW.encode(), salt.encode(), iters).hex() == dk

rows = [
    ("PBKDF2-SHA256 260000 (Django)", django_pbkdf2, "Django check_password", lambda: py_loop(lambda: check_password(PW, django_pbkdf2))),
    ("PBKDF2-SHA256 260000 (Werkzeug)", werkzeug_h, "hashlib.pbkdf2_hmac", lambda: py_loop(pbkdf2_direct(werkzeug_h, "sha256", 260000))),
    ("PBKDF2-SHA512 260000 (Werkzeug)", werkzeug_512, "Werkzeug check_password_hash", lambda: py_loop(lambda: ws.check_password_hash(werkzeug_512, PW))),
    ("PBKDF2-SHA1 131000 (passlib)", passlib_sha1, "passlib pbkdf2_sha1.verify", lambda: py_loop(lambda: ph.pbkdf2_sha1.verify(PW, passlib_sha1))),
    ("bcrypt cost 10", bc10, "python-bcrypt checkpw", lambda: py_loop(lambda: bcrypt.checkpw(PW.encode(), bc10.encode()))),
    ("bcrypt cost 10", bc10, "PHP password_verify", lambda: php_loop("password_verify($pw, $h)", bc10)),
    ("Argon2id m=19456 t=2 p=1", argon, "argon2-cffi verify", lambda: py_loop(lambda: ph_argon.verify(argon, PW))),
    ("Argon2id m=19456 t=2 p=1", argon, "PHP password_verify", lambda: php_loop("password_verify($pw, $h)", argon)),
    ("scrypt N=2^14 r=8 p=1 (Django 4)", scr, "hashlib.scrypt", lambda: py_loop(lambda: base64.b64encode(hashlib.scrypt(PW.encode(), salt=b"saltsaltsaltsalt", n=2 ** 14, r=8, p=1, maxmem=2 ** 26, dklen=64)).decode() == scr.split("$")[-1])),
    ("phpass 2^13 (WordPress)", phpass, "PHP phpass loop (md5)", lambda: php_loop(PHPASS, phpass)),
    ("phpass 2^13 (WordPress)", phpass, "passlib phpass.verify", lambda: py_loop(lambda: ph.phpass.verify(PW, phpass))),
    ("Drupal 7 2^15 SHA-512", drupal, "PHP Drupal loop (hash sha512)", lambda: php_loop('(function ($pw, $h) { $itoa = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"; $c = 1 << strpos($itoa, $h[3]); $s = substr($h, 4, 8); $x = hash("sha512", $s . $pw, true); do { $x = hash("sha512", $x . $pw, true); } while (--$c); return true; })($pw, $h)', drupal)),
    ("sha512crypt 5000", sha512, "libxcrypt via Python crypt", lambda: py_loop(lambda: crypt.crypt(PW, sha512) == sha512)),
    ("yescrypt (mkpasswd default)", yes, "libxcrypt via Python crypt", lambda: py_loop(lambda: crypt.crypt(PW, yes) == yes)),
]
print("password_verify per family beside the framework's own check: %d rounds, each %d acctsec calls"
      " then %d of the peer, best round of each" % (ROUNDS, N, N))
print("  %-34s %-30s %9s %9s %7s" % ("family and work factor", "peer", "acctsec", "peer", "ratio"))
for fam, h, peer, peer_fn in rows:
    acctsec(h)                                   # warm-up
    a, p = [], []
    for _ in range(ROUNDS):                      # interleaved: both see the same load
        a.append(acctsec(h))
        p.append(peer_fn())
    a, p = min(a), min(p)
    print("  %-34s %-30s %7.1fms %7.1fms %7.2f" % (fam, peer, a / N * 1000, p / N * 1000, a / p))
print("  (ratio = acctsec time / peer time per verification; below 1.10 meets the 10% target)")
PY
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
