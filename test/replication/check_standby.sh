#!/usr/bin/env bash
# A streaming hot standby of a primary with acctsec state (docs/replication.md):
#  - every function that only reads works on the standby and sees the
#    primary's state (the pure OTP functions, account_status, network_status,
#    token_peek, sessions, session_check, audit_verify, key_status, ...);
#  - every function that changes state fails with PostgreSQL's read-only
#    error, SQLSTATE 25006, and nothing stranger;
#  - session_check on the standby validates without writing (touch_due and
#    session_touch themselves: sql/sessions.sql).
set -eu -o pipefail
. "$(dirname "$0")/../lib/cluster.sh"
. "$(dirname "$0")/../lib/expect.sh"

cluster_new primary
cat >>"$ACCTSEC_TMP/primary/data/postgresql.conf" <<CONF
wal_level = replica
CONF
cluster_start primary
P() { cluster_psql primary -d postgres "$@"; }
S() { cluster_psql standby -d postgres "$@"; }
# a query with a token bound as :'t' (psql interpolates variables only in
# what it reads, not in -c)
Pt() { printf '%s\n' "$2" | P -v t="$1"; }
St() { printf '%s\n' "$2" | S -v t="$1"; }

P -q >/dev/null <<'SQL'
CREATE EXTENSION acctsec;
SET acctsec.max_failed_attempts = 2;
SELECT acctsec.login_attempt('locked-user', false), acctsec.login_attempt('locked-user', false);
SELECT acctsec.login_attempt('ok-user', true, '192.0.2.7');
SELECT count(*) FROM acctsec.totp_enroll('totp-user');
SELECT count(*) FROM acctsec.backup_codes_generate('totp-user', 3);
CREATE TABLE standby_tokens (name text PRIMARY KEY, token text);
INSERT INTO standby_tokens VALUES ('reset', acctsec.token_issue('ok-user', 'password_reset'));
INSERT INTO standby_tokens SELECT 'kept', token FROM acctsec.session_start('ok-user');
INSERT INTO standby_tokens SELECT 'abandoned', token FROM acctsec.session_start('ok-user');
CREATE TABLE standby_audited (id int PRIMARY KEY, v text);
SELECT acctsec.audit_table('standby_audited');
INSERT INTO standby_audited VALUES (1, 'a'), (2, 'b');
SQL

# the standby: a base backup that follows the primary
cluster_standby primary standby
expect "the standby is in recovery" t "$(S -c 'SELECT pg_is_in_recovery()')"
wait_replay() {
  cluster_wait_replay primary standby || { echo "FAIL: the standby did not catch up"; fail=1; }
}
wait_replay

tok() { P -c "SELECT token FROM standby_tokens WHERE name = '$1'"; }
RESET=$(tok reset); KEPT=$(tok kept); ABANDONED=$(tok abandoned)

echo "== reads on the standby"
expect "hotp (RFC 4226 vector)" 755224 "$(S -c "SELECT acctsec.hotp('12345678901234567890'::bytea, 0)")"
expect "totp_check" t "$(S -c "SELECT acctsec.totp_check('12345678901234567890'::bytea, acctsec.totp('12345678901234567890'::bytea))")"
expect "base32 round trip" t "$(S -c "SELECT acctsec.base32_decode(acctsec.base32_encode('xyz')) = 'xyz'")"
expect "totp_uri" t "$(S -c "SELECT acctsec.totp_uri('12345678901234567890'::bytea, 'a') LIKE 'otpauth://totp/%'")"
expect "account_status sees the lock" t "$(S -c "SELECT locked_until > now() FROM acctsec.account_status('locked-user')")"
expect "account_status sees TOTP and backup codes" "t|3" "$(S -c "SELECT totp_enabled IS NOT NULL, backup_codes_remaining FROM acctsec.account_status('totp-user')")"
expect "backup_codes_remaining" 3 "$(S -c "SELECT acctsec.backup_codes_remaining('totp-user')")"
expect "network_status" "192.0.2.7/32" "$(S -c "SELECT network FROM acctsec.network_status('192.0.2.7')")"
expect "token_peek" ok-user "$(St "$RESET" "SELECT acctsec.token_peek(:'t', 'password_reset')")"
expect "sessions" 2 "$(S -c "SELECT count(*) FROM acctsec.sessions('ok-user')")"
expect "session_check validates" "ok-user|f" "$(St "$KEPT" "SELECT account, touch_due FROM acctsec.session_check(:'t')")"
expect "audit_verify" t "$(S -c "SELECT ok FROM acctsec.audit_verify()")"
expect "key_status" t "$(S -c "SELECT count(*) >= 0 FROM acctsec.key_status()")"
expect "password_verify" t "$(S -c "SELECT acctsec.password_verify('pw', acctsec.password_hash('pw'))")"

