
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

-- ---------------------------------------------------------------------------
-- Definer functions (docs/security.md).  The parts above declare their
-- functions plainly, and these, by name, are made SECURITY DEFINER here:
-- they run as the extension's owner, which owns acctsec's tables.  The same
-- statement pins their search_path to pg_catalog, pg_temp (they name every
-- object with its schema), so no definer function is without it.  A
-- function added to acctsec runs as its caller until it is named here; a
-- name that matches no function is an error.  sql/security.sql lists them.
-- (An upgrade script, which this file is not part of, declares its own.)
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT d.name, p.oid::pg_catalog.regprocedure AS fn
        FROM pg_catalog.unnest(ARRAY[
            -- accounts and lockout, linked tables' clean-up (20_accounts.sql)
            'login_attempt', 'account_status', 'unlock', 'forget_account',
            'prune_login_attempts', 'forget_linked_account', 'link_account_table',
            'unlink_account_table', 'unlink_dropped_tables',
            -- network throttling (25_throttle.sql), keys (30_keys.sql)
            'network_status', 'unthrottle', 'prune_networks', 'key_status', 'rotate_secrets',
            -- TOTP (40_totp.sql), backup codes (45_backup_codes.sql)
            'totp_enroll', 'totp_confirm', 'totp_verify', 'totp_disable',
            'backup_codes_generate', 'backup_code_verify', 'backup_codes_remaining',
            -- audit log (50_audit.sql; every audit_verify)
            'audit_event', 'audit_verify', 'audit_checkpoint', 'audit_public_key',
            'audit_erase', 'audit_create_partitions', 'audit_purge',
            -- passkeys (60_passkeys.sql)
            'passkey_register_begin', 'passkey_register_finish', 'passkey_login_begin',
            'passkey_login_finish', 'passkeys', 'passkey_remove',
            -- existing applications (75_linked_tables.sql)
            'resolve_mirror', 'mirror_attach', 'mirror_guard', 'mirror_account_state',
            'linked_tables_changed', 'login', 'totp_import', 'backup_codes_import',
            -- sessions and one-time tokens (80_tokens.sql)
            -- (not session_check, which says why)
            'token_issue', 'token_consume', 'token_peek', 'session_start', 'session_touch',
            'session_rotate', 'session_end', 'sessions', 'session_revoke',
            'sessions_revoke_all', 'credentials_changed', 'prune_expired',
            -- monitoring (85_metrics.sql), application roles (above)
            'metrics', 'grant_app_role', 'revoke_app_role'
        ]::pg_catalog.name[]) AS d(name)
        LEFT JOIN pg_catalog.pg_proc p
          ON p.pronamespace OPERATOR(pg_catalog.=) 'acctsec'::pg_catalog.regnamespace
         AND p.proname OPERATOR(pg_catalog.=) d.name
    LOOP
        IF f.fn IS NULL THEN
            RAISE EXCEPTION 'definer function acctsec.% does not exist', f.name;
        END IF;
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = pg_catalog, pg_temp',
                                  f.fn);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Deny by default (docs/security.md).  PUBLIC holds nothing on acctsec's
-- tables and sequences, and may call none of its functions but these:
--   - the pure computations over their arguments (10_otp.sql, and
--     password_hash, password_needs_rehash, password_hash_format in
--     70_passwords.sql) and app_functions(), a list;
--   - the ones their part grants to PUBLIC, saying why (set_updated_at,
--     track_updated_at, untrack_updated_at in 55_updated_at.sql,
--     audit_bypass in 57_trigger_guard.sql).
-- A function added to acctsec is not PUBLIC's until it is named here.
-- Application roles get their share from grant_app_role, monitoring roles
-- metrics() (85_metrics.sql).
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    obj record;
BEGIN
    FOR obj IN
        SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
               c.oid::pg_catalog.regclass::pg_catalog.text AS name
        FROM pg_catalog.pg_class c
        WHERE c.relnamespace OPERATOR(pg_catalog.=) 'acctsec'::pg_catalog.regnamespace
          AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,S}'::"char"[])
        UNION ALL
        SELECT 'ROUTINE', p.oid::pg_catalog.regprocedure::pg_catalog.text
        FROM pg_catalog.pg_proc p
        WHERE p.pronamespace OPERATOR(pg_catalog.=) 'acctsec'::pg_catalog.regnamespace
          AND p.proname OPERATOR(pg_catalog.<>) ALL (ARRAY[
              'hotp', 'totp', 'totp_check', 'totp_uri', 'base32_encode', 'base32_decode',
              'password_hash', 'password_needs_rehash', 'password_hash_format',
              'app_functions',
              'set_updated_at', 'track_updated_at', 'untrack_updated_at', 'audit_bypass'
          ]::pg_catalog.name[])
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM PUBLIC', obj.kind, obj.name);
    END LOOP;
END
$$;
