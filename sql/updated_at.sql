-- updated_at: the trigger, explicit and automatic attachment, misuse errors.
\set VERBOSITY terse
LOAD 'acctsec';

-- Every trigger named acctsec_updated_at in this database: table, column, inherited?
CREATE VIEW pg_temp.tracked AS
  SELECT t.tgrelid::regclass::text AS tbl,
         replace(encode(t.tgargs, 'escape'), '\000', '') AS column_name,
         t.tgparentid <> 0 AS inherited
  FROM pg_trigger t WHERE t.tgname = 'acctsec_updated_at';
GRANT SELECT ON pg_temp.tracked TO PUBLIC;

SHOW acctsec.updated_at_columns;
SHOW acctsec.auto_updated_at;

-- 1. Automatic attachment at CREATE TABLE: snake_case and camelCase, both types
CREATE TABLE snake (id int PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE camel (id int PRIMARY KEY, name text, "updatedAt" timestamp(3) NOT NULL);
CREATE TABLE plain (id int PRIMARY KEY, name text);
CREATE TABLE wrong_type (id int, updated_at text);
CREATE TABLE both_names (id int, updated_at integer, "updatedAt" timestamptz);
SELECT * FROM pg_temp.tracked ORDER BY tbl;

-- 2. INSERT: NULL filled, explicit value kept; UPDATE: bumps, even a no-op,
--    unless the statement itself changed the column
BEGIN;
INSERT INTO camel VALUES (1, 'a', '2000-01-01 00:00:00'), (2, 'b', NULL);
SELECT id, "updatedAt" = '2000-01-01' AS explicit_kept,
       "updatedAt" = (now() AT TIME ZONE 'UTC')::timestamp(3) AS is_now_ms FROM camel ORDER BY id;
COMMIT;
INSERT INTO snake VALUES (1, 'a', '2000-01-01 00:00:00+00'), (2, 'b', '2000-01-01 00:00:00+00');
BEGIN;
UPDATE snake SET name = name WHERE id = 1;                      -- no-op update still bumps
UPDATE snake SET updated_at = '2010-05-05 00:00:00+00' WHERE id = 2;  -- explicit value kept
SELECT id, updated_at = now() AS is_now, updated_at = '2010-05-05 00:00:00+00' AS explicit_kept
FROM snake ORDER BY id;
COMMIT;
BEGIN;
-- setting the column to the value it already has is not a change: bumped
UPDATE snake SET updated_at = '2010-05-05 00:00:00+00', name = 'c' WHERE id = 2;
-- setting it to NULL is filled, not kept
UPDATE snake SET updated_at = NULL WHERE id = 1;
SELECT id, updated_at = now() AS is_now FROM snake ORDER BY id;
COMMIT;
-- NOT NULL column, INSERT without a value and no default: filled
INSERT INTO camel (id, name) VALUES (3, 'c');
SELECT "updatedAt" IS NOT NULL AS filled FROM camel WHERE id = 3;

-- the value is written in place in a copy of the row: NULLs, short, long,
-- compressed and out-of-line values before and after it stay intact
CREATE TABLE layout (a int, b text, c smallint, d text, e text, updated_at timestamptz, f text, g int);
INSERT INTO layout VALUES
  (1, NULL, 2, 'short', repeat('compressible ', 1000), '2000-01-01+00', 'tail', NULL),
  (2, repeat('x', 3), NULL, (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 5000) i), NULL, '2000-01-01+00', NULL, 7);
CREATE TEMP TABLE layout_before AS SELECT a, b, c, md5(d) AS d, md5(e) AS e, f, g FROM layout;
BEGIN;
UPDATE layout SET g = g;
SELECT l.a, l.updated_at = now() AS is_now,
       (l.b, l.c, md5(l.d), md5(l.e), l.f, l.g) IS NOT DISTINCT FROM (o.b, o.c, o.d, o.e, o.f, o.g) AS rest_intact
FROM layout l JOIN layout_before o USING (a) ORDER BY a;
COMMIT;
-- a dropped column before it (still in the stored rows)
ALTER TABLE layout DROP COLUMN d;
BEGIN;
UPDATE layout SET g = 2;
SELECT l.a, l.updated_at = now() AS is_now,
       (l.b, l.c, md5(l.e), l.f) IS NOT DISTINCT FROM (o.b, o.c, o.e, o.f) AS rest_intact
