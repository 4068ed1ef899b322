-- Which lockouts revoke an account's sessions and one-time tokens: those that
-- stop every login.  Under smart lockout, a lock earned from unfamiliar
-- networks does not stop the real user on a familiar network, so it must not
-- log them out either (or an attacker could end their sessions at will).
\set VERBOSITY terse
SET acctsec.max_failed_attempts = 3;
CREATE TEMP TABLE lr (name text PRIMARY KEY, token text);
CREATE FUNCTION pg_temp.alive(n text) RETURNS boolean LANGUAGE sql AS $f$
  SELECT EXISTS (SELECT 1 FROM lr, acctsec.session_check(lr.token) WHERE lr.name = n)
$f$;

-- lr-alice logs in from her office network: it becomes familiar
SELECT (acctsec.login_attempt('lr-alice', true, '10.20.30.40')).status AS login;
INSERT INTO lr SELECT 'alice', token FROM acctsec.session_start('lr-alice', '10.20.30.40');
INSERT INTO lr SELECT 'alice-reset', acctsec.token_issue('lr-alice', 'password_reset');

-- an attacker fails three times from elsewhere: the unfamiliar set locks...
SELECT (acctsec.login_attempt('lr-alice', false, ('203.0.113.' || i)::inet)).status AS attacker
FROM generate_series(1, 3) AS i;
-- ...but alice is still logged in, her reset link still works, and she can
-- still log in from her familiar network
SELECT pg_temp.alive('alice') AS session_survives,
       acctsec.token_peek((SELECT token FROM lr WHERE name = 'alice-reset'), 'password_reset') AS reset_link_for;
SELECT (acctsec.login_attempt('lr-alice', true, '10.20.30.40')).status AS familiar_login;

-- failures from the familiar network itself lock every login: that revokes
SELECT (acctsec.login_attempt('lr-alice', false, '10.20.30.40')).status AS familiar_failure
FROM generate_series(1, 3);
SELECT pg_temp.alive('alice') AS session_after_familiar_lock,
       acctsec.token_peek((SELECT token FROM lr WHERE name = 'alice-reset'), 'password_reset') IS NULL AS reset_link_revoked;

-- an account with no familiar network: any lockout stops every login, so it revokes
INSERT INTO lr SELECT 'bob', token FROM acctsec.session_start('lr-bob');
SELECT (acctsec.login_attempt('lr-bob', false, '203.0.113.77')).status FROM generate_series(1, 3);
SELECT pg_temp.alive('bob') AS bob_session_after_lock;

-- with smart lockout off, the unfamiliar lock stops every login, so it revokes
SELECT acctsec.unlock('lr-alice');
SELECT (acctsec.login_attempt('lr-alice', true, '10.20.30.40')).status AS login_again;
DELETE FROM lr WHERE name = 'alice';
INSERT INTO lr SELECT 'alice', token FROM acctsec.session_start('lr-alice', '10.20.30.40');
SET acctsec.smart_lockout = off;
SELECT (acctsec.login_attempt('lr-alice', false, ('203.0.113.' || i)::inet)).status AS attacker
FROM generate_series(10, 12) AS i;
SELECT pg_temp.alive('alice') AS session_after_lock_without_smart_lockout;
RESET acctsec.smart_lockout;
RESET acctsec.max_failed_attempts;
SELECT acctsec.forget_account('lr-alice'), acctsec.forget_account('lr-bob');
