-- The lockout settings (SPEC section 3): PGC_SUSET, with units; a role that
-- is not a superuser cannot loosen the policy, not even by setting the
-- parameters before the library is loaded in its session.
\set VERBOSITY terse
CREATE ROLE regress_acctsec_app LOGIN;
CREATE ROLE regress_acctsec_tuner;
SELECT acctsec.grant_app_role('regress_acctsec_app');
SELECT acctsec.grant_app_role('regress_acctsec_tuner');

-- load the library, then look at the definitions
SELECT (acctsec.account_status('nobody')).failed_attempts;
SELECT name, setting, unit, vartype, context, min_val, max_val, boot_val
FROM pg_settings WHERE name LIKE 'acctsec.%'
  AND name IN ('acctsec.max_failed_attempts', 'acctsec.lockout_duration',
               'acctsec.lockout_backoff', 'acctsec.max_lockout_duration',
               'acctsec.failure_window', 'acctsec.second_factor_timeout')
ORDER BY name;

-- durations take units; SHOW gives them back in the largest exact unit
SET acctsec.lockout_duration = '30min';
SET acctsec.max_lockout_duration = '2d';
SET acctsec.failure_window = 90;
SHOW acctsec.lockout_duration;
SHOW acctsec.max_lockout_duration;
SHOW acctsec.failure_window;
RESET acctsec.lockout_duration;
RESET acctsec.max_lockout_duration;
RESET acctsec.failure_window;

-- out of range, or a typo in the name: errors
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SET acctsec.max_failed_attempts = -1$$,
  $$SET acctsec.lockout_duration = 0$$,
  $$SET acctsec.lockout_duration = '400d'$$,
  $$SET acctsec.lockout_backoff = 0.5$$,
  $$SET acctsec.failure_window = '0s'$$,
  $$SET acctsec.max_failed_attemps = 3$$
]) AS s;

-- a non-superuser cannot change any of them, however it tries
SET ROLE regress_acctsec_app;
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SET acctsec.max_failed_attempts = 1000$$,
  $$SET LOCAL acctsec.max_failed_attempts = 0$$,
  $$SET acctsec.lockout_duration = 1$$,
  $$SET acctsec.lockout_backoff = 1$$,
  $$SET acctsec.max_lockout_duration = 1$$,
  $$SET acctsec.failure_window = 1$$,
  $$SET acctsec.second_factor_timeout = '1d'$$,
  $$SELECT set_config('acctsec.max_failed_attempts', '1000', false)$$,
  $$RESET acctsec.max_failed_attempts$$,
  $$ALTER ROLE regress_acctsec_app SET acctsec.max_failed_attempts = 1000$$
]) AS s;
RESET ROLE;

-- a role granted SET on a parameter (PostgreSQL 15) may change that one only
GRANT SET ON PARAMETER acctsec.max_failed_attempts TO regress_acctsec_tuner;
SET ROLE regress_acctsec_tuner;
SET acctsec.max_failed_attempts = 3;
SHOW acctsec.max_failed_attempts;
SELECT regress.error_of($$SET acctsec.lockout_duration = 1$$);
RESET ROLE;
RESET acctsec.max_failed_attempts;
REVOKE SET ON PARAMETER acctsec.max_failed_attempts FROM regress_acctsec_tuner;

-- In a fresh session the library is not loaded yet, so acctsec.* names are
-- only placeholders and SET accepts anything.  When the library loads, the
-- value set by a role without the privilege is thrown away with a warning:
-- the policy stays the server's.
\c - regress_acctsec_app
\set VERBOSITY terse
SET acctsec.max_failed_attempts = 1000;
SET acctsec.lockout_duration = 1;
SET acctsec.failure_window = 1;
SELECT count(*) AS loaded FROM pg_settings WHERE name = 'acctsec.failure_window';
SELECT (acctsec.login_attempt('regress_placeholder', false)).status;
SHOW acctsec.max_failed_attempts;
SHOW acctsec.lockout_duration;
SHOW acctsec.failure_window;
SELECT n, (r).status, (r).failed_attempts, round(extract(epoch FROM (r).retry_after) / 60) AS retry_min
FROM (SELECT n, acctsec.login_attempt('regress_placeholder', false) AS r
      FROM generate_series(2, 5) AS n OFFSET 0) AS s;
-- and once loaded, the names are reserved and privileged
SET acctsec.max_failed_attempts = 1000;
\c - postgres
\set VERBOSITY terse

-- the same through the role's own settings: ALTER ROLE ... SET by the role
-- itself before the library is loaded
\c - regress_acctsec_app
\set VERBOSITY terse
ALTER ROLE regress_acctsec_app SET acctsec.max_failed_attempts = 1000;
\c - postgres
\set VERBOSITY terse
-- (grant_app_role's own settings, log_parameter_max_length*, are there)
SELECT setdatabase = 0 AS any_db,
       ARRAY(SELECT c FROM unnest(setconfig) c WHERE c LIKE 'acctsec.%') AS acctsec_settings
FROM pg_db_role_setting WHERE setrole = 'regress_acctsec_app'::regrole;

-- a superuser's values in a fresh session apply as usual
SET acctsec.max_failed_attempts = 2;
SELECT (acctsec.login_attempt('regress_superuser', false)).status FROM generate_series(1, 2);
SHOW acctsec.max_failed_attempts;

SELECT acctsec.forget_account('regress_placeholder'), acctsec.forget_account('regress_superuser');
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA acctsec FROM regress_acctsec_app, regress_acctsec_tuner;
DROP ROLE regress_acctsec_app;
DROP ROLE regress_acctsec_tuner;
