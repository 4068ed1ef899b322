# test/lib/bench.sh: what the benchmarks (test/bench/*.sh) share; sourced by
# each (it sources db.sh).

. "$(dirname "${BASH_SOURCE[0]}")/db.sh"

# bench_db NAME [EXTENSION...]: DB=NAME, a new database (dropped first if it
# is there) with acctsec and the other extensions named created in it
bench_db() {
  DB=$1
  shift
  fresh_db "$DB" acctsec "$@"
}

# bench_durable: production durability (fsync and synchronous_commit on) for
# the rest of the run, which the harness runs with both off; set back on exit
bench_durable() {
  "${PSQL[@]}" -d postgres -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
    -c "SELECT pg_reload_conf()" >/dev/null
  trap bench_durable_reset EXIT
}
bench_durable_reset() {
  "${PSQL[@]}" -d postgres -c "ALTER SYSTEM RESET fsync" -c "ALTER SYSTEM RESET synchronous_commit" \
    -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
}
