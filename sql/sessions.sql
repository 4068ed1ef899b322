-- Sessions (SPEC section 13): start, check (lifetime, idle timeout, touch
-- interval), rotation with reuse detection, end, listing, revocation,
-- credentials_changed, lockout and forget_account, prune, key rotation.
\set VERBOSITY terse
CREATE TEMP TABLE s (name text PRIMARY KEY, session_id bigint, token text);
-- this file's security events are the audit rows after this mark
SELECT coalesce(max(id), 0) AS mark FROM acctsec.audit_log \gset
-- move a session back in time, as if it had started "ago" earlier
CREATE FUNCTION pg_temp.age_session(name text, ago interval) RETURNS void LANGUAGE sql AS $f$
  UPDATE acctsec.account_sessions a
     SET started_at = started_at - ago, last_seen_at = last_seen_at - ago,
         expires_at = expires_at - ago
    FROM s WHERE s.name = age_session.name AND a.session_id = s.session_id
$f$;

-- session_start: an id, an "acs_" token, the end of its lifetime (30 days)
INSERT INTO s SELECT 'a1', session_id, token
FROM acctsec.session_start('regress_alice', '192.0.2.1', 'Firefox');
INSERT INTO s SELECT 'a2', session_id, token
FROM acctsec.session_start('regress_alice', NULL, repeat('é', 1000));
INSERT INTO s SELECT 'b1', session_id, token FROM acctsec.session_start('regress_bob');
SELECT name, length(token) AS len, token ~ '^acs_[A-Za-z0-9_-]{56}$' AS url_safe_format
FROM s ORDER BY name;
SELECT expires_at - now() AS lifetime FROM acctsec.session_start('regress_carol');
-- the user agent is kept up to 1024 bytes (at a character boundary)
SELECT octet_length(user_agent) AS ua_bytes, ip FROM acctsec.sessions('regress_alice') ORDER BY session_id;

-- session_check: the account and session of a live token
SELECT c.account, c.session_id = s.session_id AS same_session,
       c.expires_at - now() BETWEEN '6 days 23 hours' AND '7 days' AS expires_in_7_days_idle
FROM s, acctsec.session_check(s.token) c WHERE s.name = 'a1';
-- the same row in a select list, and under column aliases
SELECT (acctsec.session_check(token)).account, (acctsec.session_check(token)).touch_due
FROM s WHERE name = 'a1';
SELECT c.who, c.sid = s.session_id AS same_session, pg_typeof(c.until) AS until_type
FROM s, acctsec.session_check(s.token) AS c(who, sid, until) WHERE s.name = 'a1';
-- anything else is no row, never an error
SELECT t AS case, count(c.*) AS rows
FROM s, LATERAL (VALUES
  ('one character changed', left(token, 59) || CASE WHEN right(token, 1) = 'A' THEN 'B' ELSE 'A' END),
  ('verifier of another session', left(token, 16) || right((SELECT token FROM s WHERE name = 'b1'), 44)),
  ('one-time prefix', 'act_' || substr(token, 5)),
  ('one character short', left(token, 59)),
  ('one character more', token || 'A'),
  ('bad character', left(token, 30) || '.' || substr(token, 32)),
  ('empty', ''),
  ('huge', repeat(token, 100000)),
  ('NULL', NULL)) AS v(t, tv)
  LEFT JOIN LATERAL acctsec.session_check(tv) c ON true
WHERE name = 'a1' GROUP BY t ORDER BY t;
-- every byte outside the base64url alphabet makes a token invalid, at
-- every position of the selector and the verifier (ASCII in place of one
-- character, a two-byte character in place of two).  A decoder that read
-- such a byte as some value would accept it where the token has that
-- value's character, somewhere in most tokens.
SELECT count(*) AS tried, count(*) FILTER (WHERE rows > 0) AS accepted
FROM (SELECT (SELECT count(*) FROM acctsec.session_check(
                overlay(s.token PLACING chr(b) FROM pos FOR CASE WHEN b > 127 THEN 2 ELSE 1 END))) AS rows
      FROM s, generate_series(1, 255) b, generate_series(5, 60) pos
      WHERE s.name = 'a1' AND chr(b) !~ '^[A-Za-z0-9_-]$'
        AND (b <= 127 OR pos < 60)) x;
