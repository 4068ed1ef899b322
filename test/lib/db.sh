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

# app_db NAME ROLE [--owner] [SETTING=VALUE...]: a new database NAME with
# acctsec created in it and a new login role ROLE (both dropped first if they
# are there) holding what grant_app_role grants, as an application's role
# would; --owner makes ROLE the database's owner (an application that runs
# its own migrations); each SETTING=VALUE becomes the database's default
# (ALTER DATABASE NAME SET ...).
app_db() {
  local db=$1 role=$2 owner="" s
  local sets=()
  shift 2
  if [ "${1:-}" = --owner ]; then owner=" OWNER $role"; shift; fi
  for s; do sets+=(-c "ALTER DATABASE $db SET $s"); done
  "${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS $role" \
    -c "CREATE ROLE $role LOGIN" -c "CREATE DATABASE $db$owner" || return
  "${PSQL[@]}" -d "$db" -c "CREATE EXTENSION acctsec" \
    -c "SELECT acctsec.grant_app_role('$role')" "${sets[@]}"
}
