#!/usr/bin/env bash
# Keys and rotation with a real key file (acctsec.secret_key_file, set with
# ALTER SYSTEM + reload; each transaction sees the file as it is):
#  - from the default database key to a configured acctsec.secret_key, then
#    a rotation to a new key with the old one as acctsec.secret_key_previous;
#    rotate_secrets re-encrypts every TOTP secret; backup-code hashes keep
#    naming their key and work while it is configured;
#  - a key that is gone, or a wrong key, is the one vague error (39000);
#  - a value the server rejects from its configuration makes key use fail
#    (22023) instead of silently falling back to the database key;
#  - a key file that others can read, or that is not a key file, is refused;
#  - one backend sees every edit of the key file in its next transaction;
#  - who can read the key (test/keys/check_key_preloading.sh covers the key
#    in the setting acctsec.secret_key, which needs shared_preload_libraries);
#  - no key ever reaches the server log.
# Keys, secrets and codes stay in files under $ACCTSEC_TMP.
set -eu -o pipefail
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
DB=acctsec_keys
W=$ACCTSEC_TMP/keys
rm -rf "$W"; mkdir -p "$W"; chmod 700 "$W"
sql() { local q=$1; shift; printf '%s\n' "$q" | "${PSQL[@]}" -d $DB "$@"; }
# as sql, but print SQLSTATE: message of an error instead of failing
sql_err() { local q=$1; shift; printf '%s\n' '\set ON_ERROR_STOP 0' '\set VERBOSITY terse' "$q" '\echo :LAST_ERROR_SQLSTATE' \
  | "${PSQL[@]}" -d $DB "$@" 2>&1 | tr '\n' ' ' | sed 's/ *$//'; }
. "$(dirname "$0")/../lib/expect.sh"