-- a one-time token is not a session token, and the other way round
SELECT count(*) AS one_time_as_session
FROM acctsec.session_check(acctsec.token_issue('regress_alice', 'password_reset'));
SELECT acctsec.token_peek(token, 'password_reset') AS session_as_one_time FROM s WHERE name = 'a1';

-- last_seen_at is written at most once per session_touch_interval (60 s)
UPDATE acctsec.account_sessions SET last_seen_at = now() - interval '30 seconds'
WHERE session_id = (SELECT session_id FROM s WHERE name = 'a1');
SELECT count(*) AS checked FROM s, acctsec.session_check(token) WHERE name = 'a1';
SELECT now() - last_seen_at >= '30 seconds' AS not_touched_within_interval
FROM acctsec.account_sessions WHERE session_id = (SELECT session_id FROM s WHERE name = 'a1');
UPDATE acctsec.account_sessions SET last_seen_at = now() - interval '61 seconds'
WHERE session_id = (SELECT session_id FROM s WHERE name = 'a1');
SELECT count(*) AS checked FROM s, acctsec.session_check(token) WHERE name = 'a1';
SELECT now() - last_seen_at < '1 second' AS touched_after_interval
FROM acctsec.account_sessions WHERE session_id = (SELECT session_id FROM s WHERE name = 'a1');
-- not in a read-only transaction (no error either)
UPDATE acctsec.account_sessions SET last_seen_at = now() - interval '2 minutes'
WHERE session_id = (SELECT session_id FROM s WHERE name = 'a1');
BEGIN TRANSACTION READ ONLY;
SELECT count(*) AS checked_read_only FROM s, acctsec.session_check(token) WHERE name = 'a1';
COMMIT;
SELECT now() - last_seen_at >= '2 minutes' AS untouched_read_only
FROM acctsec.account_sessions WHERE session_id = (SELECT session_id FROM s WHERE name = 'a1');

-- idle timeout (7 days, counted in seconds: 168 hours whatever the calendar
-- does, daylight-saving changes included): idle 167 hours is fine, 168 is over
INSERT INTO s SELECT 'idle', session_id, token FROM acctsec.session_start('regress_dave');
UPDATE acctsec.account_sessions SET last_seen_at = now() - interval '167 hours'
WHERE session_id = (SELECT session_id FROM s WHERE name = 'idle');
SELECT c.expires_at - now() AS idle_session_now_expires_in
FROM s, acctsec.session_check(s.token) c WHERE s.name = 'idle';
UPDATE acctsec.account_sessions SET last_seen_at = now() - interval '168 hours'
WHERE session_id = (SELECT session_id FROM s WHERE name = 'idle');
SELECT count(*) AS idle_rows FROM s, acctsec.session_check(token) WHERE name = 'idle';
-- with the idle timeout off, it is live again; expires_at is then the lifetime's end
SET acctsec.session_idle_timeout = 0;
SELECT c.expires_at - now() BETWEEN '29 days 23 hours' AND '30 days' AS expires_at_lifetime_end
FROM s, acctsec.session_check(s.token) c WHERE s.name = 'idle';
RESET acctsec.session_idle_timeout;
-- absolute lifetime: a session started 30 days ago is over, even if used now
INSERT INTO s SELECT 'old', session_id, token FROM acctsec.session_start('regress_dave');
SELECT pg_temp.age_session('old', '29 days 23 hours');
UPDATE acctsec.account_sessions SET last_seen_at = now()
WHERE session_id = (SELECT session_id FROM s WHERE name = 'old');
SELECT c.expires_at - now() BETWEEN '59 minutes' AND '1 hour' AS old_session_expires_within_the_hour
FROM s, acctsec.session_check(s.token) c WHERE s.name = 'old';
SELECT pg_temp.age_session('old', '1 hour');
SELECT count(*) AS expired_rows FROM s, acctsec.session_check(token) WHERE name = 'old';
SELECT acctsec.session_rotate(token) AS rotate_expired FROM s WHERE name = 'old';
SELECT acctsec.session_end(token) AS end_expired FROM s WHERE name = 'old';
-- sessions() lists live sessions only, oldest first
SELECT session_id = (SELECT session_id FROM s WHERE name = 'old') AS is_old, count(*)
FROM acctsec.sessions('regress_dave') GROUP BY 1;

-- session_rotate: a new token for the same session; the old one is retired
INSERT INTO s SELECT 'r1', session_id, acctsec.session_rotate(token) FROM s WHERE name = 'b1';
SELECT token ~ '^acs_[A-Za-z0-9_-]{56}$' AS new_format,
       token <> (SELECT token FROM s WHERE name = 'b1') AS new_token,
       (SELECT c.session_id FROM acctsec.session_check(token) c) = session_id AS same_session
