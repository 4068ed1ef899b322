-- acctsec install script, assembled from src/sql/NN_*.sql by the Makefile

\echo Use "CREATE EXTENSION acctsec" to load this file. \quit

-- The schema is created by CREATE EXTENSION (schema = acctsec in the control
-- file).  Deny by default: nothing in it is usable by PUBLIC unless granted
-- below, capability by capability.
REVOKE ALL ON SCHEMA acctsec FROM PUBLIC;
GRANT USAGE ON SCHEMA acctsec TO PUBLIC;

-- ---------------------------------------------------------------------------
-- One-time passwords: pure functions (docs/totp.md).  No state, so they are
-- IMMUTABLE and usable by anyone; the defaults such as now() are evaluated
-- by the caller.
-- ---------------------------------------------------------------------------

CREATE FUNCTION acctsec.hotp(secret bytea, counter bigint, digits int DEFAULT 6,
                             algorithm text DEFAULT 'SHA1')
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_hotp'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION acctsec.totp(secret bytea, at timestamptz DEFAULT now(),
                             digits int DEFAULT 6, period int DEFAULT 30,
                             algorithm text DEFAULT 'SHA1')
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_totp'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION acctsec.totp_check(secret bytea, code text, "window" int DEFAULT 1,
                                   at timestamptz DEFAULT now(),
                                   digits int DEFAULT 6, period int DEFAULT 30,
                                   algorithm text DEFAULT 'SHA1')
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_totp_check'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION acctsec.base32_encode(data bytea)
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_base32_encode'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION acctsec.base32_decode(data text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'acctsec_base32_decode'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION acctsec.totp_uri(secret bytea, label text, issuer text DEFAULT NULL,
                                 digits int DEFAULT 6, period int DEFAULT 30,
                                 algorithm text DEFAULT 'SHA1')
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_totp_uri'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

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

REVOKE ALL ON TABLE acctsec.accounts, acctsec.login_attempts,
    acctsec.linked_tables FROM PUBLIC;
