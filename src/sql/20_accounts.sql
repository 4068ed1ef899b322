
-- ---------------------------------------------------------------------------
-- Accounts, login attempts and lockout (docs/accounts.md, docs/security.md).
--
-- acctsec.accounts holds one row per account: the single per-account
-- serialisation point.  Every capability that changes an account's security
-- state first locks this row (SELECT ... FOR NO KEY UPDATE, through the C
-- helpers of src/account.c), and every per-account table of another
-- capability references it ON DELETE CASCADE, so forget_account erases
-- everything by deleting one row.
-- ---------------------------------------------------------------------------

CREATE TYPE acctsec.login_status AS ENUM
    ('ok', 'failed', 'locked', 'second_factor_required', 'throttled');

CREATE TYPE acctsec.login_result AS (
    status          acctsec.login_status,
    allowed         boolean,
    failed_attempts int,
    locked_until    timestamptz,
    retry_after     interval
);

-- account is compared byte for byte (COLLATE "C"): an account key is an
-- identifier, and the B-tree then needs no locale-aware comparison.  Its
-- length (1 to 1024 bytes) is checked by every function that takes one.
CREATE TABLE acctsec.accounts (
    account             text COLLATE "C" PRIMARY KEY,
    failed_attempts     int NOT NULL DEFAULT 0,  -- failures inside the window
    last_failed_at      timestamptz,             -- the latest counted failure
    locked_until        timestamptz,             -- locked while > now()
    locked_at           timestamptz,             -- when that lock began
    lockouts            int NOT NULL DEFAULT 0,  -- backoff level
    last_login_at       timestamptz,
    last_login_ip       inet,
    login_count         bigint NOT NULL DEFAULT 0,
    totp_enabled        boolean NOT NULL DEFAULT false,  -- set by the TOTP module
    -- a login left at second_factor_required: when and from where
    pending_login_at    timestamptz,
    pending_login_ip    inet,
    created_at          timestamptz NOT NULL DEFAULT now(),
    -- smart lockout (25_throttle.sql): failures from the account's familiar
    -- networks, counted and locked apart from the ones above
    familiar_failed_attempts int NOT NULL DEFAULT 0,
    familiar_last_failed_at  timestamptz,
    familiar_locked_until    timestamptz,
    familiar_lockouts        int NOT NULL DEFAULT 0,
    pending_login_familiar   boolean NOT NULL DEFAULT false
) WITH (fillfactor = 80);
-- Every login updates its account's row, and no index covers a column it
-- changes: the room a page keeps lets the update stay on the page (HOT),
-- with no new index entry, however full the table is.

COMMENT ON TABLE acctsec.accounts IS
    'acctsec: one row per account, the per-account lock every capability takes';

-- Every call of login_attempt appends a row.  No foreign key to accounts: the
-- row lock already serialises an account's writers, forget_account deletes
-- an account's rows itself, and a foreign-key check on every insert would
-- cost the hot path a trigger.
CREATE TABLE acctsec.login_attempts (
    id              bigserial PRIMARY KEY,
    account         text COLLATE "C" NOT NULL,
    attempted_at    timestamptz NOT NULL DEFAULT now(),
    outcome         acctsec.login_status NOT NULL,
    ip              inet,
    user_agent      text
);

-- an account's history (and forget_account), newest first
CREATE INDEX login_attempts_account_idx
    ON acctsec.login_attempts (account, attempted_at);
-- prune_login_attempts: the log is appended in time order, so a BRIN index
-- finds old rows for a fraction of a B-tree's upkeep on every login
CREATE INDEX login_attempts_attempted_at_idx
    ON acctsec.login_attempts USING brin (attempted_at) WITH (autosummarize = on);

COMMENT ON TABLE acctsec.login_attempts IS
    'acctsec: every login_attempt call (account, time, outcome, ip, user agent)';

