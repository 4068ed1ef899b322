#!/usr/bin/env bash
# Signed checkpoints kept outside the database catch what audit_verify()
# alone cannot: a superuser who trims the end of the chain and rewrites
# audit_lanes to match.  The server (audit_verify(checkpoints)) and the
# offline verifier (tools/acctsec_verify.c, built here with libsodium
# only, reading COPY exports) both see it; checkpoints are also written to
# the server log and sent with NOTIFY when the settings ask for it.
set -eu -o pipefail
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
DB=acctsec_checkpoints
OTHER=acctsec_checkpoints_other
T=$ACCTSEC_TMP/checkpoints
mkdir -p "$T"
chmod 777 "$T"
fail() { echo "FAIL: $*"; exit 1; }

cc -O2 -Wall -Wextra -Werror -I "$ACCTSEC_REPO/src" -o "$T/acctsec_verify" \
  "$ACCTSEC_REPO/tools/acctsec_verify.c" -lsodium || fail "the offline verifier does not build"
VERIFY=$T/acctsec_verify

for db in $DB $OTHER; do "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"; done
"${PSQL[@]}" -d $OTHER -c "CREATE EXTENSION acctsec"

"${PSQL[@]}" -d $DB <<'SQL'
CREATE EXTENSION acctsec;
CREATE TABLE users (id int PRIMARY KEY, email text, meta jsonb, tags text[], seen timestamptz);
SELECT acctsec.audit_table('users');
BEGIN;
SET LOCAL acctsec.actor = 'admin@example.com';
INSERT INTO users SELECT g, 'u' || g || E'@example.com\t"quoted"\\', jsonb_build_object('k', g, 's', E'\u00e9\n'),
       ARRAY['a', 'b c', NULL], '2024-05-06 07:08:09+00'::timestamptz + g * interval '1 hour'
FROM generate_series(1, 50) g;
COMMIT;
UPDATE users SET email = 'changed@example.com' WHERE id % 3 = 0;
SELECT (acctsec.login_attempt('cp-user', false, '192.0.2.9')).status;
SELECT (acctsec.login_attempt('cp-user', false, '2001:db8::1')).status;
SQL
cps=$T/checkpoints.txt
"${PSQL[@]}" -d $DB -c "SELECT acctsec.audit_checkpoint()" > "$cps"
"${PSQL[@]}" -d $DB <<'SQL'
DELETE FROM users WHERE id > 45;
SELECT acctsec.audit_event('app.after_first_checkpoint', 'cp-user', '{"n": 1.0e3}');
SQL
"${PSQL[@]}" -d $DB -c "SELECT acctsec.audit_checkpoint()" >> "$cps"
"${PSQL[@]}" -d $DB -c "INSERT INTO users (id, email) VALUES (100, 'last@example.com')"
KEY=$("${PSQL[@]}" -d $DB -c "SELECT acctsec.audit_public_key()")

export_log() {   # $1: directory
  mkdir -p "$1"; chmod 777 "$1"
  PGOPTIONS='-c datestyle=ISO -c timezone=America/New_York' "${PSQL[@]}" -d $DB <<SQL
\copy (SELECT * FROM acctsec.audit_log ORDER BY txid, id) TO '$1/log.copy'
\copy (SELECT txid, lane, seq, nrows, digest, sealed_at, hash FROM acctsec.audit_seals) TO '$1/seals.copy'
\copy (SELECT lane, last_seq, head, base_seq, base_hash FROM acctsec.audit_lanes) TO '$1/lanes.copy'
SQL
}
offline() {   # $1: directory; the rest: checkpoint files
  local d=$1; shift
  "$VERIFY" --key "$KEY" --log "$d/log.copy" --seals "$d/seals.copy" --lanes "$d/lanes.copy" "$@"
}
server_verify() {   # checkpoints from $cps
  "${PSQL[@]}" -d $DB -v cps="$(cat "$cps")" \
    <<<"SELECT ok || ' ' || coalesce(failed_checkpoint::text, '-') FROM acctsec.audit_verify(string_to_array(:'cps', E'\\n'))"
}

# 1. an honest log: everything holds, on the server and offline
export_log "$T/good"
out=$(offline "$T/good" "$cps") || fail "the offline verifier rejects an honest log: $out"
echo "offline, honest log: $out"
[ "$(server_verify)" = "true -" ] || fail "the server rejects its own checkpoints"
[ "$("${PSQL[@]}" -d $DB -c "SELECT ok FROM acctsec.audit_verify()")" = t ] || fail "audit_verify() fails on an honest log"

# 2. an exported row changed: offline says which
sed 's/changed@example.com/CHANGED@example.com/' "$T/good/log.copy" > "$T/good/log.edited"
mkdir -p "$T/edited"; cp "$T/good/seals.copy" "$T/good/lanes.copy" "$T/edited/"; mv "$T/good/log.edited" "$T/edited/log.copy"
if out=$(offline "$T/edited" "$cps"); then fail "the offline verifier accepts an edited row: $out"; fi
echo "offline, one row edited: $out"
grep -q 'was changed' <<<"$out" || fail "the edited row is not named"

