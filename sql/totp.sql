-- Stateful TOTP: enrolment, confirmation, verification with replay refusal,
-- disabling, settings, storage, privileges and every error.  Codes are
-- computed here from the secret enrol returns; no secret or code is printed.
\set VERBOSITY terse
-- Wrong codes count toward lockout; this file tries many on purpose, so the
-- lockout is off here (sql/second_factor.sql tests the two together).
SET acctsec.max_failed_attempts = 0;

-- enrolment with the defaults: a 20-byte SHA1 secret in base32 and its URI
SELECT secret AS alice_secret, uri AS alice_uri FROM acctsec.totp_enroll('totp-alice') \gset
SELECT length(:'alice_secret') AS secret_chars,
       :'alice_secret' ~ '^[A-Z2-7]+$' AS base32_no_padding,
       length(acctsec.base32_decode(:'alice_secret')) AS secret_bytes,
       :'alice_uri' = 'otpauth://totp/totp-alice?secret=' || :'alice_secret'
                      || '&algorithm=SHA1&digits=6&period=30' AS uri_as_expected;
-- pending until confirmed: verify does not accept it yet
SELECT acctsec.totp_verify('totp-alice', regress.code(:'alice_secret')) AS verify_while_pending;
SELECT account, confirmed_at IS NULL AS pending, last_step IS NULL AS no_step
FROM acctsec.totp_credentials WHERE account = 'totp-alice';
-- The codes below are for the step of now(): one transaction keeps now()
-- fixed, so a time step that ends between two statements cannot turn a
-- replay into a new code.
BEGIN;
-- a wrong code does not confirm; the right one does, once
SELECT acctsec.totp_confirm('totp-alice', CASE regress.code(:'alice_secret') WHEN '000000' THEN '111111' ELSE '000000' END) AS wrong_code;
SELECT acctsec.totp_confirm('totp-alice', regress.code(:'alice_secret')) AS confirmed;
SELECT acctsec.totp_confirm('totp-alice', regress.code(:'alice_secret')) AS confirm_again;
SELECT confirmed_at IS NOT NULL AS active, last_step IS NOT NULL AS step_recorded
FROM acctsec.totp_credentials WHERE account = 'totp-alice';
-- the code that confirmed is spent: no replay
SELECT acctsec.totp_verify('totp-alice', regress.code(:'alice_secret')) AS replay_of_confirm_code;
-- the next step's code (within the window of 1) works once
SELECT acctsec.totp_verify('totp-alice', regress.code(:'alice_secret', 1)) AS next_step;
SELECT acctsec.totp_verify('totp-alice', regress.code(:'alice_secret', 1)) AS same_code_again;
-- an earlier step than the last accepted one is refused even inside the window
SELECT acctsec.totp_verify('totp-alice', regress.code(:'alice_secret', -1)) AS older_step;
-- spaces and dashes are fine; anything else is simply false
SELECT acctsec.totp_verify('totp-alice', regexp_replace(regress.code(:'alice_secret', -1), '(...)(...)', '\1 \2')) AS spaced_but_old,
       acctsec.totp_verify('totp-alice', '') AS empty,
       acctsec.totp_verify('totp-alice', 'abcdef') AS letters,
       acctsec.totp_verify('totp-alice', repeat('1', 100000)) AS huge,
       acctsec.totp_verify('totp-nobody', '123456') AS unknown_account,
       acctsec.totp_verify('totp-alice', NULL) IS NULL AS null_code;
COMMIT;
-- an active credential is an error until disabled
SELECT regress.error_of($$SELECT acctsec.totp_enroll('totp-alice')$$);

-- issuer from acctsec.totp_issuer, label defaults to the account
SET acctsec.totp_issuer = 'ACME Co';
SELECT secret AS bob_secret, uri AS bob_uri FROM acctsec.totp_enroll('totp-bob@example.com') \gset
SELECT :'bob_uri' = 'otpauth://totp/ACME%20Co:totp-bob%40example.com?secret=' || :'bob_secret'
                    || '&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30' AS uri_with_setting_issuer;
SET acctsec.totp_issuer = 'ACME:Co';
SELECT regress.error_of($$SELECT acctsec.totp_enroll('totp-erin')$$) AS colon_in_setting;
RESET acctsec.totp_issuer;
-- what people type: dashes and spaces inside the code do not matter
SELECT acctsec.totp_confirm('totp-bob@example.com', regexp_replace(regress.code(:'bob_secret'), '(...)(...)', '\1-\2')) AS dashed_confirms;
SELECT acctsec.totp_verify('totp-bob@example.com', regexp_replace(regress.code(:'bob_secret', 1), '(...)(...)', ' \1 \2 ')) AS spaced_verifies;
-- explicit issuer and label, SHA256, 8 digits, 60-second steps
SELECT secret AS carol_secret, uri AS carol_uri
FROM acctsec.totp_enroll('totp-carol', 'Example', 'Carol C', 8, 60, 'sha256') \gset
SELECT length(:'carol_secret') AS secret_chars,
       length(acctsec.base32_decode(:'carol_secret')) AS secret_bytes,
       :'carol_uri' = 'otpauth://totp/Example:Carol%20C?secret=' || :'carol_secret'
                      || '&issuer=Example&algorithm=SHA256&digits=8&period=60' AS uri_as_expected;