-- Tables linked with link_account_table: deleting a row of tbl forgets the
-- account named by key_column.  mirror is the resolved mapping of acctsec
-- fields to columns of tbl ('{}': none), see 75_linked_tables.sql.
CREATE TABLE acctsec.linked_tables (
    tbl             regclass PRIMARY KEY,
    key_column      name NOT NULL,
    mirror          jsonb,
    linked_at       timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE acctsec.linked_tables IS
    'acctsec: application tables whose deleted rows erase the account''s state';

SELECT pg_catalog.pg_extension_config_dump('acctsec.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.login_attempts', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.login_attempts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.linked_tables', '');

-- ---------------------------------------------------------------------------
-- Functions.  Everything that reads or changes account state runs as the
-- extension's owner with a fixed search_path (SECURITY DEFINER, given by
-- name in 90_grants.sql) and is not executable by PUBLIC;
-- acctsec.grant_app_role (90_grants.sql) grants the application's share.
-- ---------------------------------------------------------------------------

-- Not STRICT: a NULL account or outcome is an error (22023), never a NULL
-- answer an application might read as "not refused".
CREATE FUNCTION acctsec.login_attempt(account text, success boolean,
                                      ip inet DEFAULT NULL,
                                      user_agent text DEFAULT NULL)
RETURNS acctsec.login_result
AS 'MODULE_PATHNAME', 'acctsec_login_attempt'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION acctsec.account_status(account text,
    OUT account text, OUT failed_attempts int, OUT locked_until timestamptz,
    OUT lockouts int, OUT last_login_at timestamptz,
    OUT last_failed_at timestamptz, OUT login_count bigint,
    OUT totp_enabled boolean, OUT backup_codes_remaining int,
    -- smart lockout (docs/throttling.md): the familiar-network split
    OUT familiar_failed_attempts int, OUT familiar_locked_until timestamptz,
    OUT familiar_lockouts int, OUT familiar_networks int)
RETURNS record
AS 'MODULE_PATHNAME', 'acctsec_account_status'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;

CREATE FUNCTION acctsec.unlock(account text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_unlock'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION acctsec.forget_account(account text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_forget_account'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION acctsec.prune_login_attempts(older_than interval)
RETURNS bigint
AS 'MODULE_PATHNAME', 'acctsec_prune_login_attempts'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- ---------------------------------------------------------------------------
-- Linked application tables: deleting a row of a linked table erases that
-- account's state (the trigger is in src/linked_tables.c).
-- ---------------------------------------------------------------------------

CREATE FUNCTION acctsec.forget_linked_account()
RETURNS trigger
AS 'MODULE_PATHNAME', 'acctsec_forget_linked_account'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION acctsec.link_account_table(tbl regclass, key_column name,
                                           mirror jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $$
DECLARE
    kind "char";
    key_type oid;
BEGIN
    IF tbl IS NULL OR key_column IS NULL THEN
        RAISE EXCEPTION 'table and key column must not be null'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT c.relkind INTO kind FROM pg_catalog.pg_class c
     WHERE c.oid OPERATOR(pg_catalog.=) tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::pg_catalog.oid
            USING ERRCODE = 'undefined_table';
    END IF;
    IF kind OPERATOR(pg_catalog.<>) 'r' THEN
        RAISE EXCEPTION '% is not a plain table', tbl
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Link a users table; partitioned tables, views and foreign tables cannot be linked.';
    END IF;
    IF mirror IS NOT NULL AND pg_catalog.jsonb_typeof(mirror) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'mirror must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    SELECT a.atttypid INTO key_type FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl
       AND a.attname OPERATOR(pg_catalog.=) key_column
       AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of table % does not exist', key_column, tbl
            USING ERRCODE = 'undefined_column';
    END IF;
    -- a domain is as good as its base type
    WHILE (SELECT t.typtype FROM pg_catalog.pg_type t
            WHERE t.oid OPERATOR(pg_catalog.=) key_type) OPERATOR(pg_catalog.=) 'd' LOOP
        SELECT t.typbasetype INTO key_type FROM pg_catalog.pg_type t
         WHERE t.oid OPERATOR(pg_catalog.=) key_type;
    END LOOP;
    IF NOT key_type OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog.int2', 'pg_catalog.int4',
            'pg_catalog.int8', 'pg_catalog.uuid', 'pg_catalog.text',
            'pg_catalog.varchar']::pg_catalog.regtype[]::pg_catalog.oid[]) THEN
        RAISE EXCEPTION 'key column "%" of table % has type %', key_column, tbl,
                pg_catalog.format_type(key_type, NULL)
            USING ERRCODE = 'datatype_mismatch',
                  HINT = 'The key column must be of type smallint, integer, bigint, uuid, text or varchar.';
    END IF;

    -- mirror checked, or detected when NULL (75_linked_tables.sql)
    mirror := acctsec.resolve_mirror(tbl, key_column, mirror);

    INSERT INTO acctsec.linked_tables AS l (tbl, key_column, mirror)
    VALUES (tbl, key_column, mirror)
    ON CONFLICT ON CONSTRAINT linked_tables_pkey DO UPDATE
        SET key_column = excluded.key_column, mirror = excluded.mirror,
            linked_at = pg_catalog.now();
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_trigger t
                    WHERE t.tgrelid OPERATOR(pg_catalog.=) tbl
                      AND t.tgname OPERATOR(pg_catalog.=) 'acctsec_forget_account') THEN
        -- regclass prints schema-qualified and quoted under this search_path
        EXECUTE pg_catalog.format('CREATE TRIGGER acctsec_forget_account'
                                  ' AFTER DELETE ON %s FOR EACH ROW'
                                  ' EXECUTE FUNCTION acctsec.forget_linked_account()', tbl);
    END IF;
    -- mirrored columns: adopt, synchronise, guard (75_linked_tables.sql)
    PERFORM acctsec.mirror_attach(tbl);
END
$$;

CREATE FUNCTION acctsec.unlink_account_table(tbl regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
AS $$
BEGIN
    DELETE FROM acctsec.linked_tables l WHERE l.tbl OPERATOR(pg_catalog.=) unlink_account_table.tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table % is not linked to acctsec accounts', tbl
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS acctsec_forget_account ON %s', tbl);
    IF EXISTS (SELECT FROM pg_catalog.pg_trigger t
                WHERE t.tgrelid OPERATOR(pg_catalog.=) tbl
                  AND t.tgname OPERATOR(pg_catalog.=) 'zz_acctsec_mirror') THEN
        EXECUTE pg_catalog.format('DROP TRIGGER zz_acctsec_mirror ON %s', tbl);
    END IF;
END
$$;

-- A dropped table is unlinked (its trigger went with it).
CREATE FUNCTION acctsec.unlink_dropped_tables()
RETURNS event_trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $$
BEGIN
    DELETE FROM acctsec.linked_tables l
     USING pg_catalog.pg_event_trigger_dropped_objects() d
     WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.objsubid OPERATOR(pg_catalog.=) 0
       AND l.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) d.objid;
END
$$;

CREATE EVENT TRIGGER acctsec_unlink_dropped_tables ON sql_drop
    EXECUTE FUNCTION acctsec.unlink_dropped_tables();
