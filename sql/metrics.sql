-- Monitoring counters: acctsec.metrics() (docs/operations.md).
\set VERBOSITY terse
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS acctsec CASCADE;
CREATE EXTENSION acctsec;
RESET client_min_messages;

-- nothing yet: every figure is there, at zero
SELECT metric, label, value FROM acctsec.metrics()
WHERE metric NOT LIKE '%\_estimate' ORDER BY metric, label;

-- a lockout, a throttled network, a login, a session, a token
SET acctsec.max_failed_attempts = 2;
SET acctsec.network_max_failures = 3;
SELECT (acctsec.login_attempt('m-locked', false)).status, (acctsec.login_attempt('m-locked', false)).status;
SELECT (acctsec.login_attempt('m-' || g, false, '198.51.100.9')).status FROM generate_series(1, 3) g;
SELECT (acctsec.login_attempt('m-ok', true)).status;
SELECT count(*) FROM acctsec.session_start('m-ok');
SELECT length(acctsec.token_issue('m-ok', 'password_reset'));
SELECT metric, label, value FROM acctsec.metrics()
WHERE metric NOT LIKE '%\_estimate' ORDER BY metric, label;
-- estimates (reltuples) move with ANALYZE: only their kind is fixed
SELECT metric, value >= 0 AS is_a_count FROM acctsec.metrics() WHERE metric LIKE '%\_estimate' ORDER BY metric;
-- older activity is outside a shorter window; gauges are not windowed
UPDATE acctsec.login_attempts SET attempted_at = attempted_at - interval '10 minutes';
SELECT metric, label, value FROM acctsec.metrics('1 minute')
WHERE metric IN ('acctsec_login_attempts_recent', 'acctsec_accounts_locked') ORDER BY metric, label;
SELECT count(*) FROM acctsec.metrics(NULL);

-- counts only, for monitoring roles: not for PUBLIC, not for the application
CREATE ROLE regress_metrics_monitor IN ROLE pg_monitor;
CREATE ROLE regress_metrics_app;
SELECT acctsec.grant_app_role('regress_metrics_app');
SET ROLE regress_metrics_monitor;
SELECT count(*) > 0 AS monitor_reads FROM acctsec.metrics();
RESET ROLE;
SET ROLE regress_metrics_app;
SELECT count(*) FROM acctsec.metrics();
RESET ROLE;
SELECT has_function_privilege('public', 'acctsec.metrics(interval)', 'EXECUTE') AS public_may;
SELECT acctsec.revoke_app_role('regress_metrics_app');
DROP ROLE regress_metrics_monitor, regress_metrics_app;
