#!/usr/bin/env bash
# Benchmark: what one scrape of acctsec.metrics() costs on a busy server's
# tables: 1,000,000 accounts (1% locked), 2,000,000 login attempts spread
# over the last day (the newest five minutes hold 20,000), 200,000 sessions,
# 1,000,000 audit rows over the last day.  The tables are filled directly with
# generate_series (the shape matters here, not the path that writes them),
# then ANALYZEd.  Prints the median milliseconds of 20 scrapes, beside a
# plain count(*) of login_attempts (what a naive exporter query would run).
# Not a test.
set -eu -o pipefail
. "$(dirname "$0")/../lib/bench.sh"
ACCOUNTS=${BENCH_ACCOUNTS:-1000000}
bench_db acctsec_bench_metrics
"${PSQL[@]}" -d $DB <<SQL
INSERT INTO acctsec.accounts (account, failed_attempts, locked_until)
SELECT 'user-' || g, g % 5, CASE WHEN g % 100 = 0 THEN now() + interval '10 minutes' END
FROM generate_series(1, $ACCOUNTS) g;
-- oldest first, as they are appended
INSERT INTO acctsec.login_attempts (account, attempted_at, outcome)
SELECT 'user-' || (g % $ACCOUNTS), now() - interval '1 day' + g * (interval '1 day' / 2000000),
       (ARRAY['ok', 'failed', 'failed', 'locked']::acctsec.login_status[])[1 + g % 4]
FROM generate_series(1, 2000000) g;
INSERT INTO acctsec.account_sessions (account, selector, verifier_hash, started_at, last_seen_at, expires_at)
SELECT 'user-' || g, substr(sha256(g::text::bytea), 1, 9), sha256(g::text::bytea),
       now() - interval '1 day', now() - (g % 600) * interval '1 minute', now() + interval '29 days'
FROM generate_series(1, 200000) g;
SQL
# audit rows through the real writer (security events), in batches
for _ in $(seq 1 10); do
  "${PSQL[@]}" -d $DB -c "SELECT count(acctsec.audit_event('app.bench', 'user-' || g, '{}')) FROM generate_series(1, 100000) g" >/dev/null
done
# spread them over the day, oldest first (the bench needs the time shape,
# not a chain that verifies)
"${PSQL[@]}" -d $DB -c "ALTER TABLE acctsec.audit_log DISABLE TRIGGER ALL" \
  -c "UPDATE acctsec.audit_log SET logged_at = now() - interval '1 day' + id * (interval '1 day' / 1000000)" \
  -c "ALTER TABLE acctsec.audit_log ENABLE TRIGGER ALL" -c "VACUUM FULL acctsec.audit_log" >/dev/null
"${PSQL[@]}" -d $DB -c "VACUUM ANALYZE" >/dev/null

time_ms() { # SQL, repeated 20 times: the median milliseconds of one run
  local i out=()
  for i in $(seq 1 20); do
    out+=("$("${PSQL[@]}" -d $DB -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')")
  done
  printf '%s\n' "${out[@]}" | sort -n | sed -n 10p
}
m=$(time_ms "SELECT count(*) FROM acctsec.metrics()")
c=$(time_ms "SELECT count(*) FROM acctsec.login_attempts")
echo "metrics() scrape: ${m} ms (median of 20) over $ACCOUNTS accounts, 2M attempts, 200k sessions, 1M audit rows"
echo "count(*) of login_attempts: ${c} ms"
echo "scraped every 15 s, metrics() keeps one core busy $(awk -v m="$m" 'BEGIN { printf "%.3f", m / 15000 * 100 }')% of the time"
[ -n "${BENCH_EXPLAIN:-}" ] && "${PSQL[@]}" -d $DB -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) SELECT * FROM acctsec.metrics()" -c "LOAD 'auto_explain'" -c "SET auto_explain.log_min_duration = 0" -c "SET auto_explain.log_nested_statements = on" -c "SET auto_explain.log_analyze = on" -c "SET client_min_messages = log" -c "SET auto_explain.log_timing = on" -c "SELECT count(*) FROM acctsec.metrics()" 2>&1
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB" >/dev/null
