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

SELECT pg_catalog.pg_extension_config_dump('acctsec.one_time_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.account_sessions', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.account_sessions_session_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.retired_session_tokens', '');

-- One-time tokens.  token_issue is not STRICT: a NULL argument is an error.
CREATE FUNCTION acctsec.token_issue(account text, purpose text,
                                    ttl interval DEFAULT '1 hour')
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_token_issue'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION acctsec.token_consume(token text, purpose text)
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_token_consume'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION acctsec.token_peek(token text, purpose text)
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_token_peek'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;

-- Sessions.
CREATE FUNCTION acctsec.session_start(account text, ip inet DEFAULT NULL,
                                      user_agent text DEFAULT NULL)
RETURNS TABLE(session_id bigint, token text, expires_at timestamptz)
AS 'MODULE_PATHNAME', 'acctsec_session_start'
LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 1;

-- VOLATILE: it writes last_seen_at (at most once per session_touch_interval).
-- touch_due: that write was due but impossible here (a hot standby, a
-- read-only transaction); the application calls session_touch on the primary.
CREATE FUNCTION acctsec.session_check(token text)
RETURNS TABLE(account text, session_id bigint, expires_at timestamptz,
              touch_due boolean)
AS 'MODULE_PATHNAME', 'acctsec_session_check'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE ROWS 1;
-- Not SECURITY DEFINER (90_grants.sql does not name it): its lookup
-- checks no privileges and its one write runs as the table's owner with
-- search_path pinned (src/sessions.c says why; docs/security.md).

CREATE FUNCTION acctsec.session_touch(token text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_session_touch'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION acctsec.session_rotate(token text)
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_session_rotate'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION acctsec.session_end(token text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_session_end'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION acctsec.sessions(account text)
RETURNS TABLE(session_id bigint, started_at timestamptz,
              last_seen_at timestamptz, expires_at timestamptz,
              ip inet, user_agent text)
AS 'MODULE_PATHNAME', 'acctsec_sessions'
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 5;

CREATE FUNCTION acctsec.session_revoke(account text, session_id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_session_revoke'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION acctsec.sessions_revoke_all(account text,
                                            except_token text DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'acctsec_sessions_revoke_all'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION acctsec.credentials_changed(account text,
                                            keep_token text DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'acctsec_credentials_changed'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- Administrative: not granted by grant_app_role.
CREATE FUNCTION acctsec.prune_expired()
RETURNS bigint
AS 'MODULE_PATHNAME', 'acctsec_prune_expired'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
