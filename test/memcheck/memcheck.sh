#!/usr/bin/env bash
# Run the regression suites against a server whose every process runs under
# valgrind's memcheck, and report each error whose stack passes through
# acctsec.  Not part of "bash test/run test": it takes many minutes.
#
#   bash test/memcheck/memcheck.sh              # the REGRESS list of the Makefile
#   bash test/memcheck/memcheck.sh otp hostile  # chosen tests (after setup)
#
# Like test/run, it never touches the system installation: the server is
# copied into a private root, acctsec installed there, and a throwaway
# cluster started from it as the postgres user.
#
# What it can and cannot see: Debian's PostgreSQL is not built with
# USE_VALGRIND, so palloc'd chunks are not marked for memcheck: a read or
# write past a palloc'd chunk that stays inside its memory-context block,
# and a use of a pfree'd chunk, go unseen.  What memcheck does see: reads of
# uninitialised memory that decide a branch or reach a system call, accesses
# outside any malloc'd block (a big palloc, above 8 kB, is its own block),
# invalid frees, and overlapping memcpy.  The AddressSanitizer fuzzers
# (test/fuzz) cover the pure-C core at byte granularity.
set -u -o pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
SYS_BIN=$($PG_CONFIG --bindir)
SYS_SHARE=$($PG_CONFIG --sharedir)
PGXS_DIR=$(dirname "$($PG_CONFIG --pgxs)")/../..
say() { printf '%s\n' "$*"; }
die() { printf 'memcheck: %s\n' "$*" >&2; exit 2; }
command -v valgrind >/dev/null || die "valgrind is not installed (apt-get install valgrind)"
[ "$(id -u)" -eq 0 ] || die "run as root (the cluster runs as the postgres user)"

cd "$REPO"
make -s PG_CONFIG=$PG_CONFIG WERROR=1 >/dev/null || die "build failed"
if [ $# -gt 0 ]; then TESTS="$*"; else
  TESTS=$(make -s PG_CONFIG=$PG_CONFIG print-tests | sed -n 's/^REGRESS=//p'); fi
# every regression test starts from what the first one, setup, creates
case " $TESTS " in *" setup "*) ;; *) TESTS="setup $TESTS" ;; esac

T=$(mktemp -d /tmp/acctsec-memcheck.XXXXXX)
chmod 755 "$T"
RESULTS=$REPO/test/memcheck/results
rm -rf "$RESULTS"; mkdir -p "$RESULTS"
ROOT=$T/root
mkdir -p "$ROOT$(dirname "$SYS_BIN")" "$ROOT$(dirname "$SYS_SHARE")"
cp -a "$(dirname "$SYS_BIN")/." "$ROOT$(dirname "$SYS_BIN")/"
cp -a "$SYS_SHARE" "$ROOT$(dirname "$SYS_SHARE")/"
make -s PG_CONFIG=$PG_CONFIG install DESTDIR="$ROOT" >/dev/null || die "make install DESTDIR failed"
BIN=$ROOT$SYS_BIN
DATA=$T/data
SOCK=$T/sock
VG=$T/valgrind
mkdir -p "$SOCK" "$VG"
chown postgres "$T" "$SOCK" "$VG"
RUNAS=(runuser -u postgres --)

"${RUNAS[@]}" "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 \
  --locale=C.UTF-8 --no-sync >"$T/initdb.log" 2>&1 || { cat "$T/initdb.log"; die "initdb failed"; }
PORT=$((20000 + RANDOM % 20000))
cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = ''
port = $PORT
unix_socket_directories = '$SOCK'
fsync = off
max_connections = 20
shared_buffers = 32MB
max_worker_processes = 4
max_parallel_workers_per_gather = 0
autovacuum = off
log_line_prefix = '%m [%p] '
CONF

# Start the postmaster under valgrind; children are traced (one log per
# process).  --trace-children-skip keeps valgrind out of archive or shell
# commands the server might run.
"${RUNAS[@]}" valgrind --quiet --tool=memcheck --trace-children=yes \
  --trace-children-skip='*/sh,*/bash' --track-origins=yes --read-var-info=no \
  --num-callers=30 --leak-check=no --error-limit=no \
  --suppressions="$REPO/test/memcheck/postgres.supp" \
  --log-file="$VG/%p.log" \
  "$BIN/postgres" -D "$DATA" >"$T/server.log" 2>&1 &
VGPID=$!
cleanup() {
  "${RUNAS[@]}" "$BIN/pg_ctl" -D "$DATA" -m fast -t 300 stop >/dev/null 2>&1
  wait $VGPID 2>/dev/null
  cp "$T/server.log" "$RESULTS/server.log" 2>/dev/null
  cp -r "$VG" "$RESULTS/" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
for i in $(seq 1 300); do
  "$BIN/pg_isready" -q -h "$SOCK" -p $PORT && break
  sleep 1
done
"$BIN/pg_isready" -q -h "$SOCK" -p $PORT || { cat "$T/server.log"; die "server did not start under valgrind"; }
say "== server up under valgrind; running: $TESTS"

start=$(date +%s)
"$PGXS_DIR/src/test/regress/pg_regress" --inputdir=. --outputdir="$RESULTS/regress" \
  --bindir="$BIN" --host="$SOCK" --port="$PORT" --user=postgres \
  --dbname=contrib_regression $TESTS 2>&1 | tee "$RESULTS/regress.log"
say "== regression run took $(( $(date +%s) - start )) s under valgrind"
"${RUNAS[@]}" "$BIN/pg_ctl" -D "$DATA" -m fast -t 300 stop >/dev/null 2>&1
wait $VGPID 2>/dev/null

# Every error valgrind reported, and those whose stack passes through acctsec.
python3 - "$VG" "$REPO/src" <<'PY'
import os, re, sys
d, src = sys.argv[1], sys.argv[2]
our_files = {f for f in os.listdir(src) if f.endswith(".c")}
frame = re.compile(r'(?:at|by) 0x[0-9A-F]+: (\S+) \((.*)\)$')

def ours_frame(line):
    # a frame in acctsec.so: by its object, its source file or its symbols
    m = frame.search(line)
    if not m:
        return False
    func, where = m.groups()
    return (where.endswith('/acctsec.so') or where.split(":")[0] in our_files
            or func.startswith(('acctsec_', 'otp_', 'base32_')))

total = ours = procs = 0
for name in sorted(os.listdir(d)):
    text = open(os.path.join(d, name), errors='replace').read()
    procs += 1
    # an error report: a block of "==pid== " lines starting at a non-indented line
    blocks = re.split(r'\n==\d+== \n', text)
    for b in blocks:
        lines = [l for l in b.splitlines() if re.match(r'==\d+== ', l)]
        if not any(re.search(r'(at|by) 0x', l) for l in lines):
            continue
        total += 1
        if any(ours_frame(l) for l in lines):
            ours += 1
            print('\n'.join(lines)); print()
print('valgrind: %d process logs, %d error reports, %d through acctsec' % (procs, total, ours))
sys.exit(1 if ours else 0)
PY
vg=$?
fail=$(grep -c '\.\.\. FAILED' "$RESULTS/regress.log")
say "== memcheck: regression failures $fail; valgrind logs in $RESULTS/valgrind"
[ "$vg" -eq 0 ] && [ "$fail" -eq 0 ]
