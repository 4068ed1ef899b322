#!/usr/bin/env bash
# Benchmark: retention of the audit log (issue 20, item 3), in one run.
#  1. Fill N audit rows (BENCH_RETENTION_ROWS, default 200000; 10000000
#     for the issue's figure), the older half before a mark in time, the
#     newer half after it.  The rows are real audit rows, hashed and sealed
#     by the audit trigger: INSERT ... SELECT ... FROM generate_series() of
#     BENCH_RETENTION_BATCH rows (default 1,000) into an audited table, one
#     statement and one transaction (one seal) each, piped into one psql
#     (about 40,000 rows/s here: the trigger's own cost, whatever the
#     batch).  The log is partitioned at the mark: the older half in a
#     partition that ends there, the newer in one from there on (the fill
#     writes the first into one partition open to the future, which is then
#     detached and attached again up to the mark: set-up, not measured).
#  2. Insert throughput (pgbench, 1 and 8 clients, short audited inserts)
#     on the full log.
#  3. audit_verify() of the whole log, and from a checkpoint taken at the
#     mark (rows/s).
#  4. The purge of the older half: acctsec.audit_purge() on the log, which
#     drops the older partition whole (and deletes the seals), and a plain
#     DELETE ... WHERE logged_at < mark of the same rows in a copy of the
#     database (the append-only guard disabled there), and, in a second
#     copy where a row of the newer half sits in the older partition (so it
#     cannot be dropped), audit_purge() row by row, as it purged before the
#     log was partitioned.  Each copy is made (CREATE DATABASE ... STRATEGY
#     FILE_COPY: no WAL for it) and dropped in turn, so that at most two
#     copies of the log are on disk at once (about 1.3 GB per million rows
#     each, the audited table included: check df first at 10,000,000).
#     Before it, a purge of nothing: the purge's fixed cost, which should
#     not grow with the log or with its seals (pgbench leaves tens of
#     thousands of small transactions).
#  5. Insert throughput and verification again, after the purge.
# Not a test; figures are noisy on a shared machine.
set -eu -o pipefail; [ -n "${BENCH_TRACE:-}" ] && set -x
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
DB=acctsec_bench_retention
COPY=acctsec_bench_retention_copy
ROWWISE=acctsec_bench_retention_rowwise
N=${BENCH_RETENTION_ROWS:-200000}
SECS=${BENCH_SECS:-10}
BATCH=${BENCH_RETENTION_BATCH:-1000}
for d in $DB $COPY $ROWWISE; do "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $d" 2>/dev/null; done
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB"
"${PSQL[@]}" -d $DB <<'SQL'
CREATE EXTENSION acctsec;
CREATE TABLE t_audited (id bigint PRIMARY KEY, email text, name text, n int, active bool, at timestamptz);
SELECT acctsec.audit_table('t_audited');
CREATE SEQUENCE t_audited_ids;
-- the older partition, open to the future while the older half is written
CREATE TABLE acctsec.audit_log_older (LIKE acctsec.audit_log_default INCLUDING ALL) USING heap;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON acctsec.audit_log_older
  FOR EACH STATEMENT EXECUTE FUNCTION acctsec.audit_log_guard();
ALTER TABLE acctsec.audit_log ATTACH PARTITION acctsec.audit_log_older FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
SQL

time_ms() { # time_ms DB STATEMENT...: run them in one psql session, print the last one's ms
  local db=$1 q args=()
  shift
  for q in "$@"; do args+=(-c "$q"); done
  "${PSQL[@]}" -d "$db" -c "\\timing on" "${args[@]}" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1
}
# a purge of nothing first, in the same session: the library loaded, the
# signing key derived, the plans prepared (what every purge pays once per
# session), so that the time measured is the purge's own
WARM="SELECT acctsec.audit_purge('1000 years')"
fill() { # $1 rows, in transactions of $BATCH
  local b n=$(( $1 / BATCH ))
  for ((b = 0; b < n; b++)); do
    echo "INSERT INTO t_audited SELECT nextval('t_audited_ids'), 'u@example.com', 'User', 0, true, now() FROM generate_series(1, $BATCH);"
  done | "${PSQL[@]}" -d $DB
}
t0=$SECONDS
fill $((N / 2))
sleep 1
MARK=$("${PSQL[@]}" -d $DB -c "SELECT now()")
"${PSQL[@]}" -d $DB <<SQL
ALTER TABLE acctsec.audit_log DETACH PARTITION acctsec.audit_log_older;
ALTER TABLE acctsec.audit_log ATTACH PARTITION acctsec.audit_log_older FOR VALUES FROM (MINVALUE) TO ('$MARK');
CREATE TABLE acctsec.audit_log_newer (LIKE acctsec.audit_log_default INCLUDING ALL) USING heap;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON acctsec.audit_log_newer
  FOR EACH STATEMENT EXECUTE FUNCTION acctsec.audit_log_guard();
