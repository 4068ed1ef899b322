-- Retention: the audit log is partitioned by time (logged_at); purging
-- drops the partitions wholly before the cutoff and deletes row by row only
-- in the partition that straddles it and in the default partition, with
-- exactly the rows removed that a purge by seal removes.  Times are shown
-- as properties (relative to now(), or to bounds taken with \gset).
\set VERBOSITY terse
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS acctsec CASCADE;
RESET client_min_messages;
CREATE EXTENSION acctsec;
CREATE ROLE regress_retention_app;
CREATE ROLE regress_retention_auditor;

-- the partitions of the log, as ranges (MINVALUE and MAXVALUE as NULL)
CREATE VIEW retention_parts AS
SELECT c.relname::text AS name, c.oid AS relid,
       CASE WHEN b[1] <> 'MINVALUE' THEN trim(both '''' FROM b[1])::timestamptz END AS lower,
       CASE WHEN b[2] <> 'MAXVALUE' THEN trim(both '''' FROM b[2])::timestamptz END AS upper,
       pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
LEFT JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid),
                               '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') b ON true
WHERE i.inhparent = to_regclass('acctsec.audit_log');   -- no dependency: the tests drop the log

-- a partition made by hand with the bounds given, as a DBA could
CREATE FUNCTION retention_part(name text, lower timestamptz, upper timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TABLE acctsec.%I (LIKE acctsec.audit_log_default INCLUDING ALL) USING heap', name);
  EXECUTE format('CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON acctsec.%I
                  FOR EACH STATEMENT EXECUTE FUNCTION acctsec.audit_log_guard()', name);
  EXECUTE format('ALTER TABLE acctsec.audit_log ATTACH PARTITION acctsec.%I FOR VALUES FROM (%L) TO (%L)',
                 name, lower, upper);
END $$;

-- ---------------------------------------------------------------------------
-- The layout: a partitioned parent with no rows of its own, and the default
-- partition that takes every row no other one covers
SELECT c.relname, c.relkind, p.partstrat, a.attname AS partition_key,
       pg_get_expr(c.relpartbound, c.oid) AS bound, am.amname
FROM pg_class c
LEFT JOIN pg_partitioned_table p ON p.partrelid = c.oid
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0]
LEFT JOIN pg_am am ON am.oid = c.relam
WHERE c.relnamespace = 'acctsec'::regnamespace AND c.relname LIKE 'audit\_log%' AND c.relkind IN ('r', 'p')
ORDER BY 1;
SELECT acctsec.audit_event('app.before_partitions') > 0 AS logged;
SELECT tableoid::regclass AS stored_in FROM acctsec.audit_log;

-- ---------------------------------------------------------------------------
-- acctsec.audit_partition_interval: superuser only, refused unless positive
-- and at least an hour (22023)
SHOW acctsec.audit_partition_interval;
SELECT regress.error_of(format('SET acctsec.audit_partition_interval = %L', v)) AS outcome, v
FROM unnest(ARRAY['0', '-1 month', '1 month -1 day', '59 minutes', 'soon', 'infinity', '']) AS v;
SET ROLE regress_retention_app;
SELECT regress.error_of($$SET acctsec.audit_partition_interval = '1 day'$$);
SELECT regress.error_of($$SELECT acctsec.audit_create_partitions()$$);
RESET ROLE;
SHOW acctsec.audit_partition_interval;

-- ahead: positive or zero in every field (22023), and not more than 100
-- partitions at once (all or none)
SELECT regress.error_of($$SELECT acctsec.audit_create_partitions('-1 day')$$);
SELECT regress.error_of($$SELECT acctsec.audit_create_partitions('1 month -1 day')$$);
SET acctsec.audit_partition_interval = '1 hour';
SELECT regress.error_of($$SELECT acctsec.audit_create_partitions('5 days')$$);
SELECT count(*) AS partitions FROM retention_parts WHERE NOT is_default;

-- ---------------------------------------------------------------------------
-- Creating partitions ahead.  The default partition holds a row of now(),
-- so the first partition starts at the next step after it (its rows stay
-- where they are): with days, tomorrow, up to now() + 3 days.  In one
-- transaction, so that now() is the same for both calls.
GRANT SELECT ON acctsec.audit_log TO regress_retention_auditor;
SET acctsec.audit_partition_interval = '1 day';
BEGIN;
SELECT acctsec.audit_create_partitions('3 days') AS made;
SELECT acctsec.audit_create_partitions('3 days') AS made_again;
SELECT count(*) AS partitions,
       min(lower) = (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC' AS from_tomorrow_utc,
       max(upper) > now() + interval '72 hours' AS covers_ahead,
       bool_and(upper - lower = '1 day') AS one_day_each,
       bool_and(name = 'audit_log_p' || to_char(lower AT TIME ZONE 'UTC', 'YYYYMMDD')) AS named_by_utc_day
FROM retention_parts WHERE NOT is_default;
COMMIT;
-- contiguous
SELECT count(*) AS gaps FROM (
  SELECT lower, lag(upper) OVER (ORDER BY lower) AS prev_upper FROM retention_parts WHERE NOT is_default) g
WHERE prev_upper IS NOT NULL AND prev_upper <> lower;

-- each partition is made after the default's model: heap, the log's owner,
-- the same indexes, the append-only guard (ENABLE ALWAYS), the log's grants,
-- nothing for PUBLIC; and none is a member of the extension (pg_dump dumps
-- them as the tables they are)
SELECT DISTINCT am.amname, c.relowner = d.relowner AS owner_as_default,
       (SELECT string_agg(regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', ''), '; ' ORDER BY 1)
        FROM pg_index i WHERE i.indrelid = c.oid)
       = (SELECT string_agg(regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', ''), '; ' ORDER BY 1)
          FROM pg_index i WHERE i.indrelid = d.oid) AS same_indexes,
       (SELECT string_agg(t.tgname || ':' || t.tgenabled::text, ',') FROM pg_trigger t WHERE t.tgrelid = c.oid) AS triggers,
       has_table_privilege('regress_retention_auditor', c.oid, 'SELECT') AS auditor_reads,
       has_table_privilege('regress_retention_app', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE') AS app_access,
       EXISTS (SELECT FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e') AS member
FROM retention_parts p
JOIN pg_class c ON c.oid = p.relid
JOIN pg_am am ON am.oid = c.relam
CROSS JOIN (SELECT oid, relowner FROM pg_class WHERE oid = 'acctsec.audit_log_default'::regclass) d
WHERE NOT p.is_default;

-- rows written now still go to the default partition (no partition covers
-- today); a partition is as append-only as the log
SELECT acctsec.audit_event('app.today') > 0 AS logged;
SELECT tableoid::regclass AS stored_in, count(*) FROM acctsec.audit_log GROUP BY 1;
SELECT name AS tomorrow FROM retention_parts WHERE NOT is_default ORDER BY lower LIMIT 1 \gset
SELECT regress.error_of(format('DELETE FROM acctsec.%I', :'tomorrow'));
SELECT regress.error_of(format('UPDATE acctsec.%I SET actor = NULL', :'tomorrow'));
SELECT regress.error_of(format('TRUNCATE acctsec.%I', :'tomorrow'));
SELECT regress.error_of($$DELETE FROM acctsec.audit_log_default$$);
SELECT ok, checked FROM acctsec.audit_verify();

-- the audit trigger refuses a partition of the log as it refuses the log
SELECT regress.error_of(format('CREATE TRIGGER self_audit AFTER INSERT ON acctsec.%I
                                FOR EACH ROW EXECUTE FUNCTION acctsec.audit()', :'tomorrow'));
SELECT regress.error_of(format('INSERT INTO acctsec.%I SELECT * FROM acctsec.audit_log LIMIT 0', :'tomorrow'));
SELECT regress.error_of(format($$INSERT INTO acctsec.%I
  SELECT id + 1000000, %L::timestamptz + '1 hour', txid, db_user, actor, client_addr, relation, operation, account,
         row_key, old_values, new_values, changed_columns, salt, erased_by, erasure, hash
  FROM acctsec.audit_log LIMIT 1$$, :'tomorrow', (SELECT lower FROM retention_parts WHERE name = :'tomorrow')));
SELECT regress.error_of(format('DROP TRIGGER self_audit ON acctsec.%I', :'tomorrow'));

-- a purge while every partition is ahead of the cutoff: none is dropped, the
-- default partition's rows are deleted one by one
SELECT acctsec.audit_purge('0') AS removed;
SELECT new_values ->> 'dropped_partitions' AS dropped FROM acctsec.audit_log WHERE operation = 'audit.purged';
SELECT ok, checked FROM acctsec.audit_verify();

-- ---------------------------------------------------------------------------
-- Without the default partition a row outside every partition is refused
-- (23514), as PostgreSQL's routing does, and audit_create_partitions(),
-- which copies it, refuses to run; a partition made by hand takes the rows
SET client_min_messages = warning;
DROP EXTENSION acctsec;
RESET client_min_messages;
CREATE EXTENSION acctsec;
ALTER TABLE acctsec.audit_log DETACH PARTITION acctsec.audit_log_default;
SELECT regress.error_of($$SELECT acctsec.audit_event('app.nowhere')$$);
SELECT regress.error_of($$SELECT acctsec.audit_create_partitions()$$);
SELECT retention_part('audit_log_now', now() - interval '1 hour', now() + interval '1 hour');
SELECT acctsec.audit_event('app.in_now') > 0 AS logged;
SELECT tableoid::regclass AS stored_in, operation FROM acctsec.audit_log;
ALTER TABLE acctsec.audit_log ATTACH PARTITION acctsec.audit_log_default DEFAULT;

-- a partition whose columns are the log's in another order is refused by
-- the writer (it stores rows in the log's column order)
SELECT lower AS now_from, upper AS now_to FROM retention_parts WHERE name = 'audit_log_now' \gset
ALTER TABLE acctsec.audit_log DETACH PARTITION acctsec.audit_log_now;
CREATE TABLE acctsec.audit_log_skewed (LIKE acctsec.audit_log_default INCLUDING ALL);
ALTER TABLE acctsec.audit_log_skewed DROP COLUMN id;
ALTER TABLE acctsec.audit_log_skewed ADD COLUMN id bigint NOT NULL;
ALTER TABLE acctsec.audit_log ATTACH PARTITION acctsec.audit_log_skewed FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
SELECT regress.error_of($$SELECT acctsec.audit_event('app.skewed')$$);
ALTER TABLE acctsec.audit_log DETACH PARTITION acctsec.audit_log_skewed;
DROP TABLE acctsec.audit_log_skewed;
ALTER TABLE acctsec.audit_log ATTACH PARTITION acctsec.audit_log_now FOR VALUES FROM (:'now_from') TO (:'now_to');
SELECT acctsec.audit_event('app.in_now_again') > 0 AS logged;
SELECT tableoid::regclass AS stored_in, operation FROM acctsec.audit_log ORDER BY id;
SELECT ok, checked FROM acctsec.audit_verify();

-- ---------------------------------------------------------------------------
-- Purging by range.  A fresh log: two rows in the default partition, then
-- P1 by hand, open-ended while three transactions and the start of a long
-- one write into it; then, inside the long transaction, P1 is closed at t1
-- (detached, attached again up to t1, the writer routes by the new bounds)
-- and P2 = [t1, t1 + 1 hour) made, where the long transaction's second row
-- goes; it seals after t1.  No timing: t1 is taken after the rows before it.
SET client_min_messages = warning;
DROP EXTENSION acctsec;
RESET client_min_messages;
CREATE EXTENSION acctsec;
SELECT acctsec.audit_event('app.default_1') > 0, acctsec.audit_event('app.default_2') > 0;
SELECT clock_timestamp() AS t0 \gset
SELECT retention_part('audit_log_p1', :'t0', 'infinity');
SELECT acctsec.audit_event('app.p1_a') > 0;
SELECT acctsec.audit_event('app.p1_b') > 0;
SELECT acctsec.audit_event('app.p1_c') > 0;
BEGIN;
SELECT acctsec.audit_event('app.long_in_p1') > 0;
SELECT clock_timestamp() AS t1 \gset
ALTER TABLE acctsec.audit_log DETACH PARTITION acctsec.audit_log_p1;
ALTER TABLE acctsec.audit_log ATTACH PARTITION acctsec.audit_log_p1 FOR VALUES FROM (:'t0') TO (:'t1');
SELECT retention_part('audit_log_p2', :'t1', :'t1'::timestamptz + '1 hour');
SELECT acctsec.audit_event('app.long_in_p2') > 0;
COMMIT;
SELECT acctsec.audit_event('app.p2') > 0;
SELECT acctsec.audit_checkpoint() AS cp_before \gset
SELECT tableoid::regclass AS stored_in, operation FROM acctsec.audit_log ORDER BY id;

-- cut at t1: the seals before it are the two default rows and P1's three;
-- P1 is wholly before t1 but keeps the long transaction's row (sealed after
-- t1), so it is not dropped: its other rows are deleted one by one, as the
-- default partition's are
SELECT acctsec.audit_purge(now() - :'t1'::timestamptz) AS removed;
SELECT new_values - 'before' - 'older_than' AS purged FROM acctsec.audit_log
WHERE operation = 'audit.purged' ORDER BY id DESC LIMIT 1;
SELECT tableoid::regclass AS stored_in, operation FROM acctsec.audit_log ORDER BY id;
SELECT name FROM retention_parts ORDER BY name;
SELECT ok, checked, first_bad_id FROM acctsec.audit_verify();
SELECT statement AS cp_purge1 FROM acctsec.audit_checkpoints WHERE statement ~ ' kind=purge ' ORDER BY no DESC LIMIT 1 \gset

-- cut now: every seal is before it.  P1 holds only rows of seals before the
-- cut: dropped whole; P2 straddles the cut (its range runs past it): row by
-- row.  The rows removed are the long transaction's two (one in each), the
-- row in P2 and the first purge's event; the dropped partition's row is
-- counted by its seal.
SELECT acctsec.audit_purge('0') AS removed;
SELECT new_values - 'before' - 'older_than' AS purged FROM acctsec.audit_log
WHERE operation = 'audit.purged' ORDER BY id DESC LIMIT 1;
SELECT tableoid::regclass AS stored_in, operation FROM acctsec.audit_log ORDER BY id;
SELECT name FROM retention_parts ORDER BY name;
SELECT statement AS cp_purge2 FROM acctsec.audit_checkpoints WHERE statement ~ ' kind=purge ' ORDER BY no DESC LIMIT 1 \gset

-- the chain verifies from the purge point, which is a checkpoint: the
-- checkpoint taken before the purges passes only with the purge checkpoints
SELECT ok, checked, first_bad_id FROM acctsec.audit_verify();
SELECT ok, failed_checkpoint, detail ~ 'now starts after' AS purged_past FROM acctsec.audit_verify(ARRAY[:'cp_before']);
SELECT ok, failed_checkpoint FROM acctsec.audit_verify(ARRAY[:'cp_before', :'cp_purge1', :'cp_purge2']);
SELECT ok, failed_checkpoint FROM acctsec.audit_verify(ARRAY[:'cp_purge2']);
-- and goes on after it
SELECT acctsec.audit_event('app.after_purge') > 0;
SELECT ok, checked FROM acctsec.audit_verify();

-- (a partition a transaction is still writing is not waited for but purged
-- row by row: the isolation spec audit_retention_purge shows it from two
-- sessions.)  A partition dropped behind the purge's back is seen by
-- audit_verify(): the seals of its rows remain.
SELECT acctsec.audit_event('app.p2_again') > 0;
SELECT ok FROM acctsec.audit_verify();
DROP TABLE acctsec.audit_log_p2;
SELECT ok, first_bad_id IS NULL AS rows_missing_whole FROM acctsec.audit_verify();

-- ---------------------------------------------------------------------------
-- What a purge reads grows with what it removes, not with what it keeps.
-- A fresh log: one transaction (two rows) before t2, then 3,000 after it,
-- each with its seal (a DO block that commits each).  The purge at t2 reads
-- each lane's seals from its base to its cut (by the (lane, seq) index),
-- not every seal: no sequential scan, a handful of seals fetched where a
-- join over all the seals read each of them; and it finds the rows of the
-- one seal it deletes by their txid, not by reading the partition.  Counted
-- in the purge's own transaction (pg_stat_xact_user_tables, the counts of
-- the earlier transactions flushed first).
SET client_min_messages = warning;
DROP EXTENSION acctsec;
RESET client_min_messages;
CREATE EXTENSION acctsec;
SELECT acctsec.audit_event('app.old_1') > 0, acctsec.audit_event('app.old_2') > 0;
SELECT clock_timestamp() AS t2 \gset
DO $$
BEGIN
  FOR i IN 1..3000 LOOP
    PERFORM acctsec.audit_event('app.kept');
    COMMIT;
  END LOOP;
END $$;
SELECT count(*) AS seals FROM acctsec.audit_seals;
SELECT pg_stat_force_next_flush();
BEGIN;
SELECT acctsec.audit_purge(now() - :'t2'::timestamptz) AS removed;
SELECT relname, seq_scan, seq_tup_read, idx_tup_fetch < 100 AS few_fetched
FROM pg_stat_xact_user_tables
WHERE relid IN ('acctsec.audit_seals'::regclass, 'acctsec.audit_log_default'::regclass)
ORDER BY relname;
COMMIT;
SELECT count(*) AS seals, min(sealed_at) >= :'t2' AS from_t2 FROM acctsec.audit_seals;
SELECT statement AS cp_purge3 FROM acctsec.audit_checkpoints WHERE statement ~ ' kind=purge ' ORDER BY no DESC LIMIT 1 \gset
SELECT ok, checked FROM acctsec.audit_verify();
SELECT ok, failed_checkpoint FROM acctsec.audit_verify(ARRAY[:'cp_purge3']);
-- a purge of more seals than one statement deletes (10,000): 12,000 more
-- transactions, then a purge of everything (the 3,000, the last purge's
-- event, the 12,000) leaves only its own event
DO $$
BEGIN
  FOR i IN 1..12000 LOOP
    PERFORM acctsec.audit_event('app.many');
    COMMIT;
  END LOOP;
END $$;
SELECT max(n) > 10000 AS a_lane_past_one_statement
FROM (SELECT count(*) AS n FROM acctsec.audit_seals GROUP BY lane) l;
SELECT acctsec.audit_purge('0') AS removed;
SELECT count(*) AS seals FROM acctsec.audit_seals;
SELECT operation, new_values ->> 'deleted' AS deleted FROM acctsec.audit_log;
SELECT ok, checked FROM acctsec.audit_verify();

SET client_min_messages = warning;
DROP EXTENSION acctsec;
RESET client_min_messages;
CREATE EXTENSION acctsec;
DROP FUNCTION retention_part(text, timestamptz, timestamptz);
DROP VIEW retention_parts;
DROP ROLE regress_retention_app;
DROP ROLE regress_retention_auditor;
