#!/usr/bin/env bash
# Password hashes made by the real libraries, verified by
# acctsec.password_verify, each with a random password (right must verify,
# a wrong one must not):
#   real libraries: Django 3.2 (pbkdf2_sha256, pbkdf2_sha1, argon2, bcrypt,
#     bcrypt_sha256), Werkzeug 2.2 (pbkdf2:sha1/sha256/sha512), passlib 1.7.4
#     ($pbkdf2$, $pbkdf2-sha256$, $pbkdf2-sha512$, $scrypt$, $bcrypt-sha256$
#     v1 and v2, phpass $P$ and $H$, argon2, sha1_crypt), python3-bcrypt
#     ($2a$, $2b$), argon2-cffi (Argon2id, Argon2i), PHP 8.2 password_hash
#     ($2y$, Argon2id and Argon2i at PHP's defaults), npm argon2
#     (node-argon2: "m=65536,p=4,t=3" order) and bcryptjs, libxcrypt
#     (mkpasswd and Python's crypt: bcrypt, sha-crypt, yescrypt,
#     gost-yescrypt, $7$ scrypt, md5crypt, NT, DES), the argon2 CLI;
#   format-faithful scripts over real primitives, for frameworks not
#     packaged here (password_formats_faithful.py, drupal7_faithful.php):
#     Werkzeug 3 and Django 4 scrypt, ASP.NET Core Identity v2/v3, Spring
#     {pbkdf2}, {pbkdf2@SpringSecurity_v5_8}, {bcrypt}, {argon2}, WordPress
#     6.8 $wp$ (PHP's own bcrypt and hash_hmac), Drupal 7 $S$.
# Then acctsec.login over a linked table: the rehash it writes is read by the
# framework itself (Django check_password, argon2-cffi for Spring's
# {argon2}, PHP password_verify), a Werkzeug hash is left as Werkzeug wrote
# it, and a stored hash acctsec cannot verify answers "failed" without the
# password (interpolated by psycopg2, as Django's driver does) reaching the
# server log.  In the other direction, every hash acctsec.password_hash makes
# is re-derived bit for bit by the argon2 CLI.
set -eu -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
for t in mkpasswd argon2 php node; do command -v $t >/dev/null || { echo "$t is not installed"; exit 1; }; done
(cd "$HERE" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
. "$(dirname "$0")/../lib/db.sh"
DB=acctsec_pwformats
fresh_db $DB acctsec

rc=0
PGDATABASE=$DB HERE=$HERE LOG=${ACCTSEC_TMP:-}/server.log /usr/bin/python3 -W ignore::DeprecationWarning - <<'PY' || rc=$?
import base64, json, os, random, re, secrets, subprocess, sys
from importlib import metadata as _metadata


def version_of(dist):
    # Werkzeug 3 (Debian 13 on) dropped __version__; the package metadata has it
    try:
        return _metadata.version(dist)
    except _metadata.PackageNotFoundError:
        return "?"
sys.path.insert(0, os.environ["HERE"])
from crypt_hash import crypt_hash
import psycopg2
import bcrypt, argon2
from argon2 import PasswordHasher
import django
from django.conf import settings
settings.configure(PASSWORD_HASHERS=[
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher"])
django.setup()
from django.contrib.auth.hashers import make_password, check_password
import werkzeug, werkzeug.security as ws
from passlib import hash as ph
import password_formats_faithful as ff

HERE = os.environ["HERE"]
rng = random.SystemRandom()
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + "äöüßéñ密码🔑"

def password():
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 40)))

cases = []   # (tool, made_by, password, hash)
def add(tool, fn, made_by="real", self_check=None):
    pw = password()
    h = fn(pw)
    # a library that cannot read its own hash on this platform (passlib
    # 1.7.4 is unmaintained and meets newer bcrypt modules) proves nothing
    # about acctsec: said, and not counted
    if self_check is not None and not self_check(pw, h):
        print("  %s: the library does not verify its own hash here: not counted" % tool)
        return
    cases.append((tool, made_by, pw, h))

