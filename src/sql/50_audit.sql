
-- ---------------------------------------------------------------------------
-- Audit log (docs/audit.md): row changes of audited tables and security
-- events, append-only and hash-chained.
--
-- Rows are written during the transaction, chained only to one another
-- (each row's hash covers the previous row of its transaction).  The link
-- into the log's chain is taken at commit: the committing transaction takes
-- a free lane (a row lock on audit_lanes, SKIP LOCKED, held only while it
-- commits) and appends one seal (audit_seals) naming its transaction, its
-- row count and the hash of its last row.  No open, idle or prepared
-- transaction holds a lane.  A rolled-back transaction leaves no seal and
-- no rows.  A prepared transaction leaves a seal without a lane, linked by
-- the next commit that seals.  See docs/audit.md.
-- ---------------------------------------------------------------------------

CREATE TABLE acctsec.audit_lanes (
    lane        int PRIMARY KEY,
    last_seq    bigint NOT NULL DEFAULT 0,
    head        bytea NOT NULL DEFAULT '\x'::bytea,
    base_seq    bigint NOT NULL DEFAULT 0,
    base_hash   bytea NOT NULL DEFAULT '\x'::bytea
) WITH (fillfactor = 10);   -- every commit updates its lane: room for HOT updates
COMMENT ON TABLE acctsec.audit_lanes IS
  'hash-chain lanes of acctsec.audit_log: last seal number and head hash per lane';
-- The lanes (64 of them) are created by the first seal, not here, so that
-- pg_restore's copy of this table does not collide with them.

-- The log is partitioned by time (logged_at) so that retention drops whole
-- ranges instead of deleting rows (audit_purge(), docs/audit.md,
-- "Retention").  The parent holds no rows and no indexes: every partition
-- is a table of its own, made by audit_create_partitions() after the model
-- of the default partition (its indexes, its append-only guard), which
-- takes the rows no other partition covers, so that a write never fails
-- for want of a partition.  The writer (audit_chain.c) routes each row to
-- its partition itself.
CREATE TABLE acctsec.audit_log (
    id              bigint NOT NULL,
    logged_at       timestamptz NOT NULL,
    txid            xid8 NOT NULL,
    db_user         text NOT NULL,
    actor           text,
    client_addr     inet,
    relation        text,
    operation       text NOT NULL,
    account         text,
    row_key         jsonb,
    old_values      jsonb,
    new_values      jsonb,
    changed_columns text[],
    salt            bytea,      -- keys the commitments of the personal columns; NULL once erased
    erased_by       bigint,     -- the audit.erased event that erased this row
    erasure         bytea,      -- the commitments that stand in for erased values
    hash            bytea NOT NULL
) PARTITION BY RANGE (logged_at);
COMMENT ON TABLE acctsec.audit_log IS
  'acctsec audit log: audited row changes and security events (append-only, hash-chained, partitioned by logged_at)';
-- Logical replication to an archive publishes the log as the parent
-- (publish_via_partition_root, docs/replication.md): the parent names all
-- its columns as the identity, so that the archive finds an erased row by
-- its partition's primary key, whatever partitions the archive has.
ALTER TABLE acctsec.audit_log REPLICA IDENTITY FULL;

-- The default partition, and the model of every other one: the parent's
-- columns (LIKE copies their names, types and NOT NULL constraints, with
-- the parent's names from PostgreSQL 18 on).  Made as a table and
-- attached, as the upgrade from 1.0 attaches the log it had.
CREATE TABLE acctsec.audit_log_default (
    LIKE acctsec.audit_log,
    PRIMARY KEY (id)
) USING heap;   -- written with heap_insert() by audit_chain.c
ALTER TABLE acctsec.audit_log ATTACH PARTITION acctsec.audit_log_default DEFAULT;
COMMENT ON TABLE acctsec.audit_log_default IS
  'acctsec audit log: the rows no other partition of acctsec.audit_log covers, and the model of the partitions';
-- audit_verify() reads a transaction's rows in order
CREATE INDEX audit_log_default_txid ON acctsec.audit_log_default (txid, id);

CREATE TABLE acctsec.audit_seals (
    txid        xid8 PRIMARY KEY,
    lane        int,            -- NULL until a prepared transaction's seal is linked
    seq         bigint,
    nrows       bigint NOT NULL,
    digest      bytea NOT NULL, -- hash of the transaction's last row
    sealed_at   timestamptz NOT NULL,
    hash        bytea,          -- BLAKE2b(previous seal of the lane, this seal)
    UNIQUE (lane, seq)
);
COMMENT ON TABLE acctsec.audit_seals IS
  'acctsec audit log: one seal per committed transaction that wrote audit rows, chained in lanes';
CREATE INDEX audit_seals_pending ON acctsec.audit_seals (txid) WHERE lane IS NULL;

-- Signed checkpoints handed out by audit_checkpoint(), by number.
CREATE TABLE acctsec.audit_checkpoints (
    no          bigint PRIMARY KEY,
    taken_at    timestamptz NOT NULL,
    statement   text NOT NULL
);
COMMENT ON TABLE acctsec.audit_checkpoints IS
  'acctsec audit log: the signed checkpoints issued (keep copies outside the database)';
CREATE SEQUENCE acctsec.audit_log_id_seq OWNED BY acctsec.audit_log.id;
-- Every audit row pays for each index it enters, so the log has those that
-- acctsec's own queries or the readers docs/audit.md documents need, and
-- no more ("Reading the log"): besides the primary key (audit_erase()'s
-- update of a row, audit_verify()'s check of the erasure events) and
-- (txid, id) above (audit_verify(), audit_purge()),
-- an account's events, WHERE account = ...: only security events name an
-- account, so the audited tables' rows never enter this index
CREATE INDEX audit_log_default_account_time ON acctsec.audit_log_default (account, logged_at)
  WHERE account IS NOT NULL;
-- "the history of this row": WHERE relation = ... AND row_key = '{"id": 42}'
-- (a hash index: no size limit on whole-row keys of tables without one)
CREATE INDEX audit_log_default_row_key ON acctsec.audit_log_default USING hash (row_key)
  WHERE row_key IS NOT NULL;
-- time ranges, audit_purge()'s and audit_create_partitions()' among them
-- (the log is appended in time order: a BRIN index is a few pages)
CREATE INDEX audit_log_default_logged_at ON acctsec.audit_log_default USING brin (logged_at);
-- A table's whole history or an actor's (WHERE relation = ..., WHERE actor
-- = ...) is no query of acctsec's: an application that reads it often
-- creates the index on the log (docs/audit.md gives the statements).

-- The default partition is a member of the extension, so its rows are
-- dumped through this registration.  The other partitions are made at run
-- time, where pg_extension_config_dump() cannot be called: they are not
-- members, and pg_dump dumps them as the tables they are (definition,
-- indexes, guard and rows), attached to the log.
SELECT pg_catalog.pg_extension_config_dump('acctsec.audit_log_default', '');
-- (the parent holds no rows: registered so that every member table is)
SELECT pg_catalog.pg_extension_config_dump('acctsec.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.audit_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.audit_lanes', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.audit_seals', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.audit_checkpoints', '');
CREATE SEQUENCE acctsec.audit_checkpoint_no;
SELECT pg_catalog.pg_extension_config_dump('acctsec.audit_checkpoint_no', '');

-- The trigger function: AFTER INSERT/UPDATE/DELETE FOR EACH ROW, and AFTER
-- TRUNCATE FOR EACH STATEMENT.  Its arguments are the excluded columns.  It
-- runs as the writer and switches to the audit log's owner only for its own
-- insert (as PostgreSQL's foreign-key triggers do).
CREATE FUNCTION acctsec.audit()
RETURNS trigger
AS 'MODULE_PATHNAME', 'acctsec_audit'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION acctsec.audit_table(tbl regclass, exclude text[] DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'acctsec_audit_table'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.unaudit_table(tbl regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'acctsec_unaudit_table'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

-- Application events: the name must start with "app.", so that nothing an
-- application writes can pass for an event of the extension's own.
CREATE FUNCTION acctsec.audit_event(event text, account text DEFAULT NULL,
                                    details jsonb DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'acctsec_audit_event'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION acctsec.audit_verify(OUT ok boolean, OUT checked bigint,
                                     OUT first_bad_id bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'acctsec_audit_verify'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- Verification that the log still extends every checkpoint given, walking
-- each lane only from the oldest position they give for it.
CREATE FUNCTION acctsec.audit_verify(checkpoints text[], OUT ok boolean,
                                     OUT checked bigint, OUT first_bad_id bigint,
                                     OUT failed_checkpoint int, OUT detail text)
RETURNS record
AS 'MODULE_PATHNAME', 'acctsec_audit_verify_checkpoints'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- The same against checkpoints signed with the public key given (hex), not
-- with a key of this database's ring: what an archive that subscribes to the
-- log runs (docs/replication.md).
CREATE FUNCTION acctsec.audit_verify(checkpoints text[], public_key text, OUT ok boolean,
                                     OUT checked bigint, OUT first_bad_id bigint,
                                     OUT failed_checkpoint int, OUT detail text)
RETURNS record
AS 'MODULE_PATHNAME', 'acctsec_audit_verify_checkpoints_key'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- A signed (Ed25519) statement of every lane's head, to keep elsewhere.
CREATE FUNCTION acctsec.audit_checkpoint()
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_audit_checkpoint'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- The public key checkpoints are signed with (hex), for verifiers.
CREATE FUNCTION acctsec.audit_public_key()
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_audit_public_key'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- Erase an account's personal data from its audit rows, keeping the proof.
-- Superuser only (judged by the calling session).
CREATE FUNCTION acctsec.audit_erase(account text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'acctsec_audit_erase'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- Partitions of the log from the newest one up to now() + ahead, of
-- acctsec.audit_partition_interval each, on a grid fixed in UTC; returns
-- how many it made.  Idempotent: run it from cron as audit_purge() is.
CREATE FUNCTION acctsec.audit_create_partitions(ahead interval DEFAULT '3 months')
RETURNS int
AS 'MODULE_PATHNAME', 'acctsec_audit_create_partitions'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION acctsec.audit_purge(older_than interval)
RETURNS bigint
AS 'MODULE_PATHNAME', 'acctsec_audit_purge'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- Append-only: no UPDATE, DELETE or TRUNCATE of audit rows, by anyone.
-- ENABLE ALWAYS keeps the guard firing under session_replication_role =
-- replica; a superuser who disables it outright is caught by audit_verify().
CREATE FUNCTION acctsec.audit_log_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'acctsec_audit_log_guard'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON acctsec.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION acctsec.audit_log_guard();
ALTER TABLE acctsec.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
-- A statement trigger fires for the table a statement names: each partition
-- has the guard too (audit_create_partitions() gives it to the new ones).
CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON acctsec.audit_log_default
  FOR EACH STATEMENT EXECUTE FUNCTION acctsec.audit_log_guard();
ALTER TABLE acctsec.audit_log_default ENABLE ALWAYS TRIGGER audit_log_append_only;
CREATE TRIGGER audit_lanes_append_only
  BEFORE DELETE OR TRUNCATE ON acctsec.audit_lanes
  FOR EACH STATEMENT EXECUTE FUNCTION acctsec.audit_log_guard();
ALTER TABLE acctsec.audit_lanes ENABLE ALWAYS TRIGGER audit_lanes_append_only;
CREATE TRIGGER audit_seals_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON acctsec.audit_seals
  FOR EACH STATEMENT EXECUTE FUNCTION acctsec.audit_log_guard();
ALTER TABLE acctsec.audit_seals ENABLE ALWAYS TRIGGER audit_seals_append_only;
CREATE TRIGGER audit_checkpoints_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON acctsec.audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION acctsec.audit_log_guard();
ALTER TABLE acctsec.audit_checkpoints ENABLE ALWAYS TRIGGER audit_checkpoints_append_only;

-- In an archive (a logical replication subscriber of the log), the lanes
-- keep their base: the primary's purge moves it, but the archive keeps the
-- seals and rows it purged.  ENABLE REPLICA: it fires only in the apply
-- worker (session_replication_role = replica), never for the writer.
CREATE FUNCTION acctsec.audit_archive_lanes()
RETURNS trigger
AS 'MODULE_PATHNAME', 'acctsec_audit_archive_lanes'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE TRIGGER audit_lanes_archive
  BEFORE UPDATE ON acctsec.audit_lanes
  FOR EACH ROW EXECUTE FUNCTION acctsec.audit_archive_lanes();
ALTER TABLE acctsec.audit_lanes ENABLE REPLICA TRIGGER audit_lanes_archive;

REVOKE ALL ON acctsec.audit_log, acctsec.audit_log_default, acctsec.audit_lanes, acctsec.audit_log_id_seq,
  acctsec.audit_seals, acctsec.audit_checkpoints, acctsec.audit_checkpoint_no FROM PUBLIC;
REVOKE ALL ON FUNCTION acctsec.audit(), acctsec.audit_table(regclass, text[]),
  acctsec.unaudit_table(regclass), acctsec.audit_event(text, text, jsonb),
  acctsec.audit_verify(), acctsec.audit_verify(text[]), acctsec.audit_verify(text[], text),
  acctsec.audit_checkpoint(), acctsec.audit_archive_lanes(),
  acctsec.audit_public_key(), acctsec.audit_erase(text), acctsec.audit_purge(interval),
  acctsec.audit_create_partitions(interval),
  acctsec.audit_log_guard() FROM PUBLIC;
