#!/usr/bin/env bash
# pg_dump / pg_restore keep every piece of account state (docs/operations.md):
# acctsec.accounts, acctsec.login_attempts and its id sequence,
# acctsec.linked_tables, and the trigger a linked table carries, which must
# still erase an account after the restore.
set -eu -o pipefail
. "$(dirname "$0")/../lib/db.sh"
SRC=acctsec_dump_src
DST=acctsec_dump_dst
DUMP=$ACCTSEC_TMP/accounts.dump
fresh_db $SRC acctsec
fresh_db $DST

"${PSQL[@]}" -d $SRC <<'SQL'
CREATE TABLE users (id bigint PRIMARY KEY, email text);
INSERT INTO users SELECT i, 'u' || i || '@example.com' FROM generate_series(1, 3) i;
SELECT acctsec.link_account_table('users', 'id');
SELECT count(acctsec.login_attempt('1', false, '192.0.2.1', 'ua')) FROM generate_series(1, 5);
SELECT count(acctsec.login_attempt('2', true, '2001:db8::1')) FROM generate_series(1, 2);
SELECT count(acctsec.login_attempt('3', false)) FROM generate_series(1, 2);
UPDATE acctsec.accounts SET totp_enabled = true WHERE account = '3';
SELECT count(acctsec.login_attempt('3', true)) FROM generate_series(1, 1);
SQL

snapshot() { # database -> a text image of the state
  "${PSQL[@]}" -d "$1" <<'SQL'
SELECT 'accounts', account, failed_attempts, locked_until, locked_at, lockouts, last_failed_at,
       last_login_at, last_login_ip, login_count, totp_enabled, pending_login_at, pending_login_ip,
       created_at
FROM acctsec.accounts ORDER BY account;
SELECT 'attempts', id, account, attempted_at, outcome, ip, user_agent
FROM acctsec.login_attempts ORDER BY id;
SELECT 'links', tbl, key_column, mirror FROM acctsec.linked_tables ORDER BY tbl::text;
SQL
}
snapshot $SRC >"$ACCTSEC_TMP/dump_before.txt"
"$ACCTSEC_BIN/pg_dump" -Fc -d $SRC -f "$DUMP"
"$ACCTSEC_BIN/pg_restore" --exit-on-error -d $DST "$DUMP"
snapshot $DST >"$ACCTSEC_TMP/dump_after.txt"

rc=0
if diff -u "$ACCTSEC_TMP/dump_before.txt" "$ACCTSEC_TMP/dump_after.txt"; then
  echo "state identical after restore ($(wc -l <"$ACCTSEC_TMP/dump_before.txt") rows)"
else
  echo "state differs after restore"; rc=1
fi
[ "$(grep -c '^accounts' "$ACCTSEC_TMP/dump_before.txt")" -eq 3 ] || { echo "expected 3 accounts"; rc=1; }
[ "$(grep -c '^attempts' "$ACCTSEC_TMP/dump_before.txt")" -eq 10 ] || { echo "expected 10 attempts"; rc=1; }

# the restored database goes on: new attempt ids follow the old ones, the
# lock still holds, and the linked table's trigger still erases
"${PSQL[@]}" -d $DST <<'SQL' >"$ACCTSEC_TMP/dump_after_use.txt"
SELECT (acctsec.login_attempt('1', true)).status;
SELECT max(id) FROM acctsec.login_attempts;
DELETE FROM users WHERE id = 2;
SELECT count(*) FROM acctsec.accounts WHERE account = '2';
SELECT count(*) FROM acctsec.login_attempts WHERE account = '2';
SQL
expected=$'locked\n11\n0\n0'
if [ "$(cat "$ACCTSEC_TMP/dump_after_use.txt")" = "$expected" ]; then
  echo "restored database: lock kept, sequence continues, linked delete erases"
else
  echo "restored database misbehaves:"; cat "$ACCTSEC_TMP/dump_after_use.txt"; rc=1
fi
"${PSQL[@]}" -d postgres -c "DROP DATABASE $SRC" -c "DROP DATABASE $DST"
exit $rc