def mkpasswd(method, pw, rounds=None):
    args = ["mkpasswd", "--stdin", "-m", method] + (["-R", str(rounds)] if rounds else [])
    return subprocess.run(args, input=pw.encode(), capture_output=True, check=True).stdout.decode().strip()

# the methods this machine's mkpasswd offers (Debian's builds differ: sid's
# libxcrypt no longer offers every method bookworm's does); a method it
# lacks is said so and not made, the others must all verify
_mk_help = subprocess.run(["mkpasswd", "-m", "help"], capture_output=True, text=True)
MKPASSWD_METHODS = {line.split()[0] for line in (_mk_help.stdout + _mk_help.stderr).splitlines()[1:]
                    if line.strip()}


def offered(method):
    if method not in MKPASSWD_METHODS:
        if method not in NOT_OFFERED:
            print("  mkpasswd here does not offer %s: not made" % method)
            NOT_OFFERED.add(method)
        return False
    return True


NOT_OFFERED = set()


def argon2_cli(pw, salt, variant, t, m_kib, p, length):
    args = ["argon2", salt, variant, "-t", str(t), "-k", str(m_kib), "-p", str(p), "-l", str(length), "-e"]
    return subprocess.run(args, input=pw.encode(), capture_output=True, check=True).stdout.decode().strip()