# 3. a checkpoint signed by another database's key is refused
other=$("${PSQL[@]}" -d $OTHER -c "SELECT acctsec.audit_checkpoint()")
res=$("${PSQL[@]}" -d $DB -v cp="$other" <<<"SET client_min_messages = warning; SELECT ok || ' ' || failed_checkpoint || ' ' || detail FROM acctsec.audit_verify(ARRAY[:'cp'])")
echo "server, foreign checkpoint: $res"
[ "$res" = "false 1 checkpoint 1 is signed with a key this database does not hold" ] || fail "a foreign checkpoint is accepted"
echo "$other" > "$T/other.txt"
if out=$(offline "$T/good" "$T/other.txt"); then fail "the offline verifier accepts a checkpoint under another key"; fi

# 4. a superuser trims the last transaction (rows and seal) and rewrites
#    audit_lanes to the seal before it
"${PSQL[@]}" -d $DB -v seals=2 -f "$ACCTSEC_REPO/test/lib/audit_trim.sql"
plain=$("${PSQL[@]}" -d $DB -c "SELECT ok FROM acctsec.audit_verify()")
echo "server, trimmed, without checkpoints: ok=$plain (the chain alone cannot tell)"
[ "$plain" = t ] || fail "the trimming test did not rewrite the lanes consistently"
res=$(server_verify)
echo "server, trimmed, with checkpoints: $res"
[ "$res" = "false 2" ] || fail "the server does not see the trimming with the checkpoints"
export_log "$T/trimmed"
if out=$(offline "$T/trimmed" "$cps"); then fail "the offline verifier accepts a trimmed log: $out"; fi
echo "offline, trimmed: $out"
grep -q 'trimmed' <<<"$out" || fail "the offline verifier does not say the log was trimmed"
# ... and without the checkpoints the export looks whole, as on the server
out=$(offline "$T/trimmed") || fail "the trimmed export should look consistent without checkpoints: $out"

# 5. checkpoints are written to the server log and sent with NOTIFY
"${PSQL[@]}" -d $DB -c "ALTER DATABASE $DB SET acctsec.audit_checkpoint_log = on" \
  -c "ALTER DATABASE $DB SET acctsec.audit_checkpoint_channel = 'audit_checkpoints'"
notified=$("$ACCTSEC_BIN/psql" -X -At -d $DB -c "LISTEN audit_checkpoints" -c "SELECT acctsec.audit_checkpoint() AS cp" 2>&1)
cp=$(grep "^acctsec-checkpoint" <<<"$notified")
grep -qF "Asynchronous notification \"audit_checkpoints\" with payload \"$cp\"" <<<"$notified" \
  || fail "the checkpoint was not sent with NOTIFY: $notified"
sleep 0.5
grep -qF "acctsec audit checkpoint $cp" "$ACCTSEC_TMP/server.log" || fail "the checkpoint is not in the server log"
echo "checkpoint $(cut -d' ' -f2 <<<"$cp") sent with NOTIFY and written to the server log"

# 6. an erased account: the export still verifies offline (the checkpoints
#    no longer hold after the trimming above), a changed tombstone does not
n=$("${PSQL[@]}" -d $DB -c "SELECT acctsec.audit_erase('cp-user')")
[ "$n" -gt 0 ] || fail "nothing erased"
export_log "$T/erased"
grep -q 'cp-user' "$T/erased/log.copy" && fail "the erased account is still in the export"
[ "$("${PSQL[@]}" -d $DB -c "SELECT ok FROM acctsec.audit_verify()")" = t ] || fail "audit_verify() fails after an erasure"
out=$(offline "$T/erased") || fail "the offline verifier rejects a log with erased rows: $out"
echo "offline, $n rows erased: $out"
# an erased row must name its audit.erased event, later than itself and in the log
cp -r "$T/erased" "$T/unlinked"
awk -F'\t' 'BEGIN { OFS = "\t" } !done && $15 != "\\N" { $15 = 999999999; done = 1 } { print }' \
  "$T/erased/log.copy" > "$T/unlinked/log.copy"
if out=$(offline "$T/unlinked"); then fail "the offline verifier accepts an erasure whose event is missing"; fi
grep -q 'is not in the log' <<<"$out" || fail "an erasure whose event is missing, reported as: $out"
echo "offline, an erasure without its event: $out"
awk -F'\t' 'BEGIN { OFS = "\t" } !done && $15 != "\\N" { $15 = $1 - 1; done = 1 } { print }' \
  "$T/erased/log.copy" > "$T/unlinked/log.copy"
if out=$(offline "$T/unlinked"); then fail "the offline verifier accepts an erasure older than its row"; fi
grep -q 'older than itself' <<<"$out" || fail "an erasure older than its row, reported as: $out"
echo "offline, an erasure older than its row: $out"
awk -F'\t' 'BEGIN { OFS = "\t" } !done && $15 != "\\N" { $8 = "login.succeeded"; done = 1 } { print }' \
  "$T/erased/log.copy" > "$T/erased/log.tampered"
mv "$T/erased/log.tampered" "$T/erased/log.copy"
if out=$(offline "$T/erased"); then fail "the offline verifier accepts a changed tombstone"; fi
echo "offline, a tombstone changed: $out"

for db in $DB $OTHER; do "${PSQL[@]}" -d postgres -c "DROP DATABASE $db"; done
echo "ok"