FROM s WHERE name = 'r1';
SELECT count(*) AS old_token_checks FROM s, acctsec.session_check(token) WHERE name = 'b1';
-- the retired token within the grace (10 s): refused, the session lives on
SELECT acctsec.session_rotate(token) AS within_grace FROM s WHERE name = 'b1';
SELECT count(*) AS new_token_still_checks FROM s, acctsec.session_check(token) WHERE name = 'r1';
-- rotate again (a chain of retired tokens)
INSERT INTO s SELECT 'r2', session_id, acctsec.session_rotate(token) FROM s WHERE name = 'r1';
SELECT count(*) AS retired_tokens FROM acctsec.retired_session_tokens
WHERE session_id = (SELECT session_id FROM s WHERE name = 'b1');
-- a made-up or altered token is simply NULL, and revokes nothing
SELECT acctsec.session_rotate(v) AS rotate_bad
FROM s, LATERAL (VALUES (left(token, 59) || CASE WHEN right(token, 1) = 'A' THEN 'B' ELSE 'A' END),
  ('act_' || substr(token, 5)), (''), (repeat(token, 100000))) AS v(v)
WHERE name = 'b1';
SELECT acctsec.session_rotate(NULL) AS rotate_null;
-- the first retired token replayed after the grace: NULL, and the whole session is revoked
UPDATE acctsec.retired_session_tokens SET retired_at = retired_at - interval '11 seconds'
WHERE session_id = (SELECT session_id FROM s WHERE name = 'b1');
SELECT acctsec.session_rotate(token) AS replay_after_grace FROM s WHERE name = 'b1';
SELECT count(*) AS current_token_rows FROM s, acctsec.session_check(token) WHERE name = 'r2';
SELECT count(*) AS sessions_left, (SELECT count(*) FROM acctsec.retired_session_tokens r
  WHERE r.session_id = (SELECT session_id FROM s WHERE name = 'b1')) AS retired_left
FROM acctsec.account_sessions WHERE account = 'regress_bob';
-- the grace is a setting: with 0 a replay revokes at once
SET acctsec.session_reuse_grace = 0;
INSERT INTO s SELECT 'g1', session_id, token FROM acctsec.session_start('regress_bob');
INSERT INTO s SELECT 'g2', session_id, acctsec.session_rotate(token) FROM s WHERE name = 'g1';
SELECT acctsec.session_rotate(token) AS replay_no_grace FROM s WHERE name = 'g1';
SELECT count(*) AS revoked_at_once FROM s, acctsec.session_check(token) WHERE name = 'g2';
RESET acctsec.session_reuse_grace;

-- session_end: true once for a live session, false for anything else
INSERT INTO s SELECT 'e1', session_id, token FROM acctsec.session_start('regress_erin');
SELECT acctsec.session_end(token) AS ended, acctsec.session_end(token) AS ended_again
FROM s WHERE name = 'e1';
SELECT count(*) AS rows_after_end FROM s, acctsec.session_check(token) WHERE name = 'e1';
SELECT acctsec.session_end(NULL) AS end_null, acctsec.session_end('') AS end_empty,
       acctsec.session_end(repeat('x', 1000000)) AS end_huge;

-- sessions / session_revoke: only the account's own sessions
INSERT INTO s SELECT 'f' || i, session_id, token
FROM generate_series(1, 3) i, acctsec.session_start('regress_frank', ('198.51.100.' || i)::inet, 'agent ' || i);
SELECT ip, user_agent, started_at = last_seen_at AS unused, expires_at - started_at AS lifetime
FROM acctsec.sessions('regress_frank') ORDER BY session_id;
SELECT acctsec.session_revoke('regress_alice', (SELECT session_id FROM s WHERE name = 'f1')) AS other_account,
       acctsec.session_revoke('regress_frank', (SELECT session_id FROM s WHERE name = 'f1')) AS own,
       acctsec.session_revoke('regress_frank', (SELECT session_id FROM s WHERE name = 'f1')) AS again,
       acctsec.session_revoke('regress_frank', NULL) AS null_id,
       acctsec.session_revoke('regress_frank', -1) AS unknown_id;
