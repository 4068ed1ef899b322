# test/lib/cluster.sh: throwaway clusters for the checks that need servers of
# their own (faked clocks, standbys, archives).  Sourced by check scripts run
# through `bash test/run test`, which exports ACCTSEC_BIN (the private
# installation's bin directory) and ACCTSEC_TMP (a scratch directory the
# postgres user may write).  Every cluster listens on its own socket
# directory and loopback port and is stopped when the script exits.
#
#   cluster_new NAME [initdb args...]    initdb into $ACCTSEC_TMP/NAME
#   cluster_start NAME [env VAR=... ...] start it (optionally under env)
#   cluster_psql NAME [psql args...]     psql -X -At against it
#   cluster_stop NAME [mode]             stop it (fast by default)
#   cluster_standby PRIMARY NAME         a hot standby of PRIMARY, started
# After cluster_new, ${PORT_NAME} and ${SOCK_NAME} hold its port and socket
# directory, and $ACCTSEC_TMP/NAME/data its data directory.

: "${ACCTSEC_BIN:?run through bash test/run test}"
: "${ACCTSEC_TMP:?run through bash test/run test}"
if [ "$(id -u)" -eq 0 ]; then CLUSTER_RUNAS=(runuser -u postgres --); else CLUSTER_RUNAS=(); fi
CLUSTERS_STARTED=()

cluster_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cluster_new() {
  local name=$1; shift
  local dir=$ACCTSEC_TMP/$name port
  rm -rf "$dir"; mkdir -p "$dir/sock"
  [ "$(id -u)" -eq 0 ] && chown -R postgres "$dir"
  port=$((20000 + RANDOM % 20000))
  while ! cluster_port_free $port; do port=$((port + 1)); done
  printf -v "PORT_$name" '%s' "$port"
  printf -v "SOCK_$name" '%s' "$dir/sock"
  if [ "${1:-}" != --no-initdb ]; then
    "${CLUSTER_RUNAS[@]}" "$ACCTSEC_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
      --locale=C.UTF-8 --no-sync "$@" >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; return 1; }
    cluster_conf "$name"
  fi
}

# the settings every throwaway cluster has; further lines may be appended
cluster_conf() {
  local name=$1 dir=$ACCTSEC_TMP/$1 port sock
  port=PORT_$name; sock=SOCK_$name
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = ${!port}
unix_socket_directories = '${!sock}'
fsync = off
synchronous_commit = off
max_connections = 40
max_prepared_transactions = 10
log_line_prefix = '%m [%p] %q%u@%d '
CONF
}

cluster_start() {
  local name=$1; shift
  local dir=$ACCTSEC_TMP/$name
  local envs=(env "$@")
  "${CLUSTER_RUNAS[@]}" "${envs[@]}" "$ACCTSEC_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
    -w -t 60 start >/dev/null || { echo "cluster $name did not start:"; tail -20 "$dir/server.log"; return 1; }
  CLUSTERS_STARTED+=("$name")
}

cluster_stop() {
  local dir=$ACCTSEC_TMP/$1
  [ -f "$dir/data/postmaster.pid" ] && \
    "${CLUSTER_RUNAS[@]}" "$ACCTSEC_BIN/pg_ctl" -D "$dir/data" -m "${2:-fast}" -w stop >/dev/null 2>&1
  return 0
}

# cluster_standby PRIMARY NAME: a new cluster NAME made by a base backup of
# the running cluster PRIMARY (streaming the WAL it needs, -R: it follows
# PRIMARY as a hot standby), with the settings of its own, started
cluster_standby() {
  local primary=$1 name=$2 port sock
  port=PORT_$primary; sock=SOCK_$primary
  cluster_new "$name" --no-initdb || return
  "${CLUSTER_RUNAS[@]}" "$ACCTSEC_BIN/pg_basebackup" -h "${!sock}" -p "${!port}" -U postgres \
    -D "$ACCTSEC_TMP/$name/data" -R -X stream --no-sync || return
  cluster_conf "$name" && cluster_start "$name"
}

cluster_psql() {
  local name=$1; shift
  local port=PORT_$name sock=SOCK_$name
  "$ACCTSEC_BIN/psql" -X -At -v ON_ERROR_STOP=1 -h "${!sock}" -p "${!port}" -U postgres "$@"
}

# cluster_wait_replay PRIMARY STANDBY [SECONDS]: until STANDBY has replayed
# everything PRIMARY has written so far.  The harness runs with
# synchronous_commit off, and the WAL writer flushes only whole pages and
# asynchronous commits: a record after the last commit (a page prune, say)
# can stay unflushed, so unsent, for many seconds.  A transaction that
# writes WAL and commits synchronously flushes everything before it (one
# that only takes an xid, as txid_current(), does not: its commit is
# asynchronous); its flush position is the target.
cluster_wait_replay() {
  local lsn deadline=$((SECONDS + ${3:-60}))
  lsn=$(cluster_psql "$1" -d postgres -q -c 'SET synchronous_commit = on' \
    -c "SELECT pg_logical_emit_message(true, 'acctsec-test', 'flush')" \
    -c 'SELECT pg_current_wal_flush_lsn()' | tail -n 1)
  while [ $SECONDS -lt $deadline ]; do
    [ "$(cluster_psql "$2" -d postgres -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && return 0
    sleep 0.1
  done
  return 1
}

cluster_stop_all() {
  local n
  for n in "${CLUSTERS_STARTED[@]}"; do cluster_stop "$n" immediate; done
}
trap cluster_stop_all EXIT
