#!/usr/bin/env bash
# Failover with pg_auto_failover (docs/replication.md): a monitor, a primary
# and a secondary with synchronous replication, all on loopback.  On the
# primary: an account is locked, a one-time token consumed, a TOTP code and a
# backup code used, a refresh token rotated, audited rows written, while a
# client keeps failing logins and records every call whose commit it saw.
# Then the primary is failed (its keeper killed, the server stopped with
# -m immediate).  On the promoted node every promise holds: the lock, the
# used token, code and backup code are refused, the old refresh token is
# detected as reused, the chain verifies, the configured key still opens the
# secrets, and no failure whose commit a client saw is missing.
set -eu -o pipefail
. "$(dirname "$0")/../lib/cluster.sh"
command -v pg_autoctl >/dev/null || { echo "pg_autoctl is not installed (pg-auto-failover-cli)"; exit 1; }
. "$(dirname "$0")/../lib/expect.sh"
W=$ACCTSEC_TMP/autofailover
mkdir -p "$W/xdg-config" "$W/xdg-data" "$W/sock"
[ "$(id -u)" -eq 0 ] && chown -R postgres "$W"
# pg_autoctl keeps its state under XDG directories: keep them in the scratch dir.
# Each keeper runs in a session of its own (setsid), so that killing its
# process group ends every service it started.
AUTOCTL=("${CLUSTER_RUNAS[@]}" env -u PGPORT -u PGDATABASE PGHOST="$W/sock" XDG_CONFIG_HOME="$W/xdg-config" XDG_DATA_HOME="$W/xdg-data"
         XDG_RUNTIME_DIR="$W/xdg-data" PATH="$ACCTSEC_BIN:$PATH" pg_autoctl)
KEEPERS=()
stop_all() {
  local rc=$? p n
  set +e   # nothing here may change the script's own exit status
  # each keeper leads a process group of its own (setsid), with the
  # services it started (which would restart their server): all of it goes
  for p in "${KEEPERS[@]}"; do kill -9 -- "-$p" 2>/dev/null; done
  sleep 0.5
  for n in monitor node1 node2; do
    if [ -f "$W/$n/postmaster.pid" ]; then
      "${CLUSTER_RUNAS[@]}" "$ACCTSEC_BIN/pg_ctl" -D "$W/$n" -m immediate stop >/dev/null 2>&1
    fi
  done
  exit $rc
}
trap stop_all EXIT
free_port() { local p=$((20000 + RANDOM % 20000)); while ! cluster_port_free $p; do p=$((p + 1)); done; echo $p; }
PM=$(free_port); P1=$(free_port); P2=$(free_port)
while [ "$P1" = "$PM" ]; do P1=$(free_port); done
while [ "$P2" = "$PM" ] || [ "$P2" = "$P1" ]; do P2=$(free_port); done
# a server that is gone answers at once, never hangs a check
export PGCONNECT_TIMEOUT=5
psql_at() { "$ACCTSEC_BIN/psql" -X -At -v ON_ERROR_STOP=1 -h "$W/sock" -p "$1" -U postgres -d "${2:-postgres}" "${@:3}"; }
KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

# our own initdb (so the settings below are in postgresql.conf, which the
# secondary's base backup copies), then pg_autoctl takes it over
initdb_node() {
  "${CLUSTER_RUNAS[@]}" "$ACCTSEC_BIN/initdb" -D "$W/$1" -U postgres --auth=trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$W/$1.initdb.log" 2>&1 || { cat "$W/$1.initdb.log"; exit 1; }
  cat >>"$W/$1/postgresql.conf" <<CONF
unix_socket_directories = '$W/sock'
listen_addresses = '127.0.0.1'
fsync = off
full_page_writes = off
max_connections = 40
CONF
}
initdb_node monitor
"${AUTOCTL[@]}" create monitor --pgdata "$W/monitor" --pgport "$PM" --hostname 127.0.0.1 \
  --auth trust --no-ssl --pgctl "$ACCTSEC_BIN/pg_ctl" >"$W/monitor.create.log" 2>&1 \
  || { cat "$W/monitor.create.log"; exit 1; }
