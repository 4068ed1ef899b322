-- Whose rights the application's code runs with inside acctsec calls
-- (SPEC section 9).  acctsec reads, writes and casts values into a linked
-- table as the table's owner, in a security-restricted operation: the
-- owner's triggers, domain CHECKs and index expressions run as the owner,
-- never as acctsec's (superuser) owner, and cannot leave a setting behind.
\set VERBOSITY terse
SET acctsec.max_failed_attempts = 3;
SET acctsec.lockout_duration = '10min';
-- cheap hashes; the stored one below is made with other parameters, so
-- acctsec.login finds it outdated and rehashes
SET acctsec.password_memory_kib = '64kB';
SET acctsec.password_iterations = 1;
SELECT acctsec.password_hash('pw-7002') AS outdated_hash \gset
SET acctsec.password_iterations = 2;

-- the application's role, made as the README says, no superuser
CREATE ROLE regress_priv_app;
SELECT acctsec.grant_app_role('regress_priv_app');
CREATE SCHEMA regress_priv AUTHORIZATION regress_priv_app;
CREATE TABLE regress_priv.users (
  id int PRIMARY KEY, email text, failed_login_attempts int DEFAULT 0,
  locked_until timestamptz, password_hash text);
ALTER TABLE regress_priv.users OWNER TO regress_priv_app;
INSERT INTO regress_priv.users (id, email) VALUES (7001, 'a@example.com'), (7002, 'b@example.com');
SELECT acctsec.link_account_table('regress_priv.users', 'id');
SELECT mirror FROM acctsec.linked_tables WHERE tbl = 'regress_priv.users'::regclass;

