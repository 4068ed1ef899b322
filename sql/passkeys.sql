-- Passkeys (SPEC section 15): settings, the options JSON, what a refused
-- registration or login answers, listing and removal.  Ceremonies with real
-- signatures are in test/passkeys/check_passkeys.sh (a software
-- authenticator makes the responses there).
\set VERBOSITY terse

-- without a relying party id or origins nothing starts
SELECT regress.error_of($$SELECT acctsec.passkey_register_begin('regress_pk')$$);
SET acctsec.passkey_rp_id = 'example.com';
SELECT regress.error_of($$SELECT acctsec.passkey_login_begin('regress_pk')$$);
SET acctsec.passkey_origins = 'https://example.com, https://www.example.com';

-- the creation options: everything but the random challenge and user id
SELECT o - 'challenge' - 'user' AS options,
       o->'user'->>'name' AS user_name, o->'user'->>'displayName' AS display_name,
       length(o->>'challenge') AS challenge_chars,
       length(o->'user'->>'id') AS user_id_chars
FROM acctsec.passkey_register_begin('regress_pk', 'pk@example.com', 'P. K.') o;
-- the challenge is a one-time token of purpose passkey.register; a new
-- begin replaces it, and the user id stays
SELECT count(*) AS live_challenges FROM acctsec.one_time_tokens
WHERE account = 'regress_pk' AND purpose = 'passkey.register';
SELECT a->'user'->>'id' = b->'user'->>'id' AS same_user_id,
       a->>'challenge' <> b->>'challenge' AS new_challenge
FROM acctsec.passkey_register_begin('regress_pk') a,
     acctsec.passkey_register_begin('regress_pk') b;
SELECT convert_from(decode(translate(o->>'challenge', '-_', '+/'), 'base64'), 'UTF8') ~ '^act_'
       AS challenge_is_a_token
FROM acctsec.passkey_register_begin('regress_pk') o;

SET acctsec.passkey_rp_name = 'Example "Corp"';
SET acctsec.passkey_user_verification = 'required';
SET acctsec.passkey_timeout = '2min';
SELECT o->'rp' AS rp, o->'authenticatorSelection' AS selection, o->'timeout' AS timeout
FROM acctsec.passkey_register_begin('regress_pk') o;
SELECT o - 'challenge' AS options, length(o->>'challenge') AS challenge_chars
FROM acctsec.passkey_login_begin('regress_pk') o;
RESET acctsec.passkey_user_verification;
RESET acctsec.passkey_timeout;

-- arguments
SELECT regress.error_of($$SELECT acctsec.passkey_register_begin(NULL)$$);
SELECT regress.error_of($$SELECT acctsec.passkey_register_begin('regress_pk', '')$$);
SELECT regress.error_of($$SELECT acctsec.passkey_register_begin('regress_pk', repeat('x', 257))$$);
SELECT regress.error_of($$SELECT acctsec.passkey_register_finish('regress_pk', NULL)$$);
SELECT regress.error_of($$SELECT acctsec.passkey_register_finish('regress_pk', '{}', repeat('n', 201))$$);
SELECT regress.error_of($$SELECT acctsec.passkey_login_finish(NULL)$$);
SELECT regress.error_of($$SET acctsec.passkey_user_verification = 'always'$$);

-- registration: every malformed response is 22023, naming the check
SELECT regress.error_of($$SELECT acctsec.passkey_register_finish('regress_pk', '[]')$$);
SELECT regress.error_of($$SELECT acctsec.passkey_register_finish('regress_pk', '{}')$$);
SELECT regress.error_of($$SELECT acctsec.passkey_register_finish('regress_pk', '{"response": {}}')$$);
SELECT regress.error_of($$SELECT acctsec.passkey_register_finish('regress_pk', '{"response": {"clientDataJSON": "%%%"}}')$$);
SELECT regress.error_of(format($$SELECT acctsec.passkey_register_finish('regress_pk', %L)$$,
  jsonb_build_object('response', jsonb_build_object('clientDataJSON',
    rtrim(translate(encode(convert_to('{"type":"webauthn.get"}', 'UTF8'), 'base64'), '+/', '-_'), '=')))));
