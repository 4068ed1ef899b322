-- Attacks by an unprivileged role: look-alike functions and operators ahead
-- of pg_catalog in its search_path (and in its temporary schema) must not
-- change what any acctsec function does, and it can neither change
-- acctsec's objects nor reach what it is not granted.
\set VERBOSITY terse
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_acctsec_attacker;
RESET client_min_messages;
CREATE ROLE regress_acctsec_attacker;
GRANT CREATE ON DATABASE contrib_regression TO regress_acctsec_attacker;
-- the attacker is an application role: it has what grant_app_role gives
SELECT acctsec.grant_app_role('regress_acctsec_attacker');
-- a victim account, locked by five failures
SELECT acctsec.forget_account('regress_victim') IS NOT NULL AS reset;
SELECT (acctsec.login_attempt('regress_victim', false)).status FROM generate_series(1, 5);
-- a second victim with TOTP and backup codes (secret kept in a setting)
SELECT acctsec.forget_account('regress_victim2') IS NOT NULL AS reset;
SELECT set_config('regress.victim2_secret', secret, false) IS NOT NULL AS enrolled
FROM acctsec.totp_enroll('regress_victim2');
SELECT acctsec.totp_confirm('regress_victim2',
         acctsec.totp(acctsec.base32_decode(current_setting('regress.victim2_secret')))) AS confirmed;
SELECT count(*) AS codes FROM acctsec.backup_codes_generate('regress_victim2', 3);
SELECT set_config('regress.victim2_secret', '', false) = '' AS forgotten_here;
-- a table the attacker does not own
CREATE TABLE regress_owned_by_postgres (id int, updated_at timestamptz);

-- ---------------------------------------------------------------------------
-- Catalog invariants, for every function and table there is (so they hold
-- for capabilities added later without editing this file): each lists the
-- objects that break the rule, and must list none.
-- ---------------------------------------------------------------------------

-- every SECURITY DEFINER function pins search_path to pg_catalog, pg_temp
SELECT p.oid::regprocedure AS definer_without_safe_search_path
FROM pg_proc p
WHERE p.pronamespace = 'acctsec'::regnamespace AND p.prosecdef
  AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false);

-- no table, view or sequence of acctsec grants anything to PUBLIC
SELECT c.oid::regclass AS relation_granted_to_public
FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
WHERE c.relnamespace = 'acctsec'::regnamespace AND a.grantee = 0;

-- functions the attacker may execute: the pure functions of SPEC section 4,
-- the updated_at trigger and its attach/detach functions (which check table
-- ownership themselves), password hashing, the rehash and format tests, the list
-- grant_app_role grants, and (listed) what grant_app_role gave it
SELECT p.oid::regprocedure AS executable_by_public
FROM pg_proc p
WHERE p.pronamespace = 'acctsec'::regnamespace
  AND has_function_privilege('regress_acctsec_attacker', p.oid, 'EXECUTE')
  AND p.proname NOT IN ('hotp', 'totp', 'totp_check', 'base32_encode',
                        'base32_decode', 'totp_uri',
                        'set_updated_at', 'track_updated_at', 'untrack_updated_at',
                        'password_hash', 'password_needs_rehash', 'password_hash_format',
                        'app_functions')
ORDER BY 1;

-- tables the attacker can read or write in any way: none
SELECT c.oid::regclass AS relation_open_to_attacker
FROM pg_class c
WHERE c.relnamespace = 'acctsec'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
  AND (has_table_privilege('regress_acctsec_attacker', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
       OR (c.relkind = 'S' AND has_sequence_privilege('regress_acctsec_attacker', c.oid, 'USAGE, SELECT, UPDATE')));

-- every table holding state is dumped (pg_extension_config_dump)
SELECT c.oid::regclass AS table_not_in_dump
FROM pg_class c
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'acctsec'
WHERE c.relkind IN ('r', 'p', 'S')
  AND c.oid <> ALL (coalesce(e.extconfig, '{}'));

-- the schema: usable, but nobody but its owner creates anything in it
SELECT has_schema_privilege('regress_acctsec_attacker', 'acctsec', 'USAGE') AS usage,
       has_schema_privilege('regress_acctsec_attacker', 'acctsec', 'CREATE') AS create;

-- ---------------------------------------------------------------------------
-- The attacker's look-alikes: = on text and bytea that is always true,
-- now() in the far future, lower()/upper() that return a constant,
-- convert_to/decode/length/substr that lie, in a schema it puts ahead of
-- pg_catalog.
-- ---------------------------------------------------------------------------
SET ROLE regress_acctsec_attacker;
CREATE SCHEMA regress_evil;
CREATE FUNCTION regress_evil.always(text, text) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE FUNCTION regress_evil.always(bytea, bytea) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR regress_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_evil.always);
CREATE OPERATOR regress_evil.= (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = regress_evil.always);
CREATE OPERATOR regress_evil.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_evil.always);
CREATE FUNCTION regress_evil.now() RETURNS timestamptz
  LANGUAGE sql STABLE AS $$SELECT '2999-01-01 00:00:00+00'::timestamptz$$;