FROM layout l JOIN layout_before o USING (a) ORDER BY a;
COMMIT;
-- a column added after the rows were written (not in the stored tuple)
ALTER TABLE layout ADD COLUMN "updatedAt" timestamptz;
SELECT acctsec.track_updated_at('layout', 'updatedAt');
BEGIN;
UPDATE layout SET g = 1;
SELECT a, "updatedAt" = now() AS is_now FROM layout ORDER BY a;
COMMIT;

-- 3. Precision: the column's typmod, exactly as a cast of now() gives.
--    A timestamp column gets the time in UTC (what Rails, Prisma, Drizzle and
--    Django store there), whatever the session's time zone.
CREATE TABLE prec (id int,
  updated_at timestamp(0), t3 timestamp(3), t6 timestamp(6), tz0 timestamptz(0), tz3 timestamptz(3), tz timestamptz);
SELECT acctsec.track_updated_at('prec', 't3');
CREATE TRIGGER t6 BEFORE INSERT OR UPDATE ON prec FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at('t6');
CREATE TRIGGER tz0 BEFORE INSERT OR UPDATE ON prec FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at('tz0');
CREATE TRIGGER tz3 BEFORE INSERT OR UPDATE ON prec FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at('tz3');
CREATE TRIGGER tz BEFORE INSERT OR UPDATE ON prec FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at('tz');
-- no argument: the first configured column present (updated_at, timestamp(0))
CREATE TRIGGER t0 BEFORE INSERT OR UPDATE ON prec FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at();
SHOW acctsec.updated_at_zone;
SET TimeZone = 'America/New_York';
BEGIN;
INSERT INTO prec (id) VALUES (1);
SELECT updated_at = (now() AT TIME ZONE 'UTC')::timestamp(0) AS t0,
       t3 = (now() AT TIME ZONE 'UTC')::timestamp(3) AS t3,
       t6 = (now() AT TIME ZONE 'UTC')::timestamp(6) AS t6, tz0 = now()::timestamptz(0) AS tz0,
       tz3 = now()::timestamptz(3) AS tz3, tz = now() AS tz FROM prec;
-- not the local time of New York, five (or four) hours off
SELECT t6 <> now()::timestamp(6) AS not_local,
       t6 - now()::timestamp(6) IN ('4 hours', '5 hours') AS new_york_offset FROM prec;
-- another session time zone in the same transaction: still UTC
SET LOCAL TimeZone = 'Asia/Kolkata';
UPDATE prec SET id = 2;
SELECT updated_at = (now() AT TIME ZONE 'UTC')::timestamp(0) AS t0,
       t3 = (now() AT TIME ZONE 'UTC')::timestamp(3) AS t3,
       t6 = (now() AT TIME ZONE 'UTC')::timestamp(6) AS t6, tz = now() AS tz FROM prec;
