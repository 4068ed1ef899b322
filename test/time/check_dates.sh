#!/usr/bin/env bash
# No test may depend on today's date or the server's time zone.  Runs the
# regression and isolation suites again, each time against a fresh cluster
# whose clock is faked with libfaketime (applied to the server only), at
# instants where date arithmetic goes wrong, and once under an unusual
# TimeZone:
#
#   the last seconds of a year          2027-12-31 23:59:50 UTC
#   29 February of a leap year          2028-02-29 12:00:00 UTC
#   the first day of a 31-day month     2027-05-01 00:00:00 UTC
#   a daylight-saving change            2027-03-14 06:59:40 UTC (02:00 EST
#                                        becomes 03:00 EDT), TimeZone
#                                        America/New_York
#   the real clock, TimeZone            Asia/Kathmandu (+05:45)
#
# The clients use the server's TimeZone (pg_regress would otherwise set PGTZ
# for them), so the server's zone is the one in force.
#
#   DATES_ONLY="2028-02-29 12:00:00" bash test/time/check_dates.sh   # one instant
set -u -o pipefail
REPO=${ACCTSEC_REPO:?run through bash test/run test}
BIN=$ACCTSEC_BIN
W=$ACCTSEC_TMP/dates
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
[ -f "$FAKETIME_LIB" ] || FAKETIME_LIB=$(dpkg -L libfaketime 2>/dev/null | grep -m1 '/libfaketime\.so\.1$')
[ -f "$FAKETIME_LIB" ] || { echo "libfaketime is not installed (Debian package faketime)"; exit 1; }
if [ "$(id -u)" -eq 0 ]; then RUNAS=(runuser -u postgres --); else RUNAS=(); fi

cd "$REPO"

rm -rf "$W"; mkdir -p "$W"
[ "$(id -u)" -eq 0 ] && chown postgres "$W"
"${RUNAS[@]}" "$BIN/initdb" -D "$W/template" -U postgres --auth=trust -E UTF8 \
  --locale=C.UTF-8 --no-sync >"$W/initdb.log" 2>&1 || { cat "$W/initdb.log"; exit 1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
failures=0
runs=0

# run_at LABEL FAKETIME-SPEC-OR-EMPTY TIMEZONE
run_at() {
  local label=$1 when=$2 zone=$3 data=$W/data-$runs sock=$W/sock-$runs port
  port=$((20000 + RANDOM % 20000)); while ! port_free $port; do port=$((port + 1)); done
  "${RUNAS[@]}" cp -a "$W/template" "$data"
  "${RUNAS[@]}" mkdir -p "$sock"
  cat >>"$data/postgresql.conf" <<CONF
listen_addresses = ''
port = $port
unix_socket_directories = '$sock'
fsync = off
synchronous_commit = off
max_connections = 40
max_prepared_transactions = 10
TimeZone = '$zone'
log_timezone = 'UTC'
CONF
  local env=(env)
  # "@" starts the faked clock at that instant and lets it run on; TZ=UTC
  # only tells libfaketime how to read the instant
  [ -n "$when" ] && env=(env TZ=UTC LD_PRELOAD="$FAKETIME_LIB" FAKETIME="@$when" FAKETIME_DONT_FAKE_MONOTONIC=1)
  if ! "${RUNAS[@]}" "${env[@]}" "$BIN/pg_ctl" -D "$data" -l "$W/server-$runs.log" -w -t 60 start >/dev/null; then
    echo "FAIL: $label: the server did not start"; cat "$W/server-$runs.log"; failures=$((failures + 1)); return
  fi
  local now
  now=$("$BIN/psql" -X -At -h "$sock" -p $port -U postgres -d postgres -c "SELECT now() AT TIME ZONE 'UTC' || ' UTC, TimeZone ' || current_setting('TimeZone')" 2>&1)
  # the suites as "make installcheck" runs them (one run each, so that a
  # failed regression run does not stop the isolation run)
  local opts="--bindir=$BIN --host=$sock --port=$port --user=postgres --launcher='env -u PGTZ'"
  local ok=1
  make -s installcheck PG_CONFIG="$BIN/pg_config" ISOLATION= \
    EXTRA_REGRESS_OPTS="--outputdir=$W/regress-$runs $opts" >"$W/regress-$runs.log" 2>&1 || ok=0
  make -s installcheck PG_CONFIG="$BIN/pg_config" REGRESS= \
    EXTRA_REGRESS_OPTS="--outputdir=$W/isolation-$runs $opts" >"$W/isolation-$runs.log" 2>&1 || ok=0
  "${RUNAS[@]}" "$BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1
  if [ $ok = 1 ]; then
    echo "ok: $label (server clock at start: $now)"
  else
    echo "FAIL: $label (server clock at start: $now)"
    grep -hE 'FAILED|failed' "$W/regress-$runs.log" "$W/isolation-$runs.log" | head -20
    cat "$W"/regress-$runs/regression.diffs "$W"/isolation-$runs/regression.diffs 2>/dev/null | head -80
    failures=$((failures + 1))
  fi
  runs=$((runs + 1))
}

if [ -n "${DATES_ONLY:-}" ]; then
  run_at "$DATES_ONLY" "$DATES_ONLY" UTC
else
  run_at "the last seconds of a year"      "2027-12-31 23:59:50" UTC
  run_at "29 February 2028"                "2028-02-29 12:00:00" UTC
  run_at "the first day of a 31-day month" "2027-05-01 00:00:00" UTC
  run_at "a daylight-saving change in New York" "2027-03-14 06:59:40" America/New_York
  run_at "the real clock, TimeZone Asia/Kathmandu" "" Asia/Kathmandu
fi
echo "$runs runs, $failures failed"
[ $failures -eq 0 ]
