
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
SELECT pg_catalog.pg_extension_config_dump('acctsec.totp_credentials', '');

CREATE FUNCTION acctsec.totp_enroll(account text, issuer text DEFAULT NULL,
                                    label text DEFAULT NULL, digits int DEFAULT 6,
                                    period int DEFAULT 30, algorithm text DEFAULT 'SHA1')
RETURNS TABLE(secret text, uri text)
AS 'MODULE_PATHNAME', 'acctsec_totp_enroll'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION acctsec.totp_confirm(account text, code text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_totp_confirm'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION acctsec.totp_verify(account text, code text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_totp_verify'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION acctsec.totp_disable(account text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_totp_disable'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
