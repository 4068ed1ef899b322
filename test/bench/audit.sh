#!/usr/bin/env bash
# Benchmark: the cost of auditing, in the same run.
#  1. INSERT then UPDATE of N rows (one statement each) into a table with no
#     trigger, with the usual PL/pgSQL audit trigger (to_jsonb(OLD/NEW) into a
#     log table with the same reader indexes), and with acctsec.audit().
#     Prints each time, the cost each trigger adds, and their ratio.
#  2. pgbench: short audited write transactions with 1 and 8 clients, to show
#     that concurrent writers do not serialise on the chain (sealed at commit).
#  3. audit_verify() of the whole log vs from a checkpoint taken before the
#     last 1,000 rows, and audit_purge() vs a DELETE of the PL/pgSQL log.
# Not a test; figures are noisy on a shared machine.
set -eu -o pipefail
. "$(dirname "$0")/../lib/bench.sh"
N=${BENCH_N:-100000}
SECS=${BENCH_SECS:-10}
bench_db acctsec_bench_audit
"${PSQL[@]}" -d $DB <<'SQL'
-- What applications write today: a generic PL/pgSQL audit trigger.
CREATE TABLE plpgsql_audit_log (
  id bigserial PRIMARY KEY, logged_at timestamptz NOT NULL DEFAULT statement_timestamp(),
  txid xid8 NOT NULL DEFAULT pg_current_xact_id(), db_user text NOT NULL DEFAULT session_user,
  actor text, client_addr inet DEFAULT inet_client_addr(), relation text, operation text,
  row_key jsonb, old_values jsonb, new_values jsonb, changed_columns text[]);
CREATE INDEX ON plpgsql_audit_log (relation, logged_at);
CREATE INDEX ON plpgsql_audit_log (actor, logged_at) WHERE actor IS NOT NULL;
CREATE INDEX ON plpgsql_audit_log USING hash (row_key);
CREATE FUNCTION plpgsql_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  o jsonb;
  n jsonb;
  changed text[];
BEGIN
  IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW); END IF;
  IF TG_OP = 'UPDATE' THEN
    SELECT array_agg(e.key) INTO changed FROM jsonb_each(n) e WHERE o -> e.key IS DISTINCT FROM e.value;
  END IF;
  INSERT INTO plpgsql_audit_log (actor, relation, operation, row_key, old_values, new_values, changed_columns)
  VALUES (nullif(current_setting('acctsec.actor', true), ''), TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP,
          jsonb_build_object('id', COALESCE(n, o) -> 'id'), o, n, changed);
  RETURN NULL;
END $$;
CREATE TABLE t_none (id int PRIMARY KEY, email text, name text, n int, active bool, updated_at timestamptz);
CREATE TABLE t_plpgsql (LIKE t_none INCLUDING ALL);
CREATE TABLE t_acctsec (LIKE t_none INCLUDING ALL);
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON t_plpgsql FOR EACH ROW EXECUTE FUNCTION plpgsql_audit();
SELECT acctsec.audit_table('t_acctsec');
SQL

time_ms() { # run one statement in its own transaction, print elapsed ms
  "${PSQL[@]}" -d $DB -c "SET acctsec.actor = 'bench'" -c "\\timing on" -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}
INS="SELECT g, 'user' || g || '@example.com', 'User ' || g, g, true, now() FROM generate_series(1, $N) g"
UPD="SET n = n + 1, email = 'changed' || id || '@example.com', updated_at = now()"
# warm-up: a small run through each path
for t in t_none t_plpgsql t_acctsec; do
  time_ms "INSERT INTO $t SELECT -g, 'w', 'w', 0, true, now() FROM generate_series(1, 1000) g" >/dev/null
  time_ms "DELETE FROM $t" >/dev/null
done
declare -A INS_MS UPD_MS
for t in t_none t_plpgsql t_acctsec; do
  "${PSQL[@]}" -d $DB -c "CHECKPOINT" >/dev/null
  INS_MS[$t]=$(time_ms "INSERT INTO $t $INS")
  UPD_MS[$t]=$(time_ms "UPDATE $t $UPD")
done
ok=$("${PSQL[@]}" -d $DB -c "SELECT ok FROM acctsec.audit_verify()")
awk -v n=$N -v i0=${INS_MS[t_none]} -v ip=${INS_MS[t_plpgsql]} -v ia=${INS_MS[t_acctsec]} \
    -v u0=${UPD_MS[t_none]} -v up=${UPD_MS[t_plpgsql]} -v ua=${UPD_MS[t_acctsec]} -v ok=$ok 'BEGIN {
  printf "%d rows, one statement each (ms; added = cost over no trigger)\n", n;
  printf "                      INSERT    added   UPDATE    added\n";
  printf "  no trigger        %8.0f          %8.0f\n", i0, u0;
  printf "  PL/pgSQL to_jsonb %8.0f %8.0f %8.0f %8.0f\n", ip, ip - i0, up, up - u0;
  printf "  acctsec.audit()   %8.0f %8.0f %8.0f %8.0f\n", ia, ia - i0, ua, ua - u0;
  printf "  acctsec added / PL/pgSQL added: INSERT %.2f, UPDATE %.2f, both %.2f (target <= 0.5)\n",
         (ia - i0) / (ip - i0), (ua - u0) / (up - u0), (ia - i0 + ua - u0) / (ip - i0 + up - u0);
  printf "  per audited row: acctsec %.1f us, PL/pgSQL %.1f us; chain verifies: %s\n",
         (ia - i0 + ua - u0) * 1000 / (2 * n), (ip - i0 + up - u0) * 1000 / (2 * n), ok;
}'