for _ in range(3):
    # Django 3.2 at its own defaults (PBKDF2 260000 iterations, Argon2
    # m=102400,t=2,p=8, bcrypt cost 12) and cheaper
    add("Django pbkdf2_sha256", lambda pw: make_password(pw, hasher="pbkdf2_sha256"))
    add("Django pbkdf2_sha1", lambda pw: make_password(pw, hasher="pbkdf2_sha1"))
    add("Django argon2", lambda pw: make_password(pw, hasher="argon2"))
    add("Django bcrypt_sha256", lambda pw: make_password(pw, hasher="bcrypt_sha256"))
    add("Django bcrypt", lambda pw: make_password(pw, hasher="bcrypt"))
    # Werkzeug 2.2 (its default method is pbkdf2:sha256:260000)
    add("Werkzeug default", lambda pw: ws.generate_password_hash(pw))
    add("Werkzeug pbkdf2:sha512", lambda pw: ws.generate_password_hash(pw, "pbkdf2:sha512:%d" % rng.randint(1000, 20000)))
    add("Werkzeug pbkdf2:sha1", lambda pw: ws.generate_password_hash(pw, "pbkdf2:sha1:%d" % rng.randint(1000, 20000), rng.randint(4, 30)))
    # passlib 1.7.4 at its defaults and at random costs
    add("passlib pbkdf2_sha1", lambda pw: ph.pbkdf2_sha1.using(rounds=rng.randint(1000, 20000), salt_size=rng.randint(0, 32)).hash(pw))
    add("passlib pbkdf2_sha256", lambda pw: ph.pbkdf2_sha256.hash(pw))
    add("passlib pbkdf2_sha512", lambda pw: ph.pbkdf2_sha512.using(rounds=rng.randint(1000, 20000)).hash(pw))
    add("passlib scrypt", lambda pw: ph.scrypt.using(rounds=rng.randint(4, 14), block_size=rng.randint(1, 8)).hash(pw))
    add("passlib bcrypt_sha256 v2", lambda pw: ph.bcrypt_sha256.using(rounds=rng.randint(4, 7)).hash(pw),
        self_check=ph.bcrypt_sha256.verify)
    add("passlib bcrypt_sha256 v1", lambda pw: ph.bcrypt_sha256.using(rounds=rng.randint(4, 7), version=1).hash(pw),
        self_check=ph.bcrypt_sha256.verify)
    add("passlib phpass $P$", lambda pw: ph.phpass.using(rounds=rng.randint(7, 13)).hash(pw))
    add("passlib phpass $H$", lambda pw: ph.phpass.using(rounds=rng.randint(7, 13), ident="H").hash(pw))
    add("passlib argon2", lambda pw: ph.argon2.hash(pw))
    add("passlib sha1_crypt", lambda pw: ph.sha1_crypt.using(rounds=rng.randint(1000, 20000)).hash(pw))
    add("python bcrypt $2b$", lambda pw: bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rng.randint(4, 7))).decode())
    add("python bcrypt $2a$", lambda pw: bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rng.randint(4, 7), prefix=b"2a")).decode())
    add("argon2-cffi Argon2id", lambda pw: PasswordHasher().hash(pw))
    add("argon2-cffi Argon2i", lambda pw: PasswordHasher(type=argon2.Type.I, memory_cost=rng.choice([1024, 8192]), parallelism=rng.randint(1, 4)).hash(pw))
    # libxcrypt
    add("mkpasswd bcrypt", lambda pw: mkpasswd("bcrypt", pw, rng.randint(4, 7)))
    add("mkpasswd sha256crypt", lambda pw: mkpasswd("sha256crypt", pw, rng.choice([None, rng.randint(1000, 20000)])))
    add("mkpasswd sha512crypt", lambda pw: mkpasswd("sha512crypt", pw, rng.choice([None, rng.randint(1000, 20000)])))
    if offered("yescrypt"):
        add("mkpasswd yescrypt", lambda pw: mkpasswd("yescrypt", pw, rng.randint(1, 6)))
    # (sid's mkpasswd spells it gost_yescrypt)
    gost = "gost_yescrypt" if "gost_yescrypt" in MKPASSWD_METHODS else "gost-yescrypt"
    if offered(gost):
        add("mkpasswd gost-yescrypt", lambda pw: mkpasswd(gost, pw, rng.randint(1, 6)))
    if offered("scrypt"):
        add("mkpasswd scrypt ($7$)", lambda pw: mkpasswd("scrypt", pw, rng.randint(6, 9)))
    if offered("md5crypt"):
        add("mkpasswd md5crypt", lambda pw: mkpasswd("md5crypt", pw))
    if offered("nt"):
        add("mkpasswd nt", lambda pw: mkpasswd("nt", pw))
    add("python crypt", lambda pw: crypt_hash(pw, rng.choice(["2b", "5", "6"])))
    for variant in ("-id", "-i"):
        add("argon2 CLI " + variant, lambda pw: argon2_cli(pw, secrets.token_urlsafe(rng.randint(8, 24)), variant, rng.randint(1, 3),
                                                         rng.choice([1024, 4096, 8192]), rng.randint(1, 4), rng.choice([16, 24, 32, 64])))
    # format-faithful
    add("Werkzeug 3 scrypt", lambda pw: ff.werkzeug_scrypt(pw, 2 ** rng.randint(10, 14)), "faithful")
    add("Django 4 scrypt", lambda pw: ff.django_scrypt(pw, 2 ** rng.randint(4, 14)), "faithful")
    add("ASP.NET Identity v2", ff.aspnet_v2, "faithful")
    add("ASP.NET Identity v3", lambda pw: ff.aspnet_v3(pw, rng.randint(0, 2), rng.randint(1000, 20000)), "faithful")
    add("Spring {pbkdf2}", ff.spring_pbkdf2, "faithful")
    add("Spring {pbkdf2@SpringSecurity_v5_8}", lambda pw: ff.spring_pbkdf2(pw, True), "faithful")
    add("Spring {bcrypt}", lambda pw: ff.spring_bcrypt(pw, rng.randint(4, 7)), "faithful")
    add("Spring {argon2}", ff.spring_argon2, "faithful")
# DES reads 8 characters of the password; printable ones only
for _ in range(3):
    pw = "".join(rng.choice("abcdefghXYZ0123") for _ in range(8))
if offered("descrypt"):
    cases.append(("mkpasswd descrypt", "real", pw, mkpasswd("descrypt", pw)))

# PHP and node: one process each for a batch of passwords
def batch(cmd, tools, made_by="real", **kw):
    pws = [password() for _ in tools]
    out = subprocess.run(cmd, input=json.dumps(pws).encode(), capture_output=True, check=True, **kw).stdout.decode()
    for tool, pw, h in zip(tools, pws, json.loads(out)):
        cases.append((tool, made_by if not tool.startswith(("WordPress", "Drupal")) else "faithful", pw, h))

