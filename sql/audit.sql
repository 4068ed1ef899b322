-- Audit log: the trigger, redaction, security events, append-only rows and
-- the hash chain (tampering behind the extension's back is detected).
\set VERBOSITY terse
-- the output shows times: pin the zone, so the server's own zone does not matter
SET TimeZone = 'PST8PDT';
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS acctsec CASCADE;
RESET client_min_messages;
CREATE EXTENSION acctsec;

-- the log's shape, and who may touch it
SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull
FROM pg_attribute WHERE attrelid = 'acctsec.audit_log'::regclass AND attnum > 0
ORDER BY attnum;
SELECT c.relname, c.relacl IS NULL OR NOT aclcontains(c.relacl, makeaclitem(0, c.relowner, 'SELECT', false)) AS no_public_select
FROM pg_class c WHERE c.relnamespace = 'acctsec'::regnamespace AND c.relname LIKE 'audit%' AND c.relkind IN ('r', 'S')
ORDER BY 1;
SELECT p.proname, p.prosecdef, p.provolatile, p.proparallel, p.proisstrict,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       p.proconfig
FROM pg_proc p WHERE p.pronamespace = 'acctsec'::regnamespace AND p.proname LIKE 'audit%'
   OR p.oid = 'acctsec.unaudit_table'::regproc
ORDER BY 1, p.proisstrict;
SELECT c AS dumped FROM pg_extension, unnest(extconfig::regclass[]) AS c
WHERE extname = 'acctsec' AND c::text LIKE 'acctsec.audit%' ORDER BY 1;
SHOW acctsec.redact_columns;

-- an application table, audited with one extra column excluded
CREATE TABLE users (
  id int PRIMARY KEY, email text, password_hash text, "API_Token" text,
  note text, created date, seen timestamptz, score numeric, ratio float8,
  active bool, meta jsonb, tags text[], big text);
SELECT acctsec.audit_table('users', ARRAY['note']);
SELECT tgname, tgenabled, pg_get_triggerdef(oid) FROM pg_trigger
WHERE tgrelid = 'users'::regclass ORDER BY tgname;

BEGIN;
SET LOCAL acctsec.actor = 'alice@example.com';
INSERT INTO users VALUES (1, 'a@example.com', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$c2VjcmV0ZGlnZXN0',
  'tok-abcdef', 'private note', '2024-01-02', '2024-01-02 03:04:05+00', 1.50, 0.25, true,
  '{"b": 1, "a": [1, 2]}', '{x,y}', NULL);
UPDATE users SET email = 'b@example.com', password_hash = '$argon2id$v=19$m=65536,t=3,p=4$bmV3$bmV3ZGlnZXN0' WHERE id = 1;
UPDATE users SET note = 'another private note' WHERE id = 1;
UPDATE users SET id = 2 WHERE id = 1;
COMMIT;
UPDATE users SET email = email WHERE id = 2;
DELETE FROM users WHERE id = 2;
SELECT id, relation, operation, actor, db_user, client_addr, row_key, changed_columns
FROM acctsec.audit_log ORDER BY id;
SELECT id, old_values, new_values FROM acctsec.audit_log ORDER BY id;
-- one transaction id per transaction, logged_at from the statement
SELECT count(DISTINCT txid) AS transactions, bool_and(logged_at <= now()) AS in_the_past,
       bool_and(txid::text::bigint > 0) AS txid_set
FROM acctsec.audit_log;
-- no secret, hash or excluded value reached the log, though their changes show
SELECT count(*) AS leaks FROM acctsec.audit_log
WHERE concat(row_key, old_values, new_values) ~ '(argon2|tok-abc|private note)';

-- values NULL and redacted stay "[redacted]"; TRUNCATE is one row
INSERT INTO users (id) VALUES (3);
TRUNCATE users;
SELECT operation, row_key, new_values ->> 'password_hash' AS password_hash,
       new_values ->> 'email' AS email
FROM acctsec.audit_log WHERE id > 6 ORDER BY id;

-- a table without a primary key: the row, redacted, is its key
CREATE TABLE tokens (owner text, token text, uses int);
SELECT acctsec.audit_table('tokens');
INSERT INTO tokens VALUES ('bob', 'secret-token-value', 0);
UPDATE tokens SET uses = uses + 1;
SELECT operation, row_key, changed_columns FROM acctsec.audit_log
WHERE relation = 'public.tokens' ORDER BY id;

-- columns added and dropped after audit_table() are followed at once
ALTER TABLE tokens DROP COLUMN uses, ADD COLUMN label text;
UPDATE tokens SET label = 'laptop';
SELECT operation, old_values, new_values, changed_columns FROM acctsec.audit_log
WHERE relation = 'public.tokens' ORDER BY id DESC LIMIT 1;

-- the chain hashes each value's text as jsonb_out() writes it, which the
-- trigger writes itself for scalars (containers are printed from the
-- jsonb): keys in jsonb's order (shorter first, then bytewise), escapes in
-- names and values, every scalar kind with its edge cases; the stored
-- values print so, and the chain verifies
CREATE TABLE json_text ("Zz" int2 PRIMARY KEY, "a""b\c" text, b int8, "é" numeric,
  ab float4, c float8, "AB" bool, d date, e timestamp, "tab	x" timestamptz, "ñame" text,
  x jsonb, y int[], "Null" text, "{,}" text);
SELECT acctsec.audit_table('json_text');
INSERT INTO json_text VALUES
  (-32768, E'q"uo\\te\n\t\u0001 ü', 9223372036854775807, 'NaN', 'Infinity', 1e20, false,
   'infinity', '2024-01-02 03:04:05.5', '-infinity', NULL, NULL, NULL),
  (1, '', -9223372036854775808, '-1.500', '-0', 1.5e-7, true, '2024-02-29', 'infinity',
   '2024-01-02 03:04:05+05', 'x', '{"k": [1, "v"]}', '{1,NULL}');
UPDATE json_text SET "é" = '-Infinity', c = 'NaN', ab = 0.1, "ñame" = NULL WHERE "Zz" = -32768;
-- (the changed columns' text too: names quoted as array_out() quotes them)
UPDATE json_text SET "a""b\c" = 'z', "tab	x" = NULL, "Null" = 'n', "{,}" = 'b', "AB" = NOT "AB"
WHERE "Zz" = 1;
UPDATE json_text SET b = b WHERE "Zz" = 1;
SELECT operation, row_key::text, coalesce(new_values, old_values)::text AS "values", changed_columns
FROM acctsec.audit_log WHERE relation = 'public.json_text' ORDER BY id;
SELECT ok, first_bad_id FROM acctsec.audit_verify();
DROP TABLE json_text;

-- a partitioned table: every partition is audited, rows name the partition
CREATE TABLE aud_part (id int, at date, what text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE aud_part_2024 PARTITION OF aud_part FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
SELECT acctsec.audit_table('aud_part');
CREATE TABLE aud_part_2025 PARTITION OF aud_part FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO aud_part VALUES (1, '2024-06-01', 'a'), (2, '2025-06-01', 'b');
UPDATE aud_part SET at = '2025-07-01' WHERE id = 1;   -- moves across partitions
TRUNCATE aud_part;
SELECT relation, operation, row_key FROM acctsec.audit_log
WHERE relation LIKE 'public.aud_part%' ORDER BY id;
SELECT acctsec.unaudit_table('aud_part');
SELECT count(*) AS triggers_left FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relname LIKE 'aud_part%' AND t.tgname LIKE 'acctsec%';
DROP TABLE aud_part;

-- an unchanged toasted value is not a change; a changed one is
INSERT INTO users (id, big) SELECT 4, string_agg(md5(i::text), '') FROM generate_series(1, 400) i;
SELECT pg_column_size(big) > 2000 AS stored_out_of_line FROM users WHERE id = 4;
UPDATE users SET email = 'd@example.com' WHERE id = 4;
UPDATE users SET big = big || 'x' WHERE id = 4;
SELECT changed_columns, length(new_values ->> 'big') AS big_length
FROM acctsec.audit_log WHERE relation = 'public.users' AND operation = 'UPDATE'
ORDER BY id DESC LIMIT 2;

-- acctsec.redact_columns (superuser setting) and a new exclude list apply at once
SET acctsec.redact_columns = 'email';
UPDATE users SET email = 'e@example.com', "API_Token" = 'tok-visible' WHERE id = 4;
RESET acctsec.redact_columns;
SELECT acctsec.audit_table('users', ARRAY['email', 'score']);
UPDATE users SET email = 'f@example.com', score = 2 WHERE id = 4;
SELECT new_values - 'big' AS new_values FROM acctsec.audit_log
WHERE relation = 'public.users' ORDER BY id DESC LIMIT 2;

-- savepoints and exception blocks: rolled-back audit rows leave no gap
SELECT max(id) AS mark FROM acctsec.audit_log \gset
BEGIN;
INSERT INTO users (id) VALUES (10);
SAVEPOINT s1;
INSERT INTO users (id) VALUES (11);
SAVEPOINT s2;
INSERT INTO users (id) VALUES (12);
ROLLBACK TO SAVEPOINT s1;
INSERT INTO users (id) VALUES (13);
DO $$BEGIN
  INSERT INTO users (id) VALUES (14);
  INSERT INTO users (id) VALUES (10);   -- duplicate key: the block rolls back
EXCEPTION WHEN unique_violation THEN NULL;
END $$;
SELECT ok, first_bad_id FROM acctsec.audit_verify();   -- this transaction's own rows count
COMMIT;
SELECT row_key FROM acctsec.audit_log WHERE relation = 'public.users' AND operation = 'INSERT'
  AND id > :mark ORDER BY id;
-- a rolled-back first audit row in a savepoint releases the lane cleanly
BEGIN;
SAVEPOINT s;
INSERT INTO users (id) VALUES (20);
ROLLBACK TO SAVEPOINT s;
INSERT INTO users (id) VALUES (21);
COMMIT;
SELECT ok, first_bad_id FROM acctsec.audit_verify();

-- an audit write that fails inside a savepoint (here: the id sequence set
-- back by hand) leaves the transaction's writer and lane usable
BEGIN;
INSERT INTO users (id) VALUES (22);
SELECT last_value AS seq_was FROM acctsec.audit_log_id_seq \gset
SELECT setval('acctsec.audit_log_id_seq', 1) AS set_back;
SELECT regress.error_of($$INSERT INTO users (id) VALUES (23)$$);
SELECT setval('acctsec.audit_log_id_seq', :seq_was) = :seq_was AS restored;
INSERT INTO users (id) VALUES (24);
COMMIT;
SELECT row_key FROM acctsec.audit_log WHERE row_key ->> 'id' IN ('22', '23', '24') ORDER BY id;
SELECT ok, first_bad_id FROM acctsec.audit_verify();

-- unaudit_table detaches it: nothing more is logged
SELECT acctsec.unaudit_table('users');
SELECT acctsec.unaudit_table('users');   -- again: nothing to do, no error
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'users'::regclass;
SELECT count(*) AS before FROM acctsec.audit_log \gset
INSERT INTO users (id) VALUES (30);
SELECT count(*) - :before AS logged FROM acctsec.audit_log;

-- audit_misuse of the trigger and of audit_table, with their SQLSTATEs
CREATE TABLE audit_misuse (id int PRIMARY KEY);
CREATE TRIGGER before_audit BEFORE INSERT ON audit_misuse FOR EACH ROW EXECUTE FUNCTION acctsec.audit();
SELECT regress.error_of($$INSERT INTO audit_misuse VALUES (1)$$);
DROP TRIGGER before_audit ON audit_misuse;
CREATE TRIGGER statement_audit AFTER INSERT ON audit_misuse FOR EACH STATEMENT EXECUTE FUNCTION acctsec.audit();
SELECT regress.error_of($$INSERT INTO audit_misuse VALUES (1)$$);
DROP TRIGGER statement_audit ON audit_misuse;
CREATE VIEW audit_misuse_view AS SELECT * FROM audit_misuse;
CREATE TRIGGER instead_audit INSTEAD OF INSERT ON audit_misuse_view FOR EACH ROW EXECUTE FUNCTION acctsec.audit();
SELECT regress.error_of($$INSERT INTO audit_misuse_view VALUES (1)$$);
-- on the log itself it refuses; the extension's own writes go straight into
-- the table and its indexes and fire no row trigger
CREATE TRIGGER self_audit AFTER INSERT ON acctsec.audit_log FOR EACH ROW EXECUTE FUNCTION acctsec.audit();
SELECT regress.error_of($$INSERT INTO acctsec.audit_log
  SELECT id + 1000000, logged_at, txid, db_user, actor, client_addr, relation, operation, account,
         row_key, old_values, new_values, changed_columns, salt, erased_by, erasure, hash
  FROM acctsec.audit_log LIMIT 1$$);
SELECT regress.error_of($$SELECT acctsec.audit_event('app.test')$$);
DROP TRIGGER self_audit ON acctsec.audit_log;
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.audit()$$,
  $$SELECT acctsec.audit_table(NULL)$$,
  $$SELECT acctsec.audit_table('audit_misuse_view')$$,
  $$SELECT acctsec.audit_table('audit_misuse_pkey')$$,
  $$SELECT acctsec.audit_table('audit_misuse', ARRAY['nope'])$$,
  $$SELECT acctsec.audit_table('audit_misuse', ARRAY['ctid'])$$,
  $$SELECT acctsec.audit_table('audit_misuse', ARRAY[NULL])$$,
  $$SELECT acctsec.audit_table('audit_misuse', ARRAY[['id']])$$,
  $$SELECT acctsec.audit_table('acctsec.audit_log')$$,
  $$SELECT acctsec.unaudit_table('acctsec.audit_lanes')$$,
  $$SELECT acctsec.audit_table('no_such_table')$$
]) AS s;

-- application events: only "app." names, details an object
SELECT acctsec.audit_event('app.password_changed', 'user-42', '{"ip": "192.0.2.1"}') > 0 AS logged;
SELECT relation, operation, account, row_key, new_values FROM acctsec.audit_log
ORDER BY id DESC LIMIT 1;
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.audit_event('login.failed', 'user-42')$$,
  $$SELECT acctsec.audit_event('app.', 'user-42')$$,
  $$SELECT acctsec.audit_event('app.Bad', 'user-42')$$,
  $$SELECT acctsec.audit_event('app..x', 'user-42')$$,
  $$SELECT acctsec.audit_event('app.' || repeat('x', 60))$$,
  $$SELECT acctsec.audit_event(NULL)$$,
  $$SELECT acctsec.audit_event('app.x', NULL, '[1]')$$
]) AS s;

