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