SELECT regress.error_of(format($$SELECT acctsec.passkey_register_finish('regress_pk', %L)$$,
  jsonb_build_object('response', jsonb_build_object('clientDataJSON',
    rtrim(translate(encode(convert_to('{"type":"webauthn.create","challenge":"AAAA"}', 'UTF8'), 'base64'), '+/', '-_'), '=')))));
SELECT regress.error_of(format($$SELECT acctsec.passkey_register_finish('regress_pk', %L)$$,
  jsonb_build_object('response', jsonb_build_object('clientDataJSON', repeat('A', 6000)))));
SELECT regress.error_of(format($$SELECT acctsec.passkey_register_finish('regress_pk', %L)$$,
  jsonb_build_object('pad', repeat('x', 70000))));

-- a discoverable-credential login: passkey_login_begin(NULL) offers no
-- credentials, and its challenge is a one-time token of no account, as
-- many live as begun; token_peek and token_consume do not take one
SELECT o - 'challenge' AS options, length(o->>'challenge') AS challenge_chars
FROM acctsec.passkey_login_begin(NULL) o;
SELECT convert_from(decode(translate(o->>'challenge', '-_', '+/'), 'base64'), 'UTF8') AS token
FROM acctsec.passkey_login_begin(NULL) o \gset
SELECT count(*) AS unbound_challenges FROM acctsec.one_time_tokens
WHERE account IS NULL AND purpose = 'passkey.login';
SELECT acctsec.token_peek(:'token', 'passkey.login') AS peek,
       acctsec.token_consume(:'token', 'passkey.login') AS consume;
SELECT count(*) AS unbound_challenges FROM acctsec.one_time_tokens
WHERE account IS NULL AND purpose = 'passkey.login';
-- no other token may be of no account
SELECT regress.error_of($$INSERT INTO acctsec.one_time_tokens
  VALUES ('\x000000000000000000', NULL, 'password_reset', '\x00', now(), now())$$);
SELECT regress.error_of($$INSERT INTO acctsec.one_time_tokens
  VALUES ('\x000000000000000000', NULL, 'passkey.register', '\x00', now(), now())$$);
-- the credential algorithms stored: ES256, EdDSA, RS256 and no other
SELECT regress.error_of($$INSERT INTO acctsec.passkey_credentials (account, credential_id,
  public_key, alg, aaguid, sign_count, backup_eligible, backed_up, created_at)
  VALUES ('regress_pk', '\x01', '\x', -37, gen_random_uuid(), 0, false, false, now())$$);
-- expired ones go with prune_expired
UPDATE acctsec.one_time_tokens SET expires_at = now() - interval '1 second'
WHERE account IS NULL;
SELECT acctsec.prune_expired() IS NOT NULL AS pruned;
SELECT count(*) AS unbound_challenges FROM acctsec.one_time_tokens WHERE account IS NULL;

-- login: a response naming no registered credential is a failed login
-- counted against no account
SELECT * FROM acctsec.passkey_login_finish('[]');
SELECT * FROM acctsec.passkey_login_finish('{"rawId": "AAAA"}');
SELECT * FROM acctsec.passkey_login_finish(jsonb_build_object('rawId', repeat('A', 2000)));
SELECT * FROM acctsec.passkey_login_finish(jsonb_build_object('rawId', 'AA', 'pad', repeat('x', 70000)));

-- nothing registered: empty lists; removal of nothing
SELECT * FROM acctsec.passkeys('regress_pk');
SELECT acctsec.passkey_remove('regress_pk', 1);

-- grants: nothing to PUBLIC; grant_app_role grants the app-facing functions
SELECT p.oid::regprocedure AS function, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       p.oid::regprocedure IN (SELECT acctsec.app_functions()) AS app_function
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'acctsec' AND p.proname LIKE 'passkey%'
ORDER BY 1::text;
SELECT c.relname, has_table_privilege('public', c.oid, 'SELECT') AS public_select
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'acctsec' AND c.relname LIKE 'passkey%' AND c.relkind = 'r' ORDER BY 1;

-- forget_account erases the account's passkey state
SELECT acctsec.forget_account('regress_pk');
SELECT count(*) AS user_handles FROM acctsec.passkey_users WHERE account = 'regress_pk';
RESET acctsec.passkey_rp_id;
RESET acctsec.passkey_origins;
RESET acctsec.passkey_rp_name;