SELECT acctsec.totp_confirm('totp-carol', regress.code(:'carol_secret', 0, 8, 60, 'SHA256')) AS confirmed_sha256;
SELECT acctsec.totp_verify('totp-carol', regress.code(:'carol_secret', 1, 8, 60, 'SHA256')) AS verified_sha256,
       acctsec.totp_verify('totp-carol', regress.code(:'carol_secret', 1, 6, 60, 'SHA256')) AS six_digits_refused;
-- SHA512: a 64-byte secret
SELECT secret AS dave_secret FROM acctsec.totp_enroll('totp-dave', NULL, NULL, 6, 30, 'SHA512') \gset
SELECT length(:'dave_secret') AS secret_chars, length(acctsec.base32_decode(:'dave_secret')) AS secret_bytes;
-- enrolling again replaces a pending enrolment: the first secret is gone
SELECT secret AS dave_secret2 FROM acctsec.totp_enroll('totp-dave', NULL, NULL, 6, 30, 'SHA512') \gset
SELECT :'dave_secret' <> :'dave_secret2' AS new_secret;
SELECT acctsec.totp_confirm('totp-dave', regress.code(:'dave_secret', 0, 6, 30, 'SHA512')) AS old_secret_confirms;
SELECT acctsec.totp_confirm('totp-dave', regress.code(:'dave_secret2', 0, 6, 30, 'SHA512')) AS new_secret_confirms;

-- acctsec.totp_window: 0 accepts only the current step, 2 reaches two steps
SET acctsec.totp_window = 0;
SELECT acctsec.totp_verify('totp-dave', regress.code(:'dave_secret2', 1, 6, 30, 'SHA512')) AS next_step_window_0;
SET acctsec.totp_window = 2;
SELECT acctsec.totp_verify('totp-dave', regress.code(:'dave_secret2', 2, 6, 30, 'SHA512')) AS two_steps_window_2;
RESET acctsec.totp_window;
SELECT regress.error_of($$SET acctsec.totp_window = 11$$),
       regress.error_of($$SET acctsec.totp_window = -1$$);

-- stored only sealed: 1 version + 4 key id + 24 nonce + secret + 16 tag bytes,
-- holding neither the raw secret nor its base32 or hex form
SELECT account, length(secret) AS stored_bytes,
       position(acctsec.base32_decode(s.b32) IN secret) = 0 AS no_raw_secret,
       position(convert_to(s.b32, 'UTF8') IN secret) = 0 AS no_base32,
       position(convert_to(encode(acctsec.base32_decode(s.b32), 'hex'), 'UTF8') IN secret) = 0 AS no_hex
FROM acctsec.totp_credentials
JOIN (VALUES ('totp-alice', :'alice_secret'), ('totp-carol', :'carol_secret'), ('totp-dave', :'dave_secret2')) AS s(acct, b32)
  ON account = s.acct
ORDER BY account;
-- every stored value names the current key
SELECT count(*) AS current_keys, min(source) AS source FROM acctsec.key_status() WHERE is_current;
SELECT bool_and(substr(encode(secret, 'hex'), 3, 8) = k.key_id) AS sealed_under_current_key
FROM acctsec.totp_credentials, acctsec.key_status() k WHERE k.is_current;
-- nothing to rotate: every secret is under the current key
SELECT acctsec.rotate_secrets() AS resealed;

