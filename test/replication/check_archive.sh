#!/usr/bin/env bash
# An audit archive by logical replication (docs/replication.md): the
# primary publishes the audit log's four tables (inserts and updates, never
# deletes) to a second cluster with acctsec installed, subscribed.  On the
# archive:
#  - the chain verifies, also against checkpoints taken on the primary
#    (audit_verify(checkpoints, public_key): the archive holds no key);
#  - a prepared transaction's seal, linked later, and an erasure arrive;
#  - audit_purge() on the primary purges nothing there, and the archive
#    still verifies from its start, the pre-purge checkpoint included;
#  - events written while the archive is down arrive when it is back (the
#    slot keeps the WAL meanwhile);
#  - a superuser who trims the primary's chain and rewrites its lanes is
#    seen there, with or without checkpoints.
set -eu -o pipefail
. "$(dirname "$0")/../lib/cluster.sh"
. "$(dirname "$0")/../lib/expect.sh"

cluster_new primary
cat >>"$ACCTSEC_TMP/primary/data/postgresql.conf" <<CONF
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
CONF
cluster_start primary
cluster_new archive
cluster_start archive
P() { cluster_psql primary -d postgres "$@"; }
A() { cluster_psql archive -d postgres "$@"; }
Acp() { printf '%s\n' "$2" | A -v cps="$1" -v key="$KEY"; }   # :'cps' (one per line), :'key'
Pcp() { printf '%s\n' "$2" | P -v cps="$1"; }

P -q >/dev/null <<'SQL'
CREATE EXTENSION acctsec;
-- the primary's log in partitions of an hour (the archive keeps only its
-- default partition: rows are published as the log's, not a partition's)
SET acctsec.audit_partition_interval = '1 hour';
SELECT acctsec.audit_create_partitions('2 hours');
CREATE TABLE users (id int PRIMARY KEY, email text);
SELECT acctsec.audit_table('users');
INSERT INTO users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 40) g;
UPDATE users SET email = 'changed@example.com' WHERE id % 4 = 0;
SELECT acctsec.login_attempt('archived-user', false, '192.0.2.7');
SELECT acctsec.audit_event('app.before_archive', 'archived-user', '{"n": 1}');
-- the recipe of docs/replication.md
CREATE PUBLICATION acctsec_audit_archive
  FOR TABLE acctsec.audit_log, acctsec.audit_seals, acctsec.audit_lanes, acctsec.audit_checkpoints
  WITH (publish = 'insert, update', publish_via_partition_root = true);
SQL
KEY=$(P -c "SELECT acctsec.audit_public_key()")
CP1=$(P -c "SELECT acctsec.audit_checkpoint()")

A -q >/dev/null <<SQL
CREATE EXTENSION acctsec;
CREATE SUBSCRIPTION acctsec_audit_archive
  CONNECTION 'host=$SOCK_primary port=$PORT_primary dbname=postgres user=postgres'
  PUBLICATION acctsec_audit_archive;
SQL

# Until the archive holds the seal of a marker event written on the primary
# now: the apply worker applies transactions in commit order, so everything
# committed before it is there too.
marker=0
wait_archive() {
  marker=$((marker + 1))
  local txid
  txid=$(P -c "SELECT acctsec.audit_event('app.archive_marker', NULL, '{\"n\": $marker}') IS NOT NULL; SELECT txid FROM acctsec.audit_log WHERE operation = 'app.archive_marker' ORDER BY id DESC LIMIT 1" | tail -n 1)
  for _ in $(seq 1 600); do
    [ "$(A -c "SELECT count(*) FROM acctsec.audit_seals WHERE txid = '$txid' AND lane IS NOT NULL")" = 1 ] && return 0
    sleep 0.1
  done
  echo "FAIL: the archive did not receive transaction $txid"; fail=1
  tail -20 "$ACCTSEC_TMP/archive/server.log"
  return 1
}
same_log() { # the archive's rows (id, hash) with id >= $1 are the primary's
  local q="SELECT md5(string_agg(id || ':' || encode(hash, 'hex') || ':' || coalesce(encode(salt, 'hex'), '-'), ',' ORDER BY id)) FROM acctsec.audit_log WHERE id >= $1"
  expect "$2" "$(P -c "$q")" "$(A -c "$q")"
}

echo "== initial copy and streaming"
# the first copy is made table by table: until every table is ready
for _ in $(seq 1 600); do
  [ "$(A -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")" = 0 ] && break
  sleep 0.1
