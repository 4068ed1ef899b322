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

SELECT pg_catalog.pg_extension_config_dump('acctsec.passkey_users', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.passkey_credentials', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.passkey_credentials_id_seq', '');

CREATE FUNCTION acctsec.passkey_register_begin(account text,
                                               user_name text DEFAULT NULL,
                                               display_name text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'acctsec_passkey_register_begin'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION acctsec.passkey_register_finish(account text, response jsonb,
                                                name text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'acctsec_passkey_register_finish'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION acctsec.passkey_login_begin(account text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'acctsec_passkey_login_begin'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION acctsec.passkey_login_finish(response jsonb, ip inet DEFAULT NULL,
                                             user_agent text DEFAULT NULL)
RETURNS acctsec.login_result
AS 'MODULE_PATHNAME', 'acctsec_passkey_login_finish'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION acctsec.passkeys(account text)
RETURNS TABLE(credential_id bigint, name text, alg int, transports text[],
              backup_eligible boolean, backed_up boolean, sign_count bigint,
              created_at timestamptz, last_used_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE ROWS 3
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
LANGUAGE C VOLATILE PARALLEL UNSAFE;