ALTER TABLE acctsec.audit_log ATTACH PARTITION acctsec.audit_log_newer FOR VALUES FROM ('$MARK') TO (MAXVALUE);
SQL
CP=$("${PSQL[@]}" -d $DB -c "SELECT acctsec.audit_checkpoint()")
sleep 1
fill $((N / 2))
"${PSQL[@]}" -d $DB -c "VACUUM ANALYZE acctsec.audit_log_older, acctsec.audit_log_newer, acctsec.audit_seals" >/dev/null
rows=$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM acctsec.audit_log")
old=$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM acctsec.audit_log WHERE logged_at < '$MARK'")
fs=$((SECONDS - t0))
echo "filled $rows audit rows ($old before the mark) in $fs s ($((rows / (fs > 0 ? fs : 1))) rows/s, transactions of $BATCH rows)"

SCRIPT=$ACCTSEC_TMP/audit_retention.sql
cat >"$SCRIPT" <<'PGB'
BEGIN;
INSERT INTO t_audited VALUES (nextval('t_audited_ids'), 'p@example.com', 'P', 0, true, now());
INSERT INTO t_audited VALUES (nextval('t_audited_ids'), 'q@example.com', 'Q', 0, true, now());
END;
PGB
tps() {
  "$ACCTSEC_BIN/pgbench" -n -c "$1" -j "$1" -T "$SECS" -f "$SCRIPT" $DB 2>/dev/null \
    | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -1
}
timed_row() { # timed_row DB STATEMENT: its one row (space-separated), then its ms
  local out
  out=$("${PSQL[@]}" -d "$1" -F ' ' -c "SET client_min_messages = warning" -c "\\timing on" -c "$2")
  echo "$(grep -v '^Time: ' <<<"$out" | tail -n 1) $(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | tail -n 1)"
}
verify() { # prints: ms_full rows_full ms_cp rows_cp ok_full ok_cp (each verification run once)
  local vf vc rf rc of oc
  read -r of rf vf <<<"$(timed_row $DB "SELECT ok, checked FROM acctsec.audit_verify()")"
  read -r oc rc vc <<<"$(timed_row $DB "SELECT ok, checked FROM acctsec.audit_verify(ARRAY['$CP'$1])")"
  echo "$vf $rf $vc $rc $of $oc"
}
tps 2 >/dev/null || true   # warm-up
b1=$(tps 1); b8=$(tps 8)
read -r vf rf vc rc of oc <<<"$(verify '')"