CREATE FUNCTION regress_evil.lower(text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$SELECT 'x'$$;
CREATE FUNCTION regress_evil.upper(text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$SELECT 'SHA1'$$;
CREATE FUNCTION regress_evil.length(text) RETURNS int
  LANGUAGE sql IMMUTABLE AS 'SELECT 6';
CREATE FUNCTION regress_evil.substr(text, int, int) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$SELECT '000000'$$;
CREATE FUNCTION regress_evil.convert_to(text, name) RETURNS bytea
  LANGUAGE sql IMMUTABLE AS $$SELECT '\x00'::bytea$$;
CREATE FUNCTION regress_evil.decode(text, text) RETURNS bytea
  LANGUAGE sql IMMUTABLE AS $$SELECT '\x00'::bytea$$;
CREATE FUNCTION regress_evil.hmac(bytea, bytea, text) RETURNS bytea
  LANGUAGE sql IMMUTABLE AS $$SELECT '\x00'::bytea$$;
CREATE FUNCTION regress_evil.gen_random_bytes(int) RETURNS bytea
  LANGUAGE sql VOLATILE AS $$SELECT '\x00'::bytea$$;
-- comparisons of timestamps that always say "the lock has expired"
CREATE FUNCTION regress_evil.never(timestamptz, timestamptz) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS 'SELECT false';
CREATE FUNCTION regress_evil.always(timestamptz, timestamptz) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR regress_evil.> (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = regress_evil.never);
CREATE OPERATOR regress_evil.>= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = regress_evil.never);
CREATE OPERATOR regress_evil.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = regress_evil.always);
CREATE OPERATOR regress_evil.<= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = regress_evil.always);
CREATE FUNCTION regress_evil.greatest(timestamptz, timestamptz) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE AS $$SELECT '1970-01-01 00:00:00+00'::timestamptz$$;
CREATE FUNCTION regress_evil.coalesce(int, int) RETURNS int
  LANGUAGE sql IMMUTABLE AS 'SELECT 0';

-- The attacker's own pure-function results before the look-alikes are in
-- its path: these are what acctsec must keep answering.  One transaction,
-- so that now() is one instant throughout.
BEGIN;
CREATE TABLE regress_evil.before AS
SELECT acctsec.totp('12345678901234567890'::bytea) AS totp_now,
       acctsec.hotp('12345678901234567890'::bytea, 1) AS hotp1,
       acctsec.totp_check('12345678901234567890'::bytea, '000000') AS check_wrong,
       acctsec.base32_decode('mzxw6ytboi') AS decoded,
       acctsec.totp_uri('12345678901234567890'::bytea, 'Alice', 'ACME') AS uri;

SET LOCAL search_path = regress_evil, pg_catalog, public;
-- the look-alikes do resolve for the attacker's own unqualified calls
SELECT now() = '2999-01-01 00:00:00+00' AS evil_now, lower('ABC') AS evil_lower,
       'a'::text = 'b'::text AS evil_equals;

-- acctsec does not use them: the same answers as before (the default at
-- => now() is bound to pg_catalog.now() when the function was created)
SELECT acctsec.totp('12345678901234567890'::bytea) OPERATOR(pg_catalog.=) b.totp_now AS totp_same,
       acctsec.hotp('12345678901234567890'::bytea, 1) OPERATOR(pg_catalog.=) b.hotp1 AS hotp_same,
       (acctsec.login_attempt('regress_victim', true)).status AS victim_login,
       (acctsec.account_status('regress_victim')).locked_until OPERATOR(pg_catalog.>) pg_catalog.now() AS victim_still_locked,
       acctsec.audit_event('app.regress_attack', 'regress_victim') OPERATOR(pg_catalog.>) 0 AS event_written,
       acctsec.totp_verify('regress_victim2', '000000') AS victim2_totp,
       acctsec.backup_code_verify('regress_victim2', 'aaaaa-aaaaa') AS victim2_backup,
       acctsec.totp_check('12345678901234567890'::bytea, '000000') OPERATOR(pg_catalog.=) b.check_wrong AS check_same,
       acctsec.base32_decode('mzxw6ytboi') OPERATOR(pg_catalog.=) b.decoded AS decode_same,
       acctsec.totp_uri('12345678901234567890'::bytea, 'Alice', 'ACME') OPERATOR(pg_catalog.=) b.uri AS uri_same
