#!/usr/bin/env bash
# pg_dump / pg_restore keep TOTP and backup codes working: enrol and confirm
# TOTP, generate backup codes, use one, dump (custom format), restore into a
# new database, and there: the database key is the dumped one (exactly one
# row, same fingerprint), the next TOTP code verifies, the spent code and the
# spent step stay spent, an unused backup code works, counts match.  Run with
# the default database key.  Secrets and codes stay in files.
set -eu -o pipefail
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
SRC=acctsec_dump_src
DST=acctsec_dump_dst
W=$ACCTSEC_TMP/dump_restore
rm -rf "$W"; mkdir -p "$W"; chmod 700 "$W"
cleanup() {
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $SRC" -c "DROP DATABASE IF EXISTS $DST" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
sql() { local db=$1 q=$2; shift 2; printf '%s\n' "$q" | "${PSQL[@]}" -d "$db" "$@"; }
. "$(dirname "$0")/../lib/expect.sh"

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $SRC" -c "DROP DATABASE IF EXISTS $DST" 2>/dev/null
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $SRC"
"${PSQL[@]}" -d $SRC -c "CREATE EXTENSION acctsec"
sql $SRC "SELECT secret FROM acctsec.totp_enroll('restore-user')" >"$W/secret"
expect "confirm in the source" t "$(sql $SRC "SELECT acctsec.totp_confirm('restore-user', acctsec.totp(acctsec.base32_decode(:'s')))" -v s="$(cat "$W/secret")")"
sql $SRC "SELECT c FROM acctsec.backup_codes_generate('restore-user', 5) c" >"$W/codes"
expect "a backup code works in the source" t "$(sql $SRC "SELECT acctsec.backup_code_verify('restore-user', :'c')" -v c="$(sed -n 1p "$W/codes")")"
# a pending enrolment too
sql $SRC "SELECT secret FROM acctsec.totp_enroll('restore-pending')" >"$W/pending_secret"
src_key=$(sql $SRC "SELECT key_id FROM acctsec.key_status() WHERE is_current")
src_step=$(sql $SRC "SELECT last_step FROM acctsec.totp_credentials WHERE account = 'restore-user'")

"$ACCTSEC_BIN/pg_dump" -d $SRC -Fc -f "$W/dump"
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DST"
"$ACCTSEC_BIN/pg_restore" -d $DST --exit-on-error "$W/dump"

expect "exactly one database key after restore" 1 "$(sql $DST "SELECT count(*) FROM acctsec.database_key")"
expect "the restored key is the dumped one" "$src_key" "$(sql $DST "SELECT key_id FROM acctsec.key_status() WHERE is_current")"
expect "the accepted step is restored" "$src_step" "$(sql $DST "SELECT last_step FROM acctsec.totp_credentials WHERE account = 'restore-user'")"
expect "totp_enabled restored" t "$(sql $DST "SELECT totp_enabled FROM acctsec.account_status('restore-user')")"
expect "backup codes remaining restored" 4 "$(sql $DST "SELECT acctsec.backup_codes_remaining('restore-user')")"
expect "the confirming TOTP code stays spent" f "$(sql $DST "SELECT acctsec.totp_verify('restore-user', acctsec.totp(acctsec.base32_decode(:'s'), to_timestamp(:step * 30)))" -v s="$(cat "$W/secret")" -v step="$src_step")"
expect "the next TOTP code verifies in the restored database" t "$(sql $DST "SELECT acctsec.totp_verify('restore-user', acctsec.totp(acctsec.base32_decode(:'s'), now() + interval '30 seconds'))" -v s="$(cat "$W/secret")")"
expect "the spent backup code stays spent" f "$(sql $DST "SELECT acctsec.backup_code_verify('restore-user', :'c')" -v c="$(sed -n 1p "$W/codes")")"
expect "an unused backup code works in the restored database" t "$(sql $DST "SELECT acctsec.backup_code_verify('restore-user', :'c')" -v c="$(sed -n 2p "$W/codes")")"
expect "the pending enrolment confirms in the restored database" t "$(sql $DST "SELECT acctsec.totp_confirm('restore-pending', acctsec.totp(acctsec.base32_decode(:'s')))" -v s="$(cat "$W/pending_secret")")"
# new enrolments in the restored database use the restored key, not a new one
sql $DST "SELECT count(*) FROM acctsec.totp_enroll('restore-new')" >/dev/null
expect "still exactly one database key" 1 "$(sql $DST "SELECT count(*) FROM acctsec.database_key")"
expect "nothing to re-seal: all under the restored key" 0 "$(sql $DST "SELECT acctsec.rotate_secrets()")"
# and the source is untouched by all this
expect "the source still verifies its own next code" t "$(sql $SRC "SELECT acctsec.totp_verify('restore-user', acctsec.totp(acctsec.base32_decode(:'s'), now() + interval '30 seconds'))" -v s="$(cat "$W/secret")")"
exit $fail