COMMIT;
-- read back as Rails reads it (a UTC timestamp): the transaction's instant
BEGIN;
UPDATE prec SET id = 3;
SELECT (t6 AT TIME ZONE 'UTC') = now() AS same_instant FROM prec;
COMMIT;
-- acctsec.updated_at_zone = 'local': the session's local time, as
-- now()::timestamp gives (PostgreSQL's own meaning), following SET LOCAL
-- TimeZone within the transaction; timestamptz columns are unaffected
SET acctsec.updated_at_zone = 'local';
BEGIN;
UPDATE prec SET id = 4;
SELECT updated_at = now()::timestamp(0) AS t0, t3 = now()::timestamp(3) AS t3,
       t6 = now()::timestamp(6) AS t6, tz0 = now()::timestamptz(0) AS tz0, tz = now() AS tz FROM prec;
SET LOCAL TimeZone = 'Asia/Kolkata';
UPDATE prec SET id = 5;
SELECT updated_at = now()::timestamp(0) AS t0, t3 = now()::timestamp(3) AS t3,
       t6 = now()::timestamp(6) AS t6, tz = now() AS tz FROM prec;
-- back to UTC within the same transaction: the cached value is not reused
SET LOCAL acctsec.updated_at_zone = 'utc';
UPDATE prec SET id = 6;
SELECT t6 = (now() AT TIME ZONE 'UTC')::timestamp(6) AS t6_utc FROM prec;
COMMIT;
SELECT regress.error_of($$SET acctsec.updated_at_zone = 'Europe/Paris'$$);
RESET acctsec.updated_at_zone;
RESET TimeZone;

-- 4. track / untrack by hand, idempotent; untrack remembers the opt-out
SELECT acctsec.track_updated_at('plain');   -- no such column: error below
ALTER TABLE plain ADD COLUMN modified_at timestamptz;
SELECT acctsec.track_updated_at('plain', 'modified_at');
SELECT acctsec.track_updated_at('plain', 'modified_at');   -- again: no change
SELECT * FROM pg_temp.tracked WHERE tbl = 'plain';
INSERT INTO plain VALUES (1, 'x');
SELECT modified_at IS NOT NULL AS filled FROM plain;
SELECT acctsec.untrack_updated_at('snake');
SELECT acctsec.untrack_updated_at('snake');                -- again: no change
SELECT tbl FROM acctsec.updated_at_optout;
-- automatic attachment leaves an opted-out table alone from now on
ALTER TABLE snake ADD COLUMN note text;
ALTER TABLE snake RENAME COLUMN updated_at TO updated_at_old;
ALTER TABLE snake RENAME COLUMN updated_at_old TO updated_at;
SELECT count(*) AS snake_triggers FROM pg_temp.tracked WHERE tbl = 'snake';
UPDATE snake SET updated_at = '2001-01-01+00';
UPDATE snake SET name = 'd';
SELECT DISTINCT updated_at = '2001-01-01+00' AS untouched FROM snake;
-- tracking again clears the opt-out
SELECT acctsec.track_updated_at('snake');
SELECT count(*) AS optouts FROM acctsec.updated_at_optout;
SELECT * FROM pg_temp.tracked WHERE tbl = 'snake';

-- 5. Migrations: rename, drop and retype detach cleanly; add and retype attach
CREATE TABLE mig (id int, name text, updated_at timestamptz);
ALTER TABLE mig RENAME COLUMN updated_at TO changed_at;
SELECT count(*) AS after_rename FROM pg_temp.tracked WHERE tbl = 'mig';
UPDATE mig SET name = 'still works';
ALTER TABLE mig RENAME COLUMN changed_at TO updated_at;
SELECT * FROM pg_temp.tracked WHERE tbl = 'mig';
ALTER TABLE mig ALTER COLUMN updated_at TYPE text;
SELECT count(*) AS after_retype FROM pg_temp.tracked WHERE tbl = 'mig';
INSERT INTO mig VALUES (1, 'text column');
ALTER TABLE mig ALTER COLUMN updated_at TYPE timestamp(3) USING NULL;
SELECT * FROM pg_temp.tracked WHERE tbl = 'mig';
ALTER TABLE mig DROP COLUMN updated_at;
SELECT count(*) AS after_drop FROM pg_temp.tracked WHERE tbl = 'mig';
INSERT INTO mig VALUES (2, 'no column');
ALTER TABLE mig ADD COLUMN "updatedAt" timestamptz;
SELECT * FROM pg_temp.tracked WHERE tbl = 'mig';
-- an explicitly tracked column renamed away: detached, the default one taken
ALTER TABLE plain ADD COLUMN updated_at timestamptz;
SELECT * FROM pg_temp.tracked WHERE tbl = 'plain';
ALTER TABLE plain RENAME COLUMN modified_at TO modified;
SELECT * FROM pg_temp.tracked WHERE tbl = 'plain';
-- CREATE TABLE AS and SELECT INTO
CREATE TABLE copy_as AS SELECT id, updated_at FROM snake;
SELECT id, name, updated_at INTO copy_into FROM snake;
SELECT * FROM pg_temp.tracked WHERE tbl IN ('copy_as', 'copy_into') ORDER BY tbl;
-- a table with another set_updated_at trigger of its own gets no second one
CREATE TABLE own_trigger (id int, updated_at timestamptz);
SELECT acctsec.untrack_updated_at('own_trigger');
CREATE TRIGGER mine BEFORE INSERT OR UPDATE ON own_trigger FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at();
SELECT acctsec.track_updated_at('own_trigger');  -- explicit: allowed, one of ours
DELETE FROM acctsec.updated_at_optout;
DROP TRIGGER acctsec_updated_at ON own_trigger;
ALTER TABLE own_trigger ADD COLUMN x int;
SELECT count(*) AS ours FROM pg_temp.tracked WHERE tbl = 'own_trigger';

-- a trigger of the same name that is not acctsec's replaces ours, and is
-- then left alone
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TABLE name_taken (id int, updated_at timestamptz);
CREATE TRIGGER acctsec_updated_at BEFORE UPDATE ON name_taken FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE name_taken ADD COLUMN x int;
ALTER TABLE name_taken DROP COLUMN updated_at;
SELECT tgname, tgfoid::regproc FROM pg_trigger WHERE tgrelid = 'name_taken'::regclass;
ALTER TABLE name_taken ADD COLUMN updated_at timestamptz;
SELECT regress.error_of($$SELECT acctsec.track_updated_at('name_taken')$$);

-- 6. Partitioned tables: once on the parent, inherited by every partition
CREATE TABLE events (id int, at date, updated_at timestamptz) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
-- a table made on its own, tracked, then attached as a partition
CREATE TABLE events_2026 (id int, at date, updated_at timestamptz);
SELECT count(*) AS before_attach FROM pg_temp.tracked WHERE tbl = 'events_2026';
ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT * FROM pg_temp.tracked WHERE tbl LIKE 'events%' ORDER BY tbl;
BEGIN;
INSERT INTO events VALUES (1, '2025-06-01', NULL), (2, '2026-06-01', '2000-01-01+00');
UPDATE events SET at = '2026-07-01' WHERE id = 1;           -- moves partition
SELECT id, tableoid::regclass, updated_at = now() AS is_now FROM events ORDER BY id;
COMMIT;
SELECT regress.error_of($$SELECT acctsec.untrack_updated_at('events_2025')$$);
SELECT regress.error_of($$SELECT acctsec.track_updated_at('events_2025', 'at')$$);
SELECT acctsec.track_updated_at('events_2025');              -- what it has: no change
-- detached, a partition gets its own trigger back; attached again, the clone
ALTER TABLE events DETACH PARTITION events_2026;
SELECT * FROM pg_temp.tracked WHERE tbl LIKE 'events%' ORDER BY tbl;
ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT * FROM pg_temp.tracked WHERE tbl LIKE 'events%' ORDER BY tbl;
-- a partition of an opted-out parent gets none
CREATE TABLE quiet (id int, updated_at timestamptz) PARTITION BY LIST (id);
SELECT acctsec.untrack_updated_at('quiet');
CREATE TABLE quiet_1 PARTITION OF quiet FOR VALUES IN (1);
SELECT count(*) AS quiet_triggers FROM pg_temp.tracked WHERE tbl LIKE 'quiet%';
ALTER TABLE events DROP COLUMN updated_at;
SELECT count(*) AS after_drop FROM pg_temp.tracked WHERE tbl LIKE 'events%';
INSERT INTO events VALUES (3, '2025-02-02');

-- 7. Temporary tables get it too
CREATE TEMP TABLE scratch (id int, updated_at timestamptz);
SELECT column_name FROM pg_temp.tracked WHERE tbl = 'scratch';
INSERT INTO scratch VALUES (1, NULL);
SELECT updated_at IS NOT NULL AS filled FROM scratch;

-- 8. Settings: off, other names; a name list change reaches cached triggers
SET acctsec.auto_updated_at = off;
CREATE TABLE manual (id int, updated_at timestamptz);
SELECT count(*) AS while_off FROM pg_temp.tracked WHERE tbl = 'manual';
RESET acctsec.auto_updated_at;
SET acctsec.updated_at_columns = 'last_change, updated_at';
CREATE TABLE renamed_conv (id int, updated_at timestamptz, last_change timestamptz);
SELECT column_name FROM pg_temp.tracked WHERE tbl = 'renamed_conv';
CREATE TABLE cache_check (id int, updated_at timestamptz, last_change timestamptz);
DROP TRIGGER acctsec_updated_at ON cache_check;
CREATE TRIGGER by_setting BEFORE INSERT OR UPDATE ON cache_check FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at();
INSERT INTO cache_check VALUES (1);
SELECT updated_at IS NULL AS u_null, last_change IS NULL AS l_null FROM cache_check;
SET acctsec.updated_at_columns = 'updated_at';
UPDATE cache_check SET id = 2;
SELECT updated_at IS NULL AS u_null, last_change IS NULL AS l_null FROM cache_check;
RESET acctsec.updated_at_columns;
-- the column moves to another position: the relcache change is seen
CREATE TABLE moves (id int, ts timestamptz, other timestamptz);
CREATE TRIGGER ts BEFORE INSERT OR UPDATE ON moves FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at('ts');
INSERT INTO moves VALUES (1);
ALTER TABLE moves RENAME COLUMN ts TO ts_first;
ALTER TABLE moves RENAME COLUMN other TO ts;
UPDATE moves SET ts_first = NULL;
SELECT ts_first IS NULL AS first_null, ts IS NOT NULL AS second_set FROM moves;
SELECT regress.error_of($$SET acctsec.updated_at_columns = 'a,,b'$$);
SELECT regress.error_of($$SET acctsec.updated_at_columns = '$$ || repeat('x', 64) || $$'$$);
SET acctsec.updated_at_columns = '';
SELECT regress.error_of($$INSERT INTO cache_check VALUES (3)$$);
RESET acctsec.updated_at_columns;

-- 9. Misuse: each a clear error naming table and column, with its SQLSTATE
CREATE TABLE misuse (id int, updated_at timestamptz, n int);
SELECT acctsec.untrack_updated_at('misuse');
CREATE VIEW misuse_view AS SELECT * FROM misuse;
INSERT INTO misuse VALUES (1);
CREATE TRIGGER a AFTER INSERT OR UPDATE ON misuse FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at();
SELECT regress.error_of($$UPDATE misuse SET n = 1$$);
SELECT regress.error_of($$INSERT INTO misuse VALUES (2)$$);
DROP TRIGGER a ON misuse;
CREATE TRIGGER s BEFORE UPDATE ON misuse FOR EACH STATEMENT EXECUTE FUNCTION acctsec.set_updated_at();
SELECT regress.error_of($$UPDATE misuse SET n = 1$$);
DROP TRIGGER s ON misuse;
CREATE TRIGGER d BEFORE DELETE ON misuse FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at();
SELECT regress.error_of($$DELETE FROM misuse$$);
DROP TRIGGER d ON misuse;
CREATE TRIGGER m BEFORE UPDATE ON misuse FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at('nope');
SELECT regress.error_of($$UPDATE misuse SET n = 1$$);
DROP TRIGGER m ON misuse;
CREATE TRIGGER w BEFORE UPDATE ON misuse FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at('n');
SELECT regress.error_of($$UPDATE misuse SET n = 1$$);
DROP TRIGGER w ON misuse;
CREATE TRIGGER two BEFORE UPDATE ON misuse FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at('updated_at', 'n');
SELECT regress.error_of($$UPDATE misuse SET n = 1$$);
DROP TRIGGER two ON misuse;
CREATE TRIGGER none BEFORE UPDATE ON plain FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at();
ALTER TABLE plain DROP COLUMN updated_at;
SELECT regress.error_of($$UPDATE plain SET name = 'y'$$);
DROP TRIGGER none ON plain;
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.set_updated_at()$$,
  $$SELECT acctsec.updated_at_ddl()$$,
  $$SELECT acctsec.track_updated_at(NULL)$$,
  $$SELECT acctsec.untrack_updated_at(NULL)$$,
  $$SELECT acctsec.track_updated_at('misuse_view')$$,
  $$SELECT acctsec.track_updated_at('misuse', 'nope')$$,
  $$SELECT acctsec.track_updated_at('misuse', 'n')$$,
  $$SELECT acctsec.track_updated_at('wrong_type')$$,
  $$SELECT acctsec.track_updated_at('no_such_table')$$
]) AS s;
-- an INSTEAD OF row trigger on a view is refused when it fires
CREATE TRIGGER v INSTEAD OF UPDATE ON misuse_view FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at();
SELECT regress.error_of($$UPDATE misuse_view SET n = 2$$);