FROM regress_evil.before b;

-- the temporary-schema variant: pg_temp listed first, with look-alikes of
-- the same names (PostgreSQL never resolves functions or operators in
-- pg_temp implicitly; listed explicitly it does)
CREATE FUNCTION pg_temp.now() RETURNS timestamptz
  LANGUAGE sql STABLE AS $$SELECT '2999-01-01 00:00:00+00'::timestamptz$$;
CREATE FUNCTION pg_temp.always(text, text) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR pg_temp.= (LEFTARG = text, RIGHTARG = text, FUNCTION = pg_temp.always);
-- temporary tables named like acctsec's: an unqualified name in acctsec's
-- SQL (its search_path is pg_catalog, pg_temp) would find these
CREATE TEMP TABLE accounts (account text PRIMARY KEY, failed_attempts int NOT NULL DEFAULT 0,
  last_failed_at timestamptz, locked_until timestamptz, locked_at timestamptz,
  lockouts int NOT NULL DEFAULT 0, last_login_at timestamptz, last_login_ip inet,
  login_count bigint NOT NULL DEFAULT 0, totp_enabled boolean NOT NULL DEFAULT false,
  pending_login_at timestamptz, pending_login_ip inet, created_at timestamptz DEFAULT now());
CREATE TEMP TABLE login_attempts (id bigserial PRIMARY KEY, account text, attempted_at timestamptz DEFAULT now(),
  outcome text, ip inet, user_agent text);
CREATE TEMP TABLE database_key (id int PRIMARY KEY DEFAULT 1, key bytea, created_at timestamptz DEFAULT now());
INSERT INTO database_key (key) VALUES (decode(repeat('00', 32), 'hex'));
SET LOCAL search_path = pg_temp, regress_evil, pg_catalog;
SELECT (acctsec.login_attempt('regress_victim', true)).status AS victim_login,
       (acctsec.account_status('regress_victim')).failed_attempts AS victim_failures,
       (acctsec.login_attempt('regress_attacker_own', false)).status AS own_failure,
       (SELECT count(*) FROM pg_temp.accounts) AS temp_accounts_rows,
       (SELECT count(*) FROM pg_temp.login_attempts) AS temp_attempts_rows;
SELECT acctsec.totp('12345678901234567890'::bytea) OPERATOR(pg_catalog.=) b.totp_now AS totp_same,
       acctsec.totp_check('12345678901234567890'::bytea, '000000') OPERATOR(pg_catalog.=) b.check_wrong AS check_same
FROM regress_evil.before b;
COMMIT;
RESET search_path;

