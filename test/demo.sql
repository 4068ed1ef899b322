-- acctsec demonstration: run by "bash test/run demo" against a throwaway cluster.
\pset footer off
\set ECHO queries
CREATE EXTENSION acctsec;

\echo
\echo '== One-time passwords (RFC 4226 / RFC 6238), pure functions'
-- The RFC 6238 test secret, and its code at the RFC's test time:
SELECT acctsec.totp('12345678901234567890'::bytea, to_timestamp(59), 8) AS rfc6238_code;
-- A secret as an authenticator app shows it, and back:
SELECT acctsec.base32_encode('12345678901234567890'::bytea) AS base32_secret;
-- The QR-code URI an authenticator app scans:
SELECT acctsec.totp_uri('12345678901234567890'::bytea, 'alice@example.com', 'ACME');
-- Checking what the user typed (spaces allowed), one step either side:
SELECT acctsec.totp_check('12345678901234567890'::bytea,
                          acctsec.totp('12345678901234567890'::bytea), 1) AS accepted,
       acctsec.totp_check('12345678901234567890'::bytea, '000 000', 1) AS wrong_code;

\echo
\echo '== Login attempts and lockout (3 failures lock, for this demo)'
SET acctsec.max_failed_attempts = 3;
SELECT status, allowed, failed_attempts FROM acctsec.login_attempt('alice', false, '203.0.113.9');
SELECT status, allowed, failed_attempts FROM acctsec.login_attempt('alice', false, '203.0.113.9');
SELECT status, allowed, locked_until > now() AS locked, retry_after > '0' AS has_retry_after
FROM acctsec.login_attempt('alice', false, '203.0.113.9');
-- while locked, even the right password is refused (the answer never reveals it)
SELECT status, allowed FROM acctsec.login_attempt('alice', true, '203.0.113.9');
SELECT acctsec.unlock('alice') AS unlocked;
SELECT status, allowed FROM acctsec.login_attempt('alice', true, '198.51.100.7');
SELECT failed_attempts, lockouts, login_count, totp_enabled FROM acctsec.account_status('alice');

\echo
\echo '== TOTP two-factor: enrol, confirm, and a login that needs the second factor'
CREATE TEMP TABLE demo_enrolment AS SELECT * FROM acctsec.totp_enroll('alice', 'ACME');
SELECT left(uri, 40) || '...' AS uri_for_the_qr_code, length(secret) AS secret_chars FROM demo_enrolment;
-- the authenticator app's code (computed here from the secret, as the app would)
SELECT acctsec.totp_confirm('alice', acctsec.totp(acctsec.base32_decode(secret))) AS confirmed FROM demo_enrolment;
SELECT status, allowed FROM acctsec.login_attempt('alice', true, '198.51.100.7');
-- the same code again is a replay: refused
SELECT acctsec.totp_verify('alice', acctsec.totp(acctsec.base32_decode(secret))) AS replayed_code FROM demo_enrolment;
SELECT count(*) AS backup_codes, bool_and(code ~ '^[a-z0-9]{6}-[a-z0-9]{6}$') AS well_formed
FROM acctsec.backup_codes_generate('alice') AS code;
SELECT acctsec.backup_codes_remaining('alice') AS remaining;

\echo
\echo '== Passwords: Argon2id, and a bcrypt hash an existing application already has'
SELECT left(acctsec.password_hash('correct horse battery staple'), 30) || '...' AS argon2id;
SELECT acctsec.password_verify('secret', '$2b$05$/NKAkIw.5rmfBzFe3M3HBOWLD8Bae8tIOy8hwJ8dTrcsIV4rLDKmS') AS bcrypt_ok,
       acctsec.password_needs_rehash('$2b$05$/NKAkIw.5rmfBzFe3M3HBOWLD8Bae8tIOy8hwJ8dTrcsIV4rLDKmS') AS needs_rehash;

\echo
\echo '== Sessions and one-time tokens: only keyed hashes are stored'
CREATE TEMP TABLE demo_session AS SELECT * FROM acctsec.session_start('alice', '198.51.100.7', 'demo');
SELECT left(token, 4) AS prefix, length(token) AS token_chars FROM demo_session;
SELECT account FROM demo_session, acctsec.session_check(token);
SELECT acctsec.token_consume(t, 'password_reset') AS first_use,
       acctsec.token_consume(t, 'password_reset') AS second_use
FROM (SELECT acctsec.token_issue('alice', 'password_reset') AS t) s;

\echo
\echo '== updated_at: attached automatically to a new table, right for raw SQL too'
CREATE TABLE demo_posts (id int PRIMARY KEY, title text, "updatedAt" timestamp(3));
INSERT INTO demo_posts VALUES (1, 'hello', NULL);
SELECT "updatedAt" IS NOT NULL AS filled_on_insert FROM demo_posts;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'demo_posts'::regclass;

\echo
\echo '== Audit log: who changed what, secrets redacted, hash-chained'
CREATE TABLE demo_users (id int PRIMARY KEY, email text, password_hash text);
SELECT acctsec.audit_table('demo_users');
BEGIN;
SET LOCAL acctsec.actor = 'admin@acme.example';
INSERT INTO demo_users VALUES (1, 'alice@example.com', acctsec.password_hash('pw'));
UPDATE demo_users SET email = 'alice@acme.example' WHERE id = 1;
COMMIT;
SELECT operation, actor, row_key, new_values, changed_columns
FROM acctsec.audit_log WHERE relation = 'public.demo_users' ORDER BY id;
SELECT operation, account FROM acctsec.audit_log WHERE relation IS NULL ORDER BY id LIMIT 8;
SELECT * FROM acctsec.audit_verify();