-- 10. A role that is not superuser: its own tables get the trigger, and it
--     can track and untrack them, but nothing else
CREATE ROLE regress_ua_owner;
CREATE ROLE regress_ua_other;
CREATE SCHEMA ua AUTHORIZATION regress_ua_owner;
GRANT USAGE ON SCHEMA ua TO regress_ua_other;
SET ROLE regress_ua_owner;
CREATE TABLE ua.app_users (id int PRIMARY KEY, email text, updated_at timestamptz);
SELECT * FROM pg_temp.tracked WHERE tbl = 'ua.app_users';
INSERT INTO ua.app_users VALUES (1, 'a@example.com');
SELECT updated_at IS NOT NULL AS filled FROM ua.app_users;
SELECT acctsec.untrack_updated_at('ua.app_users');
SELECT acctsec.track_updated_at('ua.app_users');
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.track_updated_at('snake')$$,
  $$SELECT acctsec.untrack_updated_at('snake')$$,
  $$SELECT * FROM acctsec.updated_at_optout$$,
  $$INSERT INTO acctsec.updated_at_optout VALUES ('snake')$$,
  $$SET acctsec.auto_updated_at = off$$,
  $$SET acctsec.updated_at_columns = 'id'$$
]) AS s;
RESET ROLE;
SET ROLE regress_ua_other;
SELECT regress.error_of($$SELECT acctsec.untrack_updated_at('ua.app_users')$$);
RESET ROLE;
SELECT * FROM pg_temp.tracked WHERE tbl = 'ua.app_users';
--     The trigger is created as the table's owner, never as a superuser, so
--     track_updated_at() gets no further than the owner's own CREATE
--     TRIGGER: not onto a partition another role owns, nor onto a table
--     whose owner gave up its TRIGGER privilege
CREATE TABLE ua.parted (id int, updated_at timestamptz) PARTITION BY LIST (id);
ALTER TABLE ua.parted OWNER TO regress_ua_owner;
SELECT acctsec.untrack_updated_at('ua.parted');
CREATE TABLE ua.parted_1 PARTITION OF ua.parted FOR VALUES IN (1);
ALTER TABLE ua.parted_1 OWNER TO regress_ua_other;
SET ROLE regress_ua_owner;
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.track_updated_at('ua.parted')$$,
  $$CREATE TRIGGER acctsec_updated_at BEFORE INSERT OR UPDATE ON ua.parted
      FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at('updated_at')$$
]) AS s;
CREATE TABLE ua.no_trigger (id int, updated_at timestamptz);
SELECT acctsec.untrack_updated_at('ua.no_trigger');
REVOKE TRIGGER ON ua.no_trigger FROM regress_ua_owner;
SELECT regress.error_of($$SELECT acctsec.track_updated_at('ua.no_trigger')$$);
RESET ROLE;
SELECT count(*) AS tracked FROM pg_temp.tracked
WHERE tbl::text IN ('ua.parted', 'ua.parted_1', 'ua.no_trigger');
DROP TABLE ua.parted, ua.no_trigger;

