-- Existing applications (SPEC section 12): mirroring account state into the
-- application's users table, the guard against stale writes, and the
-- one-call login with rehashing.
\set VERBOSITY terse
-- the output shows times: pin the zone, so the server's own zone does not matter
SET TimeZone = 'PST8PDT';
SET acctsec.max_failed_attempts = 3;
SET acctsec.lockout_duration = '10min';

-- a real product's users table, with a password column added
CREATE SCHEMA app;
CALL regress.create_app_users(101);
ALTER TABLE app.users ADD COLUMN password_hash varchar;
-- existing history: user 2 has failures, logins and a running lock
INSERT INTO app.users (email, password_hash) VALUES
  ('ann@example.com', acctsec.password_hash('ann-pass')),
  ('ben@example.com', '$2b$05$pz5MCME87t2WGbWIOLTzheFsffPrb6OnCPOv/Pk42xaP/VUEBHlQu'),
  ('cat@example.com', NULL);
UPDATE app.users SET failed_login_attempts = 2, login_count = 41,
  last_login_at = '2026-01-02 03:04:05+00', locked_until = now() + interval '1 hour' WHERE id = 102;

-- NULL detects the usual names; the mapping is stored resolved
SELECT acctsec.link_account_table('app.users', 'id');
SELECT mirror FROM acctsec.linked_tables WHERE tbl = 'app.users'::regclass;
SELECT tgname, tgtype FROM pg_trigger WHERE tgrelid = 'app.users'::regclass ORDER BY tgname;
-- linking adopted user 2's history (acctsec knew nothing of it)
SELECT account, failed_attempts, locked_until > now() AS locked, last_login_at, login_count
FROM acctsec.account_status('102');

-- every state change reaches the table in the same transaction
CREATE VIEW pg_temp.u AS
  SELECT id, failed_login_attempts AS failed, locked_until IS NOT NULL AND locked_until > now() AS locked,
         last_login_at IS NOT NULL AS has_last_login, login_count, two_factor_enabled AS tfa
  FROM app.users ORDER BY id;
BEGIN;
SELECT (acctsec.login_attempt('101', false)).status;
SELECT * FROM pg_temp.u WHERE id = 101;
ROLLBACK;
SELECT * FROM pg_temp.u WHERE id = 101;
SELECT (acctsec.login_attempt('101', false)).status;
SELECT (acctsec.login_attempt('101', false)).status;
SELECT * FROM pg_temp.u WHERE id = 101;
SELECT (acctsec.login_attempt('101', false)).status;   -- third failure: locked
SELECT u.locked_until = a.locked_until AS same_lock_end FROM app.users u, acctsec.account_status('101') a WHERE u.id = 101;
SELECT * FROM pg_temp.u WHERE id = 101;
SELECT acctsec.unlock('101');
SELECT * FROM pg_temp.u WHERE id = 101;
SELECT (acctsec.login_attempt('101', true, '198.51.100.7')).status;
SELECT * FROM pg_temp.u WHERE id = 101;
-- TOTP on and off (the TOTP module sets this flag)
UPDATE acctsec.accounts SET totp_enabled = true WHERE account = '101';
SELECT tfa FROM pg_temp.u WHERE id = 101;
UPDATE acctsec.accounts SET totp_enabled = false WHERE account = '101';
SELECT tfa FROM pg_temp.u WHERE id = 101;

