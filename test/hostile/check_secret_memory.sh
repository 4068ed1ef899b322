#!/usr/bin/env bash
# No copy of a TOTP secret is left in a backend's memory once acctsec is done
# with it: the backend's writable memory is read (/proc/PID/mem, as root)
# while its connection is still open, after
#  1. totp_uri with a long issuer: the URI outgrows a first buffer (the old
#     StringInfo was reallocated, freeing a copy of "...?secret=BASE32"
#     unwiped).  The result itself is returned and so is in memory, always
#     followed by "&issuer="; a copy followed by the terminating zero byte is
#     what a freed intermediate buffer leaves.
#  2. totp_enroll failing with "account already has an active TOTP
#     credential", in a session that has never been given a URI: no
#     otpauth://...secret=... string may be anywhere in its memory (the old
#     code left the URI and the base32 secret unwiped on that path).
# A self-test first shows that the scanner finds a string that is there.
set -u -o pipefail
[ "$(id -u)" -eq 0 ] || { echo "FAIL: this check reads another process's memory and must run as root"; exit 1; }
DB=acctsec_secret_memory
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null 2>&1
trap '"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1' EXIT
"${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec"

DB=$DB /usr/bin/python3 - <<'PY'
import base64, os, re, sys
import psycopg2

def connect():
    c = psycopg2.connect(dbname=os.environ['DB'], host=os.environ['PGHOST'],
                         port=os.environ['PGPORT'], user='postgres')
    c.autocommit = True
    return c

def memory(pid):
    """Every readable, writable mapping of the process (heap, anonymous)."""
    chunks = []
    with open(f'/proc/{pid}/maps') as maps, open(f'/proc/{pid}/mem', 'rb', 0) as mem:
        for line in maps:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split('-'))
            if not parts[1].startswith('rw'):
                continue
            try:
                mem.seek(lo)
                chunks.append(mem.read(hi - lo))
            except OSError:
                pass
    return b''.join(chunks)

fail = 0
def expect(what, ok):
    global fail
    print(('ok: ' if ok else 'FAIL: ') + what)
    fail |= not ok

# self-test: the scanner sees a string the backend holds
c = connect(); cur = c.cursor()
cur.execute("SELECT pg_backend_pid()"); pid = cur.fetchone()[0]
marker = 'selftest-' + os.urandom(8).hex()
cur.execute("SELECT %s", (marker,)); cur.fetchall()
expect('the scanner finds a string in the backend', marker.encode() in memory(pid))
c.close()

# 1. totp_uri with a URI longer than a first 1 kB buffer
secret = os.urandom(20)
b32 = base64.b32encode(secret).rstrip(b'=')
c = connect(); cur = c.cursor()
cur.execute("SELECT pg_backend_pid()"); pid = cur.fetchone()[0]
cur.execute("SELECT acctsec.totp_uri(%s, 'memory@example.com', %s, 6, 30, 'SHA1')",
            (psycopg2.Binary(secret), ' ' * 200))
uri = cur.fetchone()[0]
expect('totp_uri returned the URI', ('secret=' + b32.decode() + '&issuer=') in uri)
m = memory(pid)
expect('the returned URI is in memory (followed by &issuer=)', (b'secret=' + b32 + b'&issuer=') in m)
expect('no intermediate copy of the secret (followed by a zero byte)', (b32 + b'\x00') not in m)
c.close()

# 2. totp_enroll refused: the session never gets a URI, and keeps none
a = connect(); cur = a.cursor()
cur.execute("SELECT secret FROM acctsec.totp_enroll('memory-dup')")
s = cur.fetchone()[0]
cur.execute("SELECT acctsec.totp_confirm('memory-dup', acctsec.totp(acctsec.base32_decode(%s)))", (s,))
expect('an active credential for memory-dup', cur.fetchone()[0] is True)
a.close()
b = connect(); cur = b.cursor()
cur.execute("SELECT pg_backend_pid()"); pid = cur.fetchone()[0]
for _ in range(3):
    try:
        cur.execute("SELECT * FROM acctsec.totp_enroll('memory-dup')")
        expect('totp_enroll is refused', False)
    except psycopg2.Error as e:
        expect('totp_enroll is refused (' + (e.pgcode or '') + ')', e.pgcode == '55000')
m = memory(pid)
found = re.findall(rb'otpauth://totp/[^\x00]{0,200}secret=[A-Z2-7]{16,}', m)
expect('no TOTP URI in the memory of the refused session (%d found)' % len(found), not found)
b.close()
sys.exit(fail)
PY