REVOKE ALL ON SEQUENCE acctsec.login_attempts_id_seq FROM PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('acctsec.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.login_attempts', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.login_attempts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.linked_tables', '');

-- ---------------------------------------------------------------------------
-- Functions.  Everything that reads or changes account state runs as the
-- extension's owner with a fixed search_path and is not executable by PUBLIC;
-- acctsec.grant_app_role (90_grants.sql) grants the application's share.
-- ---------------------------------------------------------------------------

-- Not STRICT: a NULL account or outcome is an error (22023), never a NULL
-- answer an application might read as "not refused".
CREATE FUNCTION acctsec.login_attempt(account text, success boolean,
                                      ip inet DEFAULT NULL,
                                      user_agent text DEFAULT NULL)
RETURNS acctsec.login_result
AS 'MODULE_PATHNAME', 'acctsec_login_attempt'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

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
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.unlock(account text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_unlock'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.forget_account(account text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_forget_account'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.prune_login_attempts(older_than interval)
RETURNS bigint
AS 'MODULE_PATHNAME', 'acctsec_prune_login_attempts'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION
    acctsec.login_attempt(text, boolean, inet, text),
    acctsec.account_status(text),
    acctsec.unlock(text),
    acctsec.forget_account(text),
    acctsec.prune_login_attempts(interval)
FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Linked application tables: deleting a row of a linked table erases that
-- account's state (the trigger is in src/linked_tables.c).
-- ---------------------------------------------------------------------------

CREATE FUNCTION acctsec.forget_linked_account()
RETURNS trigger
AS 'MODULE_PATHNAME', 'acctsec_forget_linked_account'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.link_account_table(tbl regclass, key_column name,
                                           mirror jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
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
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
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
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
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

REVOKE ALL ON FUNCTION
    acctsec.unlink_dropped_tables(),
    acctsec.forget_linked_account(),
    acctsec.link_account_table(regclass, name, jsonb),
    acctsec.unlink_account_table(regclass)
FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Throttling across accounts, and smart lockout (docs/throttling.md;
-- src/throttle.c).  login_attempt consults both; the tables below are
-- written only through it.
--
-- acctsec.networks: one row per network (an IPv4 address, an IPv6 prefix)
-- that failed recently.  A failed login locks its network's row after the
-- account's row (always in that order), so concurrent failures from one
-- network are all counted.  Rows expire (expires_at) when their window is
-- over and, after a throttle, when as long again has passed; each new row
-- deletes a few expired ones, so the table holds about one window's worth of
-- failing networks however many addresses an attacker rotates through.
-- ---------------------------------------------------------------------------

CREATE TABLE acctsec.networks (
    network             cidr PRIMARY KEY,
    window_started_at   timestamptz NOT NULL,   -- the current window's start
    failures            int NOT NULL DEFAULT 0, -- failures in the window
    -- hashes of the distinct accounts failed on in the window (at most
    -- acctsec.network_max_accounts of them)
    accounts            bigint[] NOT NULL DEFAULT '{}',
    throttled_until     timestamptz,            -- throttled while > now()
    throttles           int NOT NULL DEFAULT 0, -- doubling level
    expires_at          timestamptz NOT NULL    -- the row may go after this
) WITH (fillfactor = 70);
-- Every failure from a network updates its row, and inside a window none of
-- its indexed columns changes (expires_at moves only with a new window or a
-- throttle): the room a page keeps lets those updates stay HOT, with no new
-- index entries.

-- opportunistic pruning and prune_networks, oldest first
CREATE INDEX networks_expires_at_idx ON acctsec.networks (expires_at);

COMMENT ON TABLE acctsec.networks IS
    'acctsec: failed logins per network, and network throttles';

-- Networks an account logged in from: at most acctsec.max_familiar_networks
-- per account, valid for acctsec.familiar_network_ttl after the last use.
CREATE TABLE acctsec.familiar_networks (
    account         text NOT NULL REFERENCES acctsec.accounts ON DELETE CASCADE,
    network         cidr NOT NULL,
    first_used_at   timestamptz NOT NULL,
    last_used_at    timestamptz NOT NULL,
    PRIMARY KEY (account, network)
);

-- prune_networks
CREATE INDEX familiar_networks_last_used_at_idx
    ON acctsec.familiar_networks (last_used_at);

COMMENT ON TABLE acctsec.familiar_networks IS
    'acctsec: networks each account logged in from (smart lockout)';

REVOKE ALL ON TABLE acctsec.networks, acctsec.familiar_networks FROM PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('acctsec.networks', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.familiar_networks', '');

CREATE FUNCTION acctsec.network_status(ip inet,
    OUT network cidr, OUT failures int, OUT accounts int,
    OUT throttled_until timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'acctsec_network_status'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- administrative: not granted by grant_app_role
CREATE FUNCTION acctsec.unthrottle(ip inet)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_unthrottle'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- administrative: deletes expired network rows and familiar networks
CREATE FUNCTION acctsec.prune_networks()
RETURNS bigint
AS 'MODULE_PATHNAME', 'acctsec_prune_networks'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION
    acctsec.network_status(inet),
    acctsec.unthrottle(inet),
    acctsec.prune_networks()
FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Secrets at rest and keys (docs/keys.md; src/keys.c).  One key module
-- behind every AEAD and keyed hash: TOTP secrets, backup codes, tokens.
-- ---------------------------------------------------------------------------

-- The database key: the current key while acctsec.secret_key is not set (the
-- weaker default: a dump of the database holds it).  The row is generated by
-- acctsec on first use, not here: pg_restore runs CREATE EXTENSION and then
-- restores the dumped row, so a key made by this script would collide with
-- the one every restored secret was encrypted under.
CREATE TABLE acctsec.database_key (
    id         int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    key        bytea NOT NULL CHECK (octet_length(key) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON acctsec.database_key FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('acctsec.database_key', '');

-- The keys in use, by fingerprint (the key_id every stored value carries).
CREATE FUNCTION acctsec.key_status()
RETURNS TABLE(key_id text, source text, is_current boolean)
AS 'MODULE_PATHNAME', 'acctsec_key_status'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION acctsec.key_status() FROM PUBLIC;

-- Re-encrypt every stored secret under the current key (after setting a new
-- acctsec.secret_key and moving the old one to acctsec.secret_key_previous).
CREATE FUNCTION acctsec.rotate_secrets()
RETURNS bigint
AS 'MODULE_PATHNAME', 'acctsec_rotate_secrets'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION acctsec.rotate_secrets() FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- TOTP two-factor credentials (docs/totp.md, stateful; src/totp.c).  At
-- most one per account; the secret only sealed by the key module, with the
-- account as associated data.  Each function takes the account's row lock
-- (acctsec.accounts) first; forget_account's delete of that row cascades.
-- ---------------------------------------------------------------------------

CREATE TABLE acctsec.totp_credentials (
    account      text PRIMARY KEY
                 REFERENCES acctsec.accounts (account) ON DELETE CASCADE,
    secret       bytea NOT NULL,        -- sealed: version, key id, nonce, ciphertext, tag
    algorithm    text NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
    digits       int NOT NULL CHECK (digits BETWEEN 6 AND 8),
    period       int NOT NULL CHECK (period BETWEEN 1 AND 3600),
    created_at   timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,           -- NULL: pending until totp_confirm
    last_step    bigint,                -- last accepted time step (replay guard)
    last_used_at timestamptz
);
REVOKE ALL ON acctsec.totp_credentials FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('acctsec.totp_credentials', '');

CREATE FUNCTION acctsec.totp_enroll(account text, issuer text DEFAULT NULL,
                                    label text DEFAULT NULL, digits int DEFAULT 6,
                                    period int DEFAULT 30, algorithm text DEFAULT 'SHA1')
RETURNS TABLE(secret text, uri text)
AS 'MODULE_PATHNAME', 'acctsec_totp_enroll'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.totp_confirm(account text, code text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_totp_confirm'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.totp_verify(account text, code text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_totp_verify'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.totp_disable(account text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_totp_disable'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION acctsec.totp_enroll(text, text, text, int, int, text),
                       acctsec.totp_confirm(text, text),
                       acctsec.totp_verify(text, text),
                       acctsec.totp_disable(text) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Backup codes (docs/backup_codes.md; src/backup_codes.c).  Single use; stored
-- only as keyed hashes (key module purpose "backup code", account bound in).
-- ---------------------------------------------------------------------------

CREATE TABLE acctsec.backup_codes (
    account    text NOT NULL
               REFERENCES acctsec.accounts (account) ON DELETE CASCADE,
    code_no    int NOT NULL CHECK (code_no BETWEEN 1 AND 100),
    code_hash  bytea NOT NULL,          -- version, key id, keyed BLAKE2b-256
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz,             -- NULL: still usable
    PRIMARY KEY (account, code_no)
);
REVOKE ALL ON acctsec.backup_codes FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('acctsec.backup_codes', '');

CREATE FUNCTION acctsec.backup_codes_generate(account text, how_many int DEFAULT 10)
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'acctsec_backup_codes_generate'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE ROWS 10
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.backup_code_verify(account text, code text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_backup_code_verify'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.backup_codes_remaining(account text)
RETURNS int
AS 'MODULE_PATHNAME', 'acctsec_backup_codes_remaining'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION acctsec.backup_codes_generate(text, int),
                       acctsec.backup_code_verify(text, text),
                       acctsec.backup_codes_remaining(text) FROM PUBLIC;

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
    hash            bytea NOT NULL,
    PRIMARY KEY (id)
) USING heap;   -- written with heap_insert() by audit_chain.c
COMMENT ON TABLE acctsec.audit_log IS
  'acctsec audit log: audited row changes and security events (append-only, hash-chained)';
-- audit_verify() reads a transaction's rows in order
CREATE INDEX audit_log_txid ON acctsec.audit_log (txid, id);

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
CREATE INDEX audit_log_relation_time ON acctsec.audit_log (relation, logged_at)
  WHERE relation IS NOT NULL;
CREATE INDEX audit_log_account_time ON acctsec.audit_log (account, logged_at)
  WHERE account IS NOT NULL;
CREATE INDEX audit_log_actor_time ON acctsec.audit_log (actor, logged_at)
  WHERE actor IS NOT NULL;
-- "the history of this row": WHERE relation = ... AND row_key = '{"id": 42}'
-- (a hash index: no size limit on whole-row keys of tables without one)
CREATE INDEX audit_log_row_key ON acctsec.audit_log USING hash (row_key)
  WHERE row_key IS NOT NULL;
CREATE INDEX audit_log_logged_at ON acctsec.audit_log USING brin (logged_at);

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
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.audit_verify(OUT ok boolean, OUT checked bigint,
                                     OUT first_bad_id bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'acctsec_audit_verify'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

-- Verification that the log still extends every checkpoint given, walking
-- each lane only from the oldest position they give for it.
CREATE FUNCTION acctsec.audit_verify(checkpoints text[], OUT ok boolean,
                                     OUT checked bigint, OUT first_bad_id bigint,
                                     OUT failed_checkpoint int, OUT detail text)
RETURNS record
AS 'MODULE_PATHNAME', 'acctsec_audit_verify_checkpoints'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

-- The same against checkpoints signed with the public key given (hex), not
-- with a key of this database's ring: what an archive that subscribes to the
-- log runs (docs/replication.md).
CREATE FUNCTION acctsec.audit_verify(checkpoints text[], public_key text, OUT ok boolean,
                                     OUT checked bigint, OUT first_bad_id bigint,
                                     OUT failed_checkpoint int, OUT detail text)
RETURNS record
AS 'MODULE_PATHNAME', 'acctsec_audit_verify_checkpoints_key'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

-- A signed (Ed25519) statement of every lane's head, to keep elsewhere.
CREATE FUNCTION acctsec.audit_checkpoint()
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_audit_checkpoint'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

-- The public key checkpoints are signed with (hex), for verifiers.
CREATE FUNCTION acctsec.audit_public_key()
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_audit_public_key'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

-- Erase an account's personal data from its audit rows, keeping the proof.
-- Superuser only (judged by the calling session).
CREATE FUNCTION acctsec.audit_erase(account text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'acctsec_audit_erase'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.audit_purge(older_than interval)
RETURNS bigint
AS 'MODULE_PATHNAME', 'acctsec_audit_purge'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

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

REVOKE ALL ON acctsec.audit_log, acctsec.audit_lanes, acctsec.audit_log_id_seq,
  acctsec.audit_seals, acctsec.audit_checkpoints, acctsec.audit_checkpoint_no FROM PUBLIC;
REVOKE ALL ON FUNCTION acctsec.audit(), acctsec.audit_table(regclass, text[]),
  acctsec.unaudit_table(regclass), acctsec.audit_event(text, text, jsonb),
  acctsec.audit_verify(), acctsec.audit_verify(text[]), acctsec.audit_verify(text[], text),
  acctsec.audit_checkpoint(), acctsec.audit_archive_lanes(),
  acctsec.audit_public_key(), acctsec.audit_erase(text), acctsec.audit_purge(interval),
  acctsec.audit_log_guard() FROM PUBLIC;

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
REVOKE ALL ON acctsec.updated_at_optout FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('acctsec.updated_at_optout', '');

-- A row added (by untrack_updated_at(), or by restoring a dump after CREATE
-- TABLE attached the trigger again) detaches the trigger from that table.
CREATE FUNCTION acctsec.updated_at_optout_added()
RETURNS trigger
AS 'MODULE_PATHNAME', 'acctsec_updated_at_optout_added'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION acctsec.updated_at_optout_added() FROM PUBLIC;
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
REVOKE ALL ON FUNCTION acctsec.updated_at_ddl() FROM PUBLIC;

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
REVOKE ALL ON FUNCTION acctsec.trigger_guard() FROM PUBLIC;

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
-- ---------------------------------------------------------------------------
-- Passkeys (WebAuthn) (docs/passkeys.md; src/passkeys.c, src/webauthn.c).
--
-- A registered credential is its id and its COSE public key: nothing here
-- signs in without the authenticator's private key, which never leaves it.
-- Challenges are one-time tokens (80_tokens.sql) of purpose
-- 'passkey.register' or 'passkey.login' (of no account for a
-- discoverable-credential login: passkey_login_begin(NULL)).  Both tables reference
-- acctsec.accounts ON DELETE CASCADE, so forget_account erases them.
-- ---------------------------------------------------------------------------

-- The WebAuthn user handle of each account: 32 random bytes, so that the
-- authenticator never stores the account key itself.
CREATE TABLE acctsec.passkey_users (
    account         text COLLATE "C" PRIMARY KEY
                    REFERENCES acctsec.accounts (account) ON DELETE CASCADE,
    user_handle     bytea NOT NULL UNIQUE CHECK (octet_length(user_handle) = 32)
);

COMMENT ON TABLE acctsec.passkey_users IS
    'acctsec: the WebAuthn user handle of each account with passkeys';

CREATE TABLE acctsec.passkey_credentials (
    id              bigserial PRIMARY KEY,
    account         text COLLATE "C" NOT NULL
                    REFERENCES acctsec.accounts (account) ON DELETE CASCADE,
    credential_id   bytea NOT NULL UNIQUE
                    CHECK (octet_length(credential_id) BETWEEN 1 AND 1023),
    public_key      bytea NOT NULL CHECK (octet_length(public_key) <= 1024),  -- COSE_Key
    alg             int NOT NULL CHECK (alg IN (-7, -8, -257)),  -- ES256, EdDSA, RS256
    aaguid          uuid NOT NULL,
    sign_count      bigint NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    transports      text[] NOT NULL DEFAULT '{}',
    backup_eligible boolean NOT NULL,
    backed_up       boolean NOT NULL,
    name            text CHECK (octet_length(name) <= 200),
    created_at      timestamptz NOT NULL,
    last_used_at    timestamptz
);
CREATE INDEX passkey_credentials_account_idx ON acctsec.passkey_credentials (account);

COMMENT ON TABLE acctsec.passkey_credentials IS
    'acctsec: registered passkeys (credential id and COSE public key)';

REVOKE ALL ON TABLE acctsec.passkey_users, acctsec.passkey_credentials FROM PUBLIC;
REVOKE ALL ON SEQUENCE acctsec.passkey_credentials_id_seq FROM PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('acctsec.passkey_users', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.passkey_credentials', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.passkey_credentials_id_seq', '');

CREATE FUNCTION acctsec.passkey_register_begin(account text,
                                               user_name text DEFAULT NULL,
                                               display_name text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'acctsec_passkey_register_begin'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.passkey_register_finish(account text, response jsonb,
                                                name text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'acctsec_passkey_register_finish'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.passkey_login_begin(account text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'acctsec_passkey_login_begin'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.passkey_login_finish(response jsonb, ip inet DEFAULT NULL,
                                             user_agent text DEFAULT NULL)
RETURNS acctsec.login_result
AS 'MODULE_PATHNAME', 'acctsec_passkey_login_finish'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.passkeys(account text)
RETURNS TABLE(credential_id bigint, name text, alg int, transports text[],
              backup_eligible boolean, backed_up boolean, sign_count bigint,
              created_at timestamptz, last_used_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE ROWS 3
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.id, c.name, c.alg, c.transports, c.backup_eligible, c.backed_up,
           c.sign_count, c.created_at, c.last_used_at
    FROM acctsec.passkey_credentials c
    WHERE c.account OPERATOR(pg_catalog.=) passkeys.account
    ORDER BY c.id
$$;

CREATE FUNCTION acctsec.passkey_remove(account text, credential_id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_passkey_remove'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION
    acctsec.passkey_register_begin(text, text, text),
    acctsec.passkey_register_finish(text, jsonb, text),
    acctsec.passkey_login_begin(text),
    acctsec.passkey_login_finish(jsonb, inet, text),
    acctsec.passkeys(text),
    acctsec.passkey_remove(text, bigint)
FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Passwords (docs/passwords.md): Argon2id hashing, verification of the formats
-- existing applications hold, and the rehash test.
-- None reads or changes account state, so none is SECURITY DEFINER.
-- COST tells the planner these are expensive (tens of milliseconds), so it
-- evaluates them after every cheaper condition.
-- ---------------------------------------------------------------------------

-- Random salt: VOLATILE.  Harmless to anyone, so PUBLIC keeps EXECUTE.
CREATE FUNCTION acctsec.password_hash(password text)
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_password_hash'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE COST 10000;

-- VOLATILE and PARALLEL UNSAFE: a stored hash it cannot verify (unknown,
-- malformed, over the caps in the settings) answers false and writes a
-- security event (an audit row).  Not PUBLIC: against any hash a caller brings, it makes
-- the server a password-guessing engine, and every call takes up to
-- acctsec.password_max_memory_kib of server memory.  Application roles get
-- it through acctsec.grant_app_role.
CREATE FUNCTION acctsec.password_verify(password text, hash text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_password_verify'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE COST 10000;
REVOKE ALL ON FUNCTION acctsec.password_verify(text, text) FROM PUBLIC;

-- Reads only its argument and the settings: STABLE, cheap, PUBLIC.
CREATE FUNCTION acctsec.password_needs_rehash(hash text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_password_needs_rehash'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- The format a stored hash is read as ("Django PBKDF2"), NULL for none:
-- reads only its argument, PUBLIC.
CREATE FUNCTION acctsec.password_hash_format(hash text)
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_password_hash_format'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ---------------------------------------------------------------------------
-- Existing applications (docs/linked_tables.md): mirroring account state into
-- the linked table's own columns, and the one-call login.  link_account_table
-- (20_accounts.sql) resolves the mapping with resolve_mirror and then calls
-- mirror_attach; the triggers and the cache are in src/linked_tables.c.
-- ---------------------------------------------------------------------------

-- The mapping link_account_table stores: mirror checked, or (NULL) the
-- usual column names detected.  Administrative.
CREATE FUNCTION acctsec.resolve_mirror(tbl regclass, key_column name, mirror jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'acctsec_resolve_mirror'
LANGUAGE C STABLE PARALLEL RESTRICTED
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- Adopt the table's values, write acctsec's, attach the guard.
CREATE FUNCTION acctsec.mirror_attach(tbl regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'acctsec_mirror_attach'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- BEFORE INSERT OR UPDATE on a mirroring table: mirrored columns always get
-- acctsec's current values.  Definer: it reads acctsec.accounts for
-- whichever role writes the table.
CREATE FUNCTION acctsec.mirror_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'acctsec_mirror_guard'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- AFTER row trigger on acctsec.accounts: every state change reaches the
-- mirroring tables in the same transaction.
CREATE FUNCTION acctsec.mirror_account_state()
RETURNS trigger
AS 'MODULE_PATHNAME', 'acctsec_mirror_account_state'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- Whether any linked table mirrors account state (the trigger's WHEN
-- condition): no trigger fires, and no row is queued, while none does.
-- Cached per backend until acctsec.linked_tables changes.
CREATE FUNCTION acctsec.mirror_wanted()
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_mirror_wanted'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

CREATE TRIGGER acctsec_mirror AFTER INSERT OR UPDATE OR DELETE ON acctsec.accounts
    FOR EACH ROW WHEN (acctsec.mirror_wanted())
    EXECUTE FUNCTION acctsec.mirror_account_state();

-- Any change to the registry (linking, unlinking, a dropped table, a
-- restore) drops every backend's cache of links.
CREATE FUNCTION acctsec.linked_tables_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'acctsec_linked_tables_changed'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE TRIGGER acctsec_linked_tables_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON acctsec.linked_tables
    FOR EACH STATEMENT EXECUTE FUNCTION acctsec.linked_tables_changed();

-- The one-call login.  Not STRICT: a NULL account or password is an error,
-- never a NULL answer.
CREATE FUNCTION acctsec.login(account text, password text,
                              ip inet DEFAULT NULL, user_agent text DEFAULT NULL)
RETURNS acctsec.login_result
AS 'MODULE_PATHNAME', 'acctsec_login'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION
    acctsec.resolve_mirror(regclass, name, jsonb),
    acctsec.mirror_attach(regclass),
    acctsec.mirror_guard(),
    acctsec.mirror_account_state(),
    acctsec.mirror_wanted(),
    acctsec.linked_tables_changed(),
    acctsec.login(text, text, inet, text)
FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Importing existing second factors (src/import.c), into the TOTP and
-- backup-code tables through the key module.  Administrative.
-- ---------------------------------------------------------------------------

CREATE FUNCTION acctsec.totp_import(account text, secret text, digits int DEFAULT 6,
                                    period int DEFAULT 30, algorithm text DEFAULT 'SHA1')
RETURNS void
AS 'MODULE_PATHNAME', 'acctsec_totp_import'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.backup_codes_import(account text, codes text[])
RETURNS int
AS 'MODULE_PATHNAME', 'acctsec_backup_codes_import'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION
    acctsec.totp_import(text, text, int, int, text),
    acctsec.backup_codes_import(text, text[])
FROM PUBLIC;
-- ---------------------------------------------------------------------------
-- Sessions and one-time tokens (docs/sessions.md; src/tokens.c,
-- src/sessions.c).
--
-- Tokens are "acs_" (sessions) or "act_" (one-time) followed by a selector,
-- the lookup key stored here in clear, and a 264-bit verifier of which only
-- a keyed hash (keys.c, carrying its key's fingerprint) is stored: nothing
-- in these tables works as a token.  Every table references acctsec.accounts
-- ON DELETE CASCADE, so forget_account erases an account's sessions and
-- tokens with the rest of its state.
-- ---------------------------------------------------------------------------

-- One live one-time token per account and purpose; consuming deletes it.
CREATE TABLE acctsec.one_time_tokens (
    selector        bytea PRIMARY KEY CHECK (octet_length(selector) = 9),
    -- NULL only for a discoverable-credential passkey login challenge,
    -- issued before the user is known (src/tokens.c)
    account         text
                    REFERENCES acctsec.accounts (account) ON DELETE CASCADE,
    purpose         text NOT NULL CHECK (octet_length(purpose) BETWEEN 1 AND 64),
    verifier_hash   bytea NOT NULL,
    issued_at       timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    UNIQUE (account, purpose),      -- NULL accounts are distinct: any number
    CHECK (account IS NOT NULL OR purpose = 'passkey.login')
);
-- prune_expired
CREATE INDEX one_time_tokens_expires_at_idx ON acctsec.one_time_tokens (expires_at);

COMMENT ON TABLE acctsec.one_time_tokens IS
    'acctsec: outstanding one-time tokens (selector and keyed hash of the verifier)';

-- One row per session, holding its current token.  session_check reads it
-- through the selector's unique index.  last_seen_at is in no index and
-- pages keep room (fillfactor 90), so session_check's touch, at most once
-- per session_touch_interval, is a HOT update; expires_at has no index
-- either (prune_expired, an occasional administrative job, scans).
CREATE TABLE acctsec.account_sessions (
    session_id      bigserial PRIMARY KEY,
    account         text NOT NULL
                    REFERENCES acctsec.accounts (account) ON DELETE CASCADE,
    selector        bytea NOT NULL UNIQUE CHECK (octet_length(selector) = 9),
    verifier_hash   bytea NOT NULL,
    started_at      timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,   -- absolute end (session_lifetime)
    rotated_at      timestamptz,
    ip              inet,
    user_agent      text
) WITH (fillfactor = 90);
-- sessions(), revoke_all, credentials_changed, the cascade from accounts
CREATE INDEX account_sessions_account_idx ON acctsec.account_sessions (account);

COMMENT ON TABLE acctsec.account_sessions IS
    'acctsec: sessions (selector and keyed hash of the current token''s verifier)';

-- Tokens rotated out of a session, kept while it lives: presented again
-- after acctsec.session_reuse_grace, one revokes its session.
CREATE TABLE acctsec.retired_session_tokens (
    selector        bytea PRIMARY KEY CHECK (octet_length(selector) = 9),
    session_id      bigint NOT NULL
                    REFERENCES acctsec.account_sessions (session_id) ON DELETE CASCADE,
    verifier_hash   bytea NOT NULL,
    retired_at      timestamptz NOT NULL
);
CREATE INDEX retired_session_tokens_session_idx
    ON acctsec.retired_session_tokens (session_id);

COMMENT ON TABLE acctsec.retired_session_tokens IS
    'acctsec: rotated-out session tokens, for reuse detection';

REVOKE ALL ON TABLE acctsec.one_time_tokens, acctsec.account_sessions,
    acctsec.retired_session_tokens FROM PUBLIC;
REVOKE ALL ON SEQUENCE acctsec.account_sessions_session_id_seq FROM PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('acctsec.one_time_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.account_sessions', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.account_sessions_session_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.retired_session_tokens', '');

-- One-time tokens.  token_issue is not STRICT: a NULL argument is an error.
CREATE FUNCTION acctsec.token_issue(account text, purpose text,
                                    ttl interval DEFAULT '1 hour')
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_token_issue'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.token_consume(token text, purpose text)
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_token_consume'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.token_peek(token text, purpose text)
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_token_peek'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- Sessions.
CREATE FUNCTION acctsec.session_start(account text, ip inet DEFAULT NULL,
                                      user_agent text DEFAULT NULL)
RETURNS TABLE(session_id bigint, token text, expires_at timestamptz)
AS 'MODULE_PATHNAME', 'acctsec_session_start'
LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 1
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- VOLATILE: it writes last_seen_at (at most once per session_touch_interval).
-- touch_due: that write was due but impossible here (a hot standby, a
-- read-only transaction); the application calls session_touch on the primary.
CREATE FUNCTION acctsec.session_check(token text)
RETURNS TABLE(account text, session_id bigint, expires_at timestamptz,
              touch_due boolean)
AS 'MODULE_PATHNAME', 'acctsec_session_check'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE ROWS 1
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.session_touch(token text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_session_touch'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.session_rotate(token text)
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_session_rotate'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.session_end(token text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_session_end'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.sessions(account text)
RETURNS TABLE(session_id bigint, started_at timestamptz,
              last_seen_at timestamptz, expires_at timestamptz,
              ip inet, user_agent text)
AS 'MODULE_PATHNAME', 'acctsec_sessions'
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 5
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.session_revoke(account text, session_id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_session_revoke'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.sessions_revoke_all(account text,
                                            except_token text DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'acctsec_sessions_revoke_all'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION acctsec.credentials_changed(account text,
                                            keep_token text DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'acctsec_credentials_changed'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- Administrative: not granted by grant_app_role.
CREATE FUNCTION acctsec.prune_expired()
RETURNS bigint
AS 'MODULE_PATHNAME', 'acctsec_prune_expired'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION
    acctsec.token_issue(text, text, interval),
    acctsec.token_consume(text, text),
    acctsec.token_peek(text, text),
    acctsec.session_start(text, inet, text),
    acctsec.session_check(text),
    acctsec.session_touch(text),
    acctsec.session_rotate(text),
    acctsec.session_end(text),
    acctsec.sessions(text),
    acctsec.session_revoke(text, bigint),
    acctsec.sessions_revoke_all(text, text),
    acctsec.credentials_changed(text, text),
    acctsec.prune_expired()
FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Monitoring (docs/operations.md).  One row per figure, for a scraper
-- (postgres_exporter custom queries, or any SQL client): a metric name, an
-- optional label, a value.  Gauges are read from the state tables; activity
-- counts the last `recent` (default 5 minutes) of the attempts log and of
-- the audit log, which both have BRIN indexes on their time, so a scrape
-- reads only the newest block ranges.  Counts and ages only: no account,
-- address or secret is ever part of a row.
-- ---------------------------------------------------------------------------
-- metrics() counts locked accounts through these; a lock or an unlock is rare,
-- so the indexes cost the hot path nothing (other writes stay HOT-eligible)
CREATE INDEX accounts_locked_until_idx ON acctsec.accounts (locked_until)
    WHERE locked_until IS NOT NULL;
CREATE INDEX accounts_familiar_locked_until_idx ON acctsec.accounts (familiar_locked_until)
    WHERE familiar_locked_until IS NOT NULL;

CREATE FUNCTION acctsec.metrics(recent interval DEFAULT '5 minutes')
RETURNS TABLE(metric text, label text, value bigint)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    -- login attempts in the last `recent`, by status (every status shown)
    SELECT 'acctsec_login_attempts_recent', s::text, count(a.outcome)
    FROM pg_catalog.unnest(pg_catalog.enum_range(NULL::acctsec.login_status)) s
    LEFT JOIN acctsec.login_attempts a
      ON a.outcome OPERATOR(pg_catalog.=) s
     AND a.attempted_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) recent)
    GROUP BY s
    UNION ALL
    -- lockouts that began in the last `recent` (security events)
    SELECT 'acctsec_lockouts_recent', NULL, count(*)
    FROM acctsec.audit_log
    WHERE operation OPERATOR(pg_catalog.=) 'login.locked'
      AND logged_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) recent)
    UNION ALL
    -- the planner's estimates where an exact count would scan a large table
    SELECT 'acctsec_accounts_estimate', NULL,
           CASE WHEN c.reltuples OPERATOR(pg_catalog.<) 0 THEN 0 ELSE c.reltuples::bigint END
    FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) 'acctsec.accounts'::pg_catalog.regclass
    UNION ALL
    -- exact: the partial indexes on the lock columns hold only accounts ever locked
    SELECT 'acctsec_accounts_locked', NULL, count(*) FROM acctsec.accounts
    WHERE locked_until OPERATOR(pg_catalog.>) pg_catalog.now()
       OR familiar_locked_until OPERATOR(pg_catalog.>) pg_catalog.now()
    UNION ALL
    SELECT 'acctsec_networks_throttled', NULL, count(*) FROM acctsec.networks
    WHERE throttled_until OPERATOR(pg_catalog.>) pg_catalog.now()
    UNION ALL
    -- sessions kept (prune_expired removes ended ones): an estimate, since
    -- session rows carry no index on their times, which keeps touches HOT
    SELECT 'acctsec_sessions_estimate', NULL,
           CASE WHEN c.reltuples OPERATOR(pg_catalog.<) 0 THEN 0 ELSE c.reltuples::bigint END
    FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) 'acctsec.account_sessions'::pg_catalog.regclass
    UNION ALL
    SELECT 'acctsec_one_time_tokens_live', NULL, count(*) FROM acctsec.one_time_tokens
    WHERE expires_at OPERATOR(pg_catalog.>) pg_catalog.now()
    UNION ALL
    -- the audit log: rows (the planner's estimate: exact counts would scan
    -- it), rows written in the last `recent`, the chain's lanes, and the age
    -- in seconds of its newest row
    SELECT 'acctsec_audit_rows_estimate', NULL,
           CASE WHEN c.reltuples OPERATOR(pg_catalog.<) 0 THEN 0 ELSE c.reltuples::bigint END
    FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) 'acctsec.audit_log'::pg_catalog.regclass
    UNION ALL
    SELECT 'acctsec_audit_rows_recent', NULL, count(*) FROM acctsec.audit_log
    WHERE logged_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) recent)
    UNION ALL
    SELECT 'acctsec_audit_lanes', NULL, count(*) FROM acctsec.audit_lanes
$$;

REVOKE ALL ON FUNCTION acctsec.metrics(interval) FROM PUBLIC;
-- monitoring roles read counts, as PostgreSQL's own statistics views allow them
GRANT EXECUTE ON FUNCTION acctsec.metrics(interval) TO pg_monitor;
COMMENT ON FUNCTION acctsec.metrics(interval) IS
    'acctsec: counters for monitoring (metric, label, value)';

-- ---------------------------------------------------------------------------
-- Application roles (docs/security.md).  Nothing above is granted to PUBLIC;
-- grant_app_role gives an application's database role exactly the functions
-- an application calls, and nothing administrative (unlock, forget_account,
-- prune_login_attempts, link/unlink_account_table, ...): those stay with the
-- extension's owner and whoever it grants them to by hand.
--
-- Each capability adds its application functions to app_functions below.
-- ---------------------------------------------------------------------------

CREATE FUNCTION acctsec.app_functions()
RETURNS SETOF regprocedure
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT f::pg_catalog.regprocedure FROM pg_catalog.unnest(ARRAY[
        -- accounts and lockout (20_accounts.sql)
        'acctsec.login_attempt(text, boolean, inet, text)',
        'acctsec.account_status(text)',
        -- TOTP (40_totp.sql); rotate_secrets and key_status stay administrative
        'acctsec.totp_enroll(text, text, text, int, int, text)',
        'acctsec.totp_confirm(text, text)',
        'acctsec.totp_verify(text, text)',
        'acctsec.totp_disable(text)',
        -- backup codes (45_backup_codes.sql)
        'acctsec.backup_codes_generate(text, int)',
        'acctsec.backup_code_verify(text, text)',
        'acctsec.backup_codes_remaining(text)',
        -- network throttling (25_throttle.sql)
        'acctsec.network_status(inet)',
        -- passwords (70_passwords.sql)
        'acctsec.password_verify(text, text)',
        -- audit log (50_audit.sql): the application's own "app." events
        'acctsec.audit_event(text, text, jsonb)',
        -- existing applications (75_linked_tables.sql)
        'acctsec.login(text, text, inet, text)',
        -- sessions and one-time tokens (80_tokens.sql)
        'acctsec.token_issue(text, text, interval)',
        'acctsec.token_consume(text, text)',
        'acctsec.token_peek(text, text)',
        'acctsec.session_start(text, inet, text)',
        'acctsec.session_check(text)',
        'acctsec.session_touch(text)',
        'acctsec.session_rotate(text)',
        'acctsec.session_end(text)',
        'acctsec.sessions(text)',
        'acctsec.session_revoke(text, bigint)',
        'acctsec.sessions_revoke_all(text, text)',
        'acctsec.credentials_changed(text, text)',
        -- passkeys (60_passkeys.sql)
        'acctsec.passkey_register_begin(text, text, text)',
        'acctsec.passkey_register_finish(text, jsonb, text)',
        'acctsec.passkey_login_begin(text)',
        'acctsec.passkey_login_finish(jsonb, inet, text)',
        'acctsec.passkeys(text)',
        'acctsec.passkey_remove(text, bigint)'
    ]) AS f
$$;

COMMENT ON FUNCTION acctsec.app_functions() IS
    'acctsec: the functions grant_app_role grants to an application role';

-- hide_parameters (the default): the role's sessions log no bind parameter
-- values.  Passwords, codes and tokens reach acctsec as bound parameters, and
-- a statement slower than log_min_duration_statement (hashing is slow by
-- design), or logged by log_statement, is logged with
-- "DETAIL:  parameters: $1 = '...'" unless log_parameter_max_length is 0;
-- log_parameter_max_length_on_error (0 by default) does the same for
-- statements that fail.  Both are superuser settings: set here per role, by
-- ALTER ROLE, for every database; they apply to sessions that log in as the
-- role (not to members of it that log in under their own name).  false
-- leaves the role's settings alone.
CREATE FUNCTION acctsec.grant_app_role(role regrole, hide_parameters boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f pg_catalog.regprocedure;
BEGIN
    -- a regrole naming no role prints as its OID or "-"
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) role) THEN
        RAISE EXCEPTION 'role with OID % does not exist', role::pg_catalog.oid
            USING ERRCODE = 'undefined_object';
    END IF;
    FOR f IN SELECT * FROM acctsec.app_functions() LOOP
        -- regprocedure and regrole print schema-qualified and quoted here
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', f, role);
    END LOOP;
    -- a predefined role (pg_*) takes no settings; no session logs in as one
    IF hide_parameters AND NOT pg_catalog.starts_with(role::pg_catalog.text, 'pg_') THEN
        EXECUTE pg_catalog.format('ALTER ROLE %s SET log_parameter_max_length = 0', role);
        EXECUTE pg_catalog.format('ALTER ROLE %s SET log_parameter_max_length_on_error = 0', role);
    END IF;
END
$$;

CREATE FUNCTION acctsec.revoke_app_role(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f pg_catalog.regprocedure;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) role) THEN
        RAISE EXCEPTION 'role with OID % does not exist', role::pg_catalog.oid
            USING ERRCODE = 'undefined_object';
    END IF;
    FOR f IN SELECT * FROM acctsec.app_functions() LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM %s', f, role);
    END LOOP;
END
$$;

REVOKE ALL ON FUNCTION
    acctsec.grant_app_role(regrole, boolean),
    acctsec.revoke_app_role(regrole)
FROM PUBLIC;
