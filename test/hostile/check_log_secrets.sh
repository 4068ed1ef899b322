#!/usr/bin/env bash
# No secret, code or key reaches the server log through acctsec.
#
# 1. Failing calls, each at top level so that the server logs its error
#    (with errdetail, errhint and context: log_error_verbosity = verbose),
#    made with a known secret and known codes.  log_min_error_statement is
#    set to panic for that session: the text of a failing statement is the
#    client's own SQL, which PostgreSQL logs verbatim unless told not to (an
#    application that passes secrets as literals should use parameters or
#    this setting); what is tested is that acctsec never puts them there.
# 2. The whole server log of this run (every suite before this check
#    included), with the STATEMENT entries left out for the reason above, is
#    scanned for that secret and for the fixed secrets the regression suites
#    use, raw, in hex and in base32, in either case.
# A self-test first shows that the scanner finds a planted secret.
set -u -o pipefail
PSQL=("$ACCTSEC_BIN/psql" -X -q -At)
LOG=$ACCTSEC_TMP/server.log
DB=acctsec_log_secrets
SECRET='log-secret-Qx7Zr9Kp2Lm4'          # 24 bytes, distinctive
[ -f "$LOG" ] || { echo "no server log at $LOG"; exit 1; }

scan() {  # scan LOGFILE NEEDLE...: print offending entries, exit 1 if any
  python3 - "$@" <<'PY'
import re, sys
log, needles = sys.argv[1], [n.lower() for n in sys.argv[2:] if n]
start = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \S+ \[\d+\] ')
entries, cur = [], []
for line in open(log, encoding='utf-8', errors='replace'):
    if start.match(line) and cur:
        entries.append(''.join(cur)); cur = []
    cur.append(line)
if cur:
    entries.append(''.join(cur))
bad = 0
for e in entries:
    head = e.split('\n', 1)[0]
    if re.search(r'\bSTATEMENT:  ', head):
        continue
    low = e.lower()
    for n in needles:
        if n in low:
            bad += 1
            print('secret-bearing log entry (%s...):\n%s' % (n[:6], e.rstrip()))
print('%d log entries scanned, %d carry a secret' % (len(entries), bad))
sys.exit(1 if bad else 0)
PY
}

forms() {  # forms RAW: the raw text, its hex and its base32
  local raw=$1
  printf '%s\n' "$raw"
  printf '%s' "$raw" | od -An -tx1 | tr -d ' \n'; echo
  "${PSQL[@]}" -d "$DB" -c "SELECT acctsec.base32_encode(convert_to('$raw', 'UTF8'))"
}

# --- self-test of the scanner ------------------------------------------------
fake=$ACCTSEC_TMP/fake.log
cat >"$fake" <<FAKE
2026-01-01 00:00:00.000 UTC [1] postgres@db ERROR:  something
2026-01-01 00:00:00.000 UTC [1] postgres@db STATEMENT:  SELECT '$SECRET'
	AND more '$SECRET'
2026-01-01 00:00:00.000 UTC [1] postgres@db LOG:  fine
FAKE
scan "$fake" "$SECRET" >/dev/null || { echo "self-test: a STATEMENT entry was not ignored"; exit 1; }
echo "2026-01-01 00:00:00.000 UTC [1] postgres@db DETAIL:  x ${SECRET^^} y" >>"$fake"
if scan "$fake" "$SECRET" >/dev/null; then echo "self-test: a planted secret was not found"; exit 1; fi
echo "self-test: the scanner finds a planted secret and skips statements"

