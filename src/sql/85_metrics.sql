
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

-- monitoring roles read counts, as PostgreSQL's own statistics views allow them
GRANT EXECUTE ON FUNCTION acctsec.metrics(interval) TO pg_monitor;
COMMENT ON FUNCTION acctsec.metrics(interval) IS
    'acctsec: counters for monitoring (metric, label, value)';