-- an ORM saving a whole stale row cannot overwrite the mirrored columns
-- (a stale row's history is older: a lower count, no last login) ...
UPDATE app.users SET failed_login_attempts = 0, locked_until = NULL, login_count = 40,
  last_login_at = NULL, two_factor_enabled = true, email = 'ben@example.org' WHERE id = 102;
SELECT * FROM pg_temp.u WHERE id = 102;
SELECT email FROM app.users WHERE id = 102;
-- ... nor can an INSERT, and other columns are the application's own; a
-- history value it brings (login_count 5, above acctsec's nothing) is kept
-- and becomes acctsec's
INSERT INTO app.users (email, failed_login_attempts, login_count, two_factor_enabled)
  VALUES ('dan@example.com', 7, 5, true) RETURNING id, failed_login_attempts, login_count, two_factor_enabled;
SELECT failed_attempts, login_count FROM acctsec.account_status('104');
UPDATE app.users SET status = 'suspended', timezone = 'Europe/Paris' WHERE id = 101 RETURNING status, failed_login_attempts;
-- forget_account: the row shows the zero state
SELECT acctsec.forget_account('102');
SELECT * FROM pg_temp.u WHERE id = 102;

-- login: the hash is read from the linked table, verified, the policy applied
SELECT (acctsec.login('101', 'ann-pass', '192.0.2.1', 'regress')).*;
SELECT (acctsec.login('101', 'wrong')).status;
SELECT (acctsec.login('103', 'anything')).status AS no_password,
       (acctsec.login('9999', 'anything')).status AS no_such_user,
       (acctsec.login('0101', 'ann-pass')).status AS not_a_canonical_key,
       (acctsec.login('x', 'ann-pass')).status AS not_an_integer;
SELECT account, failed_attempts FROM acctsec.account_status('9999');
-- an outdated hash (bcrypt from the old application) is replaced on success
BEGIN;
SELECT (acctsec.login('102', 'correct horse battery staple')).status;
SELECT password_hash LIKE '$argon2id$v=19$m=19456,t=2,p=1$%' AS rehashed,
       acctsec.password_verify('correct horse battery staple', password_hash) AS still_verifies
FROM app.users WHERE id = 102;
ROLLBACK;
-- a wrong password, or a locked account, leaves the old hash
SELECT (acctsec.login('102', 'wrong')).status;
SELECT password_hash LIKE '$2b$%' AS still_bcrypt FROM app.users WHERE id = 102;
SELECT (acctsec.login('102', 'wrong')).status, (acctsec.login('102', 'wrong')).status;
SELECT (r).status, (r).allowed FROM (SELECT acctsec.login('102', 'correct horse battery staple') AS r) s;
SELECT password_hash LIKE '$2b$%' AS still_bcrypt FROM app.users WHERE id = 102;
SELECT * FROM pg_temp.u WHERE id = 102;
-- login errors
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.login(NULL, 'pw')$$,
  $$SELECT acctsec.login('101', NULL)$$,
  $$SELECT acctsec.login('', 'pw')$$,
  $$SELECT acctsec.login('101', repeat('p', 4097))$$
]) AS s;
UPDATE app.users SET password_hash = 'pbkdf2_sha256$600000$salt$hash' WHERE id = 103;
SELECT regress.error_of($$SELECT acctsec.login('103', 'pw')$$) AS unsupported_stored_hash;