# the copy, for the bare DELETE: same rows, same indexes
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $COPY TEMPLATE $DB STRATEGY FILE_COPY"
"${PSQL[@]}" -d $COPY -c "ALTER TABLE acctsec.audit_log DISABLE TRIGGER audit_log_append_only" -c "CHECKPOINT"
pd=$(time_ms $COPY "DELETE FROM acctsec.audit_log WHERE logged_at < '$MARK'")
# a DELETE leaves the rows' space and index entries to VACUUM: its share
pdv=$(time_ms $COPY "VACUUM acctsec.audit_log_older")
pdn=$("${PSQL[@]}" -d $COPY -c "SELECT $old - count(*) FROM acctsec.audit_log WHERE logged_at < '$MARK'")
"${PSQL[@]}" -d postgres -c "DROP DATABASE $COPY"
# the second copy: the seal of the older half's last transaction moved past
# the mark (by hand, the guard off) keeps that transaction's rows, so the
# older partition cannot be dropped and the purge deletes the others one by
# one, as it did before the log was partitioned
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $ROWWISE TEMPLATE $DB STRATEGY FILE_COPY"
"${PSQL[@]}" -d $ROWWISE >/dev/null <<SQL
ALTER TABLE acctsec.audit_seals DISABLE TRIGGER audit_seals_append_only;
UPDATE acctsec.audit_seals SET sealed_at = now()
WHERE txid = (SELECT max(txid) FROM acctsec.audit_log_older);
ALTER TABLE acctsec.audit_seals ENABLE ALWAYS TRIGGER audit_seals_append_only;
CHECKPOINT;
SQL
pr=$(time_ms $ROWWISE "$WARM" "SELECT acctsec.audit_purge(statement_timestamp() - '$MARK'::timestamptz)")
prv=$(time_ms $ROWWISE "VACUUM acctsec.audit_log_older")
prn=$("${PSQL[@]}" -d $ROWWISE -c "SELECT (new_values ->> 'deleted') || ' ' || (new_values ->> 'dropped_partitions') FROM acctsec.audit_log WHERE operation = 'audit.purged' ORDER BY id DESC LIMIT 1")
"${PSQL[@]}" -d postgres -c "DROP DATABASE $ROWWISE"
"${PSQL[@]}" -d $DB -c "CHECKPOINT" >/dev/null
# older_than such that the cutoff falls at the mark
ns=$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM acctsec.audit_seals")
pz=$(time_ms $DB "$WARM" "$WARM")
pa=$(time_ms $DB "$WARM" "SELECT acctsec.audit_purge(statement_timestamp() - '$MARK'::timestamptz)")
read -r pan pad <<<"$("${PSQL[@]}" -d $DB -c "SELECT (new_values ->> 'deleted') || ' ' || (new_values ->> 'dropped_partitions') FROM acctsec.audit_log WHERE operation = 'audit.purged' ORDER BY id DESC LIMIT 1")"
read -r prn prd <<<"$prn"
PURGE_CP=$("${PSQL[@]}" -d $DB -c "SELECT statement FROM acctsec.audit_checkpoints WHERE statement LIKE '% kind=purge %' ORDER BY no DESC LIMIT 1")

"${PSQL[@]}" -d $DB -c "VACUUM ANALYZE acctsec.audit_log_newer, acctsec.audit_seals" >/dev/null
a1=$(tps 1); a8=$(tps 8)
read -r wf wrf wc wrc wof woc <<<"$(verify ", '$PURGE_CP'")"

awk -v n=$rows -v vf=$vf -v rf=$rf -v vc=$vc -v rc=$rc -v of=$of -v oc=$oc \
    -v pz=$pz -v ns=$ns -v pa=$pa -v pan=$pan -v pad=$pad -v pr=$pr -v prn=$prn -v prd=$prd -v pd=$pd -v pdv=$pdv -v prv=$prv -v pdn=$pdn -v b1=$b1 -v b8=$b8 -v a1=$a1 -v a8=$a8 \
    -v wf=$wf -v wrf=$wrf -v wc=$wc -v wrc=$wrc -v wof=$wof -v woc=$woc -v s=$SECS 'BEGIN {
  printf "verification, %d rows filled plus what pgbench wrote: whole log %d rows in %.0f ms (%.0f rows/s, ok %s); from the mark checkpoint %d rows in %.0f ms (%.0f rows/s, ok %s)\n",
         n, rf, vf, rf / (vf / 1000), of, rc, vc, rc / (vc / 1000), oc;
  printf "a purge of nothing (the fixed cost of a purge in a warm session), %d rows and %d seals in the log: %.1f ms\n", n, ns, pz;
  printf "purge of the older half: acctsec.audit_purge %.0f ms (%d rows, %d partition dropped); DELETE WHERE logged_at < mark on a copy %.0f ms (%d rows); audit_purge row by row (partition kept) on a copy %.0f ms (%d rows, %d dropped); audit_purge / DELETE %.3f, audit_purge / row by row %.3f\n",
         pa, pan, pad, pd, pdn, pr, prn, prd, pa / pd, pa / pr;
  printf "with the VACUUM that reclaims deleted rows: DELETE + VACUUM %.0f ms, row by row + VACUUM %.0f ms; audit_purge / (DELETE + VACUUM) %.3f\n",
         pd + pdv, pr + prv, pa / (pd + pdv);
  printf "after the purge (and the second pgbench): whole log %d rows in %.0f ms (%.0f rows/s, ok %s); from the mark and purge checkpoints %d rows in %.0f ms (ok %s)\n",
         wrf, wf, wrf / (wf / 1000), wof, wrc, wc, woc;
  printf "insert throughput (pgbench %ds, 2 audited inserts per transaction, tps): before 1 client %.0f, 8 clients %.0f; after 1 client %.0f, 8 clients %.0f; after / before %.2f, %.2f\n",
         s, b1, b8, a1, a8, a1 / b1, a8 / b8;
}'
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