-- 11. As a restored dump does it: CREATE TABLE attaches the trigger, then the
--     dump's own CREATE TRIGGER replaces it, and a restored opt-out row
--     detaches it again
CREATE TABLE restored (id int, updated_at timestamptz, modified timestamptz);
CREATE TRIGGER acctsec_updated_at BEFORE INSERT OR UPDATE ON restored
  FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at('modified');
SELECT * FROM pg_temp.tracked WHERE tbl = 'restored';
CREATE TABLE restored_optout (id int, updated_at timestamptz);
INSERT INTO acctsec.updated_at_optout (tbl) VALUES ('restored_optout');
SELECT count(*) AS restored_optout FROM pg_temp.tracked WHERE tbl = 'restored_optout';
-- the opt-out's own trigger fired other than AFTER INSERT FOR EACH ROW
CREATE TABLE misfired (tbl regclass);
CREATE TRIGGER t BEFORE INSERT ON misfired FOR EACH ROW EXECUTE FUNCTION acctsec.updated_at_optout_added();
SELECT regress.error_of($$INSERT INTO misfired VALUES ('misfired')$$);
DROP TRIGGER t ON misfired;
CREATE TRIGGER t AFTER INSERT ON misfired FOR EACH STATEMENT EXECUTE FUNCTION acctsec.updated_at_optout_added();
SELECT regress.error_of($$INSERT INTO misfired VALUES ('misfired')$$);
DROP TRIGGER t ON misfired;
INSERT INTO misfired VALUES ('misfired');
CREATE TRIGGER t AFTER DELETE ON misfired FOR EACH ROW EXECUTE FUNCTION acctsec.updated_at_optout_added();
SELECT regress.error_of($$DELETE FROM misfired$$);
DROP TABLE misfired;

