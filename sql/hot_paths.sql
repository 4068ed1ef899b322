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

-- The hot paths find the numbers of the columns they read once per
-- relation, and again after any change of the relation: a column renamed,
-- or dropped and added again, has another number.  Here two columns of
-- each table swap names and values, so each name's column moves while
-- every row means the same; the calls after the swap must read the same
-- state as before it (without the invalidation, they read the other
-- column).  Each path has run once in this backend before its swap.
CREATE PROCEDURE pg_temp.swap_columns(tbl regclass, a name, b name)
LANGUAGE plpgsql AS $p$
BEGIN
  EXECUTE format('ALTER TABLE %s RENAME %I TO hp_swap', tbl, a);
  EXECUTE format('ALTER TABLE %s RENAME %I TO %I', tbl, b, a);
  EXECUTE format('ALTER TABLE %s RENAME hp_swap TO %I', tbl, b);
  EXECUTE format('UPDATE %s SET %I = %I, %I = %I', tbl, a, b, b, a);
END
$p$;
SELECT (acctsec.login_attempt('hp_col', false)).failed_attempts;
BEGIN;
CALL pg_temp.swap_columns('acctsec.accounts', 'failed_attempts', 'lockouts');
SELECT (acctsec.login_attempt('hp_col', false)).failed_attempts AS after_swap;
SELECT failed_attempts, lockouts FROM acctsec.accounts WHERE account = 'hp_col';
ROLLBACK;
SELECT (acctsec.login_attempt('hp_col', false)).failed_attempts AS after_rollback;
-- the network's row, read on every failure from an address
SELECT (acctsec.login_attempt('hp_net', false, '198.51.100.88')).status;
SELECT (acctsec.login_attempt('hp_net', false, '198.51.100.88')).status;
BEGIN;
CALL pg_temp.swap_columns('acctsec.networks', 'failures', 'throttles');
SELECT (acctsec.login_attempt('hp_net', false, '198.51.100.88')).status;
SELECT failures, throttles FROM acctsec.networks WHERE network = '198.51.100.88';
ROLLBACK;
SELECT acctsec.unthrottle('198.51.100.88');
-- the account's familiar networks, read when a login adds one: one expired
-- is trimmed
SELECT (acctsec.login_attempt('hp_fam', true, '198.51.100.61')).status;
SELECT (acctsec.login_attempt('hp_fam', true, '198.51.100.62')).status;
BEGIN;
CALL pg_temp.swap_columns('acctsec.familiar_networks', 'first_used_at', 'last_used_at');
UPDATE acctsec.familiar_networks SET last_used_at = now() - interval '31 days'
 WHERE account = 'hp_fam' AND network = '198.51.100.61/32';
SELECT (acctsec.login_attempt('hp_fam', true, '198.51.100.63')).status;
SELECT network FROM acctsec.familiar_networks WHERE account = 'hp_fam' ORDER BY network;
ROLLBACK;
-- the session's last use, read by the lookup and by the touch
SELECT (acctsec.session_start('hp_col')).token AS coltok \gset
SELECT acctsec.session_touch(:'coltok') AS touched;
UPDATE acctsec.account_sessions SET last_seen_at = last_seen_at - interval '1 hour'
 WHERE account = 'hp_col';
BEGIN;
CALL pg_temp.swap_columns('acctsec.account_sessions', 'last_seen_at', 'expires_at');
SELECT account FROM acctsec.session_check(:'coltok');
SELECT now() - last_seen_at < interval '1 minute' AS seen_now
  FROM acctsec.account_sessions WHERE account = 'hp_col';
ROLLBACK;
SELECT acctsec.forget_account('hp_col'), acctsec.forget_account('hp_net'),
       acctsec.forget_account('hp_fam');

