#!/usr/bin/env bash
# Tokens and key rotation (keys.c): a session and a one-time token made under
# the database key keep working once acctsec.secret_key is configured; those
# made under key 1 keep working while key 1 is acctsec.secret_key_previous;
# once key 1 is gone they are simply invalid (no row, NULL: never an error,
# and session_rotate revokes nothing), while key 2's still work.  Each step
# is a new session.  The keys are in a key file (acctsec.secret_key_file),
# which needs no preloading.
set -eu -o pipefail
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
DB=acctsec_token_keys
W=$ACCTSEC_TMP/token_keys
mkdir -p "$W"
KEYFILE=$("${PSQL[@]}" -d postgres -c "SHOW data_directory")/acctsec_token_keys.key
set_keys() { # current previous (hex or empty)
  printf '%s\n' "LOAD 'acctsec';" "COPY (SELECT k FROM (VALUES (1, :'k'), (2, :'p')) v(n, k) WHERE k <> '' ORDER BY n) TO :'f';" \
    "ALTER SYSTEM SET acctsec.secret_key_file = :'f';" \
    "SELECT pg_reload_conf();" \
    | "${PSQL[@]}" -d postgres -v k="$1" -v p="$2" -v f="$KEYFILE" >/dev/null
  chmod 0600 "$KEYFILE"   # COPY makes it 0644; acctsec wants it the server's alone
  sleep 1
}
cleanup() {
  "${PSQL[@]}" -d postgres -c "LOAD 'acctsec'" -c "ALTER SYSTEM RESET acctsec.secret_key_file" \
    -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT
sql() { "${PSQL[@]}" -d $DB "$@"; }
q() { # query, then psql options (variables are interpolated from stdin only)
  local query=$1; shift
  printf '%s\n' "$query" | "${PSQL[@]}" -d $DB "$@"
}
k1=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
k2=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null 2>&1
sql -c "CREATE EXTENSION acctsec"

issue() { # name: a session token and a one-time token, kept in files
  sql -c "SELECT token FROM acctsec.session_start('keys_$1')" >"$W/$1.session"
  sql -c "SELECT acctsec.token_issue('keys_$1', 'password_reset')" >"$W/$1.once"
}
state() { # name: "<session rows> <one-time account or NULL>"
  q "SELECT (SELECT count(*) FROM acctsec.session_check(:'t')) || ' ' || coalesce(acctsec.token_peek(:'o', 'password_reset'), 'NULL')" \
    -v t="$(cat "$W/$1.session")" -v o="$(cat "$W/$1.once")"
}
key_ids() {
  sql -c "SELECT count(DISTINCT substr(verifier_hash, 2, 4)) FROM acctsec.account_sessions"
}
fail=0
expect() { # what got want
  if [ "$2" = "$3" ]; then echo "ok: $1: $2"; else echo "FAIL: $1: got '$2', want '$3'"; fail=1; fi
}

issue db                                     # under the database key
set_keys "$k1" ""
issue k1
expect "database-key tokens with key 1 configured" "$(state db)" "1 keys_db"
expect "key-1 tokens" "$(state k1)" "1 keys_k1"
set_keys "$k2" "$k1"
issue k2
expect "key-1 tokens while key 1 is the previous key" "$(state k1)" "1 keys_k1"
expect "key-2 tokens" "$(state k2)" "1 keys_k2"
expect "distinct key ids among the sessions" "$(key_ids)" "3"
set_keys "$k2" ""
expect "key-1 tokens once key 1 is gone (invalid, no error)" "$(state k1)" "0 NULL"
expect "session_rotate of a key-1 token" \
  "$(q "SELECT coalesce(acctsec.session_rotate(:'t'), 'NULL')" -v t="$(cat "$W/k1.session")")" "NULL"
expect "token_consume of a key-1 token" \
  "$(q "SELECT coalesce(acctsec.token_consume(:'t', 'password_reset'), 'NULL')" -v t="$(cat "$W/k1.once")")" "NULL"
expect "key-1 session rows kept (nothing revoked by the attempts)" \
  "$(sql -c "SELECT count(*) FROM acctsec.account_sessions WHERE account = 'keys_k1'")" "1"
expect "key-2 tokens still" "$(state k2)" "1 keys_k2"
expect "database-key tokens still (the database key stays in the ring)" "$(state db)" "1 keys_db"
exit $fail
