#!/usr/bin/env bash
# After TOTP enrolment and backup-code generation, neither a TOTP secret (in
# base32, hex or raw bytes) nor any backup code (with or without its dash)
# appears anywhere in a pg_dump of the database, in plain and in directory
# format: first with the default random database key, then with
# acctsec.secret_key configured.  Secrets and codes stay in files under
# $ACCTSEC_TMP, never on a command line or in the log.
set -eu -o pipefail
. "$(dirname "$0")/../lib/db.sh"
DB=acctsec_dump_secrets
W=$ACCTSEC_TMP/dump_secrets
rm -rf "$W"; mkdir -p "$W"; chmod 700 "$W"
fail=0

cleanup() {
  "${PSQL[@]}" -d postgres -c "LOAD 'acctsec'" -c "ALTER SYSTEM RESET acctsec.secret_key_file" -c "SELECT pg_reload_conf()" >/dev/null || true
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

# search NEEDLES RAW... -- FILES-OR-DIRS: exit 0 if any text needle (a line of
# NEEDLES, case-insensitively) or any raw needle file's bytes occur anywhere
search() {
  python3 - "$@" <<'PY'
import os, sys
args = sys.argv[1:]
sep = args.index('--')
needles = [l.strip().lower().encode() for l in open(args[0]) if l.strip()]
raws = [open(f, 'rb').read() for f in args[1:sep]]
paths = []
for p in args[sep + 1:]:
    if os.path.isdir(p):
        for d, _, fs in os.walk(p):
            paths += [os.path.join(d, f) for f in fs]
    else:
        paths.append(p)
for p in paths:
    data = open(p, 'rb').read()
    low = data.lower()
    if any(n in low for n in needles) or any(r in data for r in raws):
        sys.exit(0)
sys.exit(1)
PY
}

run_case() { # name
  local name=$1
  fresh_db $DB
  "${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec"
  : >"$W/needles"
  for alg in SHA1 SHA256 SHA512; do
    for i in 1 2 3; do
      "${PSQL[@]}" -d $DB -c "SELECT secret FROM acctsec.totp_enroll('user$i-$alg', 'Dump Test', NULL, 6, 30, '$alg')" >"$W/secret"
      # confirm half of them, so active and pending credentials are both dumped
      if [ $i -ne 2 ]; then
        printf '%s\n' "SELECT acctsec.totp_confirm('user$i-$alg', acctsec.totp(acctsec.base32_decode(:'s'), now(), 6, 30, '$alg'))" \
          | "${PSQL[@]}" -d $DB -v s="$(cat "$W/secret")" | grep -qx t || { echo "$name: confirm failed"; fail=1; }
      fi
      cat "$W/secret" >>"$W/needles"
      # hex (both cases) and raw bytes of the secret
      printf '%s\n' "SELECT encode(acctsec.base32_decode(:'s'), 'hex')" \
        | "${PSQL[@]}" -d $DB -v s="$(cat "$W/secret")" >"$W/hex"
      cat "$W/hex" >>"$W/needles"
      tr 'a-f' 'A-F' <"$W/hex" >>"$W/needles"
      python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' \
        <"$W/hex" >"$W/raw.$alg.$i"
    done
    "${PSQL[@]}" -d $DB -c "SELECT c FROM acctsec.backup_codes_generate('user1-$alg', 10) c" >"$W/codes"
    cat "$W/codes" >>"$W/needles"
    tr -d '-' <"$W/codes" >>"$W/needles"
    tr 'a-z' 'A-Z' <"$W/codes" >>"$W/needles"
  done
  local n; n=$(wc -l <"$W/needles")

  "$ACCTSEC_BIN/pg_dump" -d $DB -f "$W/dump.sql"
  rm -rf "$W/dump.dir"; "$ACCTSEC_BIN/pg_dump" -d $DB -Fd -Z0 -f "$W/dump.dir"
  # the state is in the dump at all (else this check proves nothing)
  grep -q 'COPY acctsec.totp_credentials' "$W/dump.sql" || { echo "$name: totp_credentials not dumped"; fail=1; }
  grep -q 'COPY acctsec.backup_codes' "$W/dump.sql" || { echo "$name: backup_codes not dumped"; fail=1; }
  local rows; rows=$(sed -n '/^COPY acctsec.totp_credentials/,/^\\\./p' "$W/dump.sql" | grep -vc -e '^COPY' -e '^\\\.')
  [ "$rows" -eq 9 ] || { echo "$name: expected 9 credential rows in the dump, found $rows"; fail=1; }

  if search "$W/needles" "$W"/raw.* -- "$W/dump.sql" "$W/dump.dir"; then
    echo "$name: a secret or backup code appears in the dump"; fail=1
  else
    echo "$name: none of $n secret forms and codes appears in the plain or directory dump"
  fi
  # a check that can fail: the search does find a planted secret, text or raw
  cp "$W/dump.sql" "$W/planted.sql"; sed -n 4p "$W/needles" >>"$W/planted.sql"
  search "$W/needles" -- "$W/planted.sql" || { echo "$name: the search misses a planted secret"; fail=1; }
  cp "$W/dump.sql" "$W/planted.sql"; cat "$W/raw.SHA256.2" >>"$W/planted.sql"
  search /dev/null "$W/raw.SHA256.2" -- "$W/planted.sql" || { echo "$name: the search misses a planted raw secret"; fail=1; }
  rm -f "$W"/raw.* "$W/planted.sql"
}

run_case "database key (default)"
"${PSQL[@]}" -d $DB -c "SELECT count(*) FROM acctsec.database_key" | grep -qx 1 \
  || { echo "the database key was not created"; fail=1; }

# with a configured key
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/key"
# (in a key file, acctsec.secret_key_file: COPY writes it as the server's
# user, chmod makes it 0600, as acctsec requires)
KEYFILE=$("${PSQL[@]}" -d postgres -c "SHOW data_directory")/acctsec_dump_secrets.key
printf '%s\n' "LOAD 'acctsec';" "COPY (SELECT :'k') TO :'f';" "ALTER SYSTEM SET acctsec.secret_key_file = :'f';" \
  | "${PSQL[@]}" -d postgres -v k="$(cat "$W/key")" -v f="$KEYFILE"
chmod 0600 "$KEYFILE"
"${PSQL[@]}" -d postgres -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
run_case "configured acctsec.secret_key"
"${PSQL[@]}" -d $DB -c "SELECT source FROM acctsec.key_status() WHERE is_current" | grep -qx acctsec.secret_key \
  || { echo "the configured key is not the current key"; fail=1; }
if search "$W/key" -- "$W/dump.sql" "$W/dump.dir"; then echo "the configured key appears in the dump"; fail=1; fi
"${PSQL[@]}" -d $DB -c "SELECT count(*) FROM acctsec.database_key" | grep -qx 0 \
  || { echo "a database key was created although a key is configured"; fail=1; }
exit $fail
