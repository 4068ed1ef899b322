-- Signed audit checkpoints: what they state, that audit_verify(checkpoints)
-- proves the log still extends them, and that a superuser who trims the
-- chain and rewrites audit_lanes (which audit_verify() alone cannot see)
-- is caught by any checkpoint taken after the rows removed.
\set VERBOSITY terse
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS acctsec CASCADE;
RESET client_min_messages;
CREATE EXTENSION acctsec;
-- one hex digit of a field changed, the length kept
CREATE FUNCTION pg_temp.flip(cp text, field text) RETURNS text LANGUAGE sql AS $f$
  SELECT overlay(cp PLACING (CASE WHEN substr(cp, p, 1) = '0' THEN '1' ELSE '0' END) FROM p FOR 1)
  FROM (SELECT position(' ' || field || '=' IN cp) + length(field) + 2 AS p) s
$f$;

CREATE TABLE cp_users (id int PRIMARY KEY, email text);
SELECT acctsec.audit_table('cp_users');

-- before any write: a checkpoint of an empty log
SELECT acctsec.audit_checkpoint() AS cp0 \gset
SELECT :'cp0' ~ '^acctsec-checkpoint/1 no=1 at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z system=\d+ db=\d+ kind=checkpoint lanes=- key=[0-9a-f]{64} sig=[0-9a-f]{128}$' AS empty_log_shape;

INSERT INTO cp_users VALUES (1, 'a@example.com');
INSERT INTO cp_users VALUES (2, 'b@example.com');
SELECT acctsec.audit_checkpoint() AS cp1 \gset
-- the shape: one lane entry per lane with seals, the key is the public key
SELECT :'cp1' ~ '^acctsec-checkpoint/1 no=2 at=\S+ system=\d+ db=\d+ kind=checkpoint lanes=(\d+:\d+:[0-9a-f]{64},?)+ key=[0-9a-f]{64} sig=[0-9a-f]{128}$' AS shape,
       substring(:'cp1' FROM ' key=([0-9a-f]{64})') = acctsec.audit_public_key() AS key_is_public_key,
       substring(:'cp1' FROM ' db=(\d+)')::oid = (SELECT oid FROM pg_database WHERE datname = current_database()) AS names_database,
       (SELECT sum(last_seq) FROM acctsec.audit_lanes) =
       (SELECT sum(split_part(l, ':', 2)::bigint) FROM unnest(string_to_array(substring(:'cp1' FROM ' lanes=(\S+)'), ',')) l) AS states_every_seal;
-- each checkpoint is recorded, numbered
SELECT no, statement IN (:'cp0', :'cp1') AS recorded FROM acctsec.audit_checkpoints ORDER BY no;

UPDATE cp_users SET email = 'c@example.com' WHERE id = 1;
DELETE FROM cp_users WHERE id = 2;
SELECT acctsec.audit_checkpoint() AS cp2 \gset
INSERT INTO cp_users VALUES (3, 'd@example.com');

-- the log extends every checkpoint; from a checkpoint only later rows are read
SELECT * FROM acctsec.audit_verify(ARRAY[:'cp2']);
SELECT * FROM acctsec.audit_verify(ARRAY[:'cp1', :'cp2']);
SELECT * FROM acctsec.audit_verify(ARRAY[:'cp0', :'cp1', :'cp2']);
SELECT ok, checked FROM acctsec.audit_verify();

-- a superuser trims the last two transactions and rewrites audit_lanes to
-- match: audit_verify() without checkpoints cannot tell, a checkpoint that
-- saw them can
ALTER TABLE acctsec.audit_log DISABLE TRIGGER audit_log_append_only;
ALTER TABLE acctsec.audit_seals DISABLE TRIGGER audit_seals_append_only;
BEGIN;
CREATE TEMP TABLE trimmed ON COMMIT DROP AS
  SELECT * FROM acctsec.audit_seals ORDER BY sealed_at DESC LIMIT 3;
DELETE FROM acctsec.audit_log WHERE txid IN (SELECT txid FROM trimmed);
DELETE FROM acctsec.audit_seals WHERE txid IN (SELECT txid FROM trimmed);
UPDATE acctsec.audit_lanes l
SET last_seq = COALESCE(s.seq, 0), head = COALESCE(s.hash, '\x')
FROM (SELECT DISTINCT lane FROM trimmed) t
LEFT JOIN LATERAL (SELECT seq, hash FROM acctsec.audit_seals s
                   WHERE s.lane = t.lane ORDER BY seq DESC LIMIT 1) s ON true
