-- Accounts, login attempts and lockout (SPEC sections 2 and 3).
\set VERBOSITY terse

CREATE FUNCTION pg_temp.state(acct text)
RETURNS TABLE(failed_attempts int, locked_min numeric, lockouts int,
              last_login_s_ago numeric, last_failed_s_ago numeric, login_count bigint,
              totp_enabled boolean, backup_codes_remaining int)
LANGUAGE sql AS $$
  SELECT s.failed_attempts, regress.mins(s.locked_until - now()), s.lockouts,
         regress.secs(now() - s.last_login_at), regress.secs(now() - s.last_failed_at),
         s.login_count, s.totp_enabled, s.backup_codes_remaining
  FROM acctsec.account_status(acct) AS s
$$;

-- an unknown account: zeros, NULLs and false, and no row is created
SELECT * FROM acctsec.account_status('nobody');
SELECT count(*) AS rows_for_nobody FROM acctsec.accounts WHERE account = 'nobody';

-- the settings' defaults (the library is loaded now)
SELECT name, setting, unit, context FROM pg_settings
WHERE name IN ('acctsec.max_failed_attempts', 'acctsec.lockout_duration',
               'acctsec.lockout_backoff', 'acctsec.max_lockout_duration',
               'acctsec.failure_window', 'acctsec.second_factor_timeout')
ORDER BY name;


-- four failures count up; the fifth locks for lockout_duration (15 min)
SELECT n, (regress.attempt('alice', false)).* FROM generate_series(1, 5) AS n;
SELECT * FROM pg_temp.state('alice');

-- while locked, the answer is "locked" whatever the outcome, and the lock is
-- neither extended nor counted
SELECT locked_until AS lock_before, last_failed_at AS failed_before
FROM acctsec.accounts WHERE account = 'alice' \gset
SELECT * FROM regress.attempt('alice', true);
SELECT * FROM regress.attempt('alice', false);
SELECT locked_until = :'lock_before' AS lock_unchanged, last_failed_at = :'failed_before' AS failure_not_counted,
       failed_attempts, lockouts
FROM acctsec.accounts WHERE account = 'alice';

-- after the lock expires, failures count from 1 again; the second lockout
-- is twice as long (lockout_backoff 2.0), the third four times
CALL regress.age_account('alice', '16 min');
SELECT n, (regress.attempt('alice', false)).* FROM generate_series(1, 5) AS n;
CALL regress.age_account('alice', '31 min');
SELECT (regress.attempt('alice', false)).status FROM generate_series(1, 5);
SELECT * FROM pg_temp.state('alice');

-- the cap: max_lockout_duration
SET acctsec.max_lockout_duration = '70min';
CALL regress.age_account('alice', '61 min');
SELECT (regress.attempt('alice', false)).* FROM generate_series(1, 5) OFFSET 4;
RESET acctsec.max_lockout_duration;

-- a success (once the lock is over) resets the counter and the backoff level
CALL regress.age_account('alice', '71 min');
SELECT * FROM regress.attempt('alice', false);
SELECT * FROM regress.attempt('alice', true, '192.0.2.1');
SELECT * FROM pg_temp.state('alice');
SELECT last_login_ip FROM acctsec.accounts WHERE account = 'alice';
SELECT * FROM regress.attempt('alice', true);
SELECT login_count FROM pg_temp.state('alice');

-- failures further apart than failure_window (1 h) do not add up
SELECT * FROM regress.attempt('bob', false);
SELECT * FROM regress.attempt('bob', false);
CALL regress.age_account('bob', '61 min');
SELECT * FROM regress.attempt('bob', false);
CALL regress.age_account('bob', '59 min');
SELECT * FROM regress.attempt('bob', false);

-- max_failed_attempts = 0 never locks; lockout_backoff = 1.0 keeps the
-- length constant
SET acctsec.max_failed_attempts = 0;
SELECT (regress.attempt('carol', false)).* FROM generate_series(1, 20) OFFSET 19;
SET acctsec.max_failed_attempts = 2;
SET acctsec.lockout_backoff = 1.0;
SET acctsec.lockout_duration = '1min';
SELECT (regress.attempt('dave', false)).locked_min FROM generate_series(1, 2) OFFSET 1;
CALL regress.age_account('dave', '2 min');
SELECT (regress.attempt('dave', false)).locked_min FROM generate_series(1, 2) OFFSET 1;
SELECT lockouts FROM pg_temp.state('dave');
RESET acctsec.max_failed_attempts;
RESET acctsec.lockout_backoff;
RESET acctsec.lockout_duration;

-- TOTP active (the TOTP module sets the flag): a right password answers
-- second_factor_required, not allowed, and leaves a login pending; the
-- counter is not reset by the password alone
SELECT * FROM regress.attempt('erin', false);
UPDATE acctsec.accounts SET totp_enabled = true WHERE account = 'erin';
SELECT * FROM regress.attempt('erin', true, '198.51.100.7');
SELECT failed_attempts, login_count, totp_enabled FROM pg_temp.state('erin');
SELECT regress.secs(now() - pending_login_at) AS pending_s_ago, pending_login_ip
FROM acctsec.accounts WHERE account = 'erin';
-- a failed password ends the pending login
SELECT * FROM regress.attempt('erin', false);
SELECT pending_login_at, pending_login_ip FROM acctsec.accounts WHERE account = 'erin';

