-- A lock in force outlives the row of a linked table (SPEC section 2):
-- deleting a user's row and inserting it again is no way to unlock the
-- account.  The rest of its state goes with the row, as before, and the
-- deletion is a security event.
\set VERBOSITY terse
SET acctsec.max_failed_attempts = 3;
SET acctsec.lockout_duration = '10min';
SELECT COALESCE(max(id), 0) AS mark FROM acctsec.audit_log \gset

CREATE ROLE regress_lock_app;
SELECT acctsec.grant_app_role('regress_lock_app');
CREATE SCHEMA regress_lock AUTHORIZATION regress_lock_app;
CREATE TABLE regress_lock.users (
  id int PRIMARY KEY, email text, failed_login_attempts int DEFAULT 0,
  locked_until timestamptz);
ALTER TABLE regress_lock.users OWNER TO regress_lock_app;
INSERT INTO regress_lock.users (id, email) VALUES
  (8001, 'locked@example.com'), (8002, 'free@example.com'), (8003, 'expired@example.com');
SELECT acctsec.link_account_table('regress_lock.users', 'id');

-- 8001 has a TOTP credential, backup codes and a session, then is locked
SET ROLE regress_lock_app;
SELECT (acctsec.login_attempt('8001', true, '192.0.2.1', 'regress')).status AS login;
SELECT secret IS NOT NULL AS enrolled FROM acctsec.totp_enroll('8001');
SELECT count(*) AS codes FROM acctsec.backup_codes_generate('8001', 5);
SELECT (acctsec.login_attempt('8001', false, '198.51.100.1')).status AS attacker
FROM generate_series(1, 3);
SELECT token IS NOT NULL AS session FROM acctsec.session_start('8001');

-- the application deletes the row and inserts it again
WITH d AS (DELETE FROM regress_lock.users WHERE id = 8001 RETURNING *)
INSERT INTO regress_lock.users SELECT * FROM d;
RESET ROLE;

-- what is kept is the lock and nothing else: no address, no attempt, no
-- credential, no session
SELECT account, failed_attempts, last_failed_at, locked_until > now() AS locked,
       locked_at IS NOT NULL AS lock_start, lockouts, last_login_at, last_login_ip,
       login_count, totp_enabled, pending_login_at, pending_login_ip
FROM acctsec.accounts WHERE account = '8001';
SELECT (SELECT count(*) FROM acctsec.login_attempts WHERE account = '8001') AS attempts,
       (SELECT count(*) FROM acctsec.totp_credentials WHERE account = '8001') AS totp,
       (SELECT count(*) FROM acctsec.backup_codes WHERE account = '8001') AS codes,
       (SELECT count(*) FROM acctsec.account_sessions WHERE account = '8001') AS sessions,
       (SELECT count(*) FROM acctsec.familiar_networks WHERE account = '8001') AS networks;

SET ROLE regress_lock_app;
-- still locked, in acctsec and in the table's mirrored columns
SELECT (acctsec.login_attempt('8001', true)).status AS after_reinsert;
SELECT locked_until IS NOT NULL AS table_shows_lock FROM regress_lock.users WHERE id = 8001;
SELECT failed_attempts, locked_until > now() AS locked, lockouts, last_login_at,
       login_count, totp_enabled, backup_codes_remaining
FROM acctsec.account_status('8001');
SELECT count(*) AS sessions FROM acctsec.sessions('8001');

RESET ROLE;

-- a plain delete of the locked row keeps the lock the same way
DELETE FROM regress_lock.users WHERE id = 8001;
SELECT locked_until > now() AS locked, lockouts FROM acctsec.account_status('8001');

-- an account not locked is erased entirely, as before
SELECT (acctsec.login_attempt('8002', false)).status;
DELETE FROM regress_lock.users WHERE id = 8002;
SELECT count(*) AS rows_8002 FROM acctsec.accounts WHERE account = '8002';
-- and so is one whose lock has expired (its end moved into the past here)
SELECT (acctsec.login_attempt('8003', false)).status FROM generate_series(1, 3);
UPDATE acctsec.accounts SET locked_until = now() - interval '1 second' WHERE account = '8003';
DELETE FROM regress_lock.users WHERE id = 8003;
SELECT count(*) AS rows_8003 FROM acctsec.accounts WHERE account = '8003';

-- every deletion is a security event naming the table; a kept lock says
-- until when
SELECT operation, account, new_values->>'table' AS tbl, new_values->>'erased' AS erased,
       (new_values->>'lock_kept_until')::timestamptz > now() AS lock_kept
FROM acctsec.audit_log
WHERE id > :mark AND operation = 'account.forgotten'
ORDER BY id;

-- clean up
SELECT acctsec.forget_account('8001');
DROP SCHEMA regress_lock CASCADE;
SELECT acctsec.revoke_app_role('regress_lock_app');
DROP ROLE regress_lock_app;
