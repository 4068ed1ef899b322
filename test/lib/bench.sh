# test/lib/bench.sh: what the benchmarks (test/bench/*.sh) share; sourced by
# each, after test/lib/db.sh.

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
