#!/usr/bin/env bash
# Bounded state under attack: an attacker rotating through 100,000 addresses
# (one failed login each, spread over 1,000 accounts) must not grow
# acctsec.networks beyond the networks that failed within one window.  The
# window is set to 2 s so that rows expire during the run; every new row
# deletes up to 4 expired ones, so the table never holds more than the
# live rows plus a handful.  A sampler records the table's size while the
# attack runs.  Passes when the largest size seen stays far below the number
# of addresses used (at most a quarter of it, and at most what the attack
# can produce in window + 3 s at its measured rate), and prune_networks
# leaves nothing expired behind.
set -eu -o pipefail
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
PGBENCH="$ACCTSEC_BIN/pgbench"
DB=acctsec_bound
W=$ACCTSEC_TMP/bound
N=${BOUND_ATTEMPTS:-100000}
CLIENTS=4
mkdir -p "$W"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
"${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec" \
  -c "ALTER DATABASE $DB SET acctsec.network_failure_window = '2s'" \
  -c "ALTER DATABASE $DB SET acctsec.max_failed_attempts = 0"

cat >"$W/attack.sql" <<'SQL'
\set a random(1, 16000000)
\set n random(1, 1000)
SELECT acctsec.login_attempt('victim' || :n, false, '10.0.0.0'::inet + :a);
SQL

"$PGBENCH" -n -c $CLIENTS -t $((N / CLIENTS)) -f "$W/attack.sql" $DB >"$W/attack.log" 2>&1 &
attack=$!
: >"$W/sizes"
while kill -0 $attack 2>/dev/null; do
  "${PSQL[@]}" -d $DB -c "SELECT count(*) FROM acctsec.networks" >>"$W/sizes" || true
  sleep 0.25
done
wait $attack || { cat "$W/attack.log"; exit 1; }
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$W/attack.log" | head -1)

"${PSQL[@]}" -d $DB -v max_seen="$(sort -n "$W/sizes" | tail -1)" -v samples="$(wc -l <"$W/sizes")" \
  -v tps="$tps" <<'SQL'
\pset footer off
\pset tuples_only off
\pset format aligned
CREATE TEMP TABLE run AS
SELECT count(DISTINCT ip) AS addresses_used, count(*) AS attempts,
       :max_seen::bigint AS most_rows_seen, :samples::int AS samples,
       round(:tps) AS attempts_per_s,
       (SELECT count(*) FROM acctsec.networks) AS rows_at_end
FROM acctsec.login_attempts;
SELECT * FROM run;
BEGIN;
SELECT acctsec.prune_networks() AS pruned_after;
CREATE TEMP TABLE after_prune AS
SELECT count(*) FILTER (WHERE expires_at <= now()) AS expired_left, count(*) AS rows_left
FROM acctsec.networks;
COMMIT;
SELECT * FROM after_prune;
DO $$
DECLARE r record;
BEGIN
  SELECT * INTO r FROM run;
  IF r.attempts < 99000 OR r.addresses_used < 90000 THEN
    RAISE EXCEPTION 'the attack did not run as planned: % attempts from % addresses', r.attempts, r.addresses_used;
  END IF;
  IF r.samples < 5 THEN RAISE EXCEPTION 'too few samples (%)', r.samples; END IF;
  IF r.most_rows_seen > r.addresses_used / 4 OR r.most_rows_seen > r.attempts_per_s * 5 + 100 THEN
    RAISE EXCEPTION 'acctsec.networks grew to % rows (% addresses, % attempts/s)',
      r.most_rows_seen, r.addresses_used, r.attempts_per_s;
  END IF;
  IF (SELECT expired_left FROM after_prune) > 0 THEN
    RAISE EXCEPTION 'prune_networks left expired rows';
  END IF;
  RAISE NOTICE 'bounded: at most % rows for % addresses', r.most_rows_seen, r.addresses_used;
END $$;
SQL
rc=$?
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
exit $rc
