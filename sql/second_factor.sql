-- TOTP and backup codes with accounts and lockout: login_attempt asks for
-- the second factor once TOTP is confirmed, a correct code completes the
-- login, wrong codes count toward lockout, a locked account's codes are not
-- looked at, and forget_account erases it all.
\set VERBOSITY terse
SET acctsec.max_failed_attempts = 3;
SET acctsec.lockout_duration = '10min';
CREATE FUNCTION pg_temp.wrong(secret text, steps int DEFAULT 0) RETURNS text LANGUAGE sql AS $f$
  SELECT lpad(((regress.code(secret, steps)::int + 1) % 1000000)::text, 6, '0')
$f$;
CREATE VIEW pg_temp.st AS
  SELECT s.account, s.failed_attempts, s.locked_until IS NOT NULL AND s.locked_until > now() AS locked,
         s.login_count, s.last_login_at IS NOT NULL AS has_logged_in, s.totp_enabled, s.backup_codes_remaining,
         a.pending_login_at IS NOT NULL AS login_pending
  FROM acctsec.accounts a, acctsec.account_status(a.account) s
  WHERE a.account LIKE 'sf-%';

-- before TOTP is confirmed: a password success is a complete login
SELECT secret AS s FROM acctsec.totp_enroll('sf-alice') \gset
SELECT (acctsec.login_attempt('sf-alice', true)).status AS pending_enrolment_login;
SELECT * FROM pg_temp.st;
-- a wrong code at confirmation does not count (the user is setting it up)
SELECT acctsec.totp_confirm('sf-alice', pg_temp.wrong(:'s')) AS wrong_confirm;
SELECT acctsec.totp_confirm('sf-alice', regress.code(:'s')) AS confirmed;
SELECT * FROM pg_temp.st;

-- now the password alone is not enough
SELECT status, allowed FROM acctsec.login_attempt('sf-alice', true);
SELECT * FROM pg_temp.st;
-- the TOTP code completes the login: counter reset, one more login
SELECT acctsec.totp_verify('sf-alice', regress.code(:'s', 1)) AS verified;
SELECT * FROM pg_temp.st;

-- wrong codes count toward lockout, like failed passwords
SELECT acctsec.totp_verify('sf-alice', pg_temp.wrong(:'s')) AS wrong_1;
SELECT acctsec.totp_verify('sf-alice', 'abcdef') AS malformed_2;
SELECT * FROM pg_temp.st;
SELECT count(*) AS backup_codes FROM (SELECT acctsec.backup_codes_generate('sf-alice', 4)) g;
SELECT acctsec.backup_code_verify('sf-alice', 'zzzzzz-zzzzzz') AS wrong_backup_3;
SELECT * FROM pg_temp.st;
-- locked: the right code is false without being looked at, and is not spent
SELECT acctsec.totp_verify('sf-alice', regress.code(:'s')) AS right_code_while_locked;
CREATE TEMP TABLE codes AS SELECT row_number() OVER () AS n, c FROM acctsec.backup_codes_generate('sf-alice', 4) c;
SELECT * FROM pg_temp.st;
SELECT acctsec.backup_code_verify('sf-alice', c) AS right_backup_code_while_locked FROM codes WHERE n = 1;
SELECT acctsec.backup_codes_remaining('sf-alice') AS still_four;
SELECT last_step = (SELECT last_step FROM acctsec.totp_credentials WHERE account = 'sf-alice') AS step_unchanged
FROM acctsec.totp_credentials WHERE account = 'sf-alice';
SELECT (acctsec.login_attempt('sf-alice', true)).status AS login_while_locked;
-- unlocked, a backup code completes a pending login and is spent
SELECT acctsec.unlock('sf-alice') AS unlocked;
SELECT (acctsec.login_attempt('sf-alice', true)).status AS password_ok;
SELECT acctsec.backup_code_verify('sf-alice', c) AS backup_code FROM codes WHERE n = 1;
SELECT * FROM pg_temp.st;
-- a correct code with no pending login is fine and completes nothing
SELECT acctsec.backup_code_verify('sf-alice', c) AS backup_code_no_login FROM codes WHERE n = 2;
SELECT * FROM pg_temp.st;
-- a failure drops a pending login: the next correct code does not complete it
-- (and a spent code is a failure like any wrong one)
SELECT acctsec.backup_code_verify('sf-alice', c) AS spent_code FROM codes WHERE n = 1;
SELECT (acctsec.login_attempt('sf-alice', true)).status AS password_ok;
SELECT acctsec.totp_verify('sf-alice', pg_temp.wrong(:'s', 1)) AS wrong_code;
SELECT acctsec.backup_code_verify('sf-alice', c) AS right_code_after FROM codes WHERE n = 3;
SELECT * FROM pg_temp.st;

-- no active credential or no codes: false and not counted
SELECT acctsec.totp_verify('sf-bob', '123456') AS no_credential,
       acctsec.backup_code_verify('sf-bob', 'aaaaaa-aaaaaa') AS no_codes;
SELECT secret AS b FROM acctsec.totp_enroll('sf-bob') \gset
SELECT acctsec.totp_verify('sf-bob', regress.code(:'b')) AS pending_only;
SELECT * FROM pg_temp.st WHERE account = 'sf-bob';

-- disabling clears totp_enabled: the password is enough again
SELECT acctsec.totp_disable('sf-alice') AS disabled;
SELECT status, allowed FROM acctsec.login_attempt('sf-alice', true);
SELECT * FROM pg_temp.st WHERE account = 'sf-alice';

-- forget_account erases the credential and the codes (ON DELETE CASCADE)
SELECT acctsec.totp_confirm('sf-bob', regress.code(:'b')) AS bob_confirmed;
SELECT count(*) AS bob_codes FROM acctsec.backup_codes_generate('sf-bob', 3);
SELECT acctsec.forget_account('sf-bob') AS forgotten;
SELECT (SELECT count(*) FROM acctsec.totp_credentials WHERE account = 'sf-bob') AS credentials,
       (SELECT count(*) FROM acctsec.backup_codes WHERE account = 'sf-bob') AS codes,
       (SELECT count(*) FROM acctsec.accounts WHERE account = 'sf-bob') AS accounts;
SELECT * FROM acctsec.account_status('sf-bob');
SELECT conrelid::regclass AS referencing, confdeltype AS on_delete
FROM pg_constraint WHERE confrelid = 'acctsec.accounts'::regclass AND contype = 'f'
ORDER BY 1;

-- security events, in order: never a secret or a code in them (lock times vary)
SELECT operation, account, new_values - 'locked_until' AS details
FROM acctsec.audit_log
WHERE account LIKE 'sf-%' AND relation IS NULL
ORDER BY id;
