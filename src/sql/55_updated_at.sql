
-- ---------------------------------------------------------------------------
-- updated_at (docs/updated_at.md): a "last modified" column kept right for
-- every writer.  The trigger function, explicit attach/detach, the opt-out
-- list and the event trigger that attaches it to tables as migrations create
-- them.
-- ---------------------------------------------------------------------------

-- Tables whose owner called untrack_updated_at(): automatic attachment never
-- touches them again (track_updated_at() removes the row).  Read and written
-- only by acctsec's C code, as this table's owner after an ownership check;
-- dumped with the database.
CREATE TABLE acctsec.updated_at_optout (
    tbl          regclass PRIMARY KEY,
    opted_out_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
SELECT pg_catalog.pg_extension_config_dump('acctsec.updated_at_optout', '');

-- A row added (by untrack_updated_at(), or by restoring a dump after CREATE
-- TABLE attached the trigger again) detaches the trigger from that table.
CREATE FUNCTION acctsec.updated_at_optout_added()
RETURNS trigger
AS 'MODULE_PATHNAME', 'acctsec_updated_at_optout_added'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE TRIGGER detach AFTER INSERT ON acctsec.updated_at_optout
    FOR EACH ROW EXECUTE FUNCTION acctsec.updated_at_optout_added();

-- BEFORE INSERT OR UPDATE ... FOR EACH ROW EXECUTE FUNCTION
-- acctsec.set_updated_at(['column']).  EXECUTE is granted to PUBLIC: it only
-- works as a trigger, and creating one needs the TRIGGER privilege on the table.
CREATE FUNCTION acctsec.set_updated_at()
RETURNS trigger
AS 'MODULE_PATHNAME', 'acctsec_set_updated_at'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
GRANT EXECUTE ON FUNCTION acctsec.set_updated_at() TO PUBLIC;

-- Attach / detach.  SECURITY INVOKER on purpose: the C code checks that the
-- calling role owns the table (as ALTER TABLE does), then creates or drops
-- the trigger as the table's owner and writes the opt-out list as its owner.
-- Any role may call them for its own tables.
CREATE FUNCTION acctsec.track_updated_at(tbl regclass, column_name name DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'acctsec_track_updated_at'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
GRANT EXECUTE ON FUNCTION acctsec.track_updated_at(regclass, name) TO PUBLIC;

CREATE FUNCTION acctsec.untrack_updated_at(tbl regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'acctsec_untrack_updated_at'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
GRANT EXECUTE ON FUNCTION acctsec.untrack_updated_at(regclass) TO PUBLIC;

-- Automatic attachment (acctsec.auto_updated_at) and clean detachment when a
-- migration drops, renames or retypes the column.
CREATE FUNCTION acctsec.updated_at_ddl()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'acctsec_updated_at_ddl'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE EVENT TRIGGER acctsec_updated_at ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE',
                 'DROP TABLE', 'DROP SCHEMA', 'DROP OWNED')
    EXECUTE FUNCTION acctsec.updated_at_ddl();
-- Before ATTACH PARTITION (the new partition's own trigger gives way to the
-- parent's clone) and CREATE TRIGGER acctsec_updated_at (as in a restored
-- dump: the explicit definition replaces the one CREATE TABLE attached).
CREATE EVENT TRIGGER acctsec_updated_at_start ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'CREATE TRIGGER')
    EXECUTE FUNCTION acctsec.updated_at_ddl();