-- The seal locks its lane, inserts its seal and moves the lane's head
-- through the table AM, not through statements.  Its tables' indexes stay
-- whole (amcheck: every row version has its index entry), also when the
-- head's update cannot be HOT: an index on last_seq, made here only for the
-- test, makes every update of a lane a non-HOT one.
CREATE EXTENSION amcheck;
-- The B-tree indexes of tables, each checked to hold every row version
-- (amcheck's heapallindexed): their names, or an error.
CREATE FUNCTION pg_temp.btrees_whole(tables regclass[]) RETURNS SETOF name
LANGUAGE sql AS $f$
  SELECT c.relname
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid,
         bt_index_check(c.oid::regclass, true)
   WHERE i.indrelid = ANY (tables)
     AND c.relam = (SELECT oid FROM pg_am WHERE amname = 'btree')
   ORDER BY c.relname
$f$;
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
SELECT pg_temp.btrees_whole('{acctsec.audit_lanes,acctsec.audit_seals}') AS index_checked;
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

-- A login writes its account's row and its attempt's row through the table
-- AM, and as statements where the executor is needed (a trigger that fires,
-- a CHECK constraint, a default outside the columns written): both give the
-- same rows.  One story of every kind of write (failures from a familiar
-- and an unfamiliar network, a lock, a refusal, a familiar login through an
-- unfamiliar lock, unlock, TOTP on, a pending login completed and one
-- failed, TOTP off; the familiar networks it adds) is told twice in one
-- transaction, so that now() is the same: first with nothing on the
-- tables, then with a trigger on each.
CREATE EXTENSION amcheck;
CREATE TABLE regress.hp_fired (tbl text, op text);
CREATE FUNCTION regress.hp_fire() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  INSERT INTO regress.hp_fired VALUES (TG_TABLE_NAME, TG_OP);
  RETURN NEW;
END $f$;
CREATE FUNCTION pg_temp.login_story(acct text) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
  s text;
BEGIN
  PERFORM acctsec.login_attempt(acct, true, '192.0.2.50', 'home');
  PERFORM acctsec.login_attempt(acct, false, '192.0.2.50', 'home');
  FOR i IN 1..5 LOOP
    PERFORM acctsec.login_attempt(acct, false, '203.0.113.9', 'away');
  END LOOP;
  PERFORM acctsec.login_attempt(acct, true, '203.0.113.9');
  PERFORM acctsec.login_attempt(acct, true, '192.0.2.50', 'home');
  PERFORM acctsec.unlock(acct);
  PERFORM acctsec.login_attempt(acct, true);
  s := (acctsec.totp_enroll(acct)).secret;
  PERFORM acctsec.totp_confirm(acct, regress.code(s));
  PERFORM acctsec.login_attempt(acct, true, '192.0.2.51', 'phone');
  PERFORM acctsec.totp_verify(acct, regress.code(s, 1));
  PERFORM acctsec.login_attempt(acct, true, '192.0.2.52', 'phone');
  PERFORM acctsec.totp_verify(acct, 'abcdef');
  PERFORM acctsec.login_attempt(acct, true, '192.0.2.52', 'phone');
  PERFORM acctsec.totp_disable(acct);
END $f$;
CREATE FUNCTION pg_temp.account_row(acct text) RETURNS jsonb LANGUAGE sql AS $f$
  SELECT to_jsonb(a) - 'account' - 'created_at' FROM acctsec.accounts a WHERE account = acct
$f$;
CREATE FUNCTION pg_temp.familiar_rows(acct text) RETURNS jsonb LANGUAGE sql AS $f$
  SELECT jsonb_agg(to_jsonb(f) - 'account' ORDER BY network)
  FROM acctsec.familiar_networks f WHERE account = acct
$f$;
CREATE FUNCTION pg_temp.attempt_rows(acct text) RETURNS jsonb LANGUAGE sql AS $f$
  SELECT jsonb_agg(jsonb_build_array(attempted_at, outcome, ip, user_agent) ORDER BY id)
  FROM acctsec.login_attempts WHERE account = acct
$f$;
BEGIN;
SET LOCAL acctsec.network_max_failures = 0;
SET LOCAL acctsec.network_max_accounts = 0;
SELECT pg_temp.login_story('hp_direct');
SELECT count(*) AS fired FROM regress.hp_fired;
CREATE TRIGGER hp_fire BEFORE UPDATE ON acctsec.accounts
  FOR EACH ROW EXECUTE FUNCTION regress.hp_fire();
CREATE TRIGGER hp_fire BEFORE INSERT ON acctsec.login_attempts
  FOR EACH ROW EXECUTE FUNCTION regress.hp_fire();
CREATE TRIGGER hp_fire BEFORE INSERT ON acctsec.familiar_networks
  FOR EACH ROW EXECUTE FUNCTION regress.hp_fire();
SELECT pg_temp.login_story('hp_statement');
SELECT tbl, op, count(*) AS fired FROM regress.hp_fired GROUP BY tbl, op ORDER BY tbl;
SELECT jsonb_array_length(pg_temp.attempt_rows('hp_direct')) AS attempts,
       pg_temp.attempt_rows('hp_direct') = pg_temp.attempt_rows('hp_statement') AS same_attempts,
       pg_temp.account_row('hp_direct') = pg_temp.account_row('hp_statement') AS same_account,
       (pg_temp.account_row('hp_direct') ->> 'login_count')::int AS logins,
       (pg_temp.account_row('hp_direct') ->> 'last_login_ip') AS last_login_ip,
       pg_temp.familiar_rows('hp_direct') = pg_temp.familiar_rows('hp_statement') AS same_familiar,
       jsonb_array_length(pg_temp.familiar_rows('hp_direct')) AS familiar;
-- the lock (a non-HOT update: locked_until is indexed) left every index whole
SELECT pg_temp.btrees_whole('{acctsec.accounts,acctsec.login_attempts,acctsec.familiar_networks}') AS index_checked;
ROLLBACK;

-- The same for a network's row: its first failure inserts it (ON CONFLICT
-- DO NOTHING), the next ones update it, the one that reaches
-- network_max_accounts throttles it; told for one network directly, then
-- for another with a trigger on the table.
BEGIN;
SET LOCAL acctsec.network_max_accounts = 3;
SELECT count(acctsec.login_attempt(a, false, '198.51.100.1'))
  FROM unnest('{hp_n1,hp_n2,hp_n2,hp_n3}'::text[]) a;
