
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
SELECT pg_catalog.pg_extension_config_dump('acctsec.backup_codes', '');

CREATE FUNCTION acctsec.backup_codes_generate(account text, how_many int DEFAULT 10)
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'acctsec_backup_codes_generate'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE ROWS 10;

CREATE FUNCTION acctsec.backup_code_verify(account text, code text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_backup_code_verify'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION acctsec.backup_codes_remaining(account text)
RETURNS int
AS 'MODULE_PATHNAME', 'acctsec_backup_codes_remaining'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