-- 12. Dropped tables leave no opt-out behind
SELECT acctsec.untrack_updated_at('manual');
SELECT count(*) AS optouts FROM acctsec.updated_at_optout;
DROP TABLE manual;
SELECT count(*) AS optouts FROM acctsec.updated_at_optout;
DROP SCHEMA ua CASCADE;
DROP ROLE regress_ua_owner;
DROP ROLE regress_ua_other;

-- 13. "Don't touch" writes: SET LOCAL acctsec.touch_updated_at = off leaves
--     updated_at as the statement wrote it, for that transaction only
--     (Rails' update_columns, save(touch: false)); any role may set it
CREATE TABLE touchy (id int PRIMARY KEY, name text, updated_at timestamptz, "updatedAt" timestamp(3));
SELECT acctsec.track_updated_at('touchy', 'updatedAt');
CREATE TRIGGER snake BEFORE INSERT OR UPDATE ON touchy FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at('updated_at');
INSERT INTO touchy VALUES (1, 'a', '2000-01-01+00', '2000-01-01'), (2, 'b', '2000-01-01+00', '2000-01-01');
SHOW acctsec.touch_updated_at;
BEGIN;
SET LOCAL acctsec.touch_updated_at = off;
UPDATE touchy SET name = 'untouched' WHERE id = 1;
INSERT INTO touchy (id, name) VALUES (3, 'inserted untouched');
SELECT id, updated_at = '2000-01-01+00' AS snake_kept, "updatedAt" = '2000-01-01' AS camel_kept,
       updated_at IS NULL AND "updatedAt" IS NULL AS left_null
FROM touchy ORDER BY id;
-- an explicit value is still what the statement wrote
UPDATE touchy SET updated_at = '2010-10-10+00' WHERE id = 2;
SELECT updated_at = '2010-10-10+00' AS explicit_kept FROM touchy WHERE id = 2;
COMMIT;
SHOW acctsec.touch_updated_at;
BEGIN;
UPDATE touchy SET name = 'touched' WHERE id = 1;
SELECT updated_at = now() AS snake_now, "updatedAt" = (now() AT TIME ZONE 'UTC')::timestamp(3) AS camel_now
FROM touchy WHERE id = 1;
COMMIT;
-- misuse is still an error while it is off
CREATE TRIGGER bad BEFORE UPDATE ON touchy FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at('nope');
BEGIN;
SET LOCAL acctsec.touch_updated_at = off;
SELECT regress.error_of($$UPDATE touchy SET name = 'x'$$);
COMMIT;
DROP TRIGGER bad ON touchy;
-- a role that is not superuser sets both
CREATE ROLE regress_ua_app;
GRANT SELECT, INSERT, UPDATE ON touchy TO regress_ua_app;
UPDATE touchy SET "updatedAt" = '2001-01-01' WHERE id = 1;
SET ROLE regress_ua_app;
BEGIN;
SET LOCAL acctsec.touch_updated_at = off;
SET LOCAL acctsec.updated_at_zone = local;
UPDATE touchy SET name = 'by app' WHERE id = 1;
SELECT name, "updatedAt" = '2001-01-01' AS camel_kept FROM touchy WHERE id = 1;
COMMIT;
RESET ROLE;
DROP TABLE touchy;
DROP ROLE regress_ua_app;