WHERE l.lane = t.lane;
SELECT ok, checked, first_bad_id FROM acctsec.audit_verify();
SELECT ok, checked, first_bad_id, failed_checkpoint, detail ~ '^lane \d+: seal \d+, which a checkpoint names, is gone$' AS seal_gone
FROM acctsec.audit_verify(ARRAY[:'cp2']);
SELECT ok, failed_checkpoint FROM acctsec.audit_verify(ARRAY[:'cp0', :'cp1', :'cp2']);
-- cp1 predates the rows trimmed: it still holds
SELECT ok, failed_checkpoint FROM acctsec.audit_verify(ARRAY[:'cp1']);
ROLLBACK;

-- re-chained: a changed seal after a checkpoint breaks the chain from it;
-- one before the last checkpoint is seen from an older checkpoint (which
-- walks from further back), not from the last one (which costs only what
-- came after it)
BEGIN;
UPDATE acctsec.audit_seals SET sealed_at = sealed_at + interval '1 second'
WHERE txid = (SELECT txid FROM acctsec.audit_seals ORDER BY txid LIMIT 1 OFFSET 2);
SELECT ok, failed_checkpoint, detail ~ 'does not chain' AS does_not_chain
FROM acctsec.audit_verify(ARRAY[:'cp1']);
ROLLBACK;
BEGIN;
UPDATE acctsec.audit_seals SET sealed_at = sealed_at + interval '1 second'
WHERE txid = (SELECT txid FROM acctsec.audit_seals ORDER BY txid LIMIT 1);
SELECT ok, detail ~ 'does not chain' AS does_not_chain FROM acctsec.audit_verify(ARRAY[:'cp0', :'cp2']);
SELECT ok, checked FROM acctsec.audit_verify(ARRAY[:'cp2']);
ROLLBACK;

-- a seal of a checkpoint deleted with its rows (a whole lane emptied)
BEGIN;
CREATE TEMP TABLE gone ON COMMIT DROP AS
  SELECT * FROM acctsec.audit_seals WHERE lane = (SELECT lane FROM acctsec.audit_seals ORDER BY txid LIMIT 1);
DELETE FROM acctsec.audit_log WHERE txid IN (SELECT txid FROM gone);
DELETE FROM acctsec.audit_seals WHERE txid IN (SELECT txid FROM gone);
UPDATE acctsec.audit_lanes SET last_seq = 0, head = '\x' WHERE lane IN (SELECT lane FROM gone);
SELECT ok FROM acctsec.audit_verify();
SELECT ok, failed_checkpoint FROM acctsec.audit_verify(ARRAY[:'cp1']);
ROLLBACK;
ALTER TABLE acctsec.audit_seals ENABLE ALWAYS TRIGGER audit_seals_append_only;
ALTER TABLE acctsec.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
SELECT * FROM acctsec.audit_verify(ARRAY[:'cp0', :'cp1', :'cp2']);

-- a checkpoint altered after signing is refused
SELECT ok, failed_checkpoint, detail FROM acctsec.audit_verify(ARRAY[:'cp1', pg_temp.flip(:'cp2', 'sig')]);
SELECT ok, failed_checkpoint, detail FROM acctsec.audit_verify(ARRAY[pg_temp.flip(:'cp2', 'lanes')]);
-- not checkpoints
SELECT regress.error_of(s) AS outcome FROM unnest(ARRAY[
  $$SELECT acctsec.audit_verify(ARRAY['hello'])$$,
  $$SELECT acctsec.audit_verify(ARRAY['acctsec-checkpoint/1 no=x'])$$,
  $$SELECT acctsec.audit_verify(ARRAY[NULL::text])$$,
  $$SELECT acctsec.audit_verify(ARRAY[]::text[])$$,
  $$SELECT acctsec.audit_verify(ARRAY[['a'], ['b']])$$
]) AS s;
SELECT acctsec.audit_verify(NULL::text[]) IS NULL AS null_is_null;

-- the checkpoint record is append-only
SELECT regress.error_of(s) AS outcome FROM unnest(ARRAY[
  $$UPDATE acctsec.audit_checkpoints SET statement = 'x'$$,
  $$DELETE FROM acctsec.audit_checkpoints$$,
  $$UPDATE acctsec.audit_seals SET nrows = 0$$
]) AS s;

-- only the extension's owner (or whom it grants) takes checkpoints
CREATE ROLE regress_cp_app;
SET ROLE regress_cp_app;
SELECT regress.error_of(s) AS outcome FROM unnest(ARRAY[
  $$SELECT acctsec.audit_checkpoint()$$,
  $$SELECT acctsec.audit_public_key()$$,
  $$SELECT acctsec.audit_verify(ARRAY['x'])$$,
  $$SELECT acctsec.audit_verify(ARRAY['x'], 'x')$$,
  $$SELECT count(*) FROM acctsec.audit_checkpoints$$
]) AS s;
RESET ROLE;
DROP ROLE regress_cp_app;