done
expect "every table copied" 0 "$(A -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")"
wait_archive
expect "the archive holds every row" "$(P -c 'SELECT count(*) FROM acctsec.audit_log')" "$(A -c 'SELECT count(*) FROM acctsec.audit_log')"
expect "the primary's rows are in its hourly partitions" 0 "$(P -c 'SELECT count(*) FROM acctsec.audit_log_default')"
same_log 0 "rows and hashes are the primary's"
expect "audit_verify() on the archive" "t" "$(A -c 'SELECT ok FROM acctsec.audit_verify()')"
expect "the primary's checkpoint verifies on the archive" "t|" \
  "$(Acp "$CP1" "SELECT ok, detail FROM acctsec.audit_verify(ARRAY[:'cps'], :'key')" | tail -n 1)"
expect "without the key the archive cannot check it" "f|checkpoint 1 is signed with a key this database does not hold" \
  "$(Acp "$CP1" "SET client_min_messages = warning; SELECT ok, detail FROM acctsec.audit_verify(ARRAY[:'cps'])" | tail -n 1)"
OTHER=$(A -c "SELECT acctsec.audit_public_key()")
expect "another key is refused" "f|1|checkpoint 1 is not signed with the public key given" \
  "$(printf '%s\n' "SET client_min_messages = warning; SELECT ok, failed_checkpoint, detail FROM acctsec.audit_verify(ARRAY[:'cps'], :'key')" \
     | A -v cps="$CP1" -v key="$OTHER" | tail -n 1)"
err=$(printf '%s\n' "SELECT * FROM acctsec.audit_verify(ARRAY[:'cps'], 'abc')" | A -v cps="$CP1" 2>&1 || true)
expect "a malformed key is 22023" "ERROR:  public_key must be 64 hexadecimal digits" "$(grep -o 'ERROR:.*' <<<"$err")"

echo "== a prepared transaction and an erasure reach the archive"
P -q >/dev/null <<'SQL'
BEGIN;
INSERT INTO users VALUES (100, 'prepared@example.com');
PREPARE TRANSACTION 'archive_2pc';
COMMIT PREPARED 'archive_2pc';
INSERT INTO users VALUES (101, 'after@example.com');
SELECT acctsec.audit_erase('archived-user');
SQL
wait_archive
expect "no seal left unlinked on the primary" 0 "$(P -c 'SELECT count(*) FROM acctsec.audit_seals WHERE lane IS NULL')"
expect "nor on the archive" 0 "$(A -c 'SELECT count(*) FROM acctsec.audit_seals WHERE lane IS NULL')"
expect "the erased rows are erased on the archive" "$(P -c 'SELECT count(*) FROM acctsec.audit_log WHERE erased_by IS NOT NULL')" \
  "$(A -c "SELECT count(*) FROM acctsec.audit_log WHERE erased_by IS NOT NULL AND salt IS NULL AND account IS NULL")"
same_log 0 "still the primary's rows"
expect "audit_verify() on the archive" "t" "$(A -c 'SELECT ok FROM acctsec.audit_verify()')"

echo "== purging the primary does not purge the archive"
before=$(A -c 'SELECT count(*) FROM acctsec.audit_log')
sleep 1   # rows older than the purge below, by the clock
first_kept=$(P -c "SELECT nextval('acctsec.audit_log_id_seq')")
CP2=$(P -c "SELECT acctsec.audit_checkpoint()")
purged=$(P -c "SELECT acctsec.audit_purge('0.5 seconds')")
PURGE_CP=$(P -c "SELECT statement FROM acctsec.audit_checkpoints WHERE statement LIKE '% kind=purge %' ORDER BY no DESC LIMIT 1")
echo "purged on the primary: $purged rows"
[ "$purged" -gt 0 ] || { echo "FAIL: the purge removed nothing"; fail=1; }
wait_archive
expect "the primary verifies from its purge point" t "$(P -c 'SELECT ok FROM acctsec.audit_verify()')"
expect "the primary needs the purge checkpoint for the old one" "f|t" \
  "$(Pcp "$CP1" "SELECT (SELECT ok FROM acctsec.audit_verify(ARRAY[:'cps'])), (SELECT ok FROM acctsec.audit_verify(ARRAY[:'cps', '$PURGE_CP']))" | tail -n 1)"