-- Devise and ASP.NET Identity tables: their names are detected, and their
-- lock columns keep their own meaning (Devise's locked_at: when the lock
-- began; ASP.NET's LockoutEnd: when it ends)
CREATE TABLE app.devise_users (id bigint PRIMARY KEY, email text,
  encrypted_password varchar NOT NULL DEFAULT '', sign_in_count integer NOT NULL DEFAULT 0,
  last_sign_in_at timestamp(6), last_sign_in_ip inet, failed_attempts integer NOT NULL DEFAULT 0,
  locked_at timestamp(6));
CREATE TABLE app."AspNetUsers" ("Id" text PRIMARY KEY, "AccessFailedCount" integer NOT NULL DEFAULT 0,
  "LockoutEnd" timestamptz, "TwoFactorEnabled" boolean NOT NULL DEFAULT false, "PasswordHash" text);
INSERT INTO app.devise_users (id, email) VALUES (1010, 'eve@example.com');
INSERT INTO app."AspNetUsers" ("Id") VALUES ('5b0e2c9a-asp');
SELECT acctsec.link_account_table('app.devise_users', 'id');
SELECT acctsec.link_account_table('app."AspNetUsers"', 'Id', NULL);
SELECT tbl, mirror FROM acctsec.linked_tables WHERE tbl IN ('app.devise_users'::regclass, 'app."AspNetUsers"'::regclass) ORDER BY tbl::text;
SET TimeZone = 'UTC';
SELECT (acctsec.login_attempt('1010', false)).status, (acctsec.login_attempt('1010', false)).status,
       (acctsec.login_attempt('1010', false)).status;
SELECT d.failed_attempts, d.locked_at = a.locked_at::timestamp AS locked_at_is_lock_start,
       a.locked_until - a.locked_at AS lock_length
FROM app.devise_users d, acctsec.accounts a WHERE d.id = 1010 AND a.account = '1010';
SELECT (acctsec.login_attempt('5b0e2c9a-asp', false)).status, (acctsec.login_attempt('5b0e2c9a-asp', false)).status,
       (acctsec.login_attempt('5b0e2c9a-asp', false)).status;
SELECT "AccessFailedCount", "LockoutEnd" = a.locked_until AS lockout_end_is_lock_end
FROM app."AspNetUsers" u, acctsec.accounts a WHERE u."Id" = '5b0e2c9a-asp' AND a.account = u."Id";
SELECT acctsec.unlock('1010'), acctsec.unlock('5b0e2c9a-asp');
SELECT (acctsec.login_attempt('1010', true, '203.0.113.5')).status;
SELECT failed_attempts, locked_at, sign_in_count, last_sign_in_ip, last_sign_in_at IS NOT NULL AS signed_in
FROM app.devise_users WHERE id = 1010;
SET TimeZone = 'PST8PDT';

-- an explicit mapping, '{}' and relinking
CREATE TABLE app.people (login text PRIMARY KEY, fails smallint, until timestamptz, n bigint, seen timestamptz, ip text);
INSERT INTO app.people VALUES ('zoe', 0, NULL, 0, NULL, NULL);
SELECT acctsec.link_account_table('app.people', 'login',
  '{"failed_attempts": "fails", "locked_until": "until", "login_count": "n", "last_login_at": "seen", "last_login_ip": "ip"}');
SELECT (acctsec.login_attempt('zoe', true, '2001:db8::1')).status;
SELECT fails, until, n, seen IS NOT NULL AS seen, ip FROM app.people;
SELECT acctsec.link_account_table('app.people', 'login', '{}');
SELECT tgname FROM pg_trigger WHERE tgrelid = 'app.people'::regclass ORDER BY tgname;
SELECT (acctsec.login_attempt('zoe', false)).status;
SELECT fails FROM app.people;   -- no longer mirrored

-- mapping errors, each at link time
CREATE TABLE app.bad (id int PRIMARY KEY, n text, g int GENERATED ALWAYS AS (id * 2) STORED,
  pw text, two_factor_enabled boolean);
INSERT INTO app.bad (id, two_factor_enabled) VALUES (1, true);
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.link_account_table('app.bad', 'id', '{"failures": "n"}')$$,
  $$SELECT acctsec.link_account_table('app.bad', 'id', '{"failed_attempts": 1}')$$,
  $$SELECT acctsec.link_account_table('app.bad', 'id', '{"failed_attempts": "nope"}')$$,
  $$SELECT acctsec.link_account_table('app.bad', 'id', '{"failed_attempts": "n"}')$$,
  $$SELECT acctsec.link_account_table('app.bad', 'id', '{"locked_until": "n"}')$$,
  $$SELECT acctsec.link_account_table('app.bad', 'id', '{"totp_enabled": "n"}')$$,
  $$SELECT acctsec.link_account_table('app.bad', 'id', '{"login_count": "id"}')$$,
  $$SELECT acctsec.link_account_table('app.bad', 'id', '{"login_count": "g"}')$$,
  $$SELECT acctsec.link_account_table('app.bad', 'id', '{"password_hash": "pw", "last_login_ip": "pw"}')$$,
  $$SELECT acctsec.link_account_table('app.bad', 'id', '{"password_hash": "pw"}')$$,
  $$SELECT acctsec.link_account_table('app.bad', 'id')$$
]) AS s;
SELECT tbl FROM acctsec.linked_tables WHERE tbl = 'app.bad'::regclass;

