
-- ---------------------------------------------------------------------------
-- Passwords (docs/passwords.md): Argon2id hashing, verification of the formats
-- existing applications hold, and the rehash test.
-- None reads or changes account state, so none is SECURITY DEFINER.
-- COST tells the planner these are expensive (tens of milliseconds), so it
-- evaluates them after every cheaper condition.
-- ---------------------------------------------------------------------------

-- Random salt: VOLATILE.  Harmless to anyone, so PUBLIC keeps EXECUTE.
CREATE FUNCTION acctsec.password_hash(password text)
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_password_hash'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE COST 10000;

-- VOLATILE and PARALLEL UNSAFE: a stored hash it cannot verify (unknown,
-- malformed, over the caps in the settings) answers false and writes a
-- security event (an audit row).  Not PUBLIC: against any hash a caller brings, it makes
-- the server a password-guessing engine, and every call takes up to
-- acctsec.password_max_memory_kib of server memory.  Application roles get
-- it through acctsec.grant_app_role.
CREATE FUNCTION acctsec.password_verify(password text, hash text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_password_verify'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE COST 10000;

-- Reads only its argument and the settings: STABLE, cheap, PUBLIC.
CREATE FUNCTION acctsec.password_needs_rehash(hash text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_password_needs_rehash'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- The format a stored hash is read as ("Django PBKDF2"), NULL for none:
-- reads only its argument, PUBLIC.
CREATE FUNCTION acctsec.password_hash_format(hash text)
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_password_hash_format'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