-- a sealed secret moved to another account's row, or altered, does not open:
-- one deliberately vague error, never a wrong answer
BEGIN;
UPDATE acctsec.totp_credentials SET secret = (SELECT secret FROM acctsec.totp_credentials WHERE account = 'totp-alice')
WHERE account = 'totp-carol';
SELECT regress.error_of($$SELECT acctsec.totp_verify('totp-carol', '12345678')$$);
ROLLBACK;
BEGIN;
UPDATE acctsec.totp_credentials SET secret = set_byte(secret, 40, get_byte(secret, 40) # 1) WHERE account = 'totp-alice';
SELECT regress.error_of($$SELECT acctsec.totp_verify('totp-alice', '123456')$$);
ROLLBACK;
BEGIN;
UPDATE acctsec.totp_credentials SET secret = set_byte(secret, 1, get_byte(secret, 1) # 1) WHERE account = 'totp-alice';
SELECT regress.error_of($$SELECT acctsec.totp_verify('totp-alice', '123456')$$) AS unknown_key_id;
ROLLBACK;
BEGIN;
UPDATE acctsec.totp_credentials SET secret = '\x01'::bytea WHERE account = 'totp-alice';
SELECT regress.error_of($$SELECT acctsec.totp_verify('totp-alice', '123456')$$) AS truncated;
ROLLBACK;
-- the database key gone: the same error, not a new key
BEGIN;
DELETE FROM acctsec.database_key;
SELECT regress.error_of($$SELECT acctsec.totp_verify('totp-alice', '123456')$$) AS key_gone;
ROLLBACK;
-- the code of the last accepted step, whatever the clock says now
SELECT acctsec.totp_verify('totp-alice', acctsec.hotp(acctsec.base32_decode(:'alice_secret'), last_step))
       AS still_no_replay
FROM acctsec.totp_credentials WHERE account = 'totp-alice';

-- disabling removes the credential; verify is then false
SELECT acctsec.totp_disable('totp-alice') AS disabled, acctsec.totp_disable('totp-alice') AS disabled_again;
SELECT acctsec.totp_verify('totp-alice', regress.code(:'alice_secret', 1)) AS verify_after_disable;
SELECT count(*) AS rows_left FROM acctsec.totp_credentials WHERE account = 'totp-alice';
-- and a new enrolment is possible
SELECT length(secret) AS re_enrolled FROM acctsec.totp_enroll('totp-alice');

-- bad arguments: each a clear error with its SQLSTATE, never a secret
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.totp_enroll(NULL)$$,
  $$SELECT acctsec.totp_enroll('')$$,
  $$SELECT acctsec.totp_enroll(repeat('x', 1025))$$,
  $$SELECT acctsec.totp_enroll('totp-erin', NULL, NULL, NULL)$$,
  $$SELECT acctsec.totp_enroll('totp-erin', NULL, NULL, 6, NULL)$$,
  $$SELECT acctsec.totp_enroll('totp-erin', NULL, NULL, 6, 30, NULL)$$,
  $$SELECT acctsec.totp_enroll('totp-erin', NULL, NULL, 5)$$,
  $$SELECT acctsec.totp_enroll('totp-erin', NULL, NULL, 9)$$,
  $$SELECT acctsec.totp_enroll('totp-erin', NULL, NULL, 6, 0)$$,
  $$SELECT acctsec.totp_enroll('totp-erin', NULL, NULL, 6, 3601)$$,
  $$SELECT acctsec.totp_enroll('totp-erin', NULL, NULL, 6, 30, 'MD5')$$,
  $$SELECT acctsec.totp_enroll('totp-erin', NULL, '')$$,
  $$SELECT acctsec.totp_enroll('totp-erin', repeat('i', 1025))$$,
  $$SELECT acctsec.totp_enroll('totp-erin', 'ACME: Logins')$$,
  $$SELECT acctsec.totp_confirm('', '123456')$$,
  $$SELECT acctsec.totp_verify(repeat('x', 1025), '123456')$$,
  $$SELECT acctsec.totp_disable('')$$
]) AS s;
-- a failed enrolment stored nothing
SELECT count(*) AS erin_rows FROM acctsec.totp_credentials WHERE account = 'totp-erin';
-- strict functions: NULL in, NULL out
SELECT acctsec.totp_confirm(NULL, '1') IS NULL AS a, acctsec.totp_verify(NULL, '1') IS NULL AS b,
       acctsec.totp_disable(NULL) IS NULL AS c;

-- privileges: nothing for PUBLIC; a granted role calls the functions but
-- never reads the table
SELECT * FROM regress.declared('totp_enroll', 'totp_confirm', 'totp_verify', 'totp_disable', 'rotate_secrets');
SELECT regress.dumped('acctsec.totp_credentials') AS dumped;
CREATE ROLE regress_totp_app;
SET ROLE regress_totp_app;
SELECT regress.error_of($$SELECT acctsec.totp_verify('totp-carol', '12345678')$$) AS not_granted;
RESET ROLE;
GRANT EXECUTE ON FUNCTION acctsec.totp_verify(text, text), acctsec.totp_enroll(text, text, text, int, int, text),
  acctsec.totp_confirm(text, text) TO regress_totp_app;
SET ROLE regress_totp_app;
SELECT secret AS frank_secret FROM acctsec.totp_enroll('totp-frank') \gset
SELECT acctsec.totp_confirm('totp-frank', regress.code(:'frank_secret')) AS granted_confirm;
SELECT acctsec.totp_verify('totp-frank', regress.code(:'frank_secret', 1)) AS granted_verify;
SELECT regress.error_of($$SELECT * FROM acctsec.totp_credentials$$) AS read_table,
       regress.error_of($$SELECT acctsec.rotate_secrets()$$) AS rotate,
       regress.error_of($$SET acctsec.totp_window = 5$$) AS set_window,
       regress.error_of($$SET acctsec.totp_issuer = 'x'$$) AS set_issuer;
RESET ROLE;
REVOKE ALL ON FUNCTION acctsec.totp_verify(text, text), acctsec.totp_enroll(text, text, text, int, int, text),
  acctsec.totp_confirm(text, text) FROM regress_totp_app;
DROP ROLE regress_totp_app;