CREATE TRIGGER hp_fire BEFORE INSERT OR UPDATE ON acctsec.networks
  FOR EACH ROW EXECUTE FUNCTION regress.hp_fire();
SELECT count(acctsec.login_attempt(a, false, '198.51.100.2'))
  FROM unnest('{hp_n1,hp_n2,hp_n2,hp_n3}'::text[]) a;
SELECT tbl, op, count(*) AS fired FROM regress.hp_fired GROUP BY tbl, op ORDER BY tbl, op;
SELECT failures, cardinality(accounts) AS accounts, throttled_until > now() AS throttled, throttles,
       (SELECT to_jsonb(n) - 'network' FROM acctsec.networks n WHERE network = '198.51.100.1/32') =
       (SELECT to_jsonb(n) - 'network' FROM acctsec.networks n WHERE network = '198.51.100.2/32') AS same_network
  FROM acctsec.networks WHERE network = '198.51.100.1/32';
SELECT pg_temp.btrees_whole('{acctsec.networks}') AS index_checked;
ROLLBACK;

-- And for a session's touch: its row locked and its last_seen_at written
-- through the table AM (the table's foreign key and CHECK constraint
-- concern no column written), and as a statement with a trigger on the
-- table or when the session's row was inserted by the same transaction
-- (the foreign key's check must then run on the update).
SELECT (acctsec.session_start('hp_t1')).token AS t1 \gset
SELECT (acctsec.session_start('hp_t2')).token AS t2 \gset
BEGIN;
SELECT acctsec.session_touch(:'t1') AS touched_directly;
CREATE TRIGGER hp_fire BEFORE UPDATE ON acctsec.account_sessions
  FOR EACH ROW EXECUTE FUNCTION regress.hp_fire();
SELECT acctsec.session_touch(:'t2') AS touched_by_statement;
SELECT tbl, op, count(*) AS fired FROM regress.hp_fired GROUP BY tbl, op;
SELECT account, last_seen_at = now() AS seen_now FROM acctsec.account_sessions
 WHERE account IN ('hp_t1', 'hp_t2') ORDER BY account;
SELECT pg_temp.btrees_whole('{acctsec.account_sessions}') AS index_checked;
ROLLBACK;
BEGIN;
SELECT acctsec.session_touch((acctsec.session_start('hp_t3')).token) AS touched_new_session;
SELECT count(*) AS sessions FROM acctsec.account_sessions WHERE account = 'hp_t3';
ROLLBACK;
SELECT acctsec.forget_account('hp_t1'), acctsec.forget_account('hp_t2');

-- What the executor would refuse or add, the direct write refuses or leaves
-- to the statement: a NOT NULL column left NULL (23502, both ways), a CHECK
-- constraint (23514), a column with a default outside the columns written.
BEGIN;
DELETE FROM acctsec.login_attempts WHERE user_agent IS NULL;
ALTER TABLE acctsec.login_attempts ALTER COLUMN user_agent SET NOT NULL;
SELECT regress.error_of($$SELECT acctsec.login_attempt('hp_nn', false)$$) AS no_user_agent;
CREATE TRIGGER hp_fire BEFORE INSERT ON acctsec.login_attempts
  FOR EACH ROW EXECUTE FUNCTION regress.hp_fire();
SELECT regress.error_of($$SELECT acctsec.login_attempt('hp_nn', false)$$) AS no_user_agent_statement;
ROLLBACK;
BEGIN;
ALTER TABLE acctsec.accounts ADD CONSTRAINT hp_check CHECK (failed_attempts < 2);
SELECT (acctsec.login_attempt('hp_chk', false)).failed_attempts;
SELECT regress.error_of($$SELECT acctsec.login_attempt('hp_chk', false)$$) AS second_failure;
ROLLBACK;
BEGIN;
ALTER TABLE acctsec.login_attempts ADD COLUMN hp_note text DEFAULT 'noted';
SELECT (acctsec.login_attempt('hp_def', false)).status;
SELECT hp_note FROM acctsec.login_attempts WHERE account = 'hp_def';
ROLLBACK;
DROP FUNCTION regress.hp_fire();
DROP TABLE regress.hp_fired;
DROP EXTENSION amcheck;