PHP = r'''
require getenv("HERE") . "/drupal7_faithful.php";
$out = [];
foreach (json_decode(stream_get_contents(STDIN)) as $i => $pw) {
  switch ($i % 6) {
    case 0: $out[] = password_hash($pw, PASSWORD_BCRYPT, ["cost" => 5]); break;
    case 1: $out[] = password_hash($pw, PASSWORD_ARGON2ID); break;        // m=65536,t=4,p=1
    case 2: $out[] = password_hash($pw, PASSWORD_ARGON2I, ["memory_cost" => 4096]); break;
    case 3: $out[] = password_hash($pw, PASSWORD_DEFAULT); break;         // $2y$10$
    // WordPress 6.8 wp_hash_password(): '$wp' . password_hash(base64(HMAC-SHA384('wp-sha384')))
    case 4: $out[] = '$wp' . password_hash(base64_encode(hash_hmac('sha384', $pw, 'wp-sha384', true)), PASSWORD_BCRYPT, ["cost" => 5]); break;
    case 5: $out[] = drupal7_hash($pw, 12); break;
  }
}
echo json_encode($out);
'''
batch(["php", "-r", PHP], ["PHP password_hash bcrypt", "PHP password_hash argon2id", "PHP password_hash argon2i",
                           "PHP password_hash default", "WordPress 6.8 $wp$", "Drupal 7 $S$"] * 2)
NODE = r'''
const argon2 = require('argon2'), bcryptjs = require('bcryptjs');
let s = ''; process.stdin.on('data', (d) => s += d).on('end', async () => {
  const out = [];
  for (const [i, pw] of JSON.parse(s).entries()) {
    if (i % 3 == 0) out.push(await argon2.hash(pw));                      // m=65536,p=4,t=3
    else if (i % 3 == 1) out.push(await argon2.hash(pw, { type: argon2.argon2i, memoryCost: 4096 }));
    else out.push(bcryptjs.hashSync(pw, 5));
  }
  process.stdout.write(JSON.stringify(out));
});
'''
batch(["node", "-e", NODE], ["node-argon2 argon2id", "node-argon2 argon2i", "bcryptjs"] * 2,
      env=dict(os.environ, NODE_PATH=os.path.join(HERE, "node_modules")))

bad = 0
for tool, made_by, pw, h in cases:
    cur.execute("SELECT acctsec.password_verify(%s, %s), acctsec.password_verify(%s, %s), acctsec.password_hash_format(%s)",
                (pw, h, "x" + pw, h, h))
    right, wrong, fmt = cur.fetchone()
    if right is not True or wrong is not False or fmt is None or conn.notices:
        bad += 1
        print("FAIL %s (%s): right=%s wrong=%s format=%s %s" % (tool, made_by, right, wrong, fmt, conn.notices[-1:]))
    del conn.notices[:]
table = {}
for tool, made_by, pw, h in cases:
    cur.execute("SELECT acctsec.password_hash_format(%s)", (h,))
    table.setdefault(cur.fetchone()[0], set()).add("%s (%s)" % (tool, made_by))
for fmt in sorted(table, key=str):
    print("  %-24s %s" % (fmt, ", ".join(sorted(table[fmt]))))
print("%d framework hashes, %d formats, %d failures" % (len(cases), len(table), bad))

# acctsec.login: the rehash is read by the framework itself
cur.execute("CREATE TABLE users (id int PRIMARY KEY, password text)")
cur.execute("""SELECT acctsec.link_account_table('users', 'id', '{"password_hash": "password"}')""")
def login_case(i, pw, h):
    cur.execute("INSERT INTO users VALUES (%s, %s)", (i, h))
    cur.execute("SELECT (acctsec.login(%s, %s)).status", (str(i), pw))
    status = cur.fetchone()[0]
    cur.execute("SELECT password FROM users WHERE id = %s", (i,))
    return status, cur.fetchone()[0]