setsid "${AUTOCTL[@]}" run --pgdata "$W/monitor" >"$W/monitor.log" 2>&1 & KEEPERS+=($!)
for _ in $(seq 1 100); do psql_at "$PM" pg_auto_failover -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
# notice a dead primary within seconds, not the default half minute
psql_at "$PM" postgres -q \
  -c "ALTER SYSTEM SET pgautofailover.health_check_period = 1000" \
  -c "ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000" \
  -c "ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1" \
  -c "ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500" \
  -c "ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 3000" \
  -c "ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 5000" \
  -c "SELECT pg_reload_conf()" >/dev/null
MONITOR="postgres://autoctl_node@127.0.0.1:$PM/pg_auto_failover?sslmode=disable"

initdb_node node1
cat >>"$W/node1/postgresql.conf" <<CONF
shared_preload_libraries = 'acctsec'
acctsec.secret_key = '$KEY'
synchronous_commit = on
acctsec.session_reuse_grace = 1
CONF
create_node() { # name port
  "${AUTOCTL[@]}" create postgres --pgdata "$W/$1" --pgport "$2" --pghost "$W/sock" --hostname 127.0.0.1 \
    --name "$1" --auth trust --no-ssl --pgctl "$ACCTSEC_BIN/pg_ctl" --monitor "$MONITOR" \
    --dbname postgres >"$W/$1.create.log" 2>&1 || { cat "$W/$1.create.log"; exit 1; }
  setsid "${AUTOCTL[@]}" run --pgdata "$W/$1" >"$W/$1.log" 2>&1 & KEEPERS+=($!)
}
state_of() { psql_at "$PM" pg_auto_failover -c "SELECT reportedstate FROM pgautofailover.node WHERE nodename = '$1'" 2>/dev/null; }
wait_state() { # node state seconds
  for _ in $(seq 1 $(( $3 * 5 ))); do [ "$(state_of "$1")" = "$2" ] && return 0; sleep 0.2; done
  echo "FAIL: $1 did not reach $2 (it is '$(state_of "$1")')"; tail -20 "$W/$1.log"; exit 1
}
create_node node1 "$P1"
wait_state node1 single 60
create_node node2 "$P2"
wait_state node2 secondary 90
wait_state node1 primary 30
echo "ok: formation up (node1 primary, node2 secondary)"
expect "synchronous replication" t "$(psql_at "$P1" postgres -c "SELECT current_setting('synchronous_standby_names') <> ''")"

N1() { psql_at "$P1" postgres "$@"; }
N2() { psql_at "$P2" postgres "$@"; }
N1 -q >/dev/null <<'SQL'
CREATE EXTENSION acctsec;
ALTER SYSTEM SET acctsec.max_failed_attempts = 3;
SELECT pg_reload_conf();
SQL
sleep 0.5
N1 -q >/dev/null <<'SQL'
CREATE TABLE fo_state (name text PRIMARY KEY, value text);
-- a lock
SELECT acctsec.login_attempt('locked', false) FROM generate_series(1, 3);
-- a consumed one-time token
INSERT INTO fo_state VALUES ('token', acctsec.token_issue('alice', 'password_reset'));
SELECT acctsec.token_consume((SELECT value FROM fo_state WHERE name = 'token'), 'password_reset');
-- TOTP: enrolled with the configured key, one code used
INSERT INTO fo_state SELECT 'secret', secret FROM acctsec.totp_enroll('alice');
SELECT acctsec.totp_confirm('alice', acctsec.totp(acctsec.base32_decode((SELECT value FROM fo_state WHERE name = 'secret'))));
-- backup codes, one used
INSERT INTO fo_state SELECT 'code' || row_number() OVER (), c FROM acctsec.backup_codes_generate('alice', 2) c;
SELECT acctsec.backup_code_verify('alice', (SELECT value FROM fo_state WHERE name = 'code1'));
-- a session whose refresh token was rotated
INSERT INTO fo_state SELECT 'old_session_token', token FROM acctsec.session_start('alice');
INSERT INTO fo_state VALUES ('new_session_token', acctsec.session_rotate((SELECT value FROM fo_state WHERE name = 'old_session_token')));
-- audited rows
CREATE TABLE fo_audited (id int PRIMARY KEY, v text);
SELECT acctsec.audit_table('fo_audited');
INSERT INTO fo_audited SELECT g, 'row ' || g FROM generate_series(1, 50) g;
UPDATE fo_audited SET v = v || '!' WHERE id <= 10;
SQL
echo "ok: state written on node1"
SECRET=$(N1 -c "SELECT value FROM fo_state WHERE name = 'secret'")
TOKEN=$(N1 -c "SELECT value FROM fo_state WHERE name = 'token'")
CODE1=$(N1 -c "SELECT value FROM fo_state WHERE name = 'code1'")
OLD_SESSION=$(N1 -c "SELECT value FROM fo_state WHERE name = 'old_session_token'")
NEW_SESSION=$(N1 -c "SELECT value FROM fo_state WHERE name = 'new_session_token'")
# the TOTP step just used, to be replayed on the new primary
USED_CODE=$(N1 -c "SELECT acctsec.totp(acctsec.base32_decode('$SECRET'))")