SELECT count(*) AS frank_sessions FROM acctsec.sessions('regress_frank');
SELECT count(*) AS unknown_account_sessions FROM acctsec.sessions('regress_nobody');

-- sessions_revoke_all: everything, or everything but the caller's own session
INSERT INTO s SELECT 'f4', session_id, token FROM acctsec.session_start('regress_frank');
SELECT acctsec.sessions_revoke_all('regress_frank', token) AS revoked_but_own FROM s WHERE name = 'f2';
SELECT name, count(c.*) AS rows FROM s LEFT JOIN LATERAL acctsec.session_check(token) c ON true
WHERE name LIKE 'f_' GROUP BY name ORDER BY name;
-- another account's token keeps nothing; a bad one neither
SELECT acctsec.sessions_revoke_all('regress_frank', token) AS foreign_token FROM s WHERE name = 'a1';
SELECT count(*) AS frank_left FROM acctsec.sessions('regress_frank');
INSERT INTO s SELECT 'f5', session_id, token FROM acctsec.session_start('regress_frank');
SELECT acctsec.sessions_revoke_all('regress_frank', 'garbage') AS bad_keep,
       acctsec.sessions_revoke_all('regress_frank') AS nothing_left,
       acctsec.sessions_revoke_all('regress_unknown') AS unknown_account;

-- credentials_changed: all sessions but the caller's, and all one-time tokens
INSERT INTO s SELECT 'g' || i, session_id, token
FROM generate_series(3, 5) i, acctsec.session_start('regress_gina', NULL, 'agent ' || i);
INSERT INTO s VALUES ('g_reset', NULL, acctsec.token_issue('regress_gina', 'password_reset'));
BEGIN;
SELECT acctsec.credentials_changed('regress_gina', token) AS revoked FROM s WHERE name = 'g4';
SELECT name, count(c.*) AS rows FROM s LEFT JOIN LATERAL acctsec.session_check(token) c ON true
WHERE name IN ('g3', 'g4', 'g5') GROUP BY name ORDER BY name;
SELECT acctsec.token_peek(token, 'password_reset') AS reset_token FROM s WHERE name = 'g_reset';
ROLLBACK;
-- rolled back with the transaction it belongs to; without keep_token, all of it
SELECT count(*) AS gina_sessions_after_rollback FROM acctsec.sessions('regress_gina');
SELECT acctsec.credentials_changed('regress_gina') AS revoked;
SELECT count(*) AS gina_left FROM acctsec.sessions('regress_gina');

-- a lockout revokes every session of the account; forget_account erases them
SET acctsec.max_failed_attempts = 2;
INSERT INTO s SELECT 'h1', session_id, token FROM acctsec.session_start('regress_hal');
SELECT (acctsec.login_attempt('regress_hal', false)).status;
SELECT count(*) AS after_failure FROM s, acctsec.session_check(token) WHERE name = 'h1';
SELECT (acctsec.login_attempt('regress_hal', false)).status;
SELECT count(*) AS after_lockout FROM s, acctsec.session_check(token) WHERE name = 'h1';
RESET acctsec.max_failed_attempts;
INSERT INTO s SELECT 'i1', session_id, token FROM acctsec.session_start('regress_ivy');
SELECT acctsec.forget_account('regress_ivy') AS forgotten;
SELECT count(*) AS after_forget FROM s, acctsec.session_check(token) WHERE name = 'i1';

-- errors: the account argument (22023); everything token-shaped is never an error
SELECT regress.error_of(st) AS outcome, st AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.session_start(NULL)$$,
  $$SELECT acctsec.session_start('')$$,
  $$SELECT acctsec.session_start(repeat('a', 1025))$$,
  $$SELECT acctsec.sessions(NULL)$$,
  $$SELECT acctsec.session_revoke(NULL, 1)$$,
  $$SELECT acctsec.sessions_revoke_all(NULL)$$,
  $$SELECT acctsec.credentials_changed('')$$,
  $$SELECT acctsec.session_check(NULL)$$,
  $$SELECT acctsec.session_rotate('acs_')$$
]) AS st;