-- the guard attached by hand where it does not belong
CREATE TRIGGER by_hand AFTER UPDATE ON app.bad FOR EACH ROW EXECUTE FUNCTION acctsec.mirror_guard();
SELECT regress.error_of($$UPDATE app.bad SET n = 'x'$$);
DROP TRIGGER by_hand ON app.bad;
CREATE TRIGGER by_hand BEFORE UPDATE ON app.bad FOR EACH ROW EXECUTE FUNCTION acctsec.mirror_guard();
SELECT regress.error_of($$UPDATE app.bad SET n = 'x'$$) AS unlinked_table_untouched;
DROP TRIGGER by_hand ON app.bad;
CREATE TRIGGER by_hand BEFORE DELETE ON app.bad FOR EACH ROW EXECUTE FUNCTION acctsec.mirror_guard();
SELECT regress.error_of($$DELETE FROM app.bad$$);
DROP TRIGGER by_hand ON app.bad;
-- and the accounts' trigger, which is for acctsec.accounts' rows
CREATE TRIGGER by_hand AFTER UPDATE ON app.bad FOR EACH STATEMENT EXECUTE FUNCTION acctsec.mirror_account_state();
SELECT regress.error_of($$UPDATE app.bad SET n = 'x'$$);
DROP TRIGGER by_hand ON app.bad;
SELECT regress.error_of($$SELECT acctsec.mirror_guard()$$);

-- unlink: the guard goes, the table keeps its values and is written no more
SELECT acctsec.unlink_account_table('app.users');
SELECT tgname FROM pg_trigger WHERE tgrelid = 'app.users'::regclass;
SELECT (acctsec.login_attempt('101', false)).failed_attempts AS acctsec_count;
SELECT failed_login_attempts AS table_count FROM app.users WHERE id = 101;
SELECT regress.error_of($$SELECT acctsec.login('101', 'ann-pass')$$) AS login_without_password_table;

-- History columns keep the application's own newer write and acctsec takes
-- it over; security state is still acctsec's.  Django's auth_user, as its
-- migrations create it, with a second table mirroring the last login.
CREATE TABLE app.auth_user (id serial PRIMARY KEY, password varchar(128) NOT NULL,
  last_login timestamptz, is_superuser boolean NOT NULL DEFAULT false,
  username varchar(150) NOT NULL UNIQUE, email varchar(254) NOT NULL DEFAULT '');
CREATE TABLE app.profile (user_id int PRIMARY KEY, seen timestamptz);
INSERT INTO app.auth_user (id, password, username) VALUES (201, '', 'django');
INSERT INTO app.profile VALUES (201, NULL);
SELECT acctsec.link_account_table('app.auth_user', 'id');
SELECT mirror FROM acctsec.linked_tables WHERE tbl = 'app.auth_user'::regclass;
SELECT acctsec.link_account_table('app.profile', 'user_id', '{"last_login_at": "seen"}');
SELECT (acctsec.login_attempt('201', false)).status;
BEGIN;
-- update_last_login(): UPDATE "auth_user" SET "last_login" = <now> WHERE id = ...
UPDATE app.auth_user SET last_login = now() + interval '1 second' WHERE id = 201;
SELECT u.last_login = now() + interval '1 second' AS kept,
       a.last_login_at = u.last_login AS acctsec_took_it,
       p.seen = u.last_login AS other_table_too,
       a.failed_attempts AS acctsec_failures