-- a purge: its purge point is a checkpoint (kind=purge), which vouches for
-- older checkpoints whose seals it removed
SELECT acctsec.audit_checkpoint() AS cp3 \gset
INSERT INTO cp_users VALUES (4, 'e@example.com');
SELECT acctsec.audit_purge('0') > 0 AS purged;
SELECT statement AS cp_purge FROM acctsec.audit_checkpoints ORDER BY no DESC LIMIT 1 \gset
SELECT :'cp_purge' ~ ' kind=purge ' AS purge_checkpoint;
INSERT INTO cp_users VALUES (5, 'f@example.com');
SELECT ok, checked FROM acctsec.audit_verify();
SELECT ok, failed_checkpoint, detail ~ 'now starts after' AS purged_past FROM acctsec.audit_verify(ARRAY[:'cp3']);
SELECT ok, checked, failed_checkpoint FROM acctsec.audit_verify(ARRAY[:'cp3', :'cp_purge']);
SELECT ok, checked, failed_checkpoint FROM acctsec.audit_verify(ARRAY[:'cp_purge']);
-- the order in the array does not matter (checkpoints are numbered)
SELECT ok, failed_checkpoint FROM acctsec.audit_verify(ARRAY[:'cp_purge', :'cp3']);

-- with the public key given instead of this database's ring (an archive,
-- docs/replication.md): the same checks, against that key only
SELECT acctsec.audit_public_key() AS pk \gset
SELECT ok, checked, failed_checkpoint FROM acctsec.audit_verify(ARRAY[:'cp3', :'cp_purge'], :'pk');
SELECT ok, failed_checkpoint, detail ~ 'now starts after' AS purged_past FROM acctsec.audit_verify(ARRAY[:'cp3'], :'pk');
SELECT ok, failed_checkpoint, detail FROM acctsec.audit_verify(ARRAY[:'cp_purge'], repeat('ab', 32));
SELECT acctsec.audit_verify(ARRAY[:'cp_purge'], 'abc');
SELECT acctsec.audit_verify(ARRAY[:'cp_purge'], repeat('zz', 32));
SELECT acctsec.audit_verify(ARRAY[:'cp_purge'], :'pk' || '00');
SELECT acctsec.audit_verify(ARRAY[]::text[], :'pk');
SELECT acctsec.audit_verify(ARRAY['acctsec-checkpoint/1 no=1'], :'pk');

-- the archive's lane trigger keeps the base, and is fired only for
-- replication; called any other way it refuses
SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_lanes_archive';
CREATE TABLE lanes_copy (lane int, last_seq bigint, head bytea, base_seq bigint, base_hash bytea);
INSERT INTO lanes_copy VALUES (0, 5, '\x01', 2, '\x02');
CREATE TRIGGER t BEFORE UPDATE ON lanes_copy FOR EACH ROW EXECUTE FUNCTION acctsec.audit_archive_lanes();
UPDATE lanes_copy SET last_seq = 6, head = '\x03', base_seq = 4, base_hash = '\x04' RETURNING *;
DROP TRIGGER t ON lanes_copy;
CREATE TRIGGER t AFTER UPDATE ON lanes_copy FOR EACH ROW EXECUTE FUNCTION acctsec.audit_archive_lanes();
UPDATE lanes_copy SET last_seq = 7;
DROP TRIGGER t ON lanes_copy;
CREATE TRIGGER t BEFORE INSERT ON lanes_copy FOR EACH ROW EXECUTE FUNCTION acctsec.audit_archive_lanes();
INSERT INTO lanes_copy VALUES (1, 0, '\x', 0, '\x');
DROP TABLE lanes_copy;
CREATE TABLE not_lanes (lane int);
INSERT INTO not_lanes VALUES (1);
CREATE TRIGGER t BEFORE UPDATE ON not_lanes FOR EACH ROW EXECUTE FUNCTION acctsec.audit_archive_lanes();
UPDATE not_lanes SET lane = 2;
DROP TABLE not_lanes;
SELECT acctsec.audit_archive_lanes();
-- a purge in replica mode would fire it: refused
SET session_replication_role = replica;
SELECT acctsec.audit_purge('0');
RESET session_replication_role;

-- the setting that writes each checkpoint to the server log is superuser-only
SELECT name, context, setting FROM pg_settings WHERE name LIKE 'acctsec.audit_checkpoint%' ORDER BY 1;
DROP TABLE cp_users;
