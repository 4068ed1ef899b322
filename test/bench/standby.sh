#!/usr/bin/env bash
# Benchmark: session_check on a hot standby beside the same on its primary,
# in the same run (issue 21; docs/replication.md, "Reads on a hot standby").
# A primary and a streaming standby of their own on loopback, N live
# sessions made on the primary; pgbench (CLIENTS clients, -j 2) runs the same
# script against each in turn, ROUNDS times: session_check of a random
# session's token, read from a table by a random key.  On the primary the
# check writes last_seen_at when its touch is due, as it does in real
# traffic; on the standby it only validates and reports touch_due (the
# application then calls session_touch on the primary).  Medians and the
# ratio standby / primary.  Not a test.
set -eu -o pipefail
. "$(dirname "$0")/../lib/cluster.sh"
N=${BENCH_STANDBY_SESSIONS:-20000}
SECS=${BENCH_SECONDS:-5}
CLIENTS=${BENCH_CLIENTS:-4}
ROUNDS=${BENCH_ROUNDS:-3}

cluster_new primary
echo "wal_level = replica" >>"$ACCTSEC_TMP/primary/data/postgresql.conf"
cluster_start primary
cluster_psql primary -d postgres -q <<SQL >/dev/null
CREATE EXTENSION acctsec;
CREATE TABLE bench_tokens (i int PRIMARY KEY, token text NOT NULL);
INSERT INTO bench_tokens
  SELECT g, (acctsec.session_start('user' || g, ('198.51.100.' || (g % 250)::text)::inet, 'bench')).token
  FROM generate_series(1, $N) AS g;
VACUUM ANALYZE;
CHECKPOINT;
SQL
cluster_standby primary standby
cluster_wait_replay primary standby || { echo "the standby did not catch up" >&2; exit 1; }

script=$ACCTSEC_TMP/session_check.sql
cat >"$script" <<SQL
\\set i random(1, $N)
SELECT s.account FROM bench_tokens t, LATERAL acctsec.session_check(t.token) s WHERE t.i = :i;
SQL
chown postgres "$script" 2>/dev/null || true
tps() { # tps NAME: one pgbench run against that server
  local port=PORT_$1 sock=SOCK_$1
  "$ACCTSEC_BIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 -T "$SECS" -f "$script" \
    -h "${!sock}" -p "${!port}" -U postgres postgres 2>/dev/null |
    sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
P=(); S=()
for _ in $(seq 1 "$ROUNDS"); do
  P+=("$(tps primary)"); S+=("$(tps standby)")
done
p=$(printf '%s\n' "${P[@]}" | median); s=$(printf '%s\n' "${S[@]}" | median)
due=$(cluster_psql standby -d postgres -c "SELECT count(*) FILTER (WHERE s.touch_due) FROM bench_tokens t, LATERAL acctsec.session_check(t.token) s")
echo "session_check, $N live sessions, $CLIENTS clients, ${SECS}s x $ROUNDS rounds (medians)"
printf '  primary  %10.0f tps   (runs: %s)\n' "$p" "${P[*]}"
printf '  standby  %10.0f tps   (runs: %s)\n' "$s" "${S[*]}"
awk -v p="$p" -v s="$s" 'BEGIN { printf "  standby / primary: %.2f\n", s / p }'
echo "  sessions the standby now reports a touch due for: $due of $N"