FROM app.auth_user u, app.profile p, acctsec.accounts a
WHERE u.id = 201 AND p.user_id = 201 AND a.account = '201';
-- an older value (a stale row saved whole) and NULL are replaced
UPDATE app.auth_user SET last_login = now() - interval '1 day' WHERE id = 201;
SELECT last_login = now() + interval '1 second' AS stale_replaced FROM app.auth_user WHERE id = 201;
UPDATE app.auth_user SET last_login = NULL WHERE id = 201;
SELECT last_login = now() + interval '1 second' AS null_replaced FROM app.auth_user WHERE id = 201;
-- a login by acctsec moves it on as before
SELECT (acctsec.login_attempt('201', true)).status;
SELECT u.last_login = a.last_login_at AS mirrored FROM app.auth_user u, acctsec.accounts a
WHERE u.id = 201 AND a.account = '201';
COMMIT;
-- an INSERT with a last login creates acctsec's row for it
BEGIN;
INSERT INTO app.auth_user (id, password, username, last_login) VALUES (202, '', 'new', now());
SELECT last_login_at = now() AS adopted, login_count, failed_attempts FROM acctsec.accounts WHERE account = '202';
COMMIT;
-- Devise: sign_in_count, last_sign_in_at and last_sign_in_ip written together
-- by Devise's trackable are kept; an address alone, without a newer time, is
-- a stale row's and replaced; security columns in the same statement are not
-- the application's
SET TimeZone = 'UTC';
SELECT (acctsec.login_attempt('1010', false)).status;
BEGIN;
UPDATE app.devise_users SET sign_in_count = sign_in_count + 1,
  last_sign_in_at = (now() AT TIME ZONE 'UTC') + interval '1 second',
  last_sign_in_ip = '203.0.113.77', failed_attempts = 0 WHERE id = 1010;
SELECT d.sign_in_count = a.login_count AS count_adopted,
       d.last_sign_in_at = (now() AT TIME ZONE 'UTC') + interval '1 second' AS at_kept,
       a.last_login_at = now() + interval '1 second' AS at_adopted,
       d.last_sign_in_ip, a.last_login_ip, d.failed_attempts, a.failed_attempts AS acctsec_failures
FROM app.devise_users d, acctsec.accounts a WHERE d.id = 1010 AND a.account = '1010';
UPDATE app.devise_users SET last_sign_in_ip = '10.9.9.9', sign_in_count = 1 WHERE id = 1010;
SELECT d.last_sign_in_ip, d.sign_in_count = a.login_count AS count_is_acctsecs
FROM app.devise_users d, acctsec.accounts a WHERE d.id = 1010 AND a.account = '1010';
COMMIT;
RESET TimeZone;
-- an address in a text column is taken only if it is one; a count only if
-- acctsec can hold it
CREATE TABLE app.ip_users (id int PRIMARY KEY, ip text, n numeric);
INSERT INTO app.ip_users VALUES (301, NULL, 0);
SELECT acctsec.link_account_table('app.ip_users', 'id', '{"last_login_ip": "ip", "login_count": "n"}');
UPDATE app.ip_users SET ip = '192.0.2.44', n = 3 WHERE id = 301;
SELECT u.ip, u.n, a.last_login_ip, a.login_count FROM app.ip_users u, acctsec.accounts a
WHERE u.id = 301 AND a.account = '301';
UPDATE app.ip_users SET ip = 'not an address' WHERE id = 301;
UPDATE app.ip_users SET n = 1e30 WHERE id = 301;
UPDATE app.ip_users SET n = 'NaN' WHERE id = 301;
UPDATE app.ip_users SET n = -1 WHERE id = 301;
SELECT u.ip, u.n, a.last_login_ip, a.login_count FROM app.ip_users u, acctsec.accounts a
WHERE u.id = 301 AND a.account = '301';

-- privileges: login is for application roles, the mapping helpers for nobody
CREATE ROLE regress_mirror_app;
SELECT acctsec.grant_app_role('regress_mirror_app');
SELECT p.oid::regprocedure AS fn, has_function_privilege('regress_mirror_app', p.oid, 'EXECUTE') AS app
FROM pg_proc p WHERE p.pronamespace = 'acctsec'::regnamespace
  AND p.proname IN ('login', 'resolve_mirror', 'mirror_attach', 'mirror_guard', 'mirror_account_state', 'linked_tables_changed')
ORDER BY 1::text;
SELECT acctsec.revoke_app_role('regress_mirror_app');
DROP ROLE regress_mirror_app;

DROP SCHEMA app CASCADE;
