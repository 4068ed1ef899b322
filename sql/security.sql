-- Security model (SPEC section 9): nothing for PUBLIC, definer functions
-- with a fixed search_path, and grant_app_role giving an application role
-- what an application needs and nothing administrative.
\set VERBOSITY terse
CREATE ROLE "regress Acctsec App";
CREATE ROLE regress_acctsec_nobody;

-- Catalogue checks over the whole schema (every capability's objects):
-- no table, sequence or view grants anything to PUBLIC ...
SELECT c.oid::regclass AS relation, a.privilege_type
FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
WHERE c.relnamespace = 'acctsec'::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
  AND a.grantee = 0;
-- ... every SECURITY DEFINER function pins its search_path ...
SELECT p.oid::regprocedure AS definer_without_search_path
FROM pg_proc p WHERE p.pronamespace = 'acctsec'::regnamespace AND p.prosecdef
  AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false);
-- ... the definer functions are those src/sql/90_grants.sql names ...
SELECT p.oid::regprocedure AS definer_function
FROM pg_proc p WHERE p.pronamespace = 'acctsec'::regnamespace AND p.prosecdef
ORDER BY p.oid::regprocedure::text;
-- ... and PUBLIC can run no definer function: what PUBLIC may run is pure
SELECT p.oid::regprocedure AS public_definer
FROM pg_proc p WHERE p.pronamespace = 'acctsec'::regnamespace AND p.prosecdef
  AND has_function_privilege('public', p.oid, 'EXECUTE');
SELECT p.oid::regprocedure AS public_function, p.provolatile
FROM pg_proc p WHERE p.pronamespace = 'acctsec'::regnamespace
  AND has_function_privilege('public', p.oid, 'EXECUTE')
ORDER BY p.oid::regprocedure::text;

-- grant_app_role: exactly the application functions (role names quoted right)
SELECT acctsec.grant_app_role('"regress Acctsec App"');
SELECT acctsec.grant_app_role('"regress Acctsec App"');   -- again: harmless
-- and, by default, the role's sessions log no bind parameter values (its
-- passwords and codes): log_parameter_max_length and ..._on_error are 0
SELECT d.setdatabase = 0 AS every_database, d.setconfig
FROM pg_db_role_setting d WHERE d.setrole = '"regress Acctsec App"'::regrole;
CREATE ROLE regress_acctsec_shown;
SELECT acctsec.grant_app_role('regress_acctsec_shown', hide_parameters => false);
SELECT count(*) AS settings_left_alone FROM pg_db_role_setting
WHERE setrole = 'regress_acctsec_shown'::regrole;
SELECT has_function_privilege('regress_acctsec_shown', 'acctsec.login(text, text, inet, text)', 'EXECUTE')
  AS granted_all_the_same;
SELECT acctsec.revoke_app_role('regress_acctsec_shown');
DROP ROLE regress_acctsec_shown;
SELECT f AS app_function FROM acctsec.app_functions() AS f ORDER BY f::text;
SELECT p.oid::regprocedure AS app_may_run
FROM pg_proc p WHERE p.pronamespace = 'acctsec'::regnamespace
  AND has_function_privilege('regress Acctsec App', p.oid, 'EXECUTE')
  AND NOT has_function_privilege('public', p.oid, 'EXECUTE')
ORDER BY p.oid::regprocedure::text;
SELECT c.oid::regclass AS relation, has_table_privilege('regress Acctsec App', c.oid, 'SELECT') AS can_select
FROM pg_class c WHERE c.relnamespace = 'acctsec'::regnamespace AND c.relkind = 'r'
  AND has_any_column_privilege('regress Acctsec App', c.oid, 'SELECT, INSERT, UPDATE, REFERENCES');

-- what the application role can do
SET ROLE "regress Acctsec App";
SELECT (acctsec.login_attempt('regress_app_user', false, '203.0.113.9', 'test')).status;
SELECT account, failed_attempts, totp_enabled FROM acctsec.account_status('regress_app_user');
-- and what it cannot: administration, and the tables themselves
CREATE TEMP TABLE t (id int);
SELECT regress.error_of(s) AS outcome, s AS statement
FROM unnest(regress.admin_calls('regress_app_user', 'pg_temp.t', 'regress_acctsec_nobody') || ARRAY[
  $$SELECT * FROM acctsec.accounts$$,
  $$UPDATE acctsec.accounts SET failed_attempts = 0$$,
  $$DELETE FROM acctsec.accounts$$,
  $$SELECT * FROM acctsec.login_attempts$$,
  $$INSERT INTO acctsec.login_attempts (account, outcome) VALUES ('x', 'ok')$$,
  $$DELETE FROM acctsec.login_attempts$$,
  $$SELECT nextval('acctsec.login_attempts_id_seq')$$,
  $$SELECT * FROM acctsec.linked_tables$$,
  $$TRUNCATE acctsec.accounts$$,
  $$CREATE TABLE acctsec.mine (x int)$$,
  $$CREATE TRIGGER t AFTER DELETE ON pg_temp.t FOR EACH ROW EXECUTE FUNCTION acctsec.forget_linked_account()$$
]) AS s;
DROP TABLE pg_temp.t;
RESET ROLE;

-- a role that was granted nothing can do nothing with account state
SET ROLE regress_acctsec_nobody;
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.login_attempt('regress_app_user', true)$$,
  $$SELECT acctsec.account_status('regress_app_user')$$
]) AS s;
-- the pure OTP functions stay usable by anyone
SELECT acctsec.hotp('12345678901234567890'::bytea, 0) AS pure_function;
RESET ROLE;

-- revoke_app_role takes it all back
SELECT acctsec.revoke_app_role('"regress Acctsec App"');
SET ROLE "regress Acctsec App";
SELECT regress.error_of($$SELECT acctsec.login_attempt('regress_app_user', true)$$);
RESET ROLE;
-- STRICT: a NULL role grants nothing
SELECT regress.error_of($$SELECT acctsec.grant_app_role(NULL)$$) AS null_role,
       regress.error_of($$SELECT acctsec.grant_app_role('regress_no_such_role')$$) AS unknown_role;

-- A hostile search_path cannot reach inside: the caller's own "=" for text
-- (always true) and its own tables named like acctsec's are never used.
SELECT acctsec.grant_app_role('"regress Acctsec App"');
CREATE SCHEMA regress_evil AUTHORIZATION "regress Acctsec App";
SET ROLE "regress Acctsec App";
CREATE FUNCTION regress_evil.always(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR regress_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_evil.always);
CREATE TABLE regress_evil.accounts (account text, failed_attempts int);
CREATE FUNCTION regress_evil.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT 'epoch'::timestamptz $$;
SET search_path = regress_evil, pg_catalog;
SELECT 'a'::text = 'b'::text AS evil_operator_in_effect;
SELECT (acctsec.login_attempt('regress_evil_1', false)).failed_attempts AS first,
       (acctsec.login_attempt('regress_evil_2', false)).failed_attempts AS other_account;
SELECT failed_attempts, last_failed_at > 'epoch' AS real_clock FROM acctsec.account_status('regress_evil_1');
RESET search_path;
RESET ROLE;
SELECT count(*) AS evil_rows FROM regress_evil.accounts;

-- clean up
SELECT acctsec.forget_account(a) FROM unnest(ARRAY['regress_app_user', 'regress_evil_1', 'regress_evil_2']) a;
DROP SCHEMA regress_evil CASCADE;
SELECT acctsec.revoke_app_role('"regress Acctsec App"');
DROP ROLE "regress Acctsec App";
DROP ROLE regress_acctsec_nobody;
