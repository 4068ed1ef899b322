-- Switching acctsec's triggers off leaves a trace (src/trigger_guard.c):
-- disabling, dropping or replacing the audit and updated_at triggers,
-- unaudit_table, untrack_updated_at, and writes under
-- session_replication_role = replica that skip the audit triggers are
-- security events, and the chain still verifies.
\set VERBOSITY terse

CREATE ROLE regress_tg_owner;
GRANT USAGE ON SCHEMA public TO regress_tg_owner;
GRANT CREATE ON SCHEMA public TO regress_tg_owner;
CREATE TABLE tg_audited (id int PRIMARY KEY, v text);
SELECT acctsec.audit_table('tg_audited');
ALTER TABLE tg_audited OWNER TO regress_tg_owner;
-- a trigger of the owner's own, which it may switch off freely
CREATE FUNCTION tg_noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER tg_own BEFORE INSERT ON tg_audited FOR EACH ROW EXECUTE FUNCTION tg_noop();
GRANT EXECUTE ON FUNCTION acctsec.unaudit_table(regclass) TO regress_tg_owner;
CREATE TABLE tg_updated (id int PRIMARY KEY, v text, updated_at timestamptz);
ALTER TABLE tg_updated OWNER TO regress_tg_owner;

-- the triggers audit_table attached: the companion fires always
SELECT tgname, tgenabled, tgfoid::regproc FROM pg_trigger
WHERE tgrelid = 'tg_audited'::regclass ORDER BY tgname;
SELECT tgname, tgfoid::regproc FROM pg_trigger WHERE tgrelid = 'tg_updated'::regclass;

-- the security events since the last look (the owner cannot read the log)
CREATE TABLE tg_seen (id bigint);
INSERT INTO tg_seen SELECT coalesce(max(id), 0) FROM acctsec.audit_log;
CREATE FUNCTION tg_events() RETURNS TABLE (operation text, details jsonb, db_user text)
LANGUAGE sql AS $$
  WITH e AS (SELECT * FROM acctsec.audit_log WHERE id > (SELECT max(id) FROM tg_seen))
  , mark AS (INSERT INTO tg_seen SELECT coalesce(max(id), 0) FROM acctsec.audit_log)
  SELECT CASE WHEN relation IS NULL THEN operation
              ELSE operation || ' on ' || relation END, new_values - 'old', db_user
  FROM e ORDER BY id
$$;

SET ROLE regress_tg_owner;
-- DISABLE TRIGGER ALL, a write, ENABLE again: the write is not audited, the
-- disabling is
ALTER TABLE tg_audited DISABLE TRIGGER ALL;
INSERT INTO tg_audited VALUES (1, 'unaudited');
ALTER TABLE tg_audited ENABLE TRIGGER ALL;
RESET ROLE;
SELECT * FROM tg_events();
SET ROLE regress_tg_owner;
ALTER TABLE tg_audited DISABLE TRIGGER acctsec_audit;
ALTER TABLE tg_audited ENABLE TRIGGER acctsec_audit;
ALTER TABLE tg_audited DISABLE TRIGGER USER;
ALTER TABLE tg_audited ENABLE TRIGGER USER;
ALTER TABLE tg_audited ENABLE REPLICA TRIGGER acctsec_audit;
ALTER TABLE tg_audited ENABLE TRIGGER acctsec_audit;
-- the owner's own trigger, and enabling ours: nothing to report
ALTER TABLE tg_audited DISABLE TRIGGER tg_own;
ALTER TABLE tg_audited ENABLE TRIGGER tg_own, ENABLE ALWAYS TRIGGER acctsec_audit_replica;
-- two subcommands in one ALTER TABLE
ALTER TABLE tg_audited ADD COLUMN w int, DISABLE TRIGGER acctsec_audit_truncate;
ALTER TABLE tg_audited ENABLE TRIGGER acctsec_audit_truncate;
RESET ROLE;
SELECT * FROM tg_events();