# --- 1. failing calls with a known secret --------------------------------------
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" || exit 1
"${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec" || exit 1
mapfile -t SECRET_FORMS < <(forms "$SECRET")
CODE8=$("${PSQL[@]}" -d $DB -c "SELECT acctsec.hotp(convert_to('$SECRET', 'UTF8'), 0, 10)")
B32=${SECRET_FORMS[2]}
KEY64=$(printf '%s' "$SECRET" | sha256sum | cut -c1-64)   # a well-formed key
calls=$ACCTSEC_TMP/log_secrets.sql
cat >"$calls" <<SQL
SET log_min_error_statement = panic;
SET log_error_verbosity = verbose;
SET client_min_messages = error;
-- OTP pure functions: every argument check after the secret was read
SELECT acctsec.hotp(convert_to('$SECRET', 'UTF8'), -1);
SELECT acctsec.hotp(convert_to('$SECRET', 'UTF8'), 0, 0);
SELECT acctsec.hotp(convert_to('$SECRET', 'UTF8'), 0, 6, 'MD5');
SELECT acctsec.hotp(convert_to(repeat('$SECRET', 50), 'UTF8'), 0);
SELECT acctsec.totp(convert_to('$SECRET', 'UTF8'), 'infinity');
SELECT acctsec.totp(convert_to('$SECRET', 'UTF8'), now(), 6, 0);
SELECT acctsec.totp_check(convert_to('$SECRET', 'UTF8'), '$CODE8', 99);
SELECT acctsec.totp_check(convert_to('$SECRET', 'UTF8'), '$CODE8', 1, now(), 10);
SELECT acctsec.totp_check(convert_to('$SECRET', 'UTF8'), '$CODE8', 1, now(), 6, 30, '$SECRET');
SELECT acctsec.totp_uri(convert_to('$SECRET', 'UTF8'), repeat('x', 2000));
SELECT acctsec.totp_uri(convert_to('$SECRET', 'UTF8'), 'bob', 'x', 9);
SELECT acctsec.base32_decode('$B32' || '1');
SELECT acctsec.base32_decode('$B32' || 'A');
SELECT acctsec.base32_decode('$SECRET');
-- the error inside a function called from a function: context lines too
DO \$\$ DECLARE s bytea := convert_to('$SECRET', 'UTF8'); BEGIN PERFORM acctsec.hotp(s, -1); END \$\$;
-- passwords: failing verifications and hashes carrying the secret
SELECT acctsec.password_verify('$SECRET', 'not a hash');
SELECT acctsec.password_verify('$SECRET', '\$2b\$31\$abcdefghijklmnopqrstuu5Wn0nX4XHxJwRB4aJg2JlC0q7IeRbK6');
SELECT acctsec.password_verify('$SECRET', '\$argon2id\$v=19\$m=64,t=1,p=1\$');
SELECT acctsec.password_verify(repeat('$SECRET', 100000), '\$argon2id\$v=19\$m=64,t=1,p=1\$c29tZXNhbHQ\$aGFzaA');
SELECT acctsec.password_hash(repeat('$SECRET', 100000));
SELECT acctsec.password_needs_rehash('$SECRET');
-- keys: a malformed key, a well-formed one where it cannot be set
ALTER SYSTEM SET acctsec.secret_key = '${KEY64}zz';
ALTER SYSTEM SET acctsec.secret_key = '${KEY64:0:63}';
ALTER SYSTEM SET acctsec.secret_key_previous = '${KEY64}0';
SET acctsec.secret_key = '$KEY64';
SET acctsec.secret_key_previous = '$KEY64';
SQL
# TOTP and backup codes: an enrolment's secret and codes, then failing calls
# that handle them (secrets and codes stay in files)
if [ "$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM pg_proc WHERE proname = 'totp_enroll'")" != 0 ]; then
  "${PSQL[@]}" -d $DB -c "SELECT secret FROM acctsec.totp_enroll('log_user')" >"$ACCTSEC_TMP/log_totp_secret"
  TOTP_SECRET=$(cat "$ACCTSEC_TMP/log_totp_secret")
  "${PSQL[@]}" -d $DB -c "SELECT acctsec.totp_confirm('log_user', acctsec.totp(acctsec.base32_decode('$TOTP_SECRET')))" >/dev/null
  "${PSQL[@]}" -d $DB -c "SELECT c FROM acctsec.backup_codes_generate('log_user', 3) c" >"$ACCTSEC_TMP/log_codes"
  NEXT_CODE=$("${PSQL[@]}" -d $DB -c "SELECT acctsec.totp(acctsec.base32_decode('$TOTP_SECRET'), now() + interval '30 seconds', 8)")
  cat >>"$calls" <<SQL
SELECT acctsec.totp_enroll('log_user');
SELECT acctsec.totp_enroll('log_user2', '$TOTP_SECRET', repeat('x', 2000));
SELECT acctsec.totp_enroll('log_user2', 'ACME', '$TOTP_SECRET', 6, 30, '$TOTP_SECRET');
SELECT acctsec.totp_enroll('log_user2', 'ACME', '$TOTP_SECRET', 9);
SELECT acctsec.totp_verify('', '$NEXT_CODE');
SELECT acctsec.totp_verify(repeat('$TOTP_SECRET', 100), '$NEXT_CODE');
SELECT acctsec.backup_code_verify('', '$(sed -n 1p "$ACCTSEC_TMP/log_codes")');
SELECT acctsec.backup_codes_generate('log_user', 0);
DO \$\$ DECLARE c text := '$(sed -n 2p "$ACCTSEC_TMP/log_codes")'; BEGIN PERFORM acctsec.backup_code_verify(repeat(c, 1000), c); END \$\$;
SQL
  TOTP_NEEDLES=("$TOTP_SECRET" "$NEXT_CODE" $(cat "$ACCTSEC_TMP/log_codes"))