-- The application's code, attached by the table's owner: it records who
-- runs it, makes the application's role a superuser when it can, and moves
-- search_path (a setting nothing may leave behind).
SET ROLE regress_priv_app;
CREATE TABLE regress_priv.seen (n serial, what text, who name, super boolean);
CREATE FUNCTION regress_priv.spy(what text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO regress_priv.seen (what, who, super)
    SELECT what, current_user, r.rolsuper FROM pg_catalog.pg_roles r
     WHERE r.rolname = current_user;
  IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
    ALTER ROLE regress_priv_app SUPERUSER;
  END IF;
  PERFORM pg_catalog.set_config('search_path', 'regress_priv', false);
  RETURN true;
END $$;
CREATE FUNCTION regress_priv.spy_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM regress_priv.spy('trigger ' || TG_OP);
  IF pg_catalog.current_setting('regress_priv.boom', true) = 'on' THEN
    RAISE EXCEPTION 'boom';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER spy BEFORE UPDATE ON regress_priv.users
  FOR EACH ROW EXECUTE FUNCTION regress_priv.spy_trigger();
CREATE FUNCTION regress_priv.seen() RETURNS TABLE (what text, who name, super boolean)
LANGUAGE sql AS $$
  WITH gone AS (DELETE FROM regress_priv.seen RETURNING *)
  SELECT what, who, super FROM gone GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
$$;

-- 1. the mirroring trigger: a failed login writes the counter into the table
SELECT (acctsec.login_attempt('7001', false)).status;
SELECT current_user, current_setting('search_path') AS search_path;
SELECT * FROM regress_priv.seen();
SELECT failed_login_attempts FROM regress_priv.users WHERE id = 7001;

-- 2. a mirrored column of a domain whose CHECK runs the application's code:
-- the cast into it, by the mirroring trigger and by the guard
CREATE DOMAIN regress_priv.counter AS int CHECK (regress_priv.spy('domain check'));
ALTER TABLE regress_priv.users ALTER COLUMN failed_login_attempts TYPE regress_priv.counter;
RESET search_path;   -- the application's code moved it, run by the application itself
SELECT count(*) > 0 AS altering_ran_the_check FROM regress_priv.seen();
SELECT (acctsec.login_attempt('7001', false)).status;
SELECT * FROM regress_priv.seen();
-- the guard: a stale write of the counter, by a role that may update the
-- table, is replaced by acctsec's value, cast into the domain as the owner
RESET ROLE;
CREATE ROLE regress_priv_writer;
SET ROLE regress_priv_app;
GRANT USAGE ON SCHEMA regress_priv TO regress_priv_writer;
GRANT SELECT, UPDATE ON regress_priv.users TO regress_priv_writer;
GRANT INSERT ON regress_priv.seen TO regress_priv_writer;
GRANT USAGE ON SEQUENCE regress_priv.seen_n_seq TO regress_priv_writer;
SET ROLE regress_priv_writer;
UPDATE regress_priv.users SET failed_login_attempts = 0, email = 'a2@example.com' WHERE id = 7001;
RESET search_path;
SET ROLE regress_priv_app;
SELECT * FROM regress_priv.seen();
SELECT failed_login_attempts FROM regress_priv.users WHERE id = 7001;

-- 3. an index expression over a mirrored column, calling the application's
-- code (an immutable function may call a volatile one)
CREATE FUNCTION regress_priv.index_spy(n int) RETURNS int
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  PERFORM regress_priv.spy('index expression');
  RETURN n;
END $$;
CREATE INDEX ON regress_priv.users ((regress_priv.index_spy(failed_login_attempts)));
RESET search_path;
DELETE FROM regress_priv.seen;
SELECT (acctsec.login_attempt('7002', false)).status;
SELECT * FROM regress_priv.seen() WHERE what = 'index expression';

-- 4. acctsec.login: the hash read, the policy's write, the rehash
UPDATE regress_priv.users SET password_hash = :'outdated_hash' WHERE id = 7002;
RESET search_path;
SELECT acctsec.password_needs_rehash(password_hash) FROM regress_priv.users WHERE id = 7002;
DELETE FROM regress_priv.seen;
SELECT (acctsec.login('7002', 'pw-7002')).status;
SELECT * FROM regress_priv.seen();
SELECT acctsec.password_needs_rehash(password_hash) AS still_outdated,
       acctsec.password_verify('pw-7002', password_hash) AS verifies
FROM regress_priv.users WHERE id = 7002;
SELECT (acctsec.login('7002', 'pw-7002')).status;   -- no rehash now: only the policy's write
SELECT * FROM regress_priv.seen();

-- an error in the application's code ends the call as any error does, and
-- leaves the caller as it was
SET regress_priv.boom = 'on';
SELECT regress.error_of($$SELECT acctsec.login_attempt('7001', false)$$);
RESET regress_priv.boom;
SELECT current_user, current_setting('search_path') AS search_path;
DELETE FROM regress_priv.seen;
RESET ROLE;

-- 5. link_account_table: adopting the table's history and writing
-- acctsec's state into it, as the owner of the table
CREATE TABLE regress_priv.members (id int PRIMARY KEY, failed_login_attempts int, locked_until timestamptz);
ALTER TABLE regress_priv.members OWNER TO regress_priv_app;
INSERT INTO regress_priv.members VALUES
  (7001, 0, NULL),                          -- acctsec counts 2 failures: written in
  (7003, 1, now() + interval '5 minutes');  -- unknown to acctsec: adopted
SET ROLE regress_priv_app;
CREATE TRIGGER spy BEFORE UPDATE ON regress_priv.members
  FOR EACH ROW EXECUTE FUNCTION regress_priv.spy_trigger();
RESET ROLE;
SELECT acctsec.link_account_table('regress_priv.members', 'id');
SELECT current_user, current_setting('search_path') AS search_path;
SELECT * FROM regress_priv.seen();
SELECT id, failed_login_attempts, locked_until IS NOT NULL AS locked FROM regress_priv.members ORDER BY id;
SELECT failed_attempts, locked_until > now() AS locked FROM acctsec.account_status('7003');

-- the owner of the table's code never ran as a superuser
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_priv_app';

-- Reading the table needs the owner's own rights on it: revoked, acctsec
-- cannot read it either (it brings no rights of its own to the table).
SET ROLE regress_priv_app;
REVOKE SELECT ON regress_priv.users FROM regress_priv_app;
SELECT regress.error_of($$SELECT acctsec.login('7002', 'pw-7002')$$);
GRANT SELECT ON regress_priv.users TO regress_priv_app;
RESET ROLE;

-- clean up (dropping a linked table unlinks it)
ALTER ROLE regress_priv_app NOSUPERUSER;
SELECT acctsec.forget_account(a) FROM unnest(ARRAY['7001', '7002', '7003']) a;
DROP SCHEMA regress_priv CASCADE;
SELECT count(*) AS still_linked FROM acctsec.linked_tables WHERE tbl::text LIKE 'regress_priv.%';
SELECT acctsec.revoke_app_role('regress_priv_app');
DROP ROLE regress_priv_app, regress_priv_writer;