-- DROP TRIGGER and CREATE OR REPLACE TRIGGER over ours
SET ROLE regress_tg_owner;
DROP TRIGGER acctsec_audit ON tg_audited;
DROP TRIGGER IF EXISTS acctsec_audit ON tg_audited;
DROP TRIGGER tg_own ON tg_audited;
RESET ROLE;
SELECT acctsec.audit_table('tg_audited');
SET ROLE regress_tg_owner;
CREATE OR REPLACE TRIGGER acctsec_audit BEFORE UPDATE ON tg_audited
  FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
-- a drop rolled back leaves no event (it rolls back with the command)
BEGIN;
DROP TRIGGER acctsec_audit_truncate ON tg_audited;
ROLLBACK;
RESET ROLE;
SELECT * FROM tg_events();

-- writes in replica mode skip the audit triggers: the companion records it
SELECT acctsec.audit_table('tg_audited');
SELECT * FROM tg_events();
SET session_replication_role = replica;
INSERT INTO tg_audited VALUES (2, 'replica');
UPDATE tg_audited SET v = 'replica again' WHERE id = 2;
DELETE FROM tg_audited WHERE id = 2;
TRUNCATE tg_audited;
-- DDL in replica mode is seen too
ALTER TABLE tg_audited DISABLE TRIGGER acctsec_audit;
ALTER TABLE tg_audited ENABLE TRIGGER acctsec_audit;
RESET session_replication_role;
SELECT * FROM tg_events();
-- with the audit trigger made to fire in replica mode, the write is audited
-- and no bypass is recorded
ALTER TABLE tg_audited ENABLE ALWAYS TRIGGER acctsec_audit;
SET session_replication_role = replica;
INSERT INTO tg_audited VALUES (3, 'audited in replica mode');
RESET session_replication_role;
SELECT * FROM tg_events();
ALTER TABLE tg_audited ENABLE TRIGGER acctsec_audit;
-- in an ordinary session the companion records nothing
INSERT INTO tg_audited VALUES (4, 'ordinary');
SELECT * FROM tg_events();
-- called other than as a statement trigger, or before the statement
CREATE TABLE tg_misuse (id int);
CREATE TRIGGER tg_misuse AFTER INSERT ON tg_misuse FOR EACH ROW EXECUTE FUNCTION acctsec.audit_bypass();
INSERT INTO tg_misuse VALUES (1);
DROP TABLE tg_misuse;
CREATE TABLE tg_misuse (id int);
CREATE TRIGGER tg_misuse BEFORE INSERT ON tg_misuse FOR EACH STATEMENT EXECUTE FUNCTION acctsec.audit_bypass();
INSERT INTO tg_misuse VALUES (1);
DROP TABLE tg_misuse;
-- after a TRUNCATE, as audit_table() attaches it: nothing to record here
CREATE TABLE tg_misuse (id int);
CREATE TRIGGER tg_misuse AFTER TRUNCATE ON tg_misuse FOR EACH STATEMENT EXECUTE FUNCTION acctsec.audit_bypass();
TRUNCATE tg_misuse;
DROP TABLE tg_misuse;

-- unaudit_table
SET ROLE regress_tg_owner;
SELECT acctsec.unaudit_table('tg_audited');
ALTER TABLE tg_audited DISABLE TRIGGER ALL;   -- nothing of ours left
RESET ROLE;
SELECT * FROM tg_events();

-- updated_at: disabling, dropping, untracking
SET ROLE regress_tg_owner;
ALTER TABLE tg_updated DISABLE TRIGGER acctsec_updated_at;
ALTER TABLE tg_updated ENABLE TRIGGER acctsec_updated_at;
DROP TRIGGER acctsec_updated_at ON tg_updated;
SELECT acctsec.track_updated_at('tg_updated');
SELECT acctsec.untrack_updated_at('tg_updated');
RESET ROLE;
SELECT * FROM tg_events();

-- the chain holds every event
SELECT ok FROM acctsec.audit_verify();

DROP TABLE tg_audited, tg_updated, tg_seen;
DROP FUNCTION tg_events(), tg_noop();
REVOKE ALL ON SCHEMA public FROM regress_tg_owner;
REVOKE ALL ON FUNCTION acctsec.unaudit_table(regclass) FROM regress_tg_owner;
DROP ROLE regress_tg_owner;
