-- Security events the capabilities write through events.c: failed logins,
-- lockouts, attempts refused while locked, unlocks, forgotten accounts.
-- Each is an audit row (relation NULL, operation the event, account set),
-- chained like every other row.
\set VERBOSITY terse
CREATE EXTENSION IF NOT EXISTS acctsec;
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
