-- Key settings and the database key: who can see them, what is accepted.
-- (Encryption itself is exercised by the totp and backup_codes tests and by
-- test/keys/check_key_rotation.sh, which sets real keys.)
\set VERBOSITY terse
-- The settings exist once the library is loaded; before that PostgreSQL
-- knows them only as unchecked placeholders (see the README on preloading).
LOAD 'acctsec';

-- defaults: no configured key
SELECT current_setting('acctsec.secret_key') = '' AS key_unset,
       current_setting('acctsec.secret_key_previous') = '' AS previous_unset;

-- server-wide settings: not settable in a session, even by a superuser
SET acctsec.secret_key = '0000000000000000000000000000000000000000000000000000000000000000';
\echo :LAST_ERROR_SQLSTATE

-- ALTER SYSTEM validates the value, and the error never shows it
ALTER SYSTEM SET acctsec.secret_key = 'correct horse battery staple';
\echo :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET acctsec.secret_key = 'gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg';
\echo :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET acctsec.secret_key = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00';
\echo :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET acctsec.secret_key_previous = 'deadbeef';
\echo :LAST_ERROR_SQLSTATE
-- nothing was written
SELECT count(*) AS keys_in_auto_conf
FROM pg_file_settings WHERE name LIKE 'acctsec.%';

-- the settings are hidden from SHOW ALL and pg_settings; only the key file's
-- path is listed (a path is no secret)
SELECT name FROM pg_settings WHERE name LIKE 'acctsec.secret%';

-- the database key table and its catalogue of keys
SELECT c.relname, c.relacl IS NULL OR NOT EXISTS (
         SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee = 0) AS no_public_grant,
       e.extconfig @> ARRAY[c.oid] AS dumped
FROM pg_class c, pg_extension e
WHERE c.oid = 'acctsec.database_key'::regclass AND e.extname = 'acctsec';
SELECT proname, prosecdef, proconfig, provolatile, proparallel,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
FROM pg_proc p WHERE pronamespace = 'acctsec'::regnamespace AND proname = 'key_status';
-- key_status shows fingerprints only: 8 hex digits, at most one current key
SELECT bool_and(key_id ~ '^[0-9a-f]{8}$') IS NOT false AS fingerprints_only,
       count(*) FILTER (WHERE is_current) <= 1 AS one_current
FROM acctsec.key_status();

-- the database key is read (by a probe of its primary key) in each
-- transaction that uses it; one of the wrong length, possible only once the
-- table's CHECK is gone, is refused rather than used
BEGIN;
ALTER TABLE acctsec.database_key DROP CONSTRAINT database_key_key_check;
INSERT INTO acctsec.database_key (id, key) VALUES (1, '\x00')
  ON CONFLICT (id) DO UPDATE SET key = excluded.key;
SELECT count(*) FROM acctsec.key_status();
ROLLBACK;

-- a role without privileges sees none of it
CREATE ROLE regress_keys_nobody;
SET ROLE regress_keys_nobody;
-- (the message's wording changed in PostgreSQL 16: only its SQLSTATE shown)
\set VERBOSITY sqlstate
SHOW acctsec.secret_key;
SELECT current_setting('acctsec.secret_key_previous');
\set VERBOSITY default
SELECT name FROM pg_settings WHERE name LIKE 'acctsec.secret%';
SHOW acctsec.secret_key_file;
SELECT key FROM acctsec.database_key;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM acctsec.key_status();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE regress_keys_nobody;
-- leave the cluster's configuration as it was, whatever happened above
ALTER SYSTEM RESET acctsec.secret_key;
ALTER SYSTEM RESET acctsec.secret_key_previous;
