-- Importing existing second factors (SPEC section 12): totp_import,
-- backup_codes_import, and the README's migration of a users table with
-- plain two_factor_secret and backup_codes columns, in one transaction.
\set VERBOSITY terse

-- TOTP: RFC 6238's secret as an application stores it (base32, with spaces)
SELECT acctsec.totp_import('regress_imp_1', 'GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ');
SELECT account, totp_enabled FROM acctsec.account_status('regress_imp_1');
SELECT algorithm, digits, period, confirmed_at IS NOT NULL AS active,
       position('12345678901234567890'::bytea IN secret) = 0 AS sealed,
       length(secret) > 20 AS has_nonce_and_tag
FROM acctsec.totp_credentials WHERE account = 'regress_imp_1';
-- the imported secret works: a current code verifies, once
SELECT acctsec.totp_verify('regress_imp_1', acctsec.totp('12345678901234567890'::bytea)) AS first,
       acctsec.totp_verify('regress_imp_1', acctsec.totp('12345678901234567890'::bytea)) AS replay;
-- and logins now ask for it
SELECT (acctsec.login_attempt('regress_imp_1', true)).status;
-- other parameters
SELECT acctsec.totp_import('regress_imp_2', acctsec.base32_encode(convert_to(repeat('k', 32), 'UTF8')), 8, 60, 'sha256');
SELECT algorithm, digits, period FROM acctsec.totp_credentials WHERE account = 'regress_imp_2';
SELECT acctsec.totp_verify('regress_imp_2',
  acctsec.totp(convert_to(repeat('k', 32), 'UTF8'), now(), 8, 60, 'SHA256')) AS sha256_ok;

-- backup codes in the application's own formats
SELECT acctsec.backup_codes_import('regress_imp_1', ARRAY['a1b2-c3d4', '12345678', 'ABCD EFGH']) AS imported;
SELECT acctsec.backup_codes_remaining('regress_imp_1');
SELECT acctsec.backup_code_verify('regress_imp_1', 'A1B2C3D4') AS typed_differently,
       acctsec.backup_code_verify('regress_imp_1', 'a1b2-c3d4') AS used_twice,
       acctsec.backup_code_verify('regress_imp_1', 'abcd-efgh') AS another,
       acctsec.backup_code_verify('regress_imp_1', '12345679') AS wrong;
SELECT acctsec.backup_codes_remaining('regress_imp_1');
SELECT count(*) AS rows, bool_and(position('12345678'::bytea IN code_hash) = 0) AS hashed
FROM acctsec.backup_codes WHERE account = 'regress_imp_1';
-- importing again replaces the set; generated codes still verify
SELECT acctsec.backup_codes_import('regress_imp_1', ARRAY['zzzzzz']);
SELECT acctsec.backup_code_verify('regress_imp_1', '12345678') AS old_set;
SELECT acctsec.backup_code_verify('regress_imp_1', c) AS generated_ok
FROM acctsec.backup_codes_generate('regress_imp_1', 1) AS c;
-- codes that normalise alike are one code, stored once: it works once
SELECT acctsec.backup_codes_import('regress_imp_dup',
  ARRAY['abcdef12', 'ABCD-EF12', 'abcd ef12', '87654321']) AS imported;
SELECT acctsec.backup_codes_remaining('regress_imp_dup');
SELECT acctsec.backup_code_verify('regress_imp_dup', 'abcdef12') AS first_use;
SELECT acctsec.backup_code_verify('regress_imp_dup', 'abcdef12') AS second_use;
SELECT acctsec.backup_code_verify('regress_imp_dup', 'ABCD-EF12') AS other_spelling;
SELECT acctsec.backup_code_verify('regress_imp_dup', '8765-4321') AS the_other_code;
SELECT code_no FROM acctsec.backup_codes WHERE account = 'regress_imp_dup' ORDER BY code_no;

