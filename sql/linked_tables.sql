-- Linked application tables: deleting a user erases its account's state
-- (SPEC section 2, link_account_table / unlink_account_table).
\set VERBOSITY terse
-- accounts with state (a row, logged attempts) for the given keys
CREATE FUNCTION pg_temp.seed(keys text[]) RETURNS void LANGUAGE sql AS $$
  SELECT count(acctsec.login_attempt(k, false)) FROM unnest(keys) AS k
$$;
CREATE FUNCTION pg_temp.known(keys text[]) RETURNS TABLE(account text, has_row boolean, attempts bigint)
LANGUAGE sql AS $$
  SELECT k, EXISTS (SELECT FROM acctsec.accounts a WHERE a.account = k),
         (SELECT count(*) FROM acctsec.login_attempts l WHERE l.account = k)
  FROM unnest(keys) AS k ORDER BY k
$$;

-- the four usual key types: integer, bigint, uuid, text (and a domain over one)
CREATE SCHEMA "App";
CREATE TABLE "App".users_int (id integer PRIMARY KEY, email text);
CREATE TABLE "App".users_big (id bigint PRIMARY KEY);
CREATE TABLE "App".users_uuid (id uuid PRIMARY KEY);
CREATE TABLE "App"."Users Text" ("User Name" text PRIMARY KEY);
CREATE DOMAIN "App".user_id AS bigint;
CREATE TABLE "App".users_domain (id "App".user_id PRIMARY KEY);
INSERT INTO "App".users_int VALUES (1, 'a@example.com'), (2, 'b@example.com'), (3, NULL);
INSERT INTO "App".users_big VALUES (9000000000), (9000000001);
INSERT INTO "App".users_uuid VALUES ('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'), ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12');
INSERT INTO "App"."Users Text" VALUES ('alice'), ('bob');
INSERT INTO "App".users_domain VALUES (77);

SELECT acctsec.link_account_table('"App".users_int', 'id');
SELECT acctsec.link_account_table('"App".users_big', 'id', '{}');
SELECT acctsec.link_account_table('"App".users_uuid', 'id', NULL);
SELECT acctsec.link_account_table('"App"."Users Text"', 'User Name');
SELECT acctsec.link_account_table('"App".users_domain', 'id');
-- linking again is harmless (one trigger, one row)
SELECT acctsec.link_account_table('"App".users_int', 'id');
SELECT tbl, key_column, mirror FROM acctsec.linked_tables ORDER BY tbl::text;
SELECT tgrelid::regclass AS tbl, tgname, tgfoid::regproc AS function, tgtype
FROM pg_trigger WHERE tgname = 'acctsec_forget_account' ORDER BY 1::text;

-- the account is the key's text form, as key::text gives it
SELECT pg_temp.seed(ARRAY['1', '2', '9000000000', '9000000001',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12',
  'alice', 'bob', '77']);
DELETE FROM "App".users_int WHERE id = 1;
DELETE FROM "App".users_int WHERE id = 3;   -- no state: nothing to erase
DELETE FROM "App".users_big WHERE id = 9000000000;
DELETE FROM "App".users_uuid WHERE id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
DELETE FROM "App"."Users Text" WHERE "User Name" = 'alice';
DELETE FROM "App".users_domain;
SELECT * FROM pg_temp.known(ARRAY['1', '2', '9000000000', '9000000001',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12',
  'alice', 'bob', '77']);

-- a rolled-back delete erases nothing
BEGIN;
DELETE FROM "App".users_int WHERE id = 2;
SELECT has_row FROM pg_temp.known(ARRAY['2']);
ROLLBACK;
SELECT has_row FROM pg_temp.known(ARRAY['2']);

-- unlink: the trigger and the link row go; deletes no longer erase
SELECT acctsec.unlink_account_table('"App".users_int');
SELECT count(*) AS triggers FROM pg_trigger
WHERE tgrelid = '"App".users_int'::regclass AND tgname = 'acctsec_forget_account';
DELETE FROM "App".users_int WHERE id = 2;
SELECT * FROM pg_temp.known(ARRAY['2']);