# what a row costs on disk, and how fast audit_verify() reads the log
"${PSQL[@]}" -d $DB -c "VACUUM ANALYZE acctsec.audit_log" >/dev/null
# (the log is partitioned: its size is its partitions', the parent has none)
size=$("${PSQL[@]}" -d $DB -c "SELECT (SELECT sum(pg_total_relation_size(relid))::bigint FROM pg_partition_tree('acctsec.audit_log')) / count(*) || ' bytes/row (heap + indexes, ' || count(*) || ' rows)' FROM acctsec.audit_log")
vms=$(time_ms "SELECT * FROM acctsec.audit_verify()")
rows=$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM acctsec.audit_log")
echo "  log size: $size"
awk -v ms=$vms -v n=$rows 'BEGIN { printf "  audit_verify(): %d rows in %.0f ms (%.0f rows/s)\n", n, ms, n / (ms / 1000) }'

# --- concurrency -----------------------------------------------------------------
"${PSQL[@]}" -d $DB -c "CREATE TABLE t_pgbench (id int PRIMARY KEY, n int, note text)" \
  -c "INSERT INTO t_pgbench SELECT g, 0, 'x' FROM generate_series(1, 100000) g" \
  -c "CREATE TABLE t_pgbench_plain AS SELECT * FROM t_pgbench" \
  -c "ALTER TABLE t_pgbench_plain ADD PRIMARY KEY (id)" \
  -c "SELECT acctsec.audit_table('t_pgbench')" -c "VACUUM ANALYZE t_pgbench, t_pgbench_plain" >/dev/null
SCRIPT=$ACCTSEC_TMP/audit_bench.sql
cat >"$SCRIPT" <<'PGB'
\set id random(1, 100000)
BEGIN;
SET LOCAL acctsec.actor = 'pgbench';
UPDATE t_pgbench SET n = n + 1 WHERE id = :id;
UPDATE t_pgbench SET note = 'y' || :id WHERE id = :id % 100000 + 1;
END;
PGB
sed 's/t_pgbench/t_pgbench_plain/' "$SCRIPT" >"$SCRIPT.plain"
tps() {
  "$ACCTSEC_BIN/pgbench" -n -c "$1" -j "$1" -T "$SECS" -f "$2" $DB 2>/dev/null \
    | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -1
}
tps 2 "$SCRIPT" >/dev/null || true   # warm-up
p1=$(tps 1 "$SCRIPT.plain"); t1=$(tps 1 "$SCRIPT"); t8=$(tps 8 "$SCRIPT"); p8=$(tps 8 "$SCRIPT.plain")
ok=$("${PSQL[@]}" -d $DB -c "SELECT ok FROM acctsec.audit_verify()")
lanes=$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM acctsec.audit_lanes WHERE last_seq > 0")
awk -v t1=$t1 -v t8=$t8 -v p1=$p1 -v p8=$p8 -v s=$SECS -v ok=$ok -v lanes=$lanes 'BEGIN {
  printf "pgbench, %ds each, transactions of 2 UPDATEs (tps):\n", s;
  printf "               audited   no trigger\n";
  printf "  1 client  %10.0f %10.0f\n  8 clients %10.0f %10.0f\n", t1, p1, t8, p8;
  printf "  8 / 1: audited %.2fx (target >= 1.5), no trigger %.2fx (what this machine allows)\n", t8 / t1, p8 / p1;
  printf "  lanes used: %d; chain verifies: %s\n", lanes, ok;
}'

# --- verification from a checkpoint, and purge ---------------------------------------
cp=$("${PSQL[@]}" -d $DB -c "SELECT acctsec.audit_checkpoint()")
time_ms "UPDATE t_acctsec SET n = n + 1 WHERE id <= 1000" >/dev/null
rows=$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM acctsec.audit_log")
vfull=$(time_ms "SELECT * FROM acctsec.audit_verify()")
vcp=$(time_ms "SELECT * FROM acctsec.audit_verify(ARRAY['$cp'])")
okcp=$("${PSQL[@]}" -d $DB -c "SELECT ok || ' ' || checked FROM acctsec.audit_verify(ARRAY['$cp'])")
prows=$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM plpgsql_audit_log")
pa=$(time_ms "SELECT acctsec.audit_purge('0')")
pd=$(time_ms "DELETE FROM plpgsql_audit_log")
awk -v n=$rows -v f=$vfull -v c=$vcp -v okcp="$okcp" -v pa=$pa -v pd=$pd -v pn=$prows 'BEGIN {
  split(okcp, o, " ");
  printf "verification: whole log %d rows in %.0f ms (%.0f rows/s); from a checkpoint %d rows in %.0f ms (ok %s); %.0fx faster\n",
         n, f, n / (f / 1000), o[2], c, o[1], f / c;
  printf "purge of every row: acctsec.audit_purge %.0f ms (%d rows), DELETE of the PL/pgSQL log %.0f ms (%d rows): %.2fx\n",
         pa, n, pd, pn, pa / pd;
}'
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