-- ---------------------------------------------------------------------------
-- The attacker cannot change acctsec: no object of its own in the acctsec
-- schema, no replacing, altering or dropping acctsec's functions, no
-- acctsec.* setting.
-- ---------------------------------------------------------------------------
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$CREATE FUNCTION acctsec.lower(text) RETURNS text LANGUAGE sql AS 'SELECT $1'$$,
  $$CREATE TABLE acctsec.regress_evil_table (x int)$$,
  $s$CREATE OR REPLACE FUNCTION acctsec.hotp(secret bytea, counter bigint, digits int DEFAULT 6, algorithm text DEFAULT 'SHA1') RETURNS text LANGUAGE sql AS $$SELECT '000000'$$$s$,
  $$ALTER FUNCTION acctsec.totp_check(bytea, text, int, timestamptz, int, int, text) SECURITY DEFINER$$,
  $$ALTER FUNCTION acctsec.hotp(bytea, bigint, int, text) SET search_path = regress_evil$$,
  $$ALTER FUNCTION acctsec.hotp(bytea, bigint, int, text) RENAME TO hotp_old$$,
  $$DROP FUNCTION acctsec.base32_decode(text)$$,
  $$ALTER SCHEMA acctsec RENAME TO regress_acctsec_old$$,
  $$ALTER EXTENSION acctsec UPDATE$$,
  $$DROP EXTENSION acctsec$$,
  $$SET acctsec.max_failed_attempts = 0$$,
  $$SET acctsec.lockout_duration = 1$$,
  $$SET acctsec.failure_window = 1$$,
  $$SET acctsec.auto_updated_at = off$$,
  $$SET acctsec.updated_at_columns = 'x'$$,
  $$SET acctsec.password_max_memory_kib = '4GB'$$,
  $$SET acctsec.password_memory_kib = '8kB'$$,
  $$SET acctsec.secret_key = '0000000000000000000000000000000000000000000000000000000000000000'$$,
  $$SHOW acctsec.secret_key$$,
  $$SET acctsec.no_such_setting = 'x'$$,
  -- state and keys: no reading, no writing
  $$SELECT * FROM acctsec.accounts$$,
  $$SELECT * FROM acctsec.login_attempts$$,
  $$SELECT * FROM acctsec.database_key$$,
  $$UPDATE acctsec.accounts SET locked_until = NULL$$,
  $$DELETE FROM acctsec.login_attempts$$,
  $$TRUNCATE acctsec.accounts$$,
  $$SELECT nextval('acctsec.login_attempts_id_seq')$$
] || regress.admin_calls('regress_victim', 'regress_owned_by_postgres', 'regress_acctsec_attacker') || ARRAY[
  $$SELECT * FROM acctsec.key_status()$$,
  $$SELECT acctsec.rotate_secrets()$$,
  $$SELECT acctsec.prune_expired()$$,
  $$SELECT * FROM acctsec.totp_credentials$$,
  $$SELECT * FROM acctsec.backup_codes$$,
  $$UPDATE acctsec.totp_credentials SET account = 'regress_attacker_own'$$,
  $$DELETE FROM acctsec.backup_codes$$,
  -- the audit log: no reading, rewriting, purging or (un)auditing
  $$SELECT count(*) FROM acctsec.audit_log$$,
  $$UPDATE acctsec.audit_log SET actor = 'someone else'$$,
  $$DELETE FROM acctsec.audit_log$$,
  $$TRUNCATE acctsec.audit_log$$,
  $$UPDATE acctsec.audit_lanes SET head = '\x00'$$,
  $$SELECT acctsec.audit_purge('0')$$,
  $$SELECT acctsec.audit_table('regress_owned_by_postgres')$$,
  $$SELECT acctsec.unaudit_table('regress_owned_by_postgres')$$,
  $$SELECT * FROM acctsec.audit_verify()$$,
  $$SELECT acctsec.audit_event('login.failed', 'regress_victim')$$,
  -- a planted hash asking for more work than allowed is refused, not run
  $$SELECT acctsec.password_verify('x', '$argon2id$v=19$m=4194304,t=1000,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA')$$,
  $$SELECT acctsec.password_verify('x', '$2b$31$abcdefghijklmnopqrstuu5Wn0nX4XHxJwRB4aJg2JlC0q7IeRbK6')$$,
  -- updated_at on a table the attacker does not own
  $$SELECT acctsec.track_updated_at('regress_owned_by_postgres')$$,
  $$SELECT acctsec.untrack_updated_at('regress_owned_by_postgres')$$
]) AS s;
RESET ROLE;

-- nothing changed
SELECT count(*) AS acctsec_functions_named_lower FROM pg_proc
WHERE pronamespace = 'acctsec'::regnamespace AND proname = 'lower';
SELECT acctsec.hotp('12345678901234567890'::bytea, 0) AS rfc4226_counter_0;
SELECT failed_attempts, locked_until > now() AS still_locked, lockouts
FROM acctsec.account_status('regress_victim');
SELECT count(*) AS attacker_rows_in_accounts FROM acctsec.accounts
WHERE account IN ('regress_attacker_own');
SELECT count(*) AS settings_changed FROM pg_settings
WHERE name LIKE 'acctsec.%' AND source NOT IN ('default', 'override');
-- the audit log is append-only even for its owner, and its chain holds
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$UPDATE acctsec.audit_log SET actor = 'someone else'$$,
  $$DELETE FROM acctsec.audit_log$$,
  $$TRUNCATE acctsec.audit_log$$
]) AS s;
SELECT ok, checked > 0 AS checked_some, first_bad_id FROM acctsec.audit_verify();
SELECT count(*) AS attacker_events FROM acctsec.audit_log
WHERE operation = 'app.regress_attack';
-- a superuser can still write the chain's state behind acctsec's back: it is
-- detected (and every later event on that lane refuses to write)
BEGIN;
UPDATE acctsec.audit_lanes SET head = '\x00';
SELECT ok AS chain_ok_after_tampering FROM acctsec.audit_verify();
ROLLBACK;
SELECT ok AS chain_ok_again FROM acctsec.audit_verify();
SELECT acctsec.unlock('regress_victim') AS unlocked_by_superuser;
SELECT acctsec.backup_codes_remaining('regress_victim2') AS victim2_codes_left,
       (acctsec.account_status('regress_victim2')).totp_enabled AS victim2_totp_still_on;
SELECT acctsec.forget_account('regress_victim2') AS victim2_forgotten;
SELECT acctsec.forget_account('regress_victim') AS victim_forgotten,
       acctsec.forget_account('regress_attacker_own') AS attacker_forgotten;
DROP TABLE regress_owned_by_postgres;

SET client_min_messages = warning;
DROP SCHEMA regress_evil CASCADE;
DROP OWNED BY regress_acctsec_attacker;
DROP ROLE regress_acctsec_attacker;
RESET client_min_messages;