-- settings: PGC_SUSET, with units
SELECT name, setting, unit, context, vartype, min_val, max_val
FROM pg_settings WHERE name LIKE 'acctsec.session%' ORDER BY name;
CREATE ROLE regress_sessions_app;
SELECT acctsec.grant_app_role('regress_sessions_app');
GRANT ALL ON s TO regress_sessions_app;
SET ROLE regress_sessions_app;
-- it cannot change the settings
SET acctsec.session_reuse_grace = 3600;
-- the application role can run the session functions, not read the tables
INSERT INTO s SELECT 'app', session_id, token FROM acctsec.session_start('regress_jo');
SELECT account FROM s, acctsec.session_check(token) WHERE name = 'app';
SELECT regress.error_of(st) AS outcome, st AS statement FROM unnest(ARRAY[
  $$SELECT * FROM acctsec.account_sessions$$,
  $$SELECT * FROM acctsec.retired_session_tokens$$,
  $$UPDATE acctsec.account_sessions SET expires_at = 'infinity'$$,
  $$SELECT acctsec.prune_expired()$$
]) AS st;
RESET ROLE;
-- session_check is no SECURITY DEFINER: its write of the last-seen time runs
-- as the table's owner, whatever the caller's search_path holds (here a
-- table of the same name in the caller's own schema, first in its path)
CREATE SCHEMA regress_sessions_own AUTHORIZATION regress_sessions_app;
SET acctsec.session_touch_interval = 0;
SET ROLE regress_sessions_app;
CREATE TABLE regress_sessions_own.account_sessions AS
  SELECT session_id, '-infinity'::timestamptz AS last_seen_at FROM s WHERE name = 'app';
SET search_path = regress_sessions_own, public;
SELECT account FROM s, acctsec.session_check(token) WHERE name = 'app';
RESET search_path;
RESET ROLE;
RESET acctsec.session_touch_interval;
SELECT a.last_seen_at > a.started_at AS touched_as_owner,
       o.last_seen_at = '-infinity' AS own_table_untouched
FROM acctsec.account_sessions a JOIN regress_sessions_own.account_sessions o USING (session_id);
DROP SCHEMA regress_sessions_own CASCADE;
SELECT acctsec.revoke_app_role('regress_sessions_app');
REVOKE ALL ON s FROM regress_sessions_app;
DROP ROLE regress_sessions_app;

-- security events: started, rotated, ended, revoked (by whom and why) and
-- reuse detected; session_check writes none (it is the hot path)
SELECT operation, new_values->>'reason' AS reason, count(*) AS events
FROM acctsec.audit_log WHERE id > :mark AND relation IS NULL AND operation LIKE 'session.%'
GROUP BY 1, 2 ORDER BY 1, 2;
SELECT account, (new_values->>'session_id')::bigint = (SELECT session_id FROM s WHERE name = 'b1') AS the_replayed_session,
       new_values->>'revoked' AS revoked
FROM acctsec.audit_log WHERE id > :mark AND operation = 'session.reuse_detected' ORDER BY id;
SELECT account, new_values - 'kept_session_id' AS details,
       (new_values->>'kept_session_id')::bigint = (SELECT session_id FROM s WHERE name = 'f2') AS kept_f2
FROM acctsec.audit_log WHERE id > :mark AND operation = 'session.revoked' AND new_values ? 'revoked' ORDER BY id;
-- no token, nor any verifier, in the audit log
SELECT count(*) AS audit_rows_with_a_token
FROM acctsec.audit_log a, s WHERE s.token IS NOT NULL AND a::text LIKE '%' || right(s.token, 44) || '%';

-- prune_expired: expired and idle sessions (their retired tokens with them)
DELETE FROM acctsec.account_sessions;
DELETE FROM s;
INSERT INTO s SELECT 'p' || i, session_id, token
FROM generate_series(1, 4) i, acctsec.session_start('regress_kim', NULL, 'agent ' || i);
INSERT INTO s SELECT 'p1r', session_id, acctsec.session_rotate(token) FROM s WHERE name = 'p1';
SELECT pg_temp.age_session('p1', '31 days');
UPDATE acctsec.account_sessions SET last_seen_at = now() - interval '8 days'
WHERE session_id = (SELECT session_id FROM s WHERE name = 'p2');
SELECT acctsec.prune_expired() AS pruned;
SELECT (SELECT count(*) FROM acctsec.account_sessions) AS sessions_left,
       (SELECT count(*) FROM acctsec.retired_session_tokens) AS retired_left;

-- key rotation: a session made under one key keeps working while that key
-- is the previous one, and is simply invalid (no error) once it is gone.
-- The keys are in a key file (acctsec.secret_key_file: current key, then the
-- previous one), which needs no preloading and whose edits the next
-- transaction sees.
-- COPY writes it as the server's user (mode 0644: chmod makes it 0600, as
-- acctsec requires; later COPYs into the file keep its mode).
CREATE FUNCTION pg_temp.write_key_file(keys text[]) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE format('COPY (SELECT k FROM unnest(%L::text[]) WITH ORDINALITY u(k, n) ORDER BY n) TO %L',
                 keys, current_setting('data_directory') || '/regress_sessions.key');
