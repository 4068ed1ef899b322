-- What every regression test starts from: the extension, and the helpers
-- the tests share, in schema regress.  This test runs first (it is first in
-- REGRESS); to run other tests alone, name it before them:
-- make installcheck REGRESS="setup tokens" ISOLATION=.
CREATE EXTENSION acctsec;

-- The helpers depend on no acctsec object (their bodies name acctsec's
-- functions, which are looked up when they run), so the tests that drop and
-- create the extension again keep them.
CREATE SCHEMA regress;
GRANT USAGE ON SCHEMA regress TO PUBLIC;

-- The SQLSTATE and message of the error a statement raises, or 'no error'.
-- Messages that newer releases word differently are shown in 15's words, so
-- one expected output fits every version: PostgreSQL 16 prints a parameter's
-- bounds with its unit ("(1 s .. 60 s)") and reworded "must be superuser or
-- have privileges of pg_read_all_settings to examine".
CREATE FUNCTION regress.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE statement;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || regexp_replace(regexp_replace(SQLERRM,
    '\(([-0-9.e+]+) [A-Za-z]+ \.\. ([-0-9.e+]+) [A-Za-z]+\)$', '(\1 .. \2)'),
    '^permission denied to examine ', 'must be superuser or have privileges of pg_read_all_settings to examine ');
END $f$;

-- Times are shown relative to now(), rounded (lock lengths to minutes, "how
-- long ago" to seconds), so the expected output does not depend on the clock.
CREATE FUNCTION regress.mins(i interval) RETURNS numeric LANGUAGE sql
AS $$ SELECT round(extract(epoch FROM i) / 60, 1) $$;
CREATE FUNCTION regress.secs(i interval) RETURNS numeric LANGUAGE sql
AS $$ SELECT round(extract(epoch FROM i)) $$;

-- A login attempt and what it answered, its times in minutes from now
CREATE FUNCTION regress.attempt(acct text, ok boolean, ip inet DEFAULT NULL, ua text DEFAULT NULL)
RETURNS TABLE(status text, allowed boolean, failed_attempts int,
              locked_min numeric, retry_after_min numeric)
LANGUAGE sql AS $$
  SELECT r.status::text, r.allowed, r.failed_attempts, regress.mins(r.locked_until - now()),
         regress.mins(r.retry_after)
  FROM acctsec.login_attempt(acct, ok, ip, ua) AS r
$$;

-- Pretend time has passed for an account: every time of its lockout state
-- (both sides of smart lockout, its logins, a pending second factor) and of
-- its familiar networks shifted back by `by`
CREATE PROCEDURE regress.age_account(acct text, by interval) LANGUAGE sql AS $$
  UPDATE acctsec.accounts SET last_failed_at = last_failed_at - by,
         locked_until = locked_until - by, locked_at = locked_at - by,
         familiar_last_failed_at = familiar_last_failed_at - by,
         familiar_locked_until = familiar_locked_until - by,
         last_login_at = last_login_at - by, pending_login_at = pending_login_at - by
  WHERE account = acct;
  UPDATE acctsec.familiar_networks SET first_used_at = first_used_at - by,
         last_used_at = last_used_at - by
  WHERE account = acct;
$$;

-- The code an authenticator would show for a base32 secret, steps time
-- steps from now
CREATE FUNCTION regress.code(secret text, steps int DEFAULT 0, digits int DEFAULT 6,
                             period int DEFAULT 30, alg text DEFAULT 'SHA1')
RETURNS text LANGUAGE sql AS $f$
  SELECT acctsec.totp(acctsec.base32_decode(secret),
                      now() + make_interval(secs => steps * period), digits, period, alg)
$f$;

-- How acctsec declares the functions named: definer or not, settings,
-- volatility, parallel safety, strictness, and whether PUBLIC may call them
CREATE FUNCTION regress.declared(VARIADIC names name[])
RETURNS TABLE(proname name, prosecdef boolean, proconfig text[], provolatile "char",
              proparallel "char", proisstrict boolean, public_execute boolean)
LANGUAGE sql AS $$
  SELECT p.proname, p.prosecdef, p.proconfig, p.provolatile, p.proparallel, p.proisstrict,
         has_function_privilege('public', p.oid, 'EXECUTE')
  FROM pg_proc p WHERE p.pronamespace = 'acctsec'::regnamespace AND p.proname = ANY (names)
  ORDER BY p.proname
$$;

-- Whether pg_dump keeps the rows of an acctsec table (pg_extension_config_dump)
CREATE FUNCTION regress.dumped(tbl regclass) RETURNS boolean LANGUAGE sql AS $$
  SELECT e.extconfig @> ARRAY[tbl::oid] FROM pg_extension e WHERE e.extname = 'acctsec'
$$;

-- The administrative calls, which only the extension's owner (and whoever it
-- grants them to) may make, on an account, a table and a role: statements
-- for error_of
CREATE FUNCTION regress.admin_calls(account text, tbl text, role text) RETURNS text[]
LANGUAGE sql AS $$
  SELECT ARRAY[
    pg_catalog.format('SELECT acctsec.unlock(%L)', account),
    pg_catalog.format('SELECT acctsec.forget_account(%L)', account),
    $s$SELECT acctsec.prune_login_attempts('0')$s$,
    pg_catalog.format('SELECT acctsec.link_account_table(%L, %L)', tbl, 'id'),
    pg_catalog.format('SELECT acctsec.unlink_account_table(%L)', tbl),
    pg_catalog.format('SELECT acctsec.grant_app_role(%L)', role),
    pg_catalog.format('SELECT acctsec.revoke_app_role(%L)', role)]
$$;

-- A real product's users table, app.users, as the import and mirroring tests
-- link it (each creates schema app and drops it when done); its ids start at
-- first_id, clear of the other tests' account names
CREATE PROCEDURE regress.create_app_users(first_id int) LANGUAGE plpgsql AS $$
BEGIN
  CREATE TABLE app.users (
    id serial PRIMARY KEY, email text UNIQUE, status varchar DEFAULT 'active', metadata jsonb DEFAULT '{}',
    last_login_at timestamptz, login_count integer DEFAULT 0, failed_login_attempts integer DEFAULT 0,
    locked_until timestamptz, preferences jsonb DEFAULT '{}', timezone varchar DEFAULT 'UTC',
    language varchar DEFAULT 'en', avatar_url varchar,
    two_factor_enabled boolean DEFAULT false, two_factor_secret varchar, backup_codes jsonb DEFAULT '[]');
  EXECUTE pg_catalog.format('ALTER SEQUENCE app.users_id_seq RESTART %s', first_id);
END $$;
