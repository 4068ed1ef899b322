-- The hot paths (issue 19): no work for a feature not in use, and each call
-- of login_attempt sees what the calls before it did, also within one
-- statement.
\set VERBOSITY terse
SET track_functions = 'all';

-- The mirroring trigger on acctsec.accounts fires only while a linked table
-- mirrors account state (counted by the function statistics of this
-- transaction).  Other files' links are set aside for the transaction.
BEGIN;
DELETE FROM acctsec.linked_tables;
SELECT (acctsec.login_attempt('hp_ann', false)).status;
SELECT (acctsec.login_attempt('hp_ann', true)).status;
SELECT coalesce(sum(calls), 0) AS mirror_calls
  FROM pg_stat_xact_user_functions WHERE funcname = 'mirror_account_state';
-- a link that mirrors only the password hash mirrors no account state
CREATE TABLE hp_users (id text PRIMARY KEY, pw text, failed_login_attempts int DEFAULT 0);
INSERT INTO hp_users VALUES ('hp_ann', NULL, 0);
SELECT acctsec.link_account_table('hp_users', 'id', '{"password_hash": "pw"}');
SELECT (acctsec.login_attempt('hp_ann', false)).status;
SELECT coalesce(sum(calls), 0) AS mirror_calls
  FROM pg_stat_xact_user_functions WHERE funcname = 'mirror_account_state';
-- once a link mirrors the failure counter, every change reaches it
SELECT acctsec.link_account_table('hp_users', 'id', '{"failed_attempts": "failed_login_attempts"}');
SELECT (acctsec.login_attempt('hp_ann', false)).status;
SELECT failed_login_attempts FROM hp_users;
SELECT sum(calls) > 0 AS mirror_fired
  FROM pg_stat_xact_user_functions WHERE funcname = 'mirror_account_state';
ROLLBACK;

-- A throttle set by an earlier call of the same statement refuses the calls
-- after it, a right password included.
SET acctsec.network_max_accounts = 3;
SELECT i, (acctsec.login_attempt('hp_s' || i, i > 4, '198.51.100.77')).status
  FROM generate_series(1, 5) i;
SELECT acctsec.unthrottle('198.51.100.77');
RESET acctsec.network_max_accounts;

-- A session_check whose touch is its transaction's only write commits
-- without waiting for the WAL flush; the setting does not outlive that
-- commit, and the touch is committed like any write.
SET synchronous_commit = on;
SELECT (acctsec.session_start('hp_sess', '192.0.2.9', 'test')).token AS tok \gset
UPDATE acctsec.account_sessions SET last_seen_at = last_seen_at - interval '1 hour'
 WHERE account = 'hp_sess';
SELECT account FROM acctsec.session_check(:'tok');
SHOW synchronous_commit;
SELECT now() - last_seen_at < interval '1 minute' AS touched
  FROM acctsec.account_sessions WHERE account = 'hp_sess';
-- with another write in the transaction, the commit stays synchronous
BEGIN;
UPDATE acctsec.account_sessions SET last_seen_at = last_seen_at - interval '1 hour'
 WHERE account = 'hp_sess';
SELECT account FROM acctsec.session_check(:'tok');
COMMIT;
SHOW synchronous_commit;
SELECT acctsec.forget_account('hp_sess');
RESET synchronous_commit;

-- The hot paths find acctsec's relations by name once per backend, and
-- again once a relation or a schema changed: a table, an index or the
-- schema renamed away is missing at once (without the invalidation, the
-- calls below would still read the renamed relations), and found again
-- when the rename is rolled back.
SELECT (acctsec.login_attempt('hp_rel', true)).status;
SELECT (acctsec.session_start('hp_rel')).token AS reltok \gset
SELECT account FROM acctsec.session_check(:'reltok');
BEGIN;
ALTER TABLE acctsec.account_sessions RENAME TO hp_account_sessions;
SELECT account FROM acctsec.session_check(:'reltok');
ROLLBACK;
BEGIN;
ALTER INDEX acctsec.account_sessions_selector_key RENAME TO hp_selector_key;
SELECT account FROM acctsec.session_check(:'reltok');
ROLLBACK;
BEGIN;
ALTER TABLE acctsec.accounts RENAME TO hp_accounts;
SELECT (acctsec.login_attempt('hp_rel', true)).status;
ROLLBACK;
BEGIN;
ALTER SCHEMA acctsec RENAME TO hp_acctsec;
SELECT account FROM hp_acctsec.session_check(:'reltok');
ROLLBACK;
SELECT account FROM acctsec.session_check(:'reltok');
SELECT (acctsec.login_attempt('hp_rel', true)).status;
SELECT acctsec.forget_account('hp_rel');

-- The seal locks its lane, inserts its seal and moves the lane's head
-- through the table AM, not through statements.  Its tables' indexes stay
-- whole (amcheck: every row version has its index entry), also when the
-- head's update cannot be HOT: an index on last_seq, made here only for the
-- test, makes every update of a lane a non-HOT one.
CREATE EXTENSION amcheck;
-- The writer and the seal keep their tables' index lists for the backend's
-- life: an index made on the log, the lanes or the seals after they were
-- first written gets its entries from the next write on, and one dropped
-- is no longer written.
SELECT acctsec.audit_event('app.hp_seal') > 0 AS sealed;
CREATE INDEX hp_lanes_last_seq ON acctsec.audit_lanes (last_seq);
CREATE INDEX hp_seals_nrows ON acctsec.audit_seals (nrows) WHERE nrows > 0;
CREATE INDEX hp_log_operation ON acctsec.audit_log (operation) WHERE operation LIKE 'app.%';
SELECT count(acctsec.audit_event('app.hp_seal')) FROM generate_series(1, 3);
SELECT acctsec.audit_event('app.hp_seal') > 0 AS sealed;
SELECT c.relname AS index_checked
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid,
       bt_index_check(c.oid::regclass, true)
 WHERE i.indrelid IN ('acctsec.audit_lanes'::regclass, 'acctsec.audit_seals'::regclass)
   AND c.relam = (SELECT oid FROM pg_am WHERE amname = 'btree')
 ORDER BY c.relname;
-- (the log is partitioned: the index on it is one index per partition)
SELECT count(*) > 0 AS log_index_whole
FROM pg_inherits i, LATERAL bt_index_check(i.inhrelid, true)
WHERE i.inhparent = 'acctsec.hp_log_operation'::regclass;
SELECT count(*) AS hp_seal_rows FROM acctsec.audit_log WHERE operation = 'app.hp_seal';
DROP INDEX acctsec.hp_lanes_last_seq;
DROP INDEX acctsec.hp_seals_nrows;
DROP INDEX acctsec.hp_log_operation;
SELECT acctsec.audit_event('app.hp_seal') > 0 AS sealed;
DROP EXTENSION amcheck;
SELECT ok FROM acctsec.audit_verify();