-- misuse, each with its SQLSTATE
CREATE VIEW "App".users_view AS SELECT * FROM "App".users_int;
CREATE TABLE "App".users_parted (id int) PARTITION BY RANGE (id);
CREATE TABLE "App".users_ts (id timestamptz);
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.link_account_table('"App".users_int', 'nope')$$,
  $$SELECT acctsec.link_account_table('"App".users_int', 'email', '{"failed_attempts": "x"}')$$,
  $$SELECT acctsec.link_account_table('"App".users_int', 'email', '[]')$$,
  $$SELECT acctsec.link_account_table('"App".users_ts', 'id')$$,
  $$SELECT acctsec.link_account_table('"App".users_view', 'id')$$,
  $$SELECT acctsec.link_account_table('"App".users_parted', 'id')$$,
  $$SELECT acctsec.link_account_table(NULL, 'id')$$,
  $$SELECT acctsec.link_account_table('"App".users_int', NULL)$$,
  $$SELECT acctsec.link_account_table('"App".no_such_table', 'id')$$,
  $$SELECT acctsec.unlink_account_table('"App".users_int')$$
]) AS s;
-- a mirror naming a column the table lacks (mirroring itself: sql/mirroring.sql)
SELECT regress.error_of($$SELECT acctsec.link_account_table('"App".users_int', 'id', '{"locked_until": "locked_until"}')$$);
-- nothing was linked by the failed calls
SELECT tbl FROM acctsec.linked_tables ORDER BY tbl::text;

-- the trigger function attached by hand to a table that is not linked
-- erases nothing: it refuses to run; and it only works AFTER DELETE FOR EACH ROW
CREATE TABLE "App".rogue (id text);
INSERT INTO "App".rogue VALUES ('bob');
CREATE TRIGGER by_hand AFTER DELETE ON "App".rogue
  FOR EACH ROW EXECUTE FUNCTION acctsec.forget_linked_account();
SELECT regress.error_of($$DELETE FROM "App".rogue$$);
DROP TRIGGER by_hand ON "App".rogue;
CREATE TRIGGER by_hand BEFORE DELETE ON "App"."Users Text"
  FOR EACH ROW EXECUTE FUNCTION acctsec.forget_linked_account();
SELECT regress.error_of($$DELETE FROM "App"."Users Text"$$);
DROP TRIGGER by_hand ON "App"."Users Text";
CREATE TRIGGER by_hand AFTER DELETE ON "App"."Users Text"
  FOR EACH STATEMENT EXECUTE FUNCTION acctsec.forget_linked_account();
SELECT regress.error_of($$DELETE FROM "App"."Users Text"$$);
DROP TRIGGER by_hand ON "App"."Users Text";
CREATE TRIGGER by_hand AFTER INSERT ON "App"."Users Text"
  FOR EACH ROW EXECUTE FUNCTION acctsec.forget_linked_account();
SELECT regress.error_of($$INSERT INTO "App"."Users Text" VALUES ('carol')$$);
DROP TRIGGER by_hand ON "App"."Users Text";
SELECT regress.error_of($$SELECT acctsec.forget_linked_account()$$);
SELECT * FROM pg_temp.known(ARRAY['bob']);

-- a key column dropped after linking is a clear error at delete time
CREATE TABLE "App".users_drop (id int, login text);
SELECT acctsec.link_account_table('"App".users_drop', 'login');
ALTER TABLE "App".users_drop DROP COLUMN login;
INSERT INTO "App".users_drop VALUES (1);
SELECT regress.error_of($$DELETE FROM "App".users_drop$$);

-- dropping a linked table unlinks it
DROP SCHEMA "App" CASCADE;
SELECT count(*) AS links_left FROM acctsec.linked_tables;