-- append-only: not even a superuser, not even as a replica
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$UPDATE acctsec.audit_log SET actor = 'mallory'$$,
  $$DELETE FROM acctsec.audit_log$$,
  $$TRUNCATE acctsec.audit_log$$,
  $$DELETE FROM acctsec.audit_lanes$$,
  $$TRUNCATE acctsec.audit_lanes$$
]) AS s;
SET session_replication_role = replica;
SELECT regress.error_of($$DELETE FROM acctsec.audit_log$$);
RESET session_replication_role;

-- other roles: no access to the log, no purge, no verify
CREATE ROLE regress_audit_app;
GRANT USAGE ON SCHEMA public TO regress_audit_app;
GRANT ALL ON audit_misuse TO regress_audit_app;
SET ROLE regress_audit_app;
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT count(*) FROM acctsec.audit_log$$,
  $$SELECT count(*) FROM acctsec.audit_lanes$$,
  $$SELECT acctsec.audit_verify()$$,
  $$SELECT acctsec.audit_purge('1 day')$$,
  $$SELECT acctsec.audit_event('app.x')$$,
  $$SELECT acctsec.audit_table('audit_misuse')$$
]) AS s;
RESET ROLE;
GRANT EXECUTE ON FUNCTION acctsec.audit_purge(interval), acctsec.audit_table(regclass, text[]),
  acctsec.audit() TO regress_audit_app;
