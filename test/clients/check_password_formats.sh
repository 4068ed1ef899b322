#!/usr/bin/env bash
# Hashes made by outside tools, verified through acctsec.password_verify:
# mkpasswd (libxcrypt: bcrypt $2a$/$2b$, SHA-crypt $5$/$6$ with random
# rounds, yescrypt at several costs), Python's crypt module (libcrypt through
# ctypes where Python 3.13 no longer has it), and the Argon2
# reference implementation's CLI (argon2: Argon2id and Argon2i with random
# passes, memory, lanes, salt and hash lengths).  Each right password must
# verify and a wrong one must not.  In the other direction, every hash
# acctsec.password_hash makes must be re-derived bit for bit by the argon2
# CLI from its salt and parameters.
set -eu -o pipefail
for t in mkpasswd argon2; do command -v $t >/dev/null || { echo "$t is not installed"; exit 1; }; done
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
DB=acctsec_pwformats
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
"${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec"

PGDATABASE=$DB /usr/bin/python3 -W ignore::DeprecationWarning - <<'PY'
import base64, random, re, secrets, subprocess, sys
import psycopg2

try:
    import crypt as _crypt

    def python_crypt(pw, scheme):
        return _crypt.crypt(pw, _crypt.mksalt({"2b": _crypt.METHOD_BLOWFISH,
                                               "5": _crypt.METHOD_SHA256,
                                               "6": _crypt.METHOD_SHA512}[scheme]))
except ImportError:
    # Python 3.13 (Debian 13 on) removed the crypt module; call libcrypt's
    # crypt_gensalt(3) and crypt(3) as the module did.
    import ctypes
    _lib = ctypes.CDLL("libcrypt.so.1")
    _lib.crypt_gensalt.restype = ctypes.c_char_p
    _lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    _lib.crypt.restype = ctypes.c_char_p
    _lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]

    def python_crypt(pw, scheme):
        salt = _lib.crypt_gensalt(("$%s$" % scheme).encode(), 0, None, 0)
        if salt is None:
            raise OSError("crypt_gensalt failed for $%s$" % scheme)
        out = _lib.crypt(pw.encode(), salt)
        if out is None or out.startswith(b"*"):
            raise OSError("crypt failed for $%s$" % scheme)
        return out.decode()

rng = random.SystemRandom()
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()

ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + "äöüßéñ密码🔑"

def password():
    n = rng.randint(1, 40)
    return "".join(rng.choice(ALPHABET) for _ in range(n))

def mkpasswd(method, pw, rounds=None):
    args = ["mkpasswd", "--stdin", "-m", method]
    if rounds is not None:
        args += ["-R", str(rounds)]
    return subprocess.run(args, input=pw.encode(), capture_output=True,
                          check=True).stdout.decode().strip()

def argon2_cli(pw, salt, variant, t, m_kib, p, length):
    args = ["argon2", salt, variant, "-t", str(t), "-k", str(m_kib), "-p", str(p),
            "-l", str(length), "-e"]
    return subprocess.run(args, input=pw.encode(), capture_output=True,
                          check=True).stdout.decode().strip()

cases = []   # (tool, password, hash)
for _ in range(8):
    pw = password(); cases.append(("mkpasswd bcrypt", pw, mkpasswd("bcrypt", pw, rng.randint(4, 7))))
    pw = password(); cases.append(("mkpasswd bcrypt-a", pw, mkpasswd("bcrypt-a", pw, rng.randint(4, 7))))
    pw = password(); cases.append(("mkpasswd sha256crypt", pw, mkpasswd("sha256crypt", pw, rng.choice([None, rng.randint(1000, 20000)]))))
    pw = password(); cases.append(("mkpasswd sha512crypt", pw, mkpasswd("sha512crypt", pw, rng.choice([None, rng.randint(1000, 20000)]))))
    pw = password(); cases.append(("mkpasswd yescrypt", pw, mkpasswd("yescrypt", pw, rng.randint(1, 6))))
    pw = password(); cases.append(("python crypt", pw, python_crypt(pw, rng.choice(["2b", "5", "6"]))))
    for variant in ("-id", "-i"):
        pw = password()
        salt = secrets.token_urlsafe(rng.randint(8, 24))
        cases.append(("argon2 CLI " + variant, pw,
                      argon2_cli(pw, salt, variant, rng.randint(1, 3), rng.choice([1024, 4096, 8192, 19456]),
                                 rng.randint(1, 4), rng.choice([16, 24, 32, 64]))))

bad = 0
for tool, pw, h in cases:
    cur.execute("SELECT acctsec.password_verify(%s, %s), acctsec.password_verify(%s, %s),"
                " acctsec.password_needs_rehash(%s)", (pw, h, pw + "x", h, h))
    right, wrong, rehash = cur.fetchone()
    # only an Argon2id hash at exactly the current settings needs no rehash
    current = re.fullmatch(r"\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}", h) is not None
    if right is not True or wrong is not False or rehash is current:
        bad += 1
        print("FAIL %s %s: right=%s wrong=%s needs_rehash=%s" % (tool, h.split("$")[1], right, wrong, rehash))
schemes = sorted({h.split("$")[1] for _, _, h in cases})
print("%d outside hashes, schemes %s, %d failures" % (len(cases), ",".join(schemes), bad))

# The other direction: acctsec's hashes are standard Argon2id strings that
# the reference implementation reproduces from the salt and parameters.
agreed = 0
tried = 0
while tried < 10:
    pw = password()
    cur.execute("SELECT acctsec.password_hash(%s)", (pw,))
    h = cur.fetchone()[0]
    _, alg, ver, params, salt_b64, _ = h.split("$")
    salt = base64.b64decode(salt_b64 + "=" * (-len(salt_b64) % 4))
    if b"\0" in salt:          # the CLI takes the salt as a C string
        continue
    tried += 1
    kv = dict(x.split("=") for x in params.split(","))
    args = ["argon2", salt, "-id", "-t", kv["t"], "-k", kv["m"], "-p", kv["p"], "-l", "32", "-e"]
    out = subprocess.run(args, input=pw.encode(), capture_output=True, check=True).stdout.decode().strip()
    if out == h:
        agreed += 1
    else:
        print("FAIL: argon2 CLI gives a different string for an acctsec hash")
print("%d acctsec hashes, %d reproduced by the argon2 CLI" % (tried, agreed))
sys.exit(0 if bad == 0 and agreed == tried and len(cases) == 64 else 1)
PY
rc=$?
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
exit $rc