-- errors
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.totp_import('regress_imp_1', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')$$,
  $$SELECT acctsec.totp_import('regress_imp_3', 'GEZDGNBVGY3TQOJ1')$$,
  $$SELECT acctsec.totp_import('regress_imp_3', 'GEZDGNBVGY3TQOJQG')$$,
  $$SELECT acctsec.totp_import('regress_imp_3', 'GEZDGNBVGY')$$,
  $$SELECT acctsec.totp_import('regress_imp_3', repeat('A', 5000))$$,
  $$SELECT acctsec.totp_import('regress_imp_3', NULL)$$,
  $$SELECT acctsec.totp_import('regress_imp_3', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 9)$$,
  $$SELECT acctsec.totp_import('regress_imp_3', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 6, 0)$$,
  $$SELECT acctsec.totp_import('regress_imp_3', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 6, 30, 'MD5')$$,
  $$SELECT acctsec.totp_import(NULL, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')$$,
  $$SELECT acctsec.backup_codes_import('regress_imp_3', ARRAY['abcdefgh', NULL])$$,
  $$SELECT acctsec.backup_codes_import('regress_imp_3', ARRAY['abc'])$$,
  $$SELECT acctsec.backup_codes_import('regress_imp_3', ARRAY['abcd_efgh'])$$,
  $$SELECT acctsec.backup_codes_import('regress_imp_3', ARRAY[repeat('a', 65)])$$,
  $$SELECT acctsec.backup_codes_import('regress_imp_3', ARRAY[]::text[])$$,
  $$SELECT acctsec.backup_codes_import('regress_imp_3', ARRAY(SELECT 'code' || i || 'xx' FROM generate_series(1, 101) i))$$,
  $$SELECT acctsec.backup_codes_import('regress_imp_3', ARRAY[['abcdefgh']])$$,
  $$SELECT acctsec.backup_codes_import('regress_imp_3', NULL)$$
]) AS s;
SELECT count(*) AS nothing_stored FROM acctsec.backup_codes WHERE account = 'regress_imp_3';

-- the README's migration: a real product's users table into acctsec, in one
-- transaction, emptying the plain columns
CREATE SCHEMA app;
CALL regress.create_app_users(501);
INSERT INTO app.users (email, two_factor_enabled, two_factor_secret, backup_codes, login_count) VALUES
  ('tfa@example.com', true, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', '["11112222", "33334444"]', 12),
  ('plain@example.com', false, NULL, '[]', 3);
BEGIN;
SELECT count(acctsec.totp_import(id::text, two_factor_secret))
  FROM app.users WHERE two_factor_enabled AND two_factor_secret IS NOT NULL;
SELECT sum(acctsec.backup_codes_import(id::text, ARRAY(SELECT jsonb_array_elements_text(backup_codes))))
  FROM app.users WHERE jsonb_array_length(backup_codes) > 0;
SELECT acctsec.link_account_table('app.users', 'id');
UPDATE app.users SET two_factor_secret = NULL, backup_codes = '[]';
COMMIT;
SELECT id, two_factor_enabled, two_factor_secret, backup_codes, login_count FROM app.users ORDER BY id;
SELECT account, totp_enabled, login_count, backup_codes_remaining FROM acctsec.account_status('501');
SELECT (acctsec.login_attempt('501', true)).status AS tfa_user, (acctsec.login_attempt('502', true)).status AS plain_user;
SELECT acctsec.backup_code_verify('501', '3333-4444') AS migrated_code;
SELECT login_count FROM app.users ORDER BY id;
-- switching TOTP off reaches the table
SELECT acctsec.totp_disable('501');
SELECT two_factor_enabled FROM app.users WHERE id = 501;
SELECT acctsec.unlink_account_table('app.users');
DROP SCHEMA app CASCADE;

-- administrative: not for application roles
CREATE ROLE regress_imp_app;
SELECT acctsec.grant_app_role('regress_imp_app');
SELECT has_function_privilege('regress_imp_app', 'acctsec.totp_import(text, text, int, int, text)', 'EXECUTE') AS totp_import,
       has_function_privilege('regress_imp_app', 'acctsec.backup_codes_import(text, text[])', 'EXECUTE') AS backup_codes_import;
SELECT acctsec.revoke_app_role('regress_imp_app');
DROP ROLE regress_imp_app;
