-- Security events the capabilities write through events.c: failed logins,
-- lockouts, attempts refused while locked, unlocks, forgotten accounts.
-- Each is an audit row (relation NULL, operation the event, account set),
-- chained like every other row.
\set VERBOSITY terse
SET acctsec.max_failed_attempts = 3;
SET acctsec.lockout_duration = '10min';
SELECT COALESCE(max(id), 0) AS mark FROM acctsec.audit_log \gset

-- three failures lock the account; the next attempt is refused
SELECT (acctsec.login_attempt('evt-user', false, '192.0.2.7', 'curl/8')).status;
SELECT (acctsec.login_attempt('evt-user', false, '2001:db8::1')).status;
SELECT (acctsec.login_attempt('evt-user', false)).status;
SELECT (acctsec.login_attempt('evt-user', true, '192.0.2.7')).status;
-- an administrator unlocks it, in a transaction naming who they are
BEGIN;
SET LOCAL acctsec.actor = 'helpdesk:carol';
SELECT acctsec.unlock('evt-user');
COMMIT;
-- unlocking an account that never existed changes nothing and logs nothing
SELECT acctsec.unlock('evt-nobody');
-- a successful login is not a security event
SELECT (acctsec.login_attempt('evt-user', true, '192.0.2.7')).status;
SELECT acctsec.forget_account('evt-user');

SELECT operation, account, relation, actor, row_key, old_values, changed_columns,
       new_values - 'locked_until' AS details,
       round(extract(epoch FROM (new_values ->> 'locked_until')::timestamptz - now()) / 60) AS locked_for_min
FROM acctsec.audit_log WHERE id > :mark ORDER BY id;

-- TOTP and backup codes: enrolment, confirmation, failures (a failed second
-- factor counts toward lockout: the third locks), disabling; codes never
-- reach the log
SELECT COALESCE(max(id), 0) AS mark2 FROM acctsec.audit_log \gset
SELECT secret AS totp_secret FROM acctsec.totp_enroll('evt-2fa', 'ACME') \gset
SELECT acctsec.totp(acctsec.base32_decode(:'totp_secret')) AS good_code,
       acctsec.totp(acctsec.base32_decode(:'totp_secret'), now() - interval '1 day') AS old_code \gset
SELECT acctsec.totp_confirm('evt-2fa', :'old_code') AS confirmed_with_old_code;
SELECT acctsec.totp_confirm('evt-2fa', :'good_code') AS confirmed;
SELECT acctsec.totp_verify('evt-2fa', :'old_code') AS verified_with_old_code;
SELECT acctsec.totp_verify('evt-2fa', :'old_code') AS verified_with_old_code;
SELECT string_agg(c, ',') AS backup_codes FROM acctsec.backup_codes_generate('evt-2fa', 3) AS c \gset
SELECT acctsec.backup_code_verify('evt-2fa', 'AAAA-AAAA') AS wrong_backup_code;
SELECT acctsec.unlock('evt-2fa');
SELECT acctsec.backup_code_verify('evt-2fa', split_part(:'backup_codes', ',', 2)) AS backup_code_ok;
SELECT acctsec.totp_disable('evt-2fa') AS disabled;
SELECT operation, account, new_values - 'locked_until' AS details,
       new_values ? 'locked_until' AS has_locked_until
FROM acctsec.audit_log WHERE id > :mark2 ORDER BY id;
SELECT count(*) AS codes_in_log FROM acctsec.audit_log
WHERE id > :mark2 AND (concat(row_key, old_values, new_values) LIKE '%' || :'totp_secret' || '%'
   OR concat(row_key, old_values, new_values) LIKE '%' || :'good_code' || '%'
   OR concat(row_key, old_values, new_values) LIKE '%' || split_part(:'backup_codes', ',', 2) || '%');
SELECT acctsec.forget_account('evt-2fa');

-- the rows of a forgotten account stay, and the chain verifies
SELECT count(*) AS rows_kept FROM acctsec.audit_log WHERE account = 'evt-user';
SELECT ok, first_bad_id FROM acctsec.audit_verify();

-- events are written as the audit log's owner: an application role that may
-- call login_attempt needs no right on the log
CREATE ROLE regress_events_app;
SELECT acctsec.grant_app_role('regress_events_app');
SET ROLE regress_events_app;
SELECT (acctsec.login_attempt('evt-app', false, '198.51.100.1')).status;
SELECT acctsec.audit_event('app.profile_viewed', 'evt-app', '{"page": "settings"}') > 0 AS app_event_logged;
RESET ROLE;
SELECT operation, account, db_user, new_values FROM acctsec.audit_log
WHERE account = 'evt-app' ORDER BY id;
SELECT acctsec.forget_account('evt-app');
SELECT acctsec.revoke_app_role('regress_events_app');
DROP ROLE regress_events_app;