# keys, from files, into the key file in the data directory; COPY writes it
# as the server's user, chmod makes it 0600, as acctsec requires
KEYFILE=$("${PSQL[@]}" -d postgres -c "SHOW data_directory")/acctsec_keys.key
set_keys() { # current-key-file previous-key-file (either may be /dev/null)
  printf '%s\n' "COPY (SELECT k FROM (VALUES (1, :'k'), (2, :'p')) v(n, k) WHERE k <> '' ORDER BY n) TO :'f';" \
    | "${PSQL[@]}" -d postgres -v k="$(cat "$1")" -v p="$(cat "$2")" -v f="$KEYFILE" >/dev/null
  chmod 0600 "$KEYFILE"   # COPY makes it 0644
  printf '%s\n' "LOAD 'acctsec';" "ALTER SYSTEM RESET acctsec.secret_key;" "ALTER SYSTEM RESET acctsec.secret_key_previous;" \
    "ALTER SYSTEM SET acctsec.secret_key_file = :'f';" \
    "SELECT pg_reload_conf();" \
    | "${PSQL[@]}" -d postgres -v f="$KEYFILE" >/dev/null 2>&1
  sleep 1
}
reset_all() {
  "${PSQL[@]}" -d postgres -c "LOAD 'acctsec'" -c "ALTER SYSTEM RESET acctsec.secret_key" \
    -c "ALTER SYSTEM RESET acctsec.secret_key_previous" -c "ALTER SYSTEM RESET acctsec.secret_key_file" \
    -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
}
cleanup() {
  reset_all
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP ROLE IF EXISTS regress_keys_app" >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
newkey() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1"; }
newkey "$W/k1"; newkey "$W/k2"; newkey "$W/k3"
: >"$W/none"

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null 2>&1
sql "CREATE EXTENSION acctsec"
# codes a few steps ahead, so that one account can verify several times in a
# run without waiting for the clock (each accepted step must be later)
sql "ALTER DATABASE $DB SET acctsec.totp_window = 10"
next_code_ok() { # account secret-file: does the next step's code verify?
  sql "SELECT acctsec.totp_verify(:'a', acctsec.totp(acctsec.base32_decode(:'s'), now() + make_interval(secs => 30 * :n), 6, 30, :'alg'))" \
    -v a="$1" -v s="$(cat "$2")" -v n="$3" -v alg="${4:-SHA1}"
}
key_ids() { sql "SELECT string_agg(DISTINCT substr(encode(secret, 'hex'), 3, 8), ',') FROM acctsec.totp_credentials"; }

echo "== 1. the default database key"
sql "SELECT secret FROM acctsec.totp_enroll('rot-a')" >"$W/sa"
sql "SELECT secret FROM acctsec.totp_enroll('rot-b', NULL, NULL, 6, 30, 'SHA256')" >"$W/sb"
expect "confirm rot-a" t "$(sql "SELECT acctsec.totp_confirm('rot-a', acctsec.totp(acctsec.base32_decode(:'s')))" -v s="$(cat "$W/sa")")"
expect "confirm rot-b" t "$(sql "SELECT acctsec.totp_confirm('rot-b', acctsec.totp(acctsec.base32_decode(:'s'), now(), 6, 30, 'SHA256'))" -v s="$(cat "$W/sb")")"
sql "SELECT c FROM acctsec.backup_codes_generate('rot-a', 5) c" >"$W/codes_a"
db_key=$(sql "SELECT key_id FROM acctsec.key_status() WHERE source = 'database' AND is_current")
expect "the database key is current" 8 "${#db_key}"
expect "secrets sealed under it" "$db_key" "$(key_ids)"

echo "== 2. configure a key (k1, in the key file): old values still open, rotate_secrets moves them"
set_keys "$W/k1" "$W/none"
k1=$(sql "SELECT key_id FROM acctsec.key_status() WHERE source = 'acctsec.secret_key' AND is_current")
expect "k1 is current" 8 "${#k1}"
expect "the database key is still in the ring, not current" f "$(sql "SELECT is_current FROM acctsec.key_status() WHERE source = 'database'")"
expect "rot-a verifies (secret under the database key)" t "$(next_code_ok rot-a "$W/sa" 1)"
expect "a backup code hashed under the database key verifies" t "$(sql "SELECT acctsec.backup_code_verify('rot-a', :'c')" -v c="$(sed -n 1p "$W/codes_a")")"
expect "rotate_secrets re-seals both" 2 "$(sql "SELECT acctsec.rotate_secrets()")"
expect "secrets now under k1" "$k1" "$(key_ids)"
expect "a second rotation has nothing to do" 0 "$(sql "SELECT acctsec.rotate_secrets()")"
expect "rot-b verifies under k1" t "$(next_code_ok rot-b "$W/sb" 1 SHA256)"
sql "SELECT c FROM acctsec.backup_codes_generate('rot-b', 3) c" >"$W/codes_b"
expect "new backup codes are hashed under k1" "$k1" "$(sql "SELECT string_agg(DISTINCT substr(encode(code_hash, 'hex'), 3, 8), ',') FROM acctsec.backup_codes WHERE account = 'rot-b'")"

echo "== 3. rotate to k2, k1 as previous"
set_keys "$W/k2" "$W/k1"
k2=$(sql "SELECT key_id FROM acctsec.key_status() WHERE source = 'acctsec.secret_key' AND is_current")
expect "k2 is current, k1 previous" "$k1" "$(sql "SELECT key_id FROM acctsec.key_status() WHERE source = 'acctsec.secret_key_previous'")"
expect "rot-a verifies before the rotation (under k1, the previous key)" t "$(next_code_ok rot-a "$W/sa" 2)"
expect "rotate_secrets re-seals both" 2 "$(sql "SELECT acctsec.rotate_secrets()")"
expect "secrets now under k2" "$k2" "$(key_ids)"
expect "a backup code hashed under k1 verifies while k1 is previous" t "$(sql "SELECT acctsec.backup_code_verify('rot-b', :'c')" -v c="$(sed -n 1p "$W/codes_b")")"

echo "== 4. drop the previous key"
set_keys "$W/k2" "$W/none"
expect "rot-b's TOTP verifies (re-sealed under k2)" t "$(next_code_ok rot-b "$W/sb" 2 SHA256)"
expect "backup codes hashed under k1 are the vague error now" \
  "ERROR:  could not decrypt a stored acctsec secret 39000" \
  "$(sql_err "SELECT acctsec.backup_code_verify('rot-b', :'c');" -v c="$(sed -n 2p "$W/codes_b")")"
sql "SELECT c FROM acctsec.backup_codes_generate('rot-b', 3) c" >"$W/codes_b"
expect "a new set under k2 works" t "$(sql "SELECT acctsec.backup_code_verify('rot-b', :'c')" -v c="$(sed -n 1p "$W/codes_b")")"

echo "== 5. a wrong key: the vague error, never a crash or a wrong answer"
set_keys "$W/k3" "$W/none"
sql "DELETE FROM acctsec.database_key"
expect "rot-a under an unknown key" "ERROR:  could not decrypt a stored acctsec secret 39000" \
  "$(sql_err "SELECT acctsec.totp_verify('rot-a', '123456');")"
expect "rotate_secrets cannot re-seal what it cannot open" "ERROR:  could not decrypt a stored acctsec secret 39000" \
  "$(sql_err "SELECT acctsec.rotate_secrets();")"
set_keys "$W/k2" "$W/none"
expect "with the right key back, rot-a verifies" t "$(next_code_ok rot-a "$W/sa" 3)"

echo "== 6. a key setting the server rejects: key use fails, no silent fallback"
# Before the library is loaded in a session, the setting is only a
# placeholder: SET makes one, and ALTER SYSTEM then writes the value unchecked.
printf '%s\n' "SET acctsec.secret_key = 'x';" "ALTER SYSTEM SET acctsec.secret_key = 'not-a-valid-key-value';" \
  "ALTER SYSTEM RESET acctsec.secret_key_file;" "SELECT pg_reload_conf();" \
  | "${PSQL[@]}" -d postgres >/dev/null
sleep 1
expect "totp_verify refuses to run on an invalid configured key" \
  "WARNING:  acctsec.secret_key must be 64 hexadecimal digits ERROR:  acctsec.secret_key is set to an invalid value 22023" \
  "$(sql_err "SELECT acctsec.totp_verify('rot-a', '123456');")"
expect "enrolment too (nothing is sealed under a fallback key)" \
  "WARNING:  acctsec.secret_key must be 64 hexadecimal digits ERROR:  acctsec.secret_key is set to an invalid value 22023" \
  "$(sql_err "SELECT acctsec.totp_enroll('rot-c');")"
set_keys "$W/k2" "$W/none"
expect "a valid key again: back to work" t "$(next_code_ok rot-a "$W/sa" 4)"

echo "== 7. a key file others can read, or that holds no key, is refused"
chmod 0644 "$KEYFILE"
expect "mode 0644" "ERROR:  could not use the key file \"$KEYFILE\" (acctsec.secret_key_file) F0000" \
  "$(sql_err "SELECT acctsec.totp_verify('rot-a', '123456');")"
chmod 0640 "$KEYFILE"
expect "mode 0640 (group)" "ERROR:  could not use the key file \"$KEYFILE\" (acctsec.secret_key_file) F0000" \
  "$(sql_err "SELECT acctsec.totp_enroll('rot-c');")"
chmod 0600 "$KEYFILE"
expect "mode 0600 again: back to work" t "$(next_code_ok rot-a "$W/sa" 5)"
printf '%s\n' "COPY (SELECT 'not-a-valid-key-value') TO :'f';" | "${PSQL[@]}" -d postgres -v f="$KEYFILE"
expect "a file that is not a key file" "ERROR:  could not use the key file \"$KEYFILE\" (acctsec.secret_key_file) F0000" \
  "$(sql_err "SELECT acctsec.totp_verify('rot-a', '123456');")"
printf '%s\n' "COPY (SELECT k FROM (VALUES (:'a'), (:'b'), (:'c')) v(k)) TO :'f';" \
  | "${PSQL[@]}" -d postgres -v f="$KEYFILE" -v a="$(cat "$W/k1")" -v b="$(cat "$W/k2")" -v c="$(cat "$W/k3")"
expect "three keys" "ERROR:  could not use the key file \"$KEYFILE\" (acctsec.secret_key_file) F0000" \
  "$(sql_err "SELECT acctsec.totp_verify('rot-a', '123456');")"
printf '%s\n' "LOAD 'acctsec';" "ALTER SYSTEM SET acctsec.secret_key = :'k';" "SELECT pg_reload_conf();" \
  | "${PSQL[@]}" -d postgres -v k="$(cat "$W/k2")" >/dev/null 2>&1
sleep 1
expect "a key in the file and one in the setting: refused" "ERROR:  acctsec.secret_key_file and acctsec.secret_key are both set 22023" \
  "$(sql_err "SELECT acctsec.totp_verify('rot-a', '123456');" | sed 's/^WARNING: .*ERROR:/ERROR:/')"
set_keys "$W/k2" "$W/none"
expect "the key file again: back to work" t "$(next_code_ok rot-a "$W/sa" 6)"
"${PSQL[@]}" -d postgres -c "CREATE ROLE regress_keys_app LOGIN" >/dev/null
for d in $DB template1; do
  expect "a non-superuser in $d finds the key in no setting" 0 \
    "$(sql "SELECT count(*) FROM pg_settings WHERE setting ILIKE '%' || :'k' || '%'" -U regress_keys_app -d $d -v k="$(cat "$W/k2")")"
  expect "nor through current_setting" "" \
    "$(sql "SELECT coalesce(current_setting('acctsec.secret_key', true), '')" -U regress_keys_app -d $d)"
  expect "and cannot read the file" "ERROR:  permission denied for function pg_read_file 42501" \
    "$(sql_err "SELECT pg_read_file(current_setting('acctsec.secret_key_file'));" -U regress_keys_app -d $d)"
done

echo "== 8. one backend across edits of its key file: each transaction sees the file as it is"
# A backend keeps the keys it read and looks at the file (one stat) at the
# first key use of each transaction: an edit in place that keeps the size, a
# chmod, must each be seen by the next transaction.  The sleeps put the file
# past acctsec's settle time (2 s), after which the backend trusts what it
# kept until the file's stamp changes.
set_keys "$W/k2" "$W/none"
sleep 3
current="SELECT 'current ' || key_id FROM acctsec.key_status() WHERE is_current;"
out=$(printf '%s\n' '\set ON_ERROR_STOP 0' '\set VERBOSITY terse' "$current" "$current" \
  "\\! printf '%s\\n' $(cat "$W/k3") > '$KEYFILE'" "$current" \
  '\! sleep 3' "$current" "\\! chmod 0644 '$KEYFILE'" "$current" \
  "\\! chmod 0600 '$KEYFILE'" "$current" | "${PSQL[@]}" -d $DB 2>&1 | tr '\n' ' ' | sed 's/ *$//')
k3=$(sql "SELECT key_id FROM acctsec.key_status() WHERE is_current")
expect "the file's key size kept" 65 "$(stat -c %s "$KEYFILE")"
expect "k2 twice, k3 after the edit and after it settled, refused at mode 0644, k3 at 0600" \
  "current $k2 current $k2 current $k3 current $k3 ERROR:  could not use the key file \"$KEYFILE\" (acctsec.secret_key_file) current $k3" \
  "$out"
set_keys "$W/k2" "$W/none"

echo "== 9. no key in the server log"
# PostgreSQL's own reload message "parameter ... changed to ..." (postmaster,
# level LOG) carries any setting's new value: that is why docs/keys.md says to
# change the key with a restart or to keep the server log as secret as the
# key.  Everything else must be free of keys.
changed=$(grep -c 'parameter "acctsec.secret_key[a-z_]*" changed to' "$ACCTSEC_TMP/server.log" || true)
echo "note: PostgreSQL logged $changed 'parameter changed to' reload lines for the key settings"
if grep -v 'parameter "acctsec.secret_key[a-z_]*" changed to' "$ACCTSEC_TMP/server.log" \
   | grep -qiF -f <(cat "$W/k1"; echo; cat "$W/k2"; echo; cat "$W/k3"; echo); then
  echo "FAIL: a key appears in the server log"; fail=1
else
  echo "ok: no key in any other server log line"
fi
if grep -v 'parameter "acctsec.secret_key[a-z_]*" changed to' "$ACCTSEC_TMP/server.log" | grep -qF 'not-a-valid-key-value'; then
  echo "FAIL: the rejected value is echoed in the server log"; fail=1
else
  echo "ok: the rejected value is not echoed by acctsec"
fi
grep -F 'acctsec.secret_key must be 64 hexadecimal digits' "$ACCTSEC_TMP/server.log" | head -1 | sed 's/^/server log: /' || true
exit $fail