else
  TOTP_NEEDLES=()
fi
# One-time tokens and sessions: tokens handed to failing calls
if [ "$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM pg_proc WHERE proname = 'token_issue'")" != 0 ]; then
  TOKEN=$("${PSQL[@]}" -d $DB -c "SELECT acctsec.token_issue('log_user', 'reset')")
  SESSION=$("${PSQL[@]}" -d $DB -c "SELECT token FROM acctsec.session_start('log_user')")
  cat >>"$calls" <<SQL
SELECT acctsec.token_issue('log_user', '$TOKEN');
SELECT acctsec.token_issue('log_user', 'reset', '-1 day');
SELECT acctsec.token_consume('$TOKEN', repeat('p', 100));
SELECT acctsec.token_consume('$TOKEN', NULL::text || repeat('$TOKEN', 100));
SELECT acctsec.session_start(repeat('$SESSION', 100));
SELECT acctsec.sessions_revoke_all(repeat('$TOKEN', 100), '$SESSION');
SELECT acctsec.credentials_changed('', '$SESSION');
SQL
  TOKEN_NEEDLES=("$TOKEN" "$SESSION")
else
  TOKEN_NEEDLES=()
fi
# (stateful capabilities add their failing calls here as they land)
n_calls=$(grep -c '^SELECT\|^DO\|^ALTER SYSTEM\|^SET acctsec' "$calls")
"${PSQL[@]}" -d $DB -f "$calls" >/dev/null 2>&1
"${PSQL[@]}" -d $DB -c "SELECT pg_catalog.pg_sleep(0.2)" >/dev/null   # let the logger catch up
errors=$(grep -c "ERROR:" "$LOG")
echo "$n_calls calls (nearly all failing) made with a known secret; $errors errors in the server log so far"

# --- 1b. the audit log: secrets written to an audited table's secret-named
# columns are redacted there (docs/audit.md), never stored
if [ "$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM pg_proc WHERE proname = 'audit_table'")" != 0 ]; then
  "${PSQL[@]}" -d $DB >/dev/null <<SQL || { echo "audit setup failed"; exit 1; }
CREATE TABLE app_secrets (id int PRIMARY KEY, email text, password text, password_hash text,
                          api_token text, totp_secret text, backup_codes text[]);
SELECT acctsec.audit_table('app_secrets');
INSERT INTO app_secrets VALUES (1, 'a@example.com', '$SECRET', '$B32', '$KEY64', '$B32', ARRAY['$SECRET']);
UPDATE app_secrets SET password = '$SECRET!', api_token = '$SECRET' WHERE id = 1;
DELETE FROM app_secrets WHERE id = 1;
SQL
  leaked=$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM acctsec.audit_log a
                                    WHERE lower(a::text) LIKE lower('%$SECRET%') OR lower(a::text) LIKE lower('%$B32%')
                                       OR lower(a::text) LIKE lower('%$KEY64%')")
  rows=$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM acctsec.audit_log WHERE relation = 'public.app_secrets'")
  echo "audit log: $rows rows for an audited table written with the secret; $leaked carry it"
  [ "$leaked" = 0 ] && [ "$rows" -ge 3 ] || { echo "FAILED: the audit log holds the secret"; exit 1; }
fi

# --- 2. scan the whole log -------------------------------------------------------
RFC=12345678901234567890
mapfile -t RFC_FORMS < <(forms "$RFC")
# the audit log of the test database holds none of them either
if [ "$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM pg_proc WHERE proname = 'audit_table'")" != 0 ]; then
  for n in "${SECRET_FORMS[@]}" "$KEY64" "${TOTP_NEEDLES[@]}" "${TOKEN_NEEDLES[@]}"; do
    c=$(echo "SELECT count(*) FROM acctsec.audit_log a WHERE strpos(lower(a::text), lower(:'n')) > 0" \
        | "${PSQL[@]}" -d $DB -v n="$n")
    [ "$c" = 0 ] || { echo "FAILED: $c audit rows carry a secret (${n:0:6}...)"; exit 1; }
  done
  echo "audit log: $("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM acctsec.audit_log") rows, none carrying a secret, key or code"
fi
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
scan "$LOG" "${SECRET_FORMS[@]}" "$CODE8" "$KEY64" "${KEY64:0:63}" "${RFC_FORMS[@]}" "${TOTP_NEEDLES[@]}" "${TOKEN_NEEDLES[@]}"
