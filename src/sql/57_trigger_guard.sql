
-- ---------------------------------------------------------------------------
-- Switching acctsec's triggers off leaves a trace (src/trigger_guard.c):
-- disabling, dropping or replacing the audit or updated_at triggers, and
-- writes in replica mode that skip the audit triggers, are security events.
-- ---------------------------------------------------------------------------

-- Attached by audit_table() with ENABLE ALWAYS; does nothing unless
-- session_replication_role = replica.  Executable by PUBLIC because the
-- owner of a table creates it there through audit_table(), and all it can
-- ever do is record that a statement went unaudited.
CREATE FUNCTION acctsec.audit_bypass()
RETURNS trigger
AS 'MODULE_PATHNAME', 'acctsec_audit_bypass'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
GRANT EXECUTE ON FUNCTION acctsec.audit_bypass() TO PUBLIC;

CREATE FUNCTION acctsec.trigger_guard()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'acctsec_trigger_guard'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- DROP TRIGGER and CREATE OR REPLACE TRIGGER: before, while the trigger is
-- there to be recognised.  ALTER TABLE ... DISABLE/ENABLE REPLICA TRIGGER:
-- after, from the state the command left.  ENABLE ALWAYS: replica mode too.
CREATE EVENT TRIGGER acctsec_trigger_guard_start ON ddl_command_start
    WHEN TAG IN ('DROP TRIGGER', 'CREATE TRIGGER')
    EXECUTE FUNCTION acctsec.trigger_guard();
ALTER EVENT TRIGGER acctsec_trigger_guard_start ENABLE ALWAYS;
CREATE EVENT TRIGGER acctsec_trigger_guard ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE')
    EXECUTE FUNCTION acctsec.trigger_guard();
ALTER EVENT TRIGGER acctsec_trigger_guard ENABLE ALWAYS;
