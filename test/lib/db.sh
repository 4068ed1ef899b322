# test/lib/db.sh: what the check scripts and benchmarks share for talking to
# the run's cluster; sourced.  bash test/run sets ACCTSEC_BIN, PGHOST, PGPORT
# and PGUSER for them.
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)

# fresh_db NAME [EXTENSION...]: a new database NAME (dropped first if it is
# there) with the extensions named created in it
fresh_db() {
  local db=$1 ext
  shift
  "${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" || return
  for ext; do
    "${PSQL[@]}" -d "$db" -c "CREATE EXTENSION $ext" || return
  done
}
