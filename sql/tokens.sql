-- One-time tokens (SPEC section 13): format, issue/peek/consume, purposes,
-- re-issue, expiry, malformed input, errors, what is stored, revocation.
\set VERBOSITY terse
CREATE TEMP TABLE tok (name text PRIMARY KEY, token text);

-- the format: "act_", then 56 URL-safe characters; never twice the same
INSERT INTO tok VALUES ('reset', acctsec.token_issue('regress_alice', 'password_reset'));
INSERT INTO tok VALUES ('verify', acctsec.token_issue('regress_alice', 'email_verification', '2 days'));
SELECT name, length(token) AS len, token ~ '^act_[A-Za-z0-9_-]{56}$' AS url_safe_format
FROM tok ORDER BY name;
SELECT count(DISTINCT acctsec.token_issue('regress_many', 'p' || i)) AS distinct_tokens
FROM generate_series(1, 100) i;

-- peek checks without consuming; consume gives the account exactly once
SELECT acctsec.token_peek(token, 'password_reset') AS peek,
       acctsec.token_peek(token, 'password_reset') AS peek_again
FROM tok WHERE name = 'reset';
SELECT acctsec.token_consume(token, 'password_reset') AS consumed FROM tok WHERE name = 'reset';
SELECT acctsec.token_consume(token, 'password_reset') AS consumed_again,
       acctsec.token_peek(token, 'password_reset') AS peek_after_use
FROM tok WHERE name = 'reset';

-- another purpose's token is NULL, and is not used up by the attempt
SELECT acctsec.token_consume(token, 'password_reset') AS wrong_purpose,
       acctsec.token_peek(token, 'Email_Verification') AS purpose_is_exact,
       acctsec.token_peek(token, 'email_verification') AS still_there
FROM tok WHERE name = 'verify';

-- issuing again for an account and purpose revokes the earlier token;
-- another purpose's token stays
UPDATE tok SET token = acctsec.token_issue('regress_bob', 'password_reset') WHERE name = 'reset';
INSERT INTO tok VALUES ('reset2', acctsec.token_issue('regress_bob', 'password_reset'));
SELECT acctsec.token_peek(token, 'password_reset') AS first_after_reissue
FROM tok WHERE name = 'reset';
SELECT acctsec.token_peek(token, 'password_reset') AS second
FROM tok WHERE name = 'reset2';
SELECT acctsec.token_peek(token, 'email_verification') AS other_purpose
FROM tok WHERE name = 'verify';

-- expired: the stored expiry moved into the past (no sleeping)
UPDATE acctsec.one_time_tokens SET expires_at = now() - interval '1 second'
WHERE account = 'regress_bob';
SELECT acctsec.token_peek(token, 'password_reset') AS expired_peek,
       acctsec.token_consume(token, 'password_reset') AS expired_consume
FROM tok WHERE name = 'reset2';
-- the expiry is the ttl given: 2 days for the verification token, 1 hour by default
INSERT INTO tok VALUES ('ttl', acctsec.token_issue('regress_carol', 'magic_link'));
-- (compared as timestamps: across a daylight-saving change 2 days are 47 or 49 hours)
SELECT account, purpose,
       expires_at = issued_at + CASE purpose WHEN 'magic_link' THEN interval '1 hour'
                                             ELSE interval '2 days' END AS expires_after_ttl
FROM acctsec.one_time_tokens WHERE account IN ('regress_alice', 'regress_carol')
ORDER BY account;
SELECT acctsec.token_peek(token, 'magic_link') AS ttl_token_live FROM tok WHERE name = 'ttl';

-- anything malformed or altered is simply NULL, never an error
SELECT t AS case, acctsec.token_peek(v, 'magic_link') AS peek,
       acctsec.token_consume(v, 'magic_link') AS consume
