
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
LANGUAGE C STABLE PARALLEL RESTRICTED;

-- Adopt the table's values, write acctsec's, attach the guard.
CREATE FUNCTION acctsec.mirror_attach(tbl regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'acctsec_mirror_attach'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- BEFORE INSERT OR UPDATE on a mirroring table: mirrored columns always get
-- acctsec's current values.  Definer: it reads acctsec.accounts for
-- whichever role writes the table.
CREATE FUNCTION acctsec.mirror_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'acctsec_mirror_guard'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- AFTER row trigger on acctsec.accounts: every state change reaches the
-- mirroring tables in the same transaction.
CREATE FUNCTION acctsec.mirror_account_state()
RETURNS trigger
AS 'MODULE_PATHNAME', 'acctsec_mirror_account_state'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

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
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE TRIGGER acctsec_linked_tables_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON acctsec.linked_tables
    FOR EACH STATEMENT EXECUTE FUNCTION acctsec.linked_tables_changed();

-- The one-call login.  Not STRICT: a NULL account or password is an error,
-- never a NULL answer.
CREATE FUNCTION acctsec.login(account text, password text,
                              ip inet DEFAULT NULL, user_agent text DEFAULT NULL)
RETURNS acctsec.login_result
AS 'MODULE_PATHNAME', 'acctsec_login'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- ---------------------------------------------------------------------------
-- Importing existing second factors (src/import.c), into the TOTP and
-- backup-code tables through the key module.  Administrative.
-- ---------------------------------------------------------------------------

CREATE FUNCTION acctsec.totp_import(account text, secret text, digits int DEFAULT 6,
                                    period int DEFAULT 30, algorithm text DEFAULT 'SHA1')
RETURNS void
AS 'MODULE_PATHNAME', 'acctsec_totp_import'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION acctsec.backup_codes_import(account text, codes text[])
RETURNS int
AS 'MODULE_PATHNAME', 'acctsec_backup_codes_import'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