END $f$;
CREATE TABLE sessions_keys (name text PRIMARY KEY, session_id bigint, token text);
SELECT pg_temp.write_key_file(ARRAY[repeat('1', 64)]);
SELECT current_setting('data_directory') || '/regress_sessions.key' AS keyfile \gset
\setenv ACCTSEC_REGRESS_KEYFILE :keyfile
\! chmod 0600 "$ACCTSEC_REGRESS_KEYFILE"
ALTER SYSTEM SET acctsec.secret_key_file = 'regress_sessions.key';
SELECT pg_reload_conf(), pg_sleep(0.5);
SELECT source FROM acctsec.key_status() WHERE is_current;
INSERT INTO sessions_keys SELECT 'k1', session_id, token FROM acctsec.session_start('regress_kim');
SELECT pg_temp.write_key_file(ARRAY[repeat('2', 64), repeat('1', 64)]);
SELECT source, is_current FROM acctsec.key_status() ORDER BY source;
INSERT INTO sessions_keys SELECT 'k2', session_id, token FROM acctsec.session_start('regress_kim');
SELECT name, count(c.*) AS rows FROM sessions_keys s LEFT JOIN LATERAL acctsec.session_check(token) c ON true
WHERE name IN ('k1', 'k2') GROUP BY name ORDER BY name;
SELECT count(DISTINCT substr(verifier_hash, 2, 4)) AS key_ids FROM acctsec.account_sessions
WHERE session_id IN (SELECT session_id FROM sessions_keys s WHERE name IN ('k1', 'k2'));
SELECT pg_temp.write_key_file(ARRAY[repeat('3', 64), repeat('2', 64)]);
SELECT name, count(c.*) AS rows FROM sessions_keys s LEFT JOIN LATERAL acctsec.session_check(token) c ON true
WHERE name IN ('k1', 'k2') GROUP BY name ORDER BY name;
SELECT acctsec.session_rotate(token) IS NULL AS rotate_old_key_null FROM sessions_keys s WHERE name = 'k1';
ALTER SYSTEM RESET acctsec.secret_key_file;
SELECT pg_reload_conf(), pg_sleep(0.5);
SELECT current_setting('acctsec.secret_key_file') = '' AS key_file_reset;
DROP TABLE sessions_keys;

-- a standby (or a read-only transaction) cannot write the last-seen time:
-- session_check says the touch is due, session_touch on the primary records it
SET acctsec.session_touch_interval = 0;
CREATE TEMP TABLE ro_session AS SELECT token FROM acctsec.session_start('regress_ro');
UPDATE acctsec.account_sessions SET last_seen_at = now() - interval '1 hour'
WHERE account = 'regress_ro';
BEGIN TRANSACTION READ ONLY;
SELECT account, touch_due FROM acctsec.session_check((SELECT token FROM ro_session));
SELECT acctsec.session_touch((SELECT token FROM ro_session));
ROLLBACK;
SELECT last_seen_at < now() - interval '59 minutes' AS not_touched_read_only
FROM acctsec.account_sessions WHERE account = 'regress_ro';
SELECT acctsec.session_touch((SELECT token FROM ro_session)) AS touched,
       acctsec.session_touch('acs_not-a-token') AS unknown_token;
SELECT last_seen_at > now() - interval '1 minute' AS touched_now FROM acctsec.account_sessions WHERE account = 'regress_ro';
SELECT account, touch_due FROM acctsec.session_check((SELECT token FROM ro_session));
RESET acctsec.session_touch_interval;
BEGIN TRANSACTION READ ONLY;
SELECT touch_due AS due_within_interval FROM acctsec.session_check((SELECT token FROM ro_session));
COMMIT;
DROP TABLE ro_session;

-- the functions' declarations
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.proisstrict,
       p.prosecdef, p.proconfig
FROM pg_proc p WHERE p.pronamespace = 'acctsec'::regnamespace
  AND (p.proname LIKE 'session%' OR p.proname IN ('credentials_changed', 'prune_expired'))
ORDER BY p.oid::regprocedure::text;