-- every call is logged: account, time, outcome, ip, user agent
SELECT outcome, count(*) FROM acctsec.login_attempts WHERE account = 'alice'
GROUP BY outcome ORDER BY outcome;
SELECT account, regress.secs(now() - attempted_at) AS s_ago, outcome, ip, user_agent
FROM acctsec.login_attempts WHERE account = 'erin' ORDER BY id;
-- a user agent longer than 1024 bytes is stored cut at a character boundary
SELECT status FROM regress.attempt('frank', true, NULL, repeat('a', 1023) || 'é' || repeat('b', 5000));
SELECT octet_length(user_agent) AS bytes, right(user_agent, 1) AS last_char
FROM acctsec.login_attempts WHERE account = 'frank';

-- unlock clears the lock, the counter and the backoff level; true only if
-- something was locked; an unknown account is not created
SELECT (regress.attempt('gina', false)).status FROM generate_series(1, 5) OFFSET 4;
SELECT acctsec.unlock('gina') AS was_locked;
SELECT * FROM pg_temp.state('gina');
SELECT * FROM regress.attempt('gina', true);
SELECT acctsec.unlock('gina') AS was_locked, acctsec.unlock('nobody') AS unknown;
SELECT count(*) AS rows_for_nobody FROM acctsec.accounts WHERE account = 'nobody';

-- forget_account erases the row and the attempts; false when there was nothing
SELECT acctsec.forget_account('alice') AS forgotten, acctsec.forget_account('alice') AS again,
       acctsec.forget_account('nobody') AS unknown;
SELECT (SELECT count(*) FROM acctsec.accounts WHERE account = 'alice') AS account_rows,
       (SELECT count(*) FROM acctsec.login_attempts WHERE account = 'alice') AS attempt_rows;
SELECT * FROM acctsec.account_status('alice');
-- an account with only logged attempts left (row gone) is still forgettable
DELETE FROM acctsec.accounts WHERE account = 'bob';
SELECT acctsec.forget_account('bob') AS forgotten;
SELECT count(*) AS attempt_rows FROM acctsec.login_attempts WHERE account = 'bob';

-- prune_login_attempts deletes rows older than the interval
UPDATE acctsec.login_attempts SET attempted_at = attempted_at - interval '40 days'
WHERE account = 'carol';
SELECT acctsec.prune_login_attempts('30 days') AS pruned;
SELECT acctsec.prune_login_attempts('30 days') AS again;
SELECT (SELECT count(*) FROM acctsec.login_attempts WHERE account = 'carol') AS carol_rows,
       (SELECT count(*) > 0 FROM acctsec.login_attempts) AS others_kept;

-- bad arguments: each a clear error with its SQLSTATE.  NULL account or
-- outcome is an error for login_attempt; the other functions are STRICT.
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.login_attempt(NULL, false)$$,
  $$SELECT acctsec.login_attempt('x', NULL)$$,
  $$SELECT acctsec.login_attempt('', false)$$,
  $$SELECT acctsec.login_attempt(repeat('x', 1025), false)$$,
  $$SELECT acctsec.login_attempt(repeat('é', 513), false)$$,
  $$SELECT acctsec.account_status('')$$,
  $$SELECT acctsec.account_status(repeat('x', 1025))$$,
  $$SELECT acctsec.unlock('')$$,
  $$SELECT acctsec.unlock(repeat('x', 1025))$$,
  $$SELECT acctsec.forget_account('')$$,
  $$SELECT acctsec.forget_account(repeat('x', 1025))$$,
  $$SELECT acctsec.prune_login_attempts('-1 day')$$,
  $$SELECT acctsec.prune_login_attempts('1 day -25 hours')$$
]) AS s;
-- the longest account accepted: 1024 bytes
SELECT (acctsec.login_attempt(repeat('x', 1024), false)).status AS longest;
SELECT acctsec.account_status(NULL) IS NULL AS status_null, acctsec.unlock(NULL) IS NULL AS unlock_null,
       acctsec.forget_account(NULL) IS NULL AS forget_null,
       acctsec.prune_login_attempts(NULL) IS NULL AS prune_null;

-- volatility, parallel safety, strictness and security of the functions
SELECT p.oid::regprocedure AS function, provolatile, proparallel, proisstrict, prosecdef, proconfig
FROM pg_proc p WHERE pronamespace = 'acctsec'::regnamespace
  AND proname IN ('login_attempt', 'account_status', 'unlock', 'forget_account',
                  'prune_login_attempts', 'link_account_table', 'unlink_account_table',
                  'forget_linked_account')
ORDER BY p.oid::regprocedure::text;