checks = []
pw = password()
st, new = login_case(1, pw, make_password(pw, hasher="pbkdf2_sha256"))
checks.append(("Django pbkdf2_sha256 -> argon2$, Django check_password", st == "ok" and new.startswith("argon2$argon2id$") and check_password(pw, new) and not check_password("x" + pw, new)))
pw = password()
st, new = login_case(2, pw, make_password(pw, hasher="bcrypt_sha256"))
checks.append(("Django bcrypt_sha256 -> argon2$, Django check_password", st == "ok" and new.startswith("argon2$argon2id$") and check_password(pw, new)))
pw = password()
st, new = login_case(3, pw, ff.spring_bcrypt(pw))
checks.append(("Spring {bcrypt} -> {argon2}, argon2-cffi on the inner string", st == "ok" and new.startswith("{argon2}$argon2id$") and PasswordHasher().verify(new[8:], pw)))
pw = password()
old = ws.generate_password_hash(pw)
st, new = login_case(4, pw, old)
checks.append(("Werkzeug hash left alone, Werkzeug check_password_hash", st == "ok" and new == old and ws.check_password_hash(new, pw)))
pw = password()
old = subprocess.run(["php", "-r", 'echo password_hash(stream_get_contents(STDIN), PASSWORD_ARGON2ID, ["memory_cost" => 8192, "time_cost" => 1]);'],
                     input=pw.encode(), capture_output=True, check=True).stdout.decode()
st, new = login_case(5, pw, old)
php_ok = subprocess.run(["php", "-r", '$a = json_decode(stream_get_contents(STDIN)); echo password_verify($a[0], $a[1]) ? "t" : "f";'],
                        input=json.dumps([pw, new]).encode(), capture_output=True, check=True).stdout.decode()
checks.append(("PHP Argon2id m=8192 -> stronger $argon2id$, PHP password_verify", st == "ok" and new != old and new.startswith("$argon2id$v=19$m=19456,") and php_ok == "t"))
pw = password()
old = subprocess.run(["php", "-r", 'echo password_hash(stream_get_contents(STDIN), PASSWORD_ARGON2ID);'],
                     input=pw.encode(), capture_output=True, check=True).stdout.decode()
st, new = login_case(6, pw, old)
checks.append(("PHP Argon2id m=65536,t=4 (stronger) left alone", st == "ok" and new == old))
# a hash acctsec cannot verify: "failed", and the interpolated password stays out of the log
leak = "Tr0ub4dor&3-leak-" + secrets.token_hex(6)
for i, h in enumerate(["{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "pbkdf2_sha256$600000$salt$hash",
                       "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"], start=10):
    st, _ = login_case(i, leak, h)
    checks.append(("stored %s... answers failed" % h[:14], st == "failed"))
log = os.environ.get("LOG", "")
if os.path.exists(log):
    with open(log, encoding="utf-8", errors="replace") as f:
        checks.append(("interpolated password absent from the server log", leak not in f.read()))
for name, ok in checks:
    print("  %-66s %s" % (name, "ok" if ok else "FAIL"))
login_bad = sum(1 for _, ok in checks if not ok)

# acctsec's own hashes are standard Argon2id strings the reference CLI reproduces
agreed = tried = 0
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
    out = subprocess.run(["argon2", salt, "-id", "-t", kv["t"], "-k", kv["m"], "-p", kv["p"], "-l", "32", "-e"],
                         input=pw.encode(), capture_output=True, check=True).stdout.decode().strip()
    agreed += out == h
print("%d acctsec hashes, %d reproduced by the argon2 CLI" % (tried, agreed))
print("Django %s, Werkzeug %s, passlib %s, bcrypt %s, argon2-cffi %s" % (
    django.__version__, version_of("werkzeug"), version_of("passlib"), version_of("bcrypt"), version_of("argon2-cffi")))
sys.exit(0 if bad == 0 and login_bad == 0 and agreed == tried else 1)
PY
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
exit $rc