-- EXECUTE granted or not, only a superuser purges (the function runs as its
-- definer: the caller's role is what counts)
CREATE TEMP TABLE audit_rows_before AS SELECT count(*) AS n FROM acctsec.audit_log;
GRANT SELECT ON audit_rows_before TO regress_audit_app;
SET ROLE regress_audit_app;
SELECT regress.error_of($$SELECT acctsec.audit_purge('0')$$);
SELECT regress.error_of($$SELECT acctsec.audit_purge('1 day')$$);
RESET ROLE;
SELECT (SELECT count(*) FROM acctsec.audit_log) = (SELECT n FROM audit_rows_before) AS nothing_purged;
SET ROLE regress_audit_app;
SELECT regress.error_of($$SELECT acctsec.audit_table('audit_misuse')$$);   -- not its owner
RESET ROLE;
-- the owner of a table may audit it; the trigger writes as the log's owner
CREATE TABLE app_owned (id int PRIMARY KEY, v text);
ALTER TABLE app_owned OWNER TO regress_audit_app;
SET ROLE regress_audit_app;
SELECT acctsec.audit_table('app_owned');
INSERT INTO app_owned VALUES (1, 'from the app role');
RESET ROLE;
SELECT db_user, operation, new_values FROM acctsec.audit_log ORDER BY id DESC LIMIT 1;

-- the chain verifies
SELECT ok, checked = (SELECT count(*) FROM acctsec.audit_log) AS checked_all, first_bad_id
FROM acctsec.audit_verify();

-- tampering behind the extension's back, with its guard disabled
ALTER TABLE acctsec.audit_log DISABLE TRIGGER audit_log_append_only;
CREATE TEMP TABLE saved AS SELECT * FROM acctsec.audit_log;
-- an edited row
UPDATE acctsec.audit_log SET actor = 'mallory' WHERE id = 3;
SELECT ok, first_bad_id FROM acctsec.audit_verify();
UPDATE acctsec.audit_log SET actor = 'alice@example.com' WHERE id = 3;
SELECT ok, first_bad_id FROM acctsec.audit_verify();
-- an edited value inside the jsonb
UPDATE acctsec.audit_log SET new_values = jsonb_set(new_values, '{email}', '"x@example.com"') WHERE id = 2;
SELECT ok, first_bad_id FROM acctsec.audit_verify();
UPDATE acctsec.audit_log a SET new_values = s.new_values FROM saved s WHERE a.id = 2 AND s.id = 2;
SELECT ok, first_bad_id FROM acctsec.audit_verify();
-- a deleted row in the middle of a transaction: the next row is named
SELECT min(id) AS mid_id FROM acctsec.audit_log a
WHERE (SELECT count(*) FROM acctsec.audit_log b WHERE b.txid = a.txid AND b.id > a.id) > 0
  AND (SELECT count(*) FROM acctsec.audit_log b WHERE b.txid = a.txid AND b.id < a.id) > 0 \gset
DELETE FROM acctsec.audit_log WHERE id = :mid_id;
SELECT ok, first_bad_id = (SELECT min(id) FROM acctsec.audit_log WHERE id > :mid_id
  AND txid = (SELECT txid FROM saved WHERE id = :mid_id)) AS next_row_named
FROM acctsec.audit_verify();
INSERT INTO acctsec.audit_log SELECT * FROM saved WHERE id = :mid_id;
SELECT ok, first_bad_id FROM acctsec.audit_verify();
-- a deleted last row: nothing left to name, but not ok
SELECT max(id) AS last_id FROM acctsec.audit_log \gset
DELETE FROM acctsec.audit_log WHERE id = :last_id;
SELECT ok, first_bad_id FROM acctsec.audit_verify();
INSERT INTO acctsec.audit_log SELECT * FROM saved WHERE id = :last_id;
SELECT ok, first_bad_id FROM acctsec.audit_verify();
-- an inserted row, even one chained correctly to its transaction's last row
INSERT INTO acctsec.audit_log
SELECT id + 1000, logged_at, txid, db_user, 'mallory', client_addr, relation, operation, account,
       row_key, old_values, new_values, changed_columns, salt, erased_by, erasure, hash
FROM saved WHERE id = :last_id;
SELECT ok, first_bad_id - :last_id AS first_bad_after_last FROM acctsec.audit_verify();
DELETE FROM acctsec.audit_log WHERE id = :last_id + 1000;
-- a row moved to a transaction that has no seal, or to another one
UPDATE acctsec.audit_log SET txid = '999999999' WHERE id = 5;
SELECT ok, first_bad_id FROM acctsec.audit_verify();
UPDATE acctsec.audit_log SET txid = (SELECT txid FROM saved WHERE id = 3) WHERE id = 5;
SELECT ok, first_bad_id IN (3, 5) AS named FROM acctsec.audit_verify();
UPDATE acctsec.audit_log a SET txid = s.txid FROM saved s WHERE a.id = 5 AND s.id = 5;
-- the salt of a row changed (it keys the commitment of its personal data)
UPDATE acctsec.audit_log SET salt = pg_catalog.set_byte(salt, 0, pg_catalog.get_byte(salt, 0) # 1) WHERE id = 5;
SELECT ok, first_bad_id FROM acctsec.audit_verify();
UPDATE acctsec.audit_log a SET salt = s.salt FROM saved s WHERE a.id = 5 AND s.id = 5;
ALTER TABLE acctsec.audit_seals DISABLE TRIGGER audit_seals_append_only;
CREATE TEMP TABLE saved_seals AS SELECT * FROM acctsec.audit_seals;
-- a seal's row count changed: the seal no longer chains, and its rows do not add up
UPDATE acctsec.audit_seals SET nrows = nrows + 1 WHERE txid = (SELECT txid FROM saved WHERE id = 5);
SELECT ok, first_bad_id FROM acctsec.audit_verify();
UPDATE acctsec.audit_seals a SET nrows = s.nrows FROM saved_seals s WHERE a.txid = s.txid;
-- a whole transaction removed, rows and seal: its lane has a gap
DELETE FROM acctsec.audit_log WHERE txid = (SELECT txid FROM saved WHERE id = 3);
DELETE FROM acctsec.audit_seals WHERE txid = (SELECT txid FROM saved WHERE id = 3);
SELECT ok, first_bad_id FROM acctsec.audit_verify();
INSERT INTO acctsec.audit_log SELECT * FROM saved WHERE txid = (SELECT txid FROM saved WHERE id = 3);
INSERT INTO acctsec.audit_seals SELECT * FROM saved_seals WHERE txid = (SELECT txid FROM saved WHERE id = 3);
SELECT ok, first_bad_id FROM acctsec.audit_verify();
-- a lane's head rewound
ALTER TABLE acctsec.audit_lanes DISABLE TRIGGER audit_lanes_append_only;
CREATE TEMP TABLE saved_lanes AS SELECT * FROM acctsec.audit_lanes;
UPDATE acctsec.audit_lanes SET last_seq = last_seq - 1 WHERE last_seq > 0;
SELECT ok, first_bad_id FROM acctsec.audit_verify();
UPDATE acctsec.audit_lanes l SET last_seq = s.last_seq FROM saved_lanes s WHERE l.lane = s.lane;
-- every row deleted
DELETE FROM acctsec.audit_log;
SELECT ok, first_bad_id FROM acctsec.audit_verify();
INSERT INTO acctsec.audit_log SELECT * FROM saved;
SELECT ok, first_bad_id FROM acctsec.audit_verify();
-- everything deleted, lanes, seals and rows
DELETE FROM acctsec.audit_lanes;
DELETE FROM acctsec.audit_seals;
DELETE FROM acctsec.audit_log;
SELECT ok, checked, first_bad_id FROM acctsec.audit_verify();
INSERT INTO acctsec.audit_lanes SELECT * FROM saved_lanes;
INSERT INTO acctsec.audit_seals SELECT * FROM saved_seals;
INSERT INTO acctsec.audit_log SELECT * FROM saved;
ALTER TABLE acctsec.audit_seals ENABLE ALWAYS TRIGGER audit_seals_append_only;
ALTER TABLE acctsec.audit_lanes ENABLE ALWAYS TRIGGER audit_lanes_append_only;
ALTER TABLE acctsec.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
SELECT ok, first_bad_id FROM acctsec.audit_verify();

-- purge: superuser only, logs itself, and the surviving chain still verifies
SELECT regress.error_of($$SELECT acctsec.audit_purge('-1 day')$$);
SELECT acctsec.audit_purge('1 day') AS purged_nothing;
SELECT count(*) AS kept FROM acctsec.audit_log \gset
SELECT acctsec.audit_purge('0') = :kept AS purged_all_earlier_rows;
SELECT operation, account, relation, new_values - 'before' AS details,
       (new_values ->> 'before')::timestamptz <= now() AS before_now
FROM acctsec.audit_log ORDER BY id;
SELECT ok, checked, first_bad_id FROM acctsec.audit_verify();
SELECT count(*) AS lanes_moved FROM acctsec.audit_lanes WHERE base_seq > 0;
SELECT count(*) AS seals_left FROM acctsec.audit_seals;
INSERT INTO app_owned VALUES (2, 'after the purge');
SELECT ok, checked, first_bad_id FROM acctsec.audit_verify();

DROP VIEW audit_misuse_view;
DROP TABLE users, tokens, audit_misuse, app_owned;
DROP OWNED BY regress_audit_app;
DROP ROLE regress_audit_app;

-- every row carries a 32-byte BLAKE2b chain hash and a 32-byte salt
SELECT bool_and(length(hash) = 32) AS hashes_32_bytes, bool_and(length(salt) = 32) AS salts_32_bytes
FROM acctsec.audit_log;

-- an index added to the log mid-transaction gets the rows written after it
BEGIN;
SELECT acctsec.audit_event('app.before_index') > 0 AS logged;
CREATE INDEX audit_log_operation ON acctsec.audit_log (operation);
SELECT acctsec.audit_event('app.after_index') > 0 AS logged;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT operation FROM acctsec.audit_log WHERE operation IN ('app.before_index', 'app.after_index') ORDER BY 1;
SELECT operation FROM acctsec.audit_log WHERE operation IN ('app.before_index', 'app.after_index') ORDER BY 1;
ROLLBACK;

-- the log's indexes: one per query of acctsec's or of docs/audit.md's
-- readers (the table there says which); an audited table's row enters the
-- primary key, (txid, id), the hash of its key and the BRIN index only
SELECT regexp_replace(pg_get_indexdef(indexrelid), '^.* USING ', '') AS default_partition_index
FROM pg_index WHERE indrelid = 'acctsec.audit_log_default'::regclass ORDER BY 1;
-- an optional reader index made on the log is on every partition, those
-- made later included, and the writer fills it
BEGIN;
CREATE INDEX audit_log_relation_time ON acctsec.audit_log (relation, logged_at)
  WHERE relation IS NOT NULL;
SET LOCAL acctsec.audit_partition_interval = '1 day';
SELECT acctsec.audit_create_partitions('2 days') > 0 AS made;
SELECT count(*) AS partitions, count(*) FILTER (WHERE EXISTS (
         SELECT FROM pg_inherits x WHERE x.inhparent = 'acctsec.audit_log_relation_time'::regclass
           AND x.inhrelid IN (SELECT indexrelid FROM pg_index WHERE indrelid = i.inhrelid))) AS indexed
FROM pg_inherits i WHERE i.inhparent = 'acctsec.audit_log'::regclass;
CREATE TABLE indexed_history (id int PRIMARY KEY, v text);
SELECT acctsec.audit_table('indexed_history');
INSERT INTO indexed_history VALUES (1, 'a'), (2, 'b');
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT operation, row_key FROM acctsec.audit_log_default WHERE relation = 'public.indexed_history';
SELECT operation, row_key FROM acctsec.audit_log_default WHERE relation = 'public.indexed_history' ORDER BY id;
ROLLBACK;

-- a transaction that wrote audit rows and then dropped the extension commits
BEGIN;
CREATE TABLE last_table (id int PRIMARY KEY);
SELECT acctsec.audit_table('last_table');
INSERT INTO last_table VALUES (1);
SET LOCAL client_min_messages = warning;
DROP EXTENSION acctsec CASCADE;
COMMIT;
DROP TABLE last_table;
CREATE EXTENSION acctsec;
