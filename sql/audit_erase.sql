-- Erasure of an account's personal data from the audit log: the rows stay
-- as tombstones, the chain still verifies (with and without checkpoints),
-- and any other change to an erased row is still detected.
\set VERBOSITY terse
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS acctsec CASCADE;
RESET client_min_messages;
CREATE EXTENSION acctsec;

-- the application's users table, linked (its key is the account) and audited
CREATE TABLE er_users (login text PRIMARY KEY, email text, phone text);
SELECT acctsec.link_account_table('er_users', 'login', '{}');
SELECT acctsec.audit_table('er_users');
INSERT INTO er_users VALUES ('alice', 'alice@example.com', '+1 555 0100'), ('bob', 'bob@example.com', NULL);
BEGIN;
SET LOCAL acctsec.actor = 'alice';
UPDATE er_users SET phone = '+1 555 0199' WHERE login = 'alice';
COMMIT;
BEGIN;
SET LOCAL acctsec.actor = 'admin@example.com';
UPDATE er_users SET email = 'alice@example.org' WHERE login = 'alice';
UPDATE er_users SET email = 'bob@example.org' WHERE login = 'bob';
COMMIT;
SELECT (acctsec.login_attempt('alice', false, '192.0.2.1')).status;
SELECT (acctsec.login_attempt('bob', false, '192.0.2.2')).status;
SELECT acctsec.audit_event('app.profile_viewed', 'alice', '{"by": "alice@example.org"}') > 0 AS logged;
SELECT acctsec.audit_checkpoint() AS cp_before \gset

SELECT count(*) AS rows_about_alice FROM acctsec.audit_log a WHERE a::text LIKE '%alice%';
SELECT acctsec.audit_erase('alice') AS erased;

-- nothing of alice's is left, bob's rows are untouched, the other actor stays
SELECT count(*) AS rows_about_alice FROM acctsec.audit_log a WHERE a::text LIKE '%alice%';
SELECT id, relation, operation, actor, account, row_key, old_values, new_values,
       changed_columns, salt IS NULL AS salt_gone, erased_by IS NOT NULL AS erased, length(erasure) AS erasure_bytes
FROM acctsec.audit_log ORDER BY id;
-- the erasure is an event of its own (with the count, not the account)
SELECT operation, account, new_values FROM acctsec.audit_log
WHERE id = (SELECT DISTINCT erased_by FROM acctsec.audit_log WHERE erased_by IS NOT NULL);

-- the chain still verifies, also from a checkpoint taken before the erasure
SELECT ok, checked, first_bad_id FROM acctsec.audit_verify();
SELECT ok, failed_checkpoint, detail FROM acctsec.audit_verify(ARRAY[:'cp_before']);
-- again: nothing left to erase
SELECT acctsec.audit_erase('alice') AS erased_again;
SELECT ok FROM acctsec.audit_verify();

-- tampering with an erased row is still detected
ALTER TABLE acctsec.audit_log DISABLE TRIGGER audit_log_append_only;
CREATE TEMP TABLE saved AS SELECT * FROM acctsec.audit_log;
SELECT min(id) AS e1 FROM acctsec.audit_log WHERE erased_by IS NOT NULL AND actor IS NULL \gset
SELECT min(id) AS e2 FROM acctsec.audit_log WHERE erased_by IS NOT NULL AND actor IS NOT NULL \gset
CREATE FUNCTION pg_temp.tampered(stmt text, OUT ok boolean, OUT first_bad_id bigint)
LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE stmt;
  SELECT v.ok, v.first_bad_id INTO ok, first_bad_id FROM acctsec.audit_verify() v;
  UPDATE acctsec.audit_log a SET operation = s.operation, new_values = s.new_values,
         account = s.account, erasure = s.erasure, erased_by = s.erased_by, actor = s.actor
  FROM saved s WHERE s.id = a.id;
END $f$;
SELECT e.stmt, t.ok, t.first_bad_id = CASE WHEN e.stmt LIKE '%:e2%' THEN :e2 ELSE :e1 END AS names_the_row
FROM unnest(ARRAY[
  'UPDATE acctsec.audit_log SET operation = ''DELETE'' WHERE id = :e1',
  'UPDATE acctsec.audit_log SET new_values = ''{"email": "someone@example.com"}'' WHERE id = :e1',
  'UPDATE acctsec.audit_log SET account = ''carol'' WHERE id = :e1',
  'UPDATE acctsec.audit_log SET erasure = pg_catalog.set_byte(erasure, 0, pg_catalog.get_byte(erasure, 0) # 1) WHERE id = :e1',
  'UPDATE acctsec.audit_log SET erasure = NULL WHERE id = :e1',
  'UPDATE acctsec.audit_log SET erased_by = NULL WHERE id = :e1',
  'UPDATE acctsec.audit_log SET erased_by = erased_by + 1000 WHERE id = :e1',
  'UPDATE acctsec.audit_log SET erased_by = 1 WHERE id = :e1',
  'UPDATE acctsec.audit_log SET actor = ''mallory'' WHERE id = :e1',
  'UPDATE acctsec.audit_log SET actor = ''mallory'' WHERE id = :e2'
]) WITH ORDINALITY AS e(stmt, n),
LATERAL pg_temp.tampered(replace(replace(e.stmt, ':e1', :'e1'), ':e2', :'e2')) AS t
ORDER BY e.n;
SELECT ok FROM acctsec.audit_verify();
-- the erasure event itself removed: its erased rows no longer verify
DELETE FROM acctsec.audit_log WHERE operation = 'audit.erased';
SELECT ok, first_bad_id = :e1 AS names_first_erased FROM acctsec.audit_verify();
INSERT INTO acctsec.audit_log SELECT * FROM saved WHERE operation = 'audit.erased';
ALTER TABLE acctsec.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
SELECT ok FROM acctsec.audit_verify();

-- administrative only: a superuser of the session, never the app role
CREATE ROLE regress_erase_app;
GRANT EXECUTE ON FUNCTION acctsec.audit_erase(text) TO regress_erase_app;
SET ROLE regress_erase_app;
SELECT regress.error_of($$SELECT acctsec.audit_erase('bob')$$);
RESET ROLE;
DROP OWNED BY regress_erase_app;
DROP ROLE regress_erase_app;
SELECT regress.error_of($$SELECT acctsec.audit_erase('')$$);
SELECT acctsec.audit_erase(NULL) IS NULL AS null_is_null;
SELECT has_function_privilege('public', 'acctsec.audit_erase(text)', 'EXECUTE') AS public_may_erase;

SELECT acctsec.unlink_account_table('er_users');
DROP TABLE er_users;
-- leave a fresh extension behind for the tests that follow
SET client_min_messages = warning;
DROP EXTENSION acctsec CASCADE;
RESET client_min_messages;
CREATE EXTENSION acctsec;