# Failing logins under load: two clients, each a psql reading one call after
# another (each its own transaction); psql prints a call's answer only once
# its commit is acknowledged, so acked-N lists what the client saw commit.
load() { # client-number
  local i
  for i in $(seq 1 20000); do
    [ $((i % 200)) -eq 0 ] && [ -f "$W/stop-load" ] && break
    echo "SELECT 'load-$1-$((i % 20)) ' || (acctsec.login_attempt('load-$1-$((i % 20))', false)).status;"
  done | psql_at "$P1" postgres >"$W/acked-$1" 2>"$W/load-$1.err" || true
}
load 1 & L1=$!
load 2 & L2=$!
sleep 4

echo "== failing node1 (keeper killed, server stopped -m immediate)"
kill -9 -- "-${KEEPERS[1]}"
"${CLUSTER_RUNAS[@]}" "$ACCTSEC_BIN/pg_ctl" -D "$W/node1" -m immediate stop >/dev/null 2>&1 || true
touch "$W/stop-load"; wait $L1 $L2 || true
wait_state node2 wait_primary 60
echo "ok: node2 promoted ($(state_of node2))"
expect "node2 is out of recovery" f "$(N2 -c 'SELECT pg_is_in_recovery()')"

echo "== promises on the new primary"
expect "the lock holds" locked "$(N2 -c "SELECT (acctsec.login_attempt('locked', true)).status")"
expect "the consumed token is refused" "" "$(printf '%s\n' "SELECT acctsec.token_consume(:'t', 'password_reset')" | N2 -v t="$TOKEN")"
expect "the used TOTP code is refused (replay)" f "$(N2 -c "SELECT acctsec.totp_verify('alice', '$USED_CODE')")"
expect "the configured key still opens the secret (the next step's code works)" t \
  "$(N2 -c "SELECT acctsec.totp_verify('alice', acctsec.totp(acctsec.base32_decode('$SECRET'), now() + interval '30 seconds'))")"
expect "the used backup code is refused" f "$(printf '%s\n' "SELECT acctsec.backup_code_verify('alice', :'c')" | N2 -v c="$CODE1")"
expect "one backup code remains" 1 "$(N2 -c "SELECT acctsec.backup_codes_remaining('alice')")"
sleep 1.5   # past acctsec.session_reuse_grace
expect "the retired refresh token is refused" "" "$(printf '%s\n' "SELECT acctsec.session_rotate(:'t')" | N2 -v t="$OLD_SESSION")"
expect "and detected as reused: the session is revoked" 0 "$(printf '%s\n' "SELECT count(*) FROM acctsec.session_check(:'t')" | N2 -v t="$NEW_SESSION")"
expect "the reuse is a security event" 1 "$(N2 -c "SELECT count(*) FROM acctsec.audit_log WHERE operation = 'session.reuse_detected'")"
expect "the audited rows are there" 60 "$(N2 -c "SELECT count(*) FROM acctsec.audit_log WHERE relation = 'public.fo_audited'")"
expect "the chain verifies" t "$(N2 -c "SELECT ok FROM acctsec.audit_verify()")"

echo "== no acknowledged failure lost"
acked=$(cat "$W"/acked-1 "$W"/acked-2 | wc -l)
missing=$(cat "$W"/acked-1 "$W"/acked-2 | awk '{print $1}' | sort | uniq -c | while read -r n acct; do
  have=$(N2 -c "SELECT count(*) FROM acctsec.login_attempts WHERE account = '$acct' AND outcome <> 'ok'")
  [ "$have" -ge "$n" ] || echo "$acct: $n acknowledged, $have on node2"
done)
echo "acknowledged failing calls: $acked"
expect "clients saw failures commit before the failover (at least 100)" t "$([ "$acked" -ge 100 ] && echo t || echo f)"
expect "every acknowledged failure is on the new primary" "" "$missing"
exit $fail
