#!/usr/bin/env bash
# The key in the setting acctsec.secret_key, and who can read it, in a cluster
# of this check's own (it restarts the server with and without
# shared_preload_libraries):
#  1. acctsec.secret_key by ALTER SYSTEM, session_preload_libraries by ALTER
#     DATABASE postgres SET: a session in template1 never loads acctsec, so
#     PostgreSQL holds the key there as a placeholder any role can read.
#     acctsec must refuse that key (55000) and warn, never use it quietly.
#  2. the same key in a key file (acctsec.secret_key_file), no preloading at
#     all: no role but superusers can get it, in any database; acctsec uses it.
#  3. acctsec in shared_preload_libraries: the setting is defined in every
#     backend before any SQL, so a non-superuser in template1 cannot read it
#     (SHOW, current_setting, pg_settings), and acctsec uses it.
set -eu -o pipefail
W=$ACCTSEC_TMP/key_preloading
rm -rf "$W"; mkdir -p "$W/sock"
if [ "$(id -u)" -eq 0 ]; then RUNAS=(runuser -u postgres --); chown -R postgres "$W"; else RUNAS=(); fi
DATA=$W/data
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=$((20000 + RANDOM % 20000))
while ! port_free $PORT; do PORT=$((PORT + 1)); done
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -h "$W/sock" -p $PORT -U postgres)
"${RUNAS[@]}" "$ACCTSEC_BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$W/initdb.log" 2>&1
cat >>"$DATA/postgresql.conf" <<EOF
listen_addresses = ''
port = $PORT
unix_socket_directories = '$W/sock'
fsync = off
max_connections = 20
shared_buffers = 32MB
log_min_messages = warning
EOF
start() { "${RUNAS[@]}" "$ACCTSEC_BIN/pg_ctl" -D "$DATA" -l "$W/server.log" -w -t 60 start >/dev/null; }
stop() { "${RUNAS[@]}" "$ACCTSEC_BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true; }
trap 'stop; rm -rf "$W"' EXIT
start

. "$(dirname "$0")/../lib/expect.sh"
# run SQL (stdin-style, so psql variables work); errors as "SQLSTATE" lines
q() { local db=$1 user=$2 query=$3; shift 3
  printf '%s\n' '\set VERBOSITY terse' "$query" | "${PSQL[@]}" -d "$db" -U "$user" "$@" 2>&1 | tr '\n' ' ' | sed 's/ *$//'; }
q_state() { local db=$1 user=$2 query=$3; shift 3
  printf '%s\n' '\set VERBOSITY terse' '\set ON_ERROR_STOP 0' "$query" '\echo :LAST_ERROR_SQLSTATE' \
    | "${PSQL[@]}" -d "$db" -U "$user" "$@" 2>/dev/null | tail -n 1; }
KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

"${PSQL[@]}" -d postgres -c "CREATE ROLE regress_nobody LOGIN" -c "CREATE EXTENSION acctsec" >/dev/null
q postgres postgres "LOAD 'acctsec'; ALTER SYSTEM SET acctsec.secret_key = :'k';" -v k="$KEY" >/dev/null
"${PSQL[@]}" -d postgres -c "ALTER DATABASE postgres SET session_preload_libraries = 'acctsec'" \
  -c "SELECT pg_reload_conf()" >/dev/null
sleep 1

echo "== 1. session_preload_libraries per database: the key leaks, so acctsec refuses it"
leaked=$(q template1 regress_nobody "SELECT current_setting('acctsec.secret_key', true) = :'k';" -v k="$KEY")
echo "note: a non-superuser in template1 reads the key through PostgreSQL's placeholder: $leaked"
expect "acctsec warns when the library loads" \
  "WARNING:  acctsec.secret_key is set but acctsec is not in shared_preload_libraries" \
  "$(q postgres postgres "SELECT 1;" | grep -o 'WARNING:  acctsec.secret_key is set but acctsec is not in shared_preload_libraries' | head -1)"
expect "and refuses to use the key (55000)" 55000 \
  "$(q_state postgres postgres "SELECT acctsec.totp_enroll('leaky');")"
expect "nothing was sealed under it" 0 \
  "$(q postgres postgres "SELECT count(*) FROM acctsec.totp_credentials;" | sed 's/^WARNING: .* //')"
expect "no database key was made in its place" 0 \
  "$(q postgres postgres "SELECT count(*) FROM acctsec.database_key;" | sed 's/^WARNING: .* //')"

echo "== 2. the key in a key file, no preloading at all"
printf '%s\n' "LOAD 'acctsec';" "COPY (SELECT :'k') TO :'f';" "ALTER SYSTEM RESET acctsec.secret_key;" \
  "ALTER SYSTEM SET acctsec.secret_key_file = 'acctsec.key';" "SELECT pg_reload_conf();" \
  | "${PSQL[@]}" -d postgres -v k="$KEY" -v f="$DATA/acctsec.key" >/dev/null
"${PSQL[@]}" -d postgres -c "ALTER DATABASE postgres RESET session_preload_libraries" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
chmod 0600 "$DATA/acctsec.key"   # COPY makes it 0644
expect "acctsec uses it" acctsec.secret_key \
  "$(q postgres postgres "SELECT source FROM acctsec.key_status() WHERE is_current;")"
expect "totp_enroll works under it" 1 \
  "$(q postgres postgres "SELECT count(*) FROM acctsec.totp_enroll('filed');")"
for d in template1 postgres; do
  expect "no setting a non-superuser sees in $d holds the key" 0 \
    "$(q $d regress_nobody "SELECT count(*) FROM pg_settings WHERE setting ILIKE '%' || :'k' || '%';" -v k="$KEY")"
  expect "current_setting('acctsec.secret_key') is empty in $d" "" \
    "$(q $d regress_nobody "SELECT coalesce(current_setting('acctsec.secret_key', true), '');")"
  expect "the file is not readable through SQL in $d" 42501 \
    "$(q_state $d regress_nobody "SELECT pg_read_file('acctsec.key');")"
done

echo "== 3. shared_preload_libraries: the setting is defined in every backend"
printf '%s\n' "LOAD 'acctsec';" "ALTER SYSTEM RESET acctsec.secret_key_file;" "ALTER SYSTEM SET acctsec.secret_key = :'k';" \
  "ALTER SYSTEM SET shared_preload_libraries = 'acctsec';" | "${PSQL[@]}" -d postgres -v k="$KEY" >/dev/null 2>&1
stop; start
for d in template1 postgres; do
  expect "SHOW acctsec.secret_key is refused to a non-superuser in $d" 42501 \
    "$(q_state $d regress_nobody "SHOW acctsec.secret_key;")"
  expect "current_setting too" 42501 \
    "$(q_state $d regress_nobody "SELECT current_setting('acctsec.secret_key');")"
  expect "pg_settings does not list it" 0 \
    "$(q $d regress_nobody "SELECT count(*) FROM pg_settings WHERE name IN ('acctsec.secret_key', 'acctsec.secret_key_previous') OR setting ILIKE '%' || :'k' || '%';" -v k="$KEY")"
done
expect "acctsec uses the key in the setting" acctsec.secret_key \
  "$(q postgres postgres "SELECT source FROM acctsec.key_status() WHERE is_current;")"
expect "and opens what was sealed under the same key in the file" t \
  "$(q postgres postgres "SELECT acctsec.totp_verify('filed', '000000') IS NOT NULL;")"

if grep -qF "$KEY" <(grep -v 'parameter "acctsec.secret_key" changed to' "$W/server.log"); then
  echo "FAIL: the key appears in the server log"; fail=1
else
  echo "ok: no key in the server log"
fi
exit $fail