FROM tok, LATERAL (VALUES
  ('one character changed', left(token, 59) || CASE WHEN right(token, 1) = 'A' THEN 'B' ELSE 'A' END),
  ('verifier of another token', left(token, 16) || right((SELECT token FROM tok WHERE name = 'verify'), 44)),
  ('session prefix', 'acs_' || substr(token, 5)),
  ('upper-case prefix', 'ACT_' || substr(token, 5)),
  ('one character short', left(token, 59)),
  ('one character more', token || 'A'),
  ('padding', left(token, 59) || '='),
  ('standard base64 character', left(token, 20) || '+' || substr(token, 22)),
  ('space', left(token, 20) || ' ' || substr(token, 22)),
  ('non-ASCII', left(token, 20) || 'é' || substr(token, 23)),
  ('empty', ''),
  ('prefix only', 'act_'),
  ('huge', repeat(token, 100000)),
  ('NULL', NULL)) AS c(t, v)
WHERE name = 'ttl';
SELECT acctsec.token_peek(token, NULL) AS null_purpose,
       acctsec.token_peek(token, repeat('x', 1000000)) AS huge_purpose
FROM tok WHERE name = 'ttl';
-- and the genuine token still works after all that
SELECT acctsec.token_consume(token, 'magic_link') AS genuine FROM tok WHERE name = 'ttl';

-- errors: bad account, purpose or ttl (SQLSTATE 22023)
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.token_issue(NULL, 'p')$$,
  $$SELECT acctsec.token_issue('', 'p')$$,
  $$SELECT acctsec.token_issue(repeat('a', 1025), 'p')$$,
  $$SELECT acctsec.token_issue('regress_err', NULL)$$,
  $$SELECT acctsec.token_issue('regress_err', '')$$,
  $$SELECT acctsec.token_issue('regress_err', repeat('p', 65))$$,
  $$SELECT acctsec.token_issue('regress_err', 'Password_Reset')$$,
  $$SELECT acctsec.token_issue('regress_err', '1reset')$$,
  $$SELECT acctsec.token_issue('regress_err', 'password reset')$$,
  $$SELECT acctsec.token_issue('regress_err', E'reset\nforged log line')$$,
  $$SELECT acctsec.token_issue('regress_err', acctsec.token_issue('regress_err', 'p'))$$,
  $$SELECT acctsec.token_issue('regress_err', 'act_' || repeat('A', 56))$$,
  $$SELECT acctsec.token_issue('regress_err', 'acs_x')$$,
  $$SELECT acctsec.token_issue('regress_err', 'p', NULL)$$,
  $$SELECT acctsec.token_issue('regress_err', 'p', '0')$$,
  $$SELECT acctsec.token_issue('regress_err', 'p', '-1 hour')$$,
  $$SELECT acctsec.token_issue('regress_err', 'p', '30 days 1 second')$$,
  $$SELECT acctsec.token_issue('regress_err', 'p', '1 month 1 day')$$,
  $$SELECT acctsec.token_issue('regress_err', 'p', '100 years')$$
]) AS s;
-- the limits themselves are fine
SELECT length(acctsec.token_issue(repeat('a', 1024), repeat('p', 64), '30 days')) AS at_limits,
       length(acctsec.token_issue('regress_err', 'p', '1 microsecond')) AS shortest;
SELECT count(*) AS nothing_stored_on_error FROM acctsec.one_time_tokens WHERE account = 'regress_err' AND purpose <> 'p';

-- what is stored: a 9-byte selector and a 37-byte keyed hash (version, key
-- id, BLAKE2b-256); no stored value contains any part of a token
SELECT count(*) AS rows, bool_and(octet_length(selector) = 9) AS selectors_9_bytes,
       bool_and(octet_length(verifier_hash) = 37) AS hashes_37_bytes
FROM acctsec.one_time_tokens;
SELECT count(*) AS rows_containing_a_verifier
FROM acctsec.one_time_tokens o, tok
WHERE position(decode(translate(right(tok.token, 44), '-_', '+/'), 'base64') IN o.verifier_hash) > 0
   OR position(decode(translate(right(tok.token, 44), '-_', '+/'), 'base64') IN o.selector) > 0
   OR o::text LIKE '%' || right(tok.token, 44) || '%';

