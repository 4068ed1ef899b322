-- acctsec 1.0 to 1.1: the audit log partitioned by time, so that retention
-- drops whole ranges (docs/audit.md, "Retention"); session_check without the
-- cost of a definer's settings (below).

\echo Use "ALTER EXTENSION acctsec UPDATE TO '1.1'" to load this file. \quit

-- The log as it is becomes the default partition: its rows, hashes,
-- indexes, append-only guard and dump registration stay with it, so the
-- chain verifies as before and nothing is copied.  Its indexes take the
-- names a fresh install gives the default partition's.
ALTER TABLE acctsec.audit_log RENAME TO audit_log_default;
ALTER TABLE acctsec.audit_log_default RENAME CONSTRAINT audit_log_pkey TO audit_log_default_pkey;
ALTER INDEX acctsec.audit_log_txid RENAME TO audit_log_default_txid;
ALTER INDEX acctsec.audit_log_account_time RENAME TO audit_log_default_account_time;
ALTER INDEX acctsec.audit_log_row_key RENAME TO audit_log_default_row_key;
ALTER INDEX acctsec.audit_log_logged_at RENAME TO audit_log_default_logged_at;
-- 1.1 no longer indexes a table's or an actor's history: no query of
-- acctsec's reads them, and every audit row paid for both (docs/audit.md
-- says how an application that reads them creates them on the log).
DROP INDEX acctsec.audit_log_relation_time, acctsec.audit_log_actor_time;
COMMENT ON TABLE acctsec.audit_log_default IS
  'acctsec audit log: the rows no other partition of acctsec.audit_log covers, and the model of the partitions';

-- The parent has the old log's columns: LIKE copies their names, types and
-- NOT NULL (not the primary key or the indexes).  From PostgreSQL 18 on,
-- NOT NULL constraints are named catalog objects, and LIKE copies their
-- names too: the parent's are the old log's, as a fresh install's default
-- partition takes its parent's.
CREATE TABLE acctsec.audit_log (LIKE acctsec.audit_log_default) PARTITION BY RANGE (logged_at);
COMMENT ON TABLE acctsec.audit_log IS
  'acctsec audit log: audited row changes and security events (append-only, hash-chained, partitioned by logged_at)';
-- Logical replication to an archive publishes the log as the parent
-- (publish_via_partition_root, docs/replication.md): the parent names all
-- its columns as the identity, so that the archive finds an erased row by
-- its partition's primary key, whatever partitions the archive has.
ALTER TABLE acctsec.audit_log REPLICA IDENTITY FULL;
ALTER TABLE acctsec.audit_log ATTACH PARTITION acctsec.audit_log_default DEFAULT;
ALTER SEQUENCE acctsec.audit_log_id_seq OWNED BY acctsec.audit_log.id;
CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON acctsec.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION acctsec.audit_log_guard();
ALTER TABLE acctsec.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
REVOKE ALL ON acctsec.audit_log FROM PUBLIC;
-- (the parent holds no rows: registered so that every member table is)
SELECT pg_catalog.pg_extension_config_dump('acctsec.audit_log', '');

-- What was granted on the log (to an auditor role, say) is granted on it
-- still: the grants stayed with the table that is now its default
-- partition.
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT a.privilege_type, a.is_grantable,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(r.rolname) END AS grantee
        FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
        LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
        WHERE c.oid = 'acctsec.audit_log_default'::pg_catalog.regclass AND a.grantee <> c.relowner
    LOOP
        EXECUTE pg_catalog.format('GRANT %s ON acctsec.audit_log TO %s%s', g.privilege_type, g.grantee,
                                  CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;

-- Partitions of the log from the newest one up to now() + ahead, of
-- acctsec.audit_partition_interval each, on a grid fixed in UTC; returns
-- how many it made.  Idempotent: run it from cron as audit_purge() is.
CREATE FUNCTION acctsec.audit_create_partitions(ahead interval DEFAULT '3 months')
RETURNS int
AS 'MODULE_PATHNAME', 'acctsec_audit_create_partitions'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION acctsec.audit_create_partitions(interval) FROM PUBLIC;

-- the estimate of the log's rows is the sum over its partitions
CREATE OR REPLACE FUNCTION acctsec.metrics(recent interval DEFAULT '5 minutes')
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
    -- the planner's estimates where an exact count would scan a large table:
    -- the accounts; the sessions kept (prune_expired removes ended ones),
    -- whose rows carry no index on their times, which keeps touches HOT; the
    -- rows of the audit log, summed over its partitions
    SELECT e.metric, NULL,
           COALESCE(pg_catalog.sum(CASE WHEN c.reltuples OPERATOR(pg_catalog.<) 0 THEN 0
                                        ELSE c.reltuples END), 0)::bigint
    FROM (VALUES ('acctsec_accounts_estimate', 'acctsec.accounts'::pg_catalog.regclass),
                 ('acctsec_sessions_estimate', 'acctsec.account_sessions'::pg_catalog.regclass),
                 ('acctsec_audit_rows_estimate', 'acctsec.audit_log'::pg_catalog.regclass)) AS e(metric, tbl)
    -- the table, or the partitions of the partitioned one (whose own
    -- reltuples an ANALYZE sets to their total)
    CROSS JOIN LATERAL (SELECT e.tbl::pg_catalog.oid AS relid
                        UNION ALL
                        SELECT i.inhrelid FROM pg_catalog.pg_inherits i
                        WHERE i.inhparent OPERATOR(pg_catalog.=) e.tbl) t
    JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.relid
     AND c.relkind OPERATOR(pg_catalog.<>) 'p'
    GROUP BY e.metric
    UNION ALL
    -- exact: the partial indexes on the lock columns hold only accounts ever locked
    SELECT 'acctsec_accounts_locked', NULL, count(*) FROM acctsec.accounts
    WHERE locked_until OPERATOR(pg_catalog.>) pg_catalog.now()
       OR familiar_locked_until OPERATOR(pg_catalog.>) pg_catalog.now()
    UNION ALL
    SELECT 'acctsec_networks_throttled', NULL, count(*) FROM acctsec.networks
    WHERE throttled_until OPERATOR(pg_catalog.>) pg_catalog.now()
    UNION ALL
    SELECT 'acctsec_one_time_tokens_live', NULL, count(*) FROM acctsec.one_time_tokens
    WHERE expires_at OPERATOR(pg_catalog.>) pg_catalog.now()
    UNION ALL
    -- the audit log: rows written in the last `recent`, the chain's lanes
    SELECT 'acctsec_audit_rows_recent', NULL, count(*) FROM acctsec.audit_log
    WHERE logged_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) recent)
    UNION ALL
    SELECT 'acctsec_audit_lanes', NULL, count(*) FROM acctsec.audit_lanes
$$;


-- session_check is no longer SECURITY DEFINER: its lookup checks no
-- privileges and its one write runs as the table's owner with search_path
-- pinned (src/sessions.c says why; docs/security.md).
ALTER FUNCTION acctsec.session_check(text) SECURITY INVOKER RESET search_path;
