-- Hostile input: every public function called with NULLs, empty strings,
-- megabyte-long strings, bytes at the edges of UTF-8, out-of-range integers
-- and timestamps at the ends of their range.  Each call gives a documented
-- result or a clear error with its SQLSTATE, never a crash or an internal
-- error (XX000).  Results are shown as their properties (kind and length),
-- never as values.  Every call runs in its own subtransaction that is rolled
-- back afterwards, so each starts from the same state; the sequences of
-- calls in the wrong order come after.
\set VERBOSITY terse

-- Run one expression; check its result is of the kind the function
-- promises and describe it, or give the error's SQLSTATE and message.
CREATE FUNCTION pg_temp.outcome(expr text, kind text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  v text;
  d text;
BEGIN
  EXECUTE format('SELECT (%s)::text', expr) INTO v;
  IF v IS NULL THEN
    d := 'null';
  ELSE
    d := CASE kind
      WHEN 'boolean' THEN v
      WHEN 'bytea' THEN format('bytes(%s)', (length(v) - 2) / 2)
      WHEN 'code' THEN CASE WHEN v ~ '^[0-9]+$' THEN format('code(%s)', length(v)) END
      WHEN 'base32' THEN CASE WHEN v ~ '^[A-Z2-7]*$' THEN format('base32(%s)', length(v)) END
      -- the URI must stay well-formed whatever went into it
      WHEN 'uri' THEN CASE WHEN v ~ ('^otpauth://totp/([A-Za-z0-9._~-]|%[0-9A-F]{2})+(:([A-Za-z0-9._~-]|%[0-9A-F]{2})+)?'
                                     '\?secret=[A-Z2-7]+(&issuer=([A-Za-z0-9._~-]|%[0-9A-F]{2})+)?'
                                     '&algorithm=SHA(1|256|512)&digits=[0-9]+&period=[0-9]+$')
                           THEN format('uri(%s)', length(v)) END
      -- login_result: the status
      WHEN 'login' THEN substring(v FROM '^\(([a-z_]+),[tf],')
      -- account_status: an unknown account is all zeros, NULLs and false
      WHEN 'status' THEN CASE WHEN v ~ ',0,,0,,,0,f,0,0,,0,0\)$' THEN 'row (no state)'
                              WHEN v ~ '^\(' THEN 'row (state)' END
      WHEN 'count' THEN CASE WHEN v ~ '^[0-9]+$' THEN 'count' END
      WHEN 'void' THEN CASE WHEN v = '' THEN 'void' END
      WHEN 'row' THEN CASE WHEN v ~ '^\(.*\)$' THEN 'row' END
      WHEN 'text' THEN 'text'
      -- tokens: a type prefix and a URL-safe body
      WHEN 'token' THEN CASE WHEN v ~ '^[a-z]+_[A-Za-z0-9_-]+$' THEN format('token(%s)', length(v)) END
      WHEN 'json' THEN CASE WHEN v::jsonb IS NOT NULL THEN format('json %s', jsonb_typeof(v::jsonb)) END
      WHEN 'number' THEN CASE WHEN v ~ '^[0-9]+$' THEN v END
      -- totp_enroll: a base32 secret and a well-formed URI that carries it
      WHEN 'enrol' THEN CASE WHEN v ~ ('^\(([A-Z2-7]+),"?otpauth://totp/([A-Za-z0-9._~-]|%[0-9A-F]{2})+(:([A-Za-z0-9._~-]|%[0-9A-F]{2})+)?'
                                       '\?secret=\1(&issuer=([A-Za-z0-9._~-]|%[0-9A-F]{2})+)?'
                                       '&algorithm=SHA(1|256|512)&digits=[0-9]+&period=[0-9]+"?\)$')
                             THEN format('secret(%s) and its uri', length(substring(v FROM '^\(([A-Z2-7]+),'))) END
      -- backup_codes_generate (its first code): two lower-case groups
      WHEN 'backup' THEN CASE WHEN v ~ '^[a-z0-9]+-[a-z0-9]+$' THEN format('backup code(%s)', length(v)) END
      -- audit_verify: the chain must stay intact whatever was called
      WHEN 'verify' THEN CASE WHEN v ~ '^\(t,[0-9]+,\)$' THEN 'chain intact' END
      -- an Argon2id hash in the PHC string format, whatever the password
      WHEN 'phc' THEN CASE WHEN v ~ '^\$argon2id\$v=19\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$'
                           THEN 'argon2id hash' END
      END;
  END IF;
  -- undo whatever the call did, so that every call starts from one state
  RAISE EXCEPTION USING ERRCODE = 'HR000';
EXCEPTION
  WHEN SQLSTATE 'HR000' THEN
    RETURN d;
  WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $f$;

-- Cheap password hashes for this test (thousands of calls).
SET acctsec.password_memory_kib = '64kB';
SET acctsec.password_iterations = 1;

-- What the valid arguments name: application tables of every kind, a
-- linked table, an application role, a locked account.
SET client_min_messages = warning;
CREATE TABLE regress_hostile_users (id int PRIMARY KEY, email text, active boolean,
                                    updated_at timestamptz);
CREATE TABLE regress_hostile_linked (id int PRIMARY KEY);
CREATE TABLE regress_hostile_bare (x int);
CREATE VIEW regress_hostile_view AS SELECT * FROM regress_hostile_users;
CREATE SEQUENCE regress_hostile_seq;
CREATE TABLE regress_hostile_parted (id int, updated_at timestamptz) PARTITION BY RANGE (id);
CREATE TEMP TABLE regress_hostile_temp (id int, updated_at timestamptz);
DROP ROLE IF EXISTS regress_hostile_app;
CREATE ROLE regress_hostile_app;
RESET client_min_messages;
SELECT acctsec.link_account_table('regress_hostile_linked', 'id');
-- a users table with a password column, linked (for login)
CREATE TABLE regress_hostile_login (id text PRIMARY KEY, password text);
INSERT INTO regress_hostile_login
  VALUES ('regress_hostile_user', acctsec.password_hash('correct horse battery staple'));
SELECT acctsec.link_account_table('regress_hostile_login', 'id');
SELECT acctsec.audit_table('regress_hostile_linked');
SELECT (acctsec.login_attempt('regress_hostile_locked', false)).status FROM generate_series(1, 5);
SELECT locked_until > now() AS locked FROM acctsec.account_status('regress_hostile_locked');
SELECT set_config('regress.hostile_hash', acctsec.password_hash('correct horse battery staple'), false) IS NOT NULL AS hash_made;
-- an account with active TOTP and backup codes, one with a pending enrolment
-- (their secrets and codes are kept in settings of this session, never shown)
SELECT set_config('regress.totp_secret', secret, false) IS NOT NULL AS enrolled
FROM acctsec.totp_enroll('regress_hostile_totp');
SELECT acctsec.totp_confirm('regress_hostile_totp',
         acctsec.totp(acctsec.base32_decode(current_setting('regress.totp_secret')), clock_timestamp())) AS confirmed;
SELECT set_config('regress.backup_code', min(c), false) IS NOT NULL AS codes_made
FROM acctsec.backup_codes_generate('regress_hostile_totp', 5) AS c;
SELECT set_config('regress.pending_secret', secret, false) IS NOT NULL AS pending
FROM acctsec.totp_enroll('regress_hostile_pending');
-- a one-time token and a session (tokens kept in settings, never shown)
SELECT set_config('regress.token', acctsec.token_issue('regress_hostile', 'reset'), false) IS NOT NULL AS token_issued;
SELECT set_config('regress.session_token', token, false) IS NOT NULL AS session_started,
       set_config('regress.session_id', session_id::text, false) IS NOT NULL AS session_id_kept
FROM acctsec.session_start('regress_hostile');

-- Hostile values by type, as SQL expressions.
CREATE TEMP TABLE hostile_value (id serial, type text, label text, expr text);
INSERT INTO hostile_value (type, label, expr) VALUES
  ('bytea', 'null', 'NULL::bytea'),
  ('bytea', 'empty', $$''::bytea$$),
  ('bytea', 'one zero byte', $$'\x00'::bytea$$),
  ('bytea', 'one 0xff byte', $$'\xff'::bytea$$),
  ('bytea', 'lone UTF-8 lead byte', $$'\xc3'::bytea$$),
  ('bytea', 'UTF-8-encoded surrogate', $$'\xeda080'::bytea$$),
  ('bytea', 'beyond U+10FFFF', $$'\xf4908080'::bytea$$),
  ('bytea', '1024 bytes', $$convert_to(repeat('k', 1024), 'UTF8')$$),
  ('bytea', '1025 bytes', $$convert_to(repeat('k', 1025), 'UTF8')$$),
  ('bytea', '1 MiB', $$decode(repeat('ff', 1048576), 'hex')$$),
  ('text', 'null', 'NULL::text'),
  ('text', 'empty', $$''$$),
  ('text', 'space', $$' '$$),
  ('text', 'tab', $$E'\t'$$),
  ('text', 'newline', $$E'\n'$$),
  ('text', 'equals', $$'='$$),
  ('text', 'dash', $$'-'$$),
  ('text', 'percent escape', $$'%00'$$),
  ('text', '1 MiB of x', $$repeat('x', 1048576)$$),
  ('text', '1 MiB of 1', $$repeat('1', 1048576)$$),
  ('text', '1 MiB of A', $$repeat('A', 1048576)$$),
  ('text', '1 MiB of é', $$repeat('é', 524288)$$),
  ('text', 'e acute', $$'é'$$),
  ('text', 'U+FFFF', $$E'\uFFFF'$$),
  ('text', '4-byte emoji', $$E'\U0001F600'$$),
  ('text', 'zero-width space', $$E'\u200B'$$),
  ('text', 'no-break space', $$E'\u00A0'$$),
  ('text', 'right-to-left override', $$E'\u202E'$$),
  ('text', 'long s in sha1', $$'ſha1'$$),
  ('text', 'dotted I in SHA1', $$'SHA1İ'$$),
  ('text', 'fullwidth 1 in SHA1', $$'SHA１'$$),
  ('text', 'SHA1 with a space', $$'SHA1 '$$),
  ('text', 'SHA-1', $$'SHA-1'$$),
  ('text', 'sha256', $$'sha256'$$),
  ('text', 'Arabic-Indic digits', $$'١٢٣٤٥٦'$$),
  ('text', 'fullwidth digits', $$'１２３４５６'$$),
  ('text', 'digits and spaces', $$' 1 2 3 4 5 6 '$$),
  ('text', 'a base32 secret', $$'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'$$),
  ('text', 'argon2id hash asking for 4 GiB', $$'$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'$$),
  ('text', 'argon2id hash asking for 2^32 passes', $$'$argon2id$v=19$m=64,t=4294967295,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'$$),
  ('text', 'bcrypt hash of cost 31', $$'$2b$31$abcdefghijklmnopqrstuu5Wn0nX4XHxJwRB4aJg2JlC0q7IeRbK6'$$),
  ('text', 'sha512-crypt with 999999999 rounds', $$'$6$rounds=999999999$salt$' || repeat('a', 86)$$),
  ('text', 'truncated argon2id hash', $$'$argon2id$v=19$m=64,t=1,p=1$'$$),
  ('text', 'NUL character', $$chr(0)$$),
  ('text', 'invalid UTF-8', $$convert_from('\xc3'::bytea, 'UTF8')$$),
  ('text', 'UTF-8 surrogate', $$convert_from('\xeda080'::bytea, 'UTF8')$$),
  ('int', 'null', 'NULL::int'),
  ('int', 'INT_MIN', '-2147483648'),
  ('int', '-1', '-1'),
  ('int', '0', '0'),
  ('int', '1', '1'),
  ('int', '5', '5'),
  ('int', '6', '6'),
  ('int', '8', '8'),
  ('int', '9', '9'),
  ('int', '10', '10'),
  ('int', '11', '11'),
  ('int', '3600', '3600'),
  ('int', '3601', '3601'),
  ('int', 'INT_MAX', '2147483647'),
  ('int', 'INT_MAX + 1', '2147483648'),
  ('bigint', 'null', 'NULL::bigint'),
  ('bigint', 'BIGINT_MIN', '(-9223372036854775808)::bigint'),
  ('bigint', '-1', '(-1)::bigint'),
  ('bigint', '0', '0::bigint'),
  ('bigint', '2^32', '4294967296::bigint'),
  ('bigint', 'BIGINT_MAX', '9223372036854775807::bigint'),
  ('bigint', 'BIGINT_MAX + 1', '9223372036854775808::numeric'),
  ('timestamptz', 'null', 'NULL::timestamptz'),
  ('timestamptz', '-infinity', $$'-infinity'::timestamptz$$),
  ('timestamptz', 'infinity', $$'infinity'::timestamptz$$),
  ('timestamptz', 'earliest', $$'4714-11-24 00:00:00+00 BC'::timestamptz$$),
  ('timestamptz', 'just before 1970', $$'1969-12-31 23:59:59.999999+00'::timestamptz$$),
  ('timestamptz', '1970', $$'1970-01-01 00:00:00+00'::timestamptz$$),
  ('timestamptz', '2038 (32-bit wrap)', $$'2038-01-19 03:14:08+00'::timestamptz$$),
  ('timestamptz', 'latest', $$'294276-12-31 23:59:59.999999+00'::timestamptz$$),
  ('boolean', 'null', 'NULL::boolean'),
  ('boolean', 'true', 'true'),
  ('boolean', 'false', 'false'),
  ('inet', 'null', 'NULL::inet'),
  ('inet', '0.0.0.0', $$'0.0.0.0'::inet$$),
  ('inet', '255.255.255.255', $$'255.255.255.255'::inet$$),
  ('inet', 'IPv4 network', $$'10.0.0.0/8'::inet$$),
  ('inet', '::', $$'::'::inet$$),
  ('inet', 'all-ones IPv6', $$'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'::inet$$),
  ('inet', 'IPv4-mapped IPv6', $$'::ffff:192.0.2.1'::inet$$),
  ('inet', 'IPv6 link-local /64', $$'fe80::1/64'::inet$$),
  ('interval', 'null', 'NULL::interval'),
  ('interval', 'zero', $$'0'::interval$$),
  ('interval', 'negative', $$'-1 day'::interval$$),
  ('interval', 'one microsecond', $$'1 microsecond'::interval$$),
  ('interval', 'one month', $$'1 mon'::interval$$),
  ('interval', 'largest', $$'178000000 years'::interval$$),
  ('interval', 'most negative', $$'-178000000 years'::interval$$),
  ('regclass', 'null', 'NULL::regclass'),
  ('regclass', 'oid 0', '0::regclass'),
  ('regclass', 'no such oid', '4294967295::regclass'),
  ('regclass', 'a system catalog', $$'pg_class'::regclass$$),
  ('regclass', 'acctsec''s own table', $$'acctsec.accounts'::regclass$$),
  ('regclass', 'a view', $$'regress_hostile_view'::regclass$$),
  ('regclass', 'a sequence', $$'regress_hostile_seq'::regclass$$),
  ('regclass', 'a partitioned table', $$'regress_hostile_parted'::regclass$$),
  ('regclass', 'a temporary table', $$'regress_hostile_temp'::regclass$$),
  ('regclass', 'a table without the column', $$'regress_hostile_bare'::regclass$$),
  ('name', 'null', 'NULL::name'),
  ('name', 'empty', $$''::name$$),
  ('name', 'no such column', $$'no_such_column'::name$$),
  ('name', '64 characters', $$repeat('c', 64)::name$$),
  ('name', 'a system column', $$'ctid'::name$$),
  ('name', 'a text column', $$'email'::name$$),
  ('name', 'a boolean column', $$'active'::name$$),
  ('jsonb', 'null', 'NULL::jsonb'),
  ('jsonb', 'empty object', $$'{}'::jsonb$$),
  ('jsonb', 'array', $$'[]'::jsonb$$),
  ('jsonb', 'JSON null', $$'null'::jsonb$$),
  ('jsonb', 'string', $$'"x"'::jsonb$$),
  ('jsonb', 'unknown field', $$'{"no_such_field": "email"}'::jsonb$$),
  ('jsonb', 'deep nesting', $$(repeat('[', 5000) || repeat(']', 5000))::jsonb$$),
  ('text[]', 'null', 'NULL::text[]'),
  ('text[]', 'empty array', $$'{}'::text[]$$),
  ('text[]', 'a NULL element', $$'{NULL}'::text[]$$),
  ('text[]', 'an empty name', $$'{""}'::text[]$$),
  ('text[]', 'no such column', $$'{no_such_column}'::text[]$$),
  ('text[]', '10000 names', $$array_fill('email'::text, ARRAY[10000])$$),
  ('text[]', 'two dimensions', $$'{{email},{id}}'::text[]$$),
  ('regrole', 'null', 'NULL::regrole'),
  ('regrole', 'oid 0', '0::regrole'),
  ('regrole', 'no such oid', '4294967295::regrole'),
  ('regrole', 'a superuser', $$'postgres'::regrole$$),
  ('regrole', 'a predefined role', $$'pg_read_all_data'::regrole$$),
  ('regrole', 'PUBLIC', $$'public'::regrole$$);

-- The public functions with a valid value for every argument; each hostile
-- value of an argument's type replaces that one argument in turn.
CREATE TEMP TABLE hostile_call (fn text, arg int, name text, type text, valid text);
CREATE TEMP TABLE hostile_kind (fn text, kind text);
INSERT INTO hostile_kind VALUES ('hotp', 'code'), ('totp', 'code'), ('totp_check', 'boolean'),
  ('base32_encode', 'base32'), ('base32_decode', 'bytea'), ('totp_uri', 'uri'),
  ('account_status', 'status'), ('login_attempt', 'login'), ('unlock', 'boolean'),
  ('forget_account', 'boolean'), ('prune_login_attempts', 'count'),
  ('link_account_table', 'void'), ('unlink_account_table', 'void'),
  ('track_updated_at', 'void'), ('untrack_updated_at', 'void'),
  ('grant_app_role', 'void'), ('revoke_app_role', 'void'),
  ('key_status', 'row'), ('app_functions', 'text'),
  ('set_updated_at', 'void'), ('forget_linked_account', 'void'),
  ('unlink_dropped_tables', 'void'), ('updated_at_ddl', 'void'),
  ('updated_at_optout_added', 'void'),
  ('password_hash', 'phc'), ('password_verify', 'boolean'), ('password_needs_rehash', 'boolean'),
  ('audit_table', 'void'), ('unaudit_table', 'void'), ('audit_event', 'count'),
  ('audit_verify', 'verify'), ('audit_purge', 'count'), ('audit', 'void'),
  ('audit_log_guard', 'void'),
  ('totp_enroll', 'enrol'), ('totp_confirm', 'boolean'), ('totp_verify', 'boolean'),
  ('totp_disable', 'boolean'), ('backup_codes_generate', 'backup'),
  ('backup_code_verify', 'boolean'), ('backup_codes_remaining', 'number'),
  ('rotate_secrets', 'number'),
  ('login', 'login'), ('resolve_mirror', 'json'), ('mirror_attach', 'void'),
  ('mirror_guard', 'void'), ('mirror_account_state', 'void'), ('linked_tables_changed', 'void'),
  ('token_issue', 'token'), ('token_consume', 'text'), ('token_peek', 'text'),
  ('session_start', 'row'), ('session_check', 'row'), ('session_touch', 'boolean'), ('session_rotate', 'token'),
  ('session_end', 'boolean'), ('sessions', 'row'), ('session_revoke', 'boolean'),
  ('sessions_revoke_all', 'number'), ('credentials_changed', 'number'), ('prune_expired', 'count');
INSERT INTO hostile_call VALUES
  ('hotp', 1, 'secret', 'bytea', $$'12345678901234567890'::bytea$$),
  ('hotp', 2, 'counter', 'bigint', '1::bigint'),
  ('hotp', 3, 'digits', 'int', '6'),
  ('hotp', 4, 'algorithm', 'text', $$'SHA1'$$),
  ('totp', 1, 'secret', 'bytea', $$'12345678901234567890'::bytea$$),
  ('totp', 2, 'at', 'timestamptz', $$'2020-01-01 00:00:00+00'::timestamptz$$),
  ('totp', 3, 'digits', 'int', '6'),
  ('totp', 4, 'period', 'int', '30'),
  ('totp', 5, 'algorithm', 'text', $$'SHA1'$$),
  ('totp_check', 1, 'secret', 'bytea', $$'12345678901234567890'::bytea$$),
  ('totp_check', 2, 'code', 'text', $$acctsec.totp('12345678901234567890'::bytea, '2020-01-01 00:00:00+00')$$),
  ('totp_check', 3, 'window', 'int', '1'),
  ('totp_check', 4, 'at', 'timestamptz', $$'2020-01-01 00:00:00+00'::timestamptz$$),
  ('totp_check', 5, 'digits', 'int', '6'),
  ('totp_check', 6, 'period', 'int', '30'),
  ('totp_check', 7, 'algorithm', 'text', $$'SHA1'$$),
  ('base32_encode', 1, 'data', 'bytea', $$'foobar'::bytea$$),
  ('base32_decode', 1, 'data', 'text', $$'MZXW6YTBOI'$$),
  ('totp_uri', 1, 'secret', 'bytea', $$'12345678901234567890'::bytea$$),
  ('totp_uri', 2, 'label', 'text', $$'alice@example.com'$$),
  ('totp_uri', 3, 'issuer', 'text', $$'ACME'$$),
  ('totp_uri', 4, 'digits', 'int', '6'),
  ('totp_uri', 5, 'period', 'int', '30'),
  ('totp_uri', 6, 'algorithm', 'text', $$'SHA1'$$),
  ('account_status', 1, 'account', 'text', $$'regress_hostile'$$),
  ('login_attempt', 1, 'account', 'text', $$'regress_hostile'$$),
  ('login_attempt', 2, 'success', 'boolean', 'false'),
  ('login_attempt', 3, 'ip', 'inet', $$'192.0.2.1'::inet$$),
  ('login_attempt', 4, 'user_agent', 'text', $$'Mozilla/5.0'$$),
  ('unlock', 1, 'account', 'text', $$'regress_hostile_locked'$$),
  ('forget_account', 1, 'account', 'text', $$'regress_hostile_locked'$$),
  ('prune_login_attempts', 1, 'older_than', 'interval', $$'1 day'::interval$$),
  ('link_account_table', 1, 'tbl', 'regclass', $$'regress_hostile_users'::regclass$$),
  ('link_account_table', 2, 'key_column', 'name', $$'id'::name$$),
  ('link_account_table', 3, 'mirror', 'jsonb', 'NULL::jsonb'),
  ('unlink_account_table', 1, 'tbl', 'regclass', $$'regress_hostile_linked'::regclass$$),
  ('track_updated_at', 1, 'tbl', 'regclass', $$'regress_hostile_users'::regclass$$),
  ('track_updated_at', 2, 'column_name', 'name', $$'updated_at'::name$$),
  ('untrack_updated_at', 1, 'tbl', 'regclass', $$'regress_hostile_users'::regclass$$),
  ('grant_app_role', 1, 'role', 'regrole', $$'regress_hostile_app'::regrole$$),
  ('revoke_app_role', 1, 'role', 'regrole', $$'regress_hostile_app'::regrole$$),
  ('password_hash', 1, 'password', 'text', $$'correct horse battery staple'$$),
  ('password_verify', 1, 'password', 'text', $$'correct horse battery staple'$$),
  ('password_verify', 2, 'hash', 'text', $$current_setting('regress.hostile_hash')$$),
  ('password_needs_rehash', 1, 'hash', 'text', $$current_setting('regress.hostile_hash')$$),
  ('audit_table', 1, 'tbl', 'regclass', $$'regress_hostile_users'::regclass$$),
  ('audit_table', 2, 'exclude', 'text[]', 'NULL::text[]'),
  ('unaudit_table', 1, 'tbl', 'regclass', $$'regress_hostile_linked'::regclass$$),
  ('audit_event', 1, 'event', 'text', $$'app.regress_hostile'$$),
  ('audit_event', 2, 'account', 'text', $$'regress_hostile'$$),
  ('audit_event', 3, 'details', 'jsonb', $$'{"k": 1}'::jsonb$$),
  ('audit_purge', 1, 'older_than', 'interval', $$'1 day'::interval$$),
  ('totp_enroll', 1, 'account', 'text', $$'regress_hostile_new'$$),
  ('totp_enroll', 2, 'issuer', 'text', $$'ACME'$$),
  ('totp_enroll', 3, 'label', 'text', 'NULL::text'),
  ('totp_enroll', 4, 'digits', 'int', '6'),
  ('totp_enroll', 5, 'period', 'int', '30'),
  ('totp_enroll', 6, 'algorithm', 'text', $$'SHA1'$$),
  ('totp_confirm', 1, 'account', 'text', $$'regress_hostile_pending'$$),
  ('totp_confirm', 2, 'code', 'text', $$acctsec.totp(acctsec.base32_decode(current_setting('regress.pending_secret')), clock_timestamp())$$),
  ('totp_verify', 1, 'account', 'text', $$'regress_hostile_totp'$$),
  ('totp_verify', 2, 'code', 'text', $$acctsec.totp(acctsec.base32_decode(current_setting('regress.totp_secret')), clock_timestamp() + interval '30 seconds')$$),
  ('totp_disable', 1, 'account', 'text', $$'regress_hostile_totp'$$),
  ('backup_codes_generate', 1, 'account', 'text', $$'regress_hostile_totp'$$),
  ('backup_codes_generate', 2, 'how_many', 'int', '10'),
  ('backup_code_verify', 1, 'account', 'text', $$'regress_hostile_totp'$$),
  ('backup_code_verify', 2, 'code', 'text', $$current_setting('regress.backup_code')$$),
  ('backup_codes_remaining', 1, 'account', 'text', $$'regress_hostile_totp'$$),
  ('login', 1, 'account', 'text', $$'regress_hostile_user'$$),
  ('login', 2, 'password', 'text', $$'correct horse battery staple'$$),
  ('login', 3, 'ip', 'inet', $$'192.0.2.1'::inet$$),
  ('login', 4, 'user_agent', 'text', $$'Mozilla/5.0'$$),
  ('resolve_mirror', 1, 'tbl', 'regclass', $$'regress_hostile_login'::regclass$$),
  ('resolve_mirror', 2, 'key_column', 'name', $$'id'::name$$),
  ('resolve_mirror', 3, 'mirror', 'jsonb', 'NULL::jsonb'),
  ('mirror_attach', 1, 'tbl', 'regclass', $$'regress_hostile_login'::regclass$$),
  ('token_issue', 1, 'account', 'text', $$'regress_hostile'$$),
  ('token_issue', 2, 'purpose', 'text', $$'reset'$$),
  ('token_issue', 3, 'ttl', 'interval', $$'1 hour'::interval$$),
  ('token_consume', 1, 'token', 'text', $$current_setting('regress.token')$$),
  ('token_consume', 2, 'purpose', 'text', $$'reset'$$),
  ('token_peek', 1, 'token', 'text', $$current_setting('regress.token')$$),
  ('token_peek', 2, 'purpose', 'text', $$'reset'$$),
  ('session_start', 1, 'account', 'text', $$'regress_hostile'$$),
  ('session_start', 2, 'ip', 'inet', $$'192.0.2.1'::inet$$),
  ('session_start', 3, 'user_agent', 'text', $$'Mozilla/5.0'$$),
  ('session_check', 1, 'token', 'text', $$current_setting('regress.session_token')$$),
  ('session_touch', 1, 'token', 'text', $$current_setting('regress.session_token')$$),
  ('session_rotate', 1, 'token', 'text', $$current_setting('regress.session_token')$$),
  ('session_end', 1, 'token', 'text', $$current_setting('regress.session_token')$$),
  ('sessions', 1, 'account', 'text', $$'regress_hostile'$$),
  ('session_revoke', 1, 'account', 'text', $$'regress_hostile'$$),
  ('session_revoke', 2, 'session_id', 'bigint', $$current_setting('regress.session_id')::bigint$$),
  ('sessions_revoke_all', 1, 'account', 'text', $$'regress_hostile'$$),
  ('sessions_revoke_all', 2, 'except_token', 'text', 'NULL::text'),
  ('credentials_changed', 1, 'account', 'text', $$'regress_hostile'$$),
  ('credentials_changed', 2, 'keep_token', 'text', 'NULL::text'),
  -- no arguments: only the baseline call (trigger functions called directly)
  ('key_status', 0, NULL, NULL, NULL),
  ('rotate_secrets', 0, NULL, NULL, NULL),
  ('prune_expired', 0, NULL, NULL, NULL),
  ('audit_verify', 0, NULL, NULL, NULL),
  ('audit', 0, NULL, NULL, NULL),
  ('audit_log_guard', 0, NULL, NULL, NULL),
  ('mirror_guard', 0, NULL, NULL, NULL),
  ('mirror_account_state', 0, NULL, NULL, NULL),
  ('linked_tables_changed', 0, NULL, NULL, NULL),
  ('app_functions', 0, NULL, NULL, NULL),
  ('set_updated_at', 0, NULL, NULL, NULL),
  ('forget_linked_account', 0, NULL, NULL, NULL),
  ('unlink_dropped_tables', 0, NULL, NULL, NULL),
  ('updated_at_ddl', 0, NULL, NULL, NULL),
  ('updated_at_optout_added', 0, NULL, NULL, NULL);

-- First each call with only valid arguments (the baseline), then with each
-- hostile value in each argument.
CREATE TEMP TABLE hostile_result AS
SELECT c.fn, c.name AS argument, v.label AS value,
       pg_temp.outcome(format('acctsec.%s(%s)', c.fn,
         (SELECT string_agg(CASE WHEN o.arg = c.arg THEN v.expr ELSE o.valid END, ', ' ORDER BY o.arg)
          FROM hostile_call o WHERE o.fn = c.fn AND o.arg > 0)),
         k.kind) AS outcome,
       row_number() OVER (ORDER BY c.fn, c.arg, v.id) AS n
FROM (SELECT fn, arg, name, type FROM hostile_call WHERE arg > 0
      UNION ALL
      SELECT DISTINCT fn, 0, '(all valid)', 'baseline' FROM hostile_call) c
JOIN (SELECT id, type, label, expr FROM hostile_value
      UNION ALL
      SELECT 0, 'baseline', '', NULL) v USING (type)
JOIN hostile_kind k USING (fn);

SELECT fn, argument, value, outcome FROM hostile_result ORDER BY n;

-- Nothing is an internal error, nothing came back that is not of the
-- promised kind (a NULL outcome), and the SQLSTATEs are these: 22023 bad
-- argument, 22P02 bad base32; 22021, 54000 and 42883 are raised by
-- PostgreSQL before acctsec is called (invalid UTF-8, NUL, no such function).
SELECT count(*) AS inputs_tried,
       count(*) FILTER (WHERE outcome ~ '^[0-9A-Z]{5}: ') AS errors,
       count(*) FILTER (WHERE outcome IS NULL OR outcome ~ '^(XX|58)') AS bad,
       array_agg(DISTINCT substr(outcome, 1, 5)) FILTER (WHERE outcome ~ '^[0-9A-Z]{5}: ') AS sqlstates
FROM hostile_result;

-- Two arguments wrong at once: the first bad argument is reported, whatever
-- the pair.
SELECT pg_temp.outcome($$acctsec.hotp(''::bytea, -1, 0, 'MD5')$$, 'code') AS all_bad_hotp,
       pg_temp.outcome($$acctsec.totp_check('k'::bytea, repeat('9', 1048576), -1, 'infinity', 99, 0, '')$$, 'boolean') AS all_bad_check,
       pg_temp.outcome($$acctsec.totp_uri(''::bytea, '', '', 0, 0, '')$$, 'uri') AS all_bad_uri;

-- The ends of the timestamp range: TOTP at a time is HOTP at the time step
-- counted from the Unix epoch, also at the last representable microsecond
-- (the epoch shift once overflowed there and reported a time before 1970).
SELECT at, p AS period,
       acctsec.totp('12345678901234567890'::bytea, at::timestamptz, 8, p)
         = acctsec.hotp('12345678901234567890'::bytea,
                        extract(epoch FROM date_trunc('second', at::timestamptz))::bigint / p, 8) AS totp_is_hotp_of_step,
       acctsec.totp_check('12345678901234567890'::bytea,
         acctsec.totp('12345678901234567890'::bytea, at::timestamptz, 8, p), 0, at::timestamptz, 8, p) AS checks
FROM unnest(ARRAY['1970-01-01 00:00:00+00', '1970-01-01 00:00:00.999999+00',
                  '294276-12-31 23:59:59.999999+00']) AS at,
     unnest(ARRAY[1, 30, 3600]) AS p
ORDER BY at, p;

-- Calls in the wrong order: each sequence runs from a clean account, and
-- each step keeps what the previous ones did.  (Codes are made for
-- clock_timestamp(), the time the verifying function reads, so that a slow
-- run, under valgrind say, still hands over current codes.)
CREATE FUNCTION pg_temp.step(expr text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  v text;
  n bigint;
BEGIN
  IF expr ~ '^INSERT ' THEN
    EXECUTE expr;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN format('%s rows', n);
  END IF;
  EXECUTE format('SELECT (%s)::text', expr) INTO v;
  RETURN CASE WHEN v = '' THEN 'void'
              ELSE coalesce(substring(v FROM '^\(([a-z_]+),[tf],'), v, 'null') END;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $f$;
CREATE TEMP TABLE wrong_order (seq int, step int, expr text);
INSERT INTO wrong_order VALUES
  -- unlock and forget before the account ever existed, and twice
  (1, 1, $$acctsec.unlock('regress_wo')$$),
  (1, 2, $$acctsec.forget_account('regress_wo')$$),
  (1, 3, $$acctsec.account_status('regress_wo')$$),
  (1, 4, $$acctsec.login_attempt('regress_wo', false)$$),
  (1, 5, $$acctsec.forget_account('regress_wo')$$),
  (1, 6, $$acctsec.forget_account('regress_wo')$$),
  (1, 7, $$acctsec.unlock('regress_wo')$$),
  -- a correct password while locked, unlock twice, a login after unlock
  (2, 1, $$(SELECT string_agg((acctsec.login_attempt('regress_wo', false)).status::text, ' ') FROM generate_series(1, 5))$$),
  (2, 2, $$acctsec.login_attempt('regress_wo', true)$$),
  (2, 3, $$(acctsec.account_status('regress_wo')).failed_attempts$$),
  (2, 4, $$acctsec.unlock('regress_wo')$$),
  (2, 5, $$acctsec.unlock('regress_wo')$$),
  (2, 6, $$acctsec.login_attempt('regress_wo', true)$$),
  (2, 7, $$(acctsec.account_status('regress_wo')).login_count$$),
  -- forgotten while locked: it starts again from nothing
  (3, 1, $$(SELECT string_agg((acctsec.login_attempt('regress_wo', false)).status::text, ' ') FROM generate_series(1, 5))$$),
  (3, 2, $$acctsec.forget_account('regress_wo')$$),
  (3, 3, $$acctsec.login_attempt('regress_wo', true)$$),
  (3, 4, $$(acctsec.account_status('regress_wo')).lockouts$$),
  -- linking: twice, unlinking twice, unlinking a dropped table's link
  (4, 1, $$acctsec.link_account_table('regress_hostile_users', 'id')$$),
  (4, 2, $$acctsec.link_account_table('regress_hostile_users', 'id')$$),
  (4, 3, $$acctsec.unlink_account_table('regress_hostile_users')$$),
  (4, 4, $$acctsec.unlink_account_table('regress_hostile_users')$$),
  -- updated_at: untrack twice, track twice, untrack of a never-tracked table
  (5, 1, $$acctsec.untrack_updated_at('regress_hostile_users')$$),
  (5, 2, $$acctsec.untrack_updated_at('regress_hostile_users')$$),
  (5, 3, $$acctsec.track_updated_at('regress_hostile_users')$$),
  (5, 4, $$acctsec.track_updated_at('regress_hostile_users', 'updated_at')$$),
  (5, 5, $$acctsec.untrack_updated_at('regress_hostile_bare')$$),
  -- application roles: revoke before grant, grant twice
  (6, 1, $$acctsec.revoke_app_role('regress_hostile_app')$$),
  (6, 2, $$acctsec.grant_app_role('regress_hostile_app')$$),
  (6, 3, $$acctsec.grant_app_role('regress_hostile_app')$$),
  (6, 4, $$has_function_privilege('regress_hostile_app', 'acctsec.login_attempt(text, boolean, inet, text)', 'EXECUTE')$$),
  (6, 5, $$acctsec.revoke_app_role('regress_hostile_app')$$),
  (6, 6, $$has_function_privilege('regress_hostile_app', 'acctsec.login_attempt(text, boolean, inet, text)', 'EXECUTE')$$);
INSERT INTO wrong_order VALUES
  -- TOTP before enrolment, while pending, confirmed twice, enrolled again
  -- while active, disabled twice
  (7, 1, $$acctsec.totp_verify('regress_wo', '123456')$$),
  (7, 2, $$acctsec.totp_confirm('regress_wo', '123456')$$),
  (7, 3, $$acctsec.totp_disable('regress_wo')$$),
  (7, 4, $$(SELECT set_config('regress.wo_secret', secret, false) IS NOT NULL FROM acctsec.totp_enroll('regress_wo'))$$),
  (7, 5, $$acctsec.totp_verify('regress_wo', acctsec.totp(acctsec.base32_decode(current_setting('regress.wo_secret')), clock_timestamp()))$$),
  (7, 6, $$(acctsec.account_status('regress_wo')).totp_enabled$$),
  (7, 7, $$acctsec.totp_confirm('regress_wo', set_config('regress.wo_used', acctsec.totp(acctsec.base32_decode(current_setting('regress.wo_secret')), clock_timestamp()), false))$$),
  (7, 8, $$acctsec.totp_confirm('regress_wo', current_setting('regress.wo_used'))$$),
  (7, 9, $$acctsec.totp_verify('regress_wo', current_setting('regress.wo_used'))$$),
  (7, 10, $$(SELECT count(*) FROM acctsec.totp_enroll('regress_wo'))$$),
  (7, 11, $$(acctsec.login_attempt('regress_wo', true)).status$$),
  (7, 12, $$acctsec.totp_disable('regress_wo')$$),
  (7, 13, $$acctsec.totp_disable('regress_wo')$$),
  (7, 14, $$acctsec.totp_verify('regress_wo', acctsec.totp(acctsec.base32_decode(current_setting('regress.wo_secret')), clock_timestamp() + interval '30 seconds'))$$),
  (7, 15, $$(acctsec.login_attempt('regress_wo', true)).status$$),
  -- backup codes before any were made, a code used twice, a new set
  -- retiring the old one, codes of another account
  (8, 1, $$acctsec.backup_code_verify('regress_wo', 'aaaaa-aaaaa')$$),
  (8, 2, $$acctsec.backup_codes_remaining('regress_wo')$$),
  (8, 3, $$(SELECT set_config('regress.wo_code', min(c), false) IS NOT NULL FROM acctsec.backup_codes_generate('regress_wo', 3) AS c)$$),
  (8, 4, $$acctsec.backup_code_verify('regress_wo_other', current_setting('regress.wo_code'))$$),
  (8, 5, $$acctsec.backup_code_verify('regress_wo', upper(current_setting('regress.wo_code')))$$),
  (8, 6, $$acctsec.backup_code_verify('regress_wo', current_setting('regress.wo_code'))$$),
  (8, 7, $$acctsec.backup_codes_remaining('regress_wo')$$),
  (8, 8, $$(SELECT set_config('regress.wo_code2', min(c), false) IS NOT NULL FROM acctsec.backup_codes_generate('regress_wo', 3) AS c)$$),
  (8, 9, $$(SELECT count(*) FROM acctsec.backup_codes_generate('regress_wo', 2))$$),
  (8, 10, $$acctsec.backup_code_verify('regress_wo', current_setting('regress.wo_code2'))$$),
  (8, 11, $$acctsec.forget_account('regress_wo')$$),
  (8, 12, $$acctsec.backup_codes_remaining('regress_wo')$$),
  -- tokens: consumed twice, peeked after consumption, other purpose, issued
  -- again (the first revoked); sessions: ended twice, rotated token reused,
  -- checked after the account is forgotten
  (10, 1, $$acctsec.token_consume('act_nosuchtoken', 'reset')$$),
  (10, 2, $$set_config('regress.wo_token', acctsec.token_issue('regress_wo', 'reset'), false) IS NOT NULL$$),
  (10, 3, $$acctsec.token_consume(current_setting('regress.wo_token'), 'verify_email')$$),
  (10, 4, $$acctsec.token_peek(current_setting('regress.wo_token'), 'reset')$$),
  (10, 5, $$acctsec.token_consume(current_setting('regress.wo_token'), 'reset')$$),
  (10, 6, $$acctsec.token_consume(current_setting('regress.wo_token'), 'reset')$$),
  (10, 7, $$acctsec.token_peek(current_setting('regress.wo_token'), 'reset')$$),
  (10, 8, $$set_config('regress.wo_token', acctsec.token_issue('regress_wo', 'reset'), false) IS NOT NULL$$),
  (10, 9, $$set_config('regress.wo_token2', acctsec.token_issue('regress_wo', 'reset'), false) IS NOT NULL$$),
  (10, 10, $$acctsec.token_consume(current_setting('regress.wo_token'), 'reset')$$),
  (10, 11, $$acctsec.token_consume(current_setting('regress.wo_token2'), 'reset')$$),
  (11, 1, $$acctsec.session_end('acs_nosuchtoken')$$),
  (11, 2, $$(SELECT set_config('regress.wo_session', token, false) IS NOT NULL FROM acctsec.session_start('regress_wo'))$$),
  (11, 3, $$(SELECT account FROM acctsec.session_check(current_setting('regress.wo_session')))$$),
  (11, 4, $$set_config('regress.wo_session2', acctsec.session_rotate(current_setting('regress.wo_session')), false) IS NOT NULL$$),
  (11, 5, $$(SELECT count(*) FROM acctsec.session_check(current_setting('regress.wo_session')))$$),
  (11, 6, $$(SELECT count(*) FROM acctsec.session_check(current_setting('regress.wo_session2')))$$),
  (11, 7, $$acctsec.session_end(current_setting('regress.wo_session2'))$$),
  (11, 8, $$acctsec.session_end(current_setting('regress.wo_session2'))$$),
  (11, 9, $$acctsec.session_rotate(current_setting('regress.wo_session2')) IS NULL$$),
  (11, 10, $$(SELECT set_config('regress.wo_session', token, false) IS NOT NULL FROM acctsec.session_start('regress_wo'))$$),
  (11, 11, $$acctsec.forget_account('regress_wo')$$),
  (11, 12, $$(SELECT count(*) FROM acctsec.session_check(current_setting('regress.wo_session')))$$),
  (11, 13, $$acctsec.sessions_revoke_all('regress_wo')$$),
  -- the audit log: unaudit before audit, audit twice, writes, a purge, and
  -- the chain still verifies
  (9, 1, $$acctsec.unaudit_table('regress_hostile_bare')$$),
  (9, 2, $$acctsec.audit_table('regress_hostile_bare')$$),
  (9, 3, $$acctsec.audit_table('regress_hostile_bare', '{x}')$$),
  (9, 4, $$INSERT INTO regress_hostile_bare VALUES (1), (2)$$),
  (9, 5, $$acctsec.unaudit_table('regress_hostile_bare')$$),
  (9, 6, $$acctsec.unaudit_table('regress_hostile_bare')$$),
  (9, 7, $$(acctsec.audit_event(NULL) IS NOT NULL)$$),
  (9, 8, $$(acctsec.audit_event('app.regress_wo', 'regress_wo') > 0)$$),
  (9, 9, $$(acctsec.audit_purge('0') > 0)$$),
  (9, 10, $$(acctsec.audit_verify()).ok$$);
SELECT seq, step, pg_temp.step(expr) AS result, expr FROM wrong_order ORDER BY seq, step;
SELECT acctsec.forget_account('regress_wo');

-- Inputs tried in all
SELECT (SELECT count(*) FROM hostile_result) + (SELECT count(*) FROM wrong_order) AS inputs_tried;

-- Clean up what the valid arguments named.
SELECT acctsec.unlink_account_table('regress_hostile_linked');
SELECT acctsec.unlink_account_table('regress_hostile_login');
SELECT acctsec.unaudit_table('regress_hostile_linked');
SELECT acctsec.forget_account('regress_hostile'),
       acctsec.forget_account('regress_hostile_locked'),
       acctsec.forget_account('regress_hostile_totp'),
       acctsec.forget_account('regress_hostile_pending');
RESET acctsec.password_memory_kib;
RESET acctsec.password_iterations;
SET client_min_messages = warning;
DROP TABLE regress_hostile_users, regress_hostile_linked, regress_hostile_login, regress_hostile_bare,
  regress_hostile_parted, regress_hostile_temp CASCADE;
DROP SEQUENCE regress_hostile_seq;
DROP ROLE regress_hostile_app;
RESET client_min_messages;