-- the selector leads to the row; the stored hash is of the verifier, keyed:
-- re-hashing without the key does not give it
SELECT count(*) AS unkeyed_hash_matches
FROM acctsec.one_time_tokens o, tok
WHERE substr(o.verifier_hash, 6) = sha256(decode(translate(right(tok.token, 44), '-_', '+/'), 'base64'));

-- forget_account and a lockout revoke the account's tokens
INSERT INTO tok VALUES ('forget', acctsec.token_issue('regress_dave', 'password_reset'));
SELECT acctsec.forget_account('regress_dave') AS forgotten;
SELECT acctsec.token_peek(token, 'password_reset') AS after_forget FROM tok WHERE name = 'forget';
SET acctsec.max_failed_attempts = 2;
INSERT INTO tok VALUES ('lock', acctsec.token_issue('regress_erin', 'password_reset'));
SELECT (acctsec.login_attempt('regress_erin', false)).status;
SELECT acctsec.token_peek(token, 'password_reset') AS after_one_failure FROM tok WHERE name = 'lock';
SELECT (acctsec.login_attempt('regress_erin', false)).status;
SELECT acctsec.token_peek(token, 'password_reset') AS after_lockout FROM tok WHERE name = 'lock';
RESET acctsec.max_failed_attempts;

-- credentials_changed revokes every one-time token of the account
INSERT INTO tok VALUES ('cc1', acctsec.token_issue('regress_frank', 'password_reset')),
                       ('cc2', acctsec.token_issue('regress_frank', 'email_verification'));
SELECT acctsec.credentials_changed('regress_frank') AS revoked;
SELECT count(acctsec.token_peek(token, p)) AS left_after_change
FROM tok, unnest(ARRAY['password_reset', 'email_verification']) p WHERE name IN ('cc1', 'cc2');

-- prune_expired deletes expired tokens only
UPDATE acctsec.one_time_tokens SET expires_at = now() - interval '1 minute'
WHERE account = 'regress_many' AND purpose IN ('p1', 'p2', 'p3');
SELECT acctsec.prune_expired() AS pruned;
SELECT count(*) AS many_left FROM acctsec.one_time_tokens WHERE account = 'regress_many';

-- security events: issued and consumed (with the purpose), revoked in bulk
-- with the reason; never a token
SELECT operation, left(account, 20) AS account, new_values - 'expires_at' AS details,
       (new_values->>'expires_at')::timestamptz > now() AS expires_later
FROM acctsec.audit_log
WHERE relation IS NULL AND (operation LIKE 'token.%' OR operation = 'session.revoked')
  AND account <> 'regress_many'
ORDER BY id;
SELECT count(*) AS regress_many_issued FROM acctsec.audit_log
WHERE operation = 'token.issued' AND account = 'regress_many';
SELECT count(*) AS audit_rows_with_a_token
FROM acctsec.audit_log a, tok WHERE a::text LIKE '%' || right(tok.token, 44) || '%';

-- an application role: the functions, but not the table nor prune_expired
CREATE ROLE regress_tokens_app;
SELECT acctsec.grant_app_role('regress_tokens_app');
SET ROLE regress_tokens_app;
SELECT length(acctsec.token_issue('regress_gina', 'password_reset')) AS app_issue;
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT * FROM acctsec.one_time_tokens$$,
  $$DELETE FROM acctsec.one_time_tokens$$,
  $$SELECT acctsec.prune_expired()$$
]) AS s;
RESET ROLE;
SELECT acctsec.revoke_app_role('regress_tokens_app');
DROP ROLE regress_tokens_app;

-- the functions' declarations
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.proisstrict,
       p.prosecdef, p.proconfig
FROM pg_proc p WHERE p.pronamespace = 'acctsec'::regnamespace AND p.proname LIKE 'token\_%'
ORDER BY p.oid::regprocedure::text;
