
-- ---------------------------------------------------------------------------
-- Passwords (docs/passwords.md): Argon2id hashing, verification of Argon2 and
-- the crypt(3) formats existing applications hold, and the rehash test.
-- None reads or changes account state, so none is SECURITY DEFINER.
-- COST tells the planner these are expensive (tens of milliseconds), so it
-- evaluates them after every cheaper condition.
-- ---------------------------------------------------------------------------

-- Random salt: VOLATILE.  Harmless to anyone, so PUBLIC keeps EXECUTE.
CREATE FUNCTION acctsec.password_hash(password text)
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_password_hash'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE COST 10000;

-- Deterministic, but its answer (error or not) depends on the caps in the
-- settings: STABLE.  Not PUBLIC: against any hash a caller brings, it makes
-- the server a password-guessing engine, and every call takes up to
-- acctsec.password_max_memory_kib of server memory.  Application roles get
-- it through acctsec.grant_app_role.
CREATE FUNCTION acctsec.password_verify(password text, hash text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_password_verify'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 10000;
REVOKE ALL ON FUNCTION acctsec.password_verify(text, text) FROM PUBLIC;

-- Reads only its argument and the settings: STABLE, cheap, PUBLIC.
CREATE FUNCTION acctsec.password_needs_rehash(hash text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_password_needs_rehash'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