after=$(A -c 'SELECT count(*) FROM acctsec.audit_log')
expect "the archive lost nothing (it gained the purge's own rows)" t "$([ "$after" -gt "$before" ] && echo t || echo f)"
expect "the archive still has the purged rows" "$before" "$(A -c "SELECT count(*) FROM acctsec.audit_log WHERE id < $first_kept")"
expect "the archive's lanes still start at the beginning" 0 "$(A -c 'SELECT max(base_seq) FROM acctsec.audit_lanes')"
expect "the primary's lanes moved" t "$(P -c 'SELECT max(base_seq) > 0 FROM acctsec.audit_lanes')"
same_log "$first_kept" "the rows after the purge point are the primary's"
expect "audit_verify() on the archive checks everything" "t|$after" "$(A -c 'SELECT ok, checked FROM acctsec.audit_verify()')"
expect "the archive verifies the pre-purge checkpoints alone" "t|" \
  "$(Acp "$CP1"$'\n'"$CP2" "SET client_min_messages = warning; SELECT ok, detail FROM acctsec.audit_verify(string_to_array(:'cps', E'\\n'), :'key')" | tail -n 1)"
expect "and with the purge checkpoint" "t|" \
  "$(Acp "$CP1"$'\n'"$PURGE_CP" "SET client_min_messages = warning; SELECT ok, detail FROM acctsec.audit_verify(string_to_array(:'cps', E'\\n'), :'key')" | tail -n 1)"

echo "== events written while the archive is down"
cluster_stop archive
P -q >/dev/null <<'SQL'
INSERT INTO users SELECT g, 'down' || g || '@example.com' FROM generate_series(200, 399) g;
SELECT acctsec.login_attempt('while-down', false, ('198.51.100.' || g)::inet) FROM generate_series(1, 20) g;
SQL
CP3=$(P -c "SELECT acctsec.audit_checkpoint()")
slot=$(P -c "SELECT active, wal_status, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) > 0 FROM pg_replication_slots WHERE slot_name = 'acctsec_audit_archive'")
echo "slot while the archive is down (active|wal_status|WAL kept): $slot"
expect "the slot keeps the WAL for the archive" "f|reserved|t" "$slot"
missing=$(P -c "SELECT count(*) FROM acctsec.audit_log WHERE id >= $first_kept")
cluster_start archive
wait_archive
same_log "$first_kept" "what was written meanwhile arrived, rows and hashes"
expect "nothing of it missing" "$missing" "$(A -c "SELECT count(*) FROM acctsec.audit_log WHERE id >= $first_kept AND (operation <> 'app.archive_marker' OR (new_values->>'n')::int < $marker)")"
expect "the archive verifies against the newest checkpoint" "t|" \
  "$(Acp "$CP3" "SET client_min_messages = warning; SELECT ok, detail FROM acctsec.audit_verify(ARRAY[:'cps'], :'key')" | tail -n 1)"

echo "== a trimmed primary is seen on the archive"
P -q -v seals=1 -f "$ACCTSEC_REPO/test/lib/audit_trim.sql" >/dev/null
# The trim's lane rewrite has no audit rows to wait for (and the next seal
# in a trimmed lane would take a seal number the archive already holds: the
# subscription would stop there): wait until the archive's lanes are the
# primary's.
lanes_q="SELECT md5(string_agg(lane || ':' || last_seq || ':' || encode(head, 'hex'), ',' ORDER BY lane)) FROM acctsec.audit_lanes"
want=$(P -c "$lanes_q")
for _ in $(seq 1 600); do [ "$(A -c "$lanes_q")" = "$want" ] && break; sleep 0.1; done
expect "the rewritten heads reached the archive" "$want" "$(A -c "$lanes_q")"
expect "the primary, trimmed, looks whole without checkpoints" t "$(P -c 'SELECT ok FROM acctsec.audit_verify()')"
expect "the archive sees the lanes end before their seals" f "$(A -c 'SELECT ok FROM acctsec.audit_verify()')"
expect "the archive kept the trimmed rows" t \
  "$(A -c "SELECT count(*) > $(P -c 'SELECT count(*) FROM acctsec.audit_log WHERE id >= '"$first_kept") FROM acctsec.audit_log WHERE id >= $first_kept")"

grep -E 'terminated by signal|PANIC' "$ACCTSEC_TMP"/primary/server.log "$ACCTSEC_TMP"/archive/server.log && { echo "FAIL: a server crashed"; fail=1; }
exit $fail
