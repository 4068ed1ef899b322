#!/usr/bin/env bash
# Benchmark: UPDATE of N rows (default 200,000) of a table with an
# updated_at column, with no trigger, with contrib's moddatetime, with the
# usual PL/pgSQL trigger (NEW.updated_at := now()), and with
# acctsec.set_updated_at(), in the same run.  Each variant runs ROUNDS times,
# interleaved, each on a freshly vacuumed table; the best time counts.
# Prints the per-row overhead over the no-trigger run.  Not a test.
set -eu -o pipefail
. "$(dirname "$0")/../lib/bench.sh"
N=${BENCH_N:-200000}
ROUNDS=${BENCH_ROUNDS:-5}
bench_db acctsec_bench_updated_at moddatetime
"${PSQL[@]}" -d $DB <<SQL
SET acctsec.auto_updated_at = off;   -- each table gets exactly the trigger named here
CREATE FUNCTION plpgsql_updated_at() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END \$\$;
CREATE TABLE t_none (id int PRIMARY KEY, val int, payload text, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE t_moddatetime (LIKE t_none INCLUDING ALL);
CREATE TABLE t_plpgsql (LIKE t_none INCLUDING ALL);
CREATE TABLE t_acctsec (LIKE t_none INCLUDING ALL);
CREATE TRIGGER m BEFORE UPDATE ON t_moddatetime FOR EACH ROW EXECUTE FUNCTION moddatetime(updated_at);
CREATE TRIGGER p BEFORE UPDATE ON t_plpgsql FOR EACH ROW EXECUTE FUNCTION plpgsql_updated_at();
SELECT acctsec.track_updated_at('t_acctsec');
INSERT INTO t_none SELECT i, i, repeat('x', 40), '2000-01-01' FROM generate_series(1, $N) i;
INSERT INTO t_moddatetime SELECT * FROM t_none;
INSERT INTO t_plpgsql SELECT * FROM t_none;
INSERT INTO t_acctsec SELECT * FROM t_none;
VACUUM ANALYZE;
SQL
variants=(none moddatetime plpgsql acctsec)
declare -A best
time_update() { # one UPDATE of every row, elapsed ms
  "${PSQL[@]}" -d $DB -c "VACUUM t_$1" -c "\\timing on" -c "UPDATE t_$1 SET val = val + 1" \
    | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}
for v in "${variants[@]}"; do time_update $v >/dev/null; done   # warm-up
for r in $(seq 1 "$ROUNDS"); do
  for v in "${variants[@]}"; do
    ms=$(time_update $v)
    if [ -z "${best[$v]:-}" ] || awk -v a="$ms" -v b="${best[$v]}" 'BEGIN { exit !(a < b) }'; then
      best[$v]=$ms
    fi
  done
done
# every trigger did its job
"${PSQL[@]}" -d $DB -c "SELECT 'rows bumped: moddatetime ' || (SELECT count(*) FROM t_moddatetime WHERE updated_at > '2001-01-01')
  || ', plpgsql ' || (SELECT count(*) FROM t_plpgsql WHERE updated_at > '2001-01-01')
  || ', acctsec ' || (SELECT count(*) FROM t_acctsec WHERE updated_at > '2001-01-01')
  || ', none ' || (SELECT count(*) FROM t_none WHERE updated_at > '2001-01-01')"
awk -v n=$N -v r=$ROUNDS -v none=${best[none]} -v md=${best[moddatetime]} \
    -v pl=${best[plpgsql]} -v ac=${best[acctsec]} 'BEGIN {
  printf "UPDATE of %d rows, best of %d rounds\n", n, r;
  printf "  no trigger                   %8.1f ms\n", none;
  printf "  contrib moddatetime          %8.1f ms  overhead %.3f us/row\n", md, (md-none)*1000/n;
  printf "  PL/pgSQL NEW.updated_at      %8.1f ms  overhead %.3f us/row\n", pl, (pl-none)*1000/n;
  printf "  acctsec.set_updated_at()     %8.1f ms  overhead %.3f us/row\n", ac, (ac-none)*1000/n;
  if (md > none) printf "  acctsec overhead / moddatetime overhead: %.2f\n", (ac-none)/(md-none);
  if (pl > none) printf "  acctsec overhead / PL/pgSQL overhead:    %.2f\n", (ac-none)/(pl-none);
}'
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