echo "== writes on the standby: 25006, nothing stranger"
state_of() { # the SQLSTATE a statement ends with on the standby ("ok" if none)
  printf '%s\n' '\set ON_ERROR_STOP 0' '\set VERBOSITY sqlstate' "$1" '\echo :LAST_ERROR_SQLSTATE' \
    | cluster_psql standby -d postgres -v t="$KEPT" -v r="$RESET" 2>&1 | tail -n 1 | sed 's/^00000$/ok/'
}
while IFS= read -r st; do
  [ -n "$st" ] || continue
  expect "$st" 25006 "$(state_of "$st")"
done <<'SQL'
SELECT acctsec.login_attempt('ok-user', false);
SELECT acctsec.login_attempt('new-user', true, '198.51.100.1');
SELECT acctsec.unlock('locked-user');
SELECT acctsec.forget_account('ok-user');
SELECT * FROM acctsec.totp_enroll('another-user');
SELECT acctsec.totp_confirm('totp-user', '000000');
SELECT acctsec.totp_verify('totp-user', '000000');
SELECT acctsec.totp_disable('totp-user');
SELECT acctsec.backup_codes_generate('totp-user');
SELECT acctsec.backup_code_verify('totp-user', 'aaaaaa-bbbbbb');
SELECT acctsec.token_issue('ok-user', 'magic_link');
SELECT acctsec.token_consume(:'r', 'password_reset');
SELECT * FROM acctsec.session_start('ok-user');
SELECT acctsec.session_rotate(:'t');
SELECT acctsec.session_end(:'t');
SELECT acctsec.session_touch(:'t');
SELECT acctsec.session_revoke('ok-user', 1);
SELECT acctsec.sessions_revoke_all('ok-user');
SELECT acctsec.credentials_changed('ok-user');
SELECT acctsec.prune_expired();
SELECT acctsec.prune_login_attempts('1 day');
SELECT acctsec.audit_event('app.exported', 'ok-user', '{}');
SELECT acctsec.audit_purge('1 day');
SELECT acctsec.unthrottle('192.0.2.7');
SELECT acctsec.rotate_secrets();
SELECT acctsec.audit_table('standby_audited');
SELECT acctsec.unaudit_table('standby_audited');
SELECT acctsec.track_updated_at('standby_audited');
SELECT acctsec.untrack_updated_at('standby_audited');
SELECT acctsec.link_account_table('standby_audited', 'id');
SELECT acctsec.unlink_account_table('standby_audited');
SELECT acctsec.grant_app_role('pg_monitor');
SELECT acctsec.totp_import('imported-user', 'JBSWY3DPEHPK3PXP');
SELECT acctsec.backup_codes_import('imported-user', ARRAY['abcdef12']);
SELECT (acctsec.login('ok-user', 'pw')).status;
SQL

echo "== the idle timeout through the standby: touches owed there, made on the primary"
# The settings are set per session (they are PGC_SUSET), so no reload on
# either server has to be waited for; every step on the standby waits for
# the primary's writes to be replayed first.  The margins (a 5 s touch
# interval, a 3 s idle timeout) leave seconds for a loaded machine.
E2E=$(P -c "SELECT token FROM acctsec.session_start('e2e-user')")
wait_replay
expect "a fresh session: no touch due on the standby" "e2e-user|f" \
  "$(St "$E2E" "SET acctsec.session_touch_interval = 5; SELECT account, touch_due FROM acctsec.session_check(:'t');" | tail -n 1)"
expect "after the touch interval the standby reports a touch due" "e2e-user|t" \
  "$(St "$E2E" "SET acctsec.session_touch_interval = 5; SELECT pg_sleep(6); SELECT account, touch_due FROM acctsec.session_check(:'t');" | tail -n 1)"
Pt "$E2E" "SELECT acctsec.session_touch(:'t');" >/dev/null
wait_replay
expect "the touch made on the primary reaches the standby: none due" "e2e-user|f" \
  "$(St "$E2E" "SET acctsec.session_touch_interval = 5; SELECT account, touch_due FROM acctsec.session_check(:'t');" | tail -n 1)"
expect "idle past the timeout: the standby refuses the session" 0 \
  "$(St "$E2E" "SET acctsec.session_idle_timeout = 3; SELECT pg_sleep(3.5); SELECT count(*) FROM acctsec.session_check(:'t');" | tail -n 1)"
expect "and the primary agrees" 0 \
  "$(Pt "$E2E" "SET acctsec.session_idle_timeout = 3; SELECT count(*) FROM acctsec.session_check(:'t');" | tail -n 1)"

grep -E 'terminated by signal|PANIC' "$ACCTSEC_TMP"/primary/server.log "$ACCTSEC_TMP"/standby/server.log && { echo "FAIL: a server crashed"; fail=1; }
exit $fail
