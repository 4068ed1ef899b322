-- test/lib/audit_trim.sql: what a superuser who covers his tracks does to
-- the audit log (the checks that show audit_verify and checkpoints catch
-- it run it with psql -v seals=N -f): the last N sealed transactions go,
-- rows and seals, and each lane they were in is rewritten to the seal
-- before them (to the lane's base, where none is left), so that the chain
-- alone still verifies.  The append-only guards are disabled only meanwhile.
ALTER TABLE acctsec.audit_log DISABLE TRIGGER audit_log_append_only;
ALTER TABLE acctsec.audit_seals DISABLE TRIGGER audit_seals_append_only;
CREATE TEMP TABLE trimmed AS
  SELECT * FROM acctsec.audit_seals WHERE lane IS NOT NULL ORDER BY sealed_at DESC LIMIT :seals;
DELETE FROM acctsec.audit_log WHERE txid IN (SELECT txid FROM trimmed);
DELETE FROM acctsec.audit_seals WHERE txid IN (SELECT txid FROM trimmed);
UPDATE acctsec.audit_lanes l
SET last_seq = COALESCE(s.seq, l.base_seq), head = COALESCE(s.hash, l.base_hash)
FROM (SELECT DISTINCT lane FROM trimmed) t
LEFT JOIN LATERAL (SELECT seq, hash FROM acctsec.audit_seals s
                   WHERE s.lane = t.lane ORDER BY seq DESC LIMIT 1) s ON true
WHERE l.lane = t.lane;
ALTER TABLE acctsec.audit_seals ENABLE ALWAYS TRIGGER audit_seals_append_only;
ALTER TABLE acctsec.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
DROP TABLE trimmed;
