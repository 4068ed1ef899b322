#!/usr/bin/env bash
# Dump and restore keep every piece of acctsec state, and it works in the
# restored database.
#
# A source database is filled with every kind of state acctsec has, plus
# application objects that depend on acctsec functions; pg_dump -Fc and
# pg_restore --exit-on-error --single-transaction copy it into a new
# database.  Then:
#   - every table of the extension is registered for dumping, and has the
#     same rows (an order-independent digest of each) and sequence positions
#     in both databases;
#   - the application objects restored and give the same answers;
#   - each capability still works on the restored state (see the sections
#     below, one per capability).
set -u -o pipefail
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
SRC=acctsec_dump_src
DST=acctsec_dump_dst
DUMP=$ACCTSEC_TMP/acctsec.dump
fail() { echo "FAILED: $*"; exit 1; }

for db in $SRC $DST; do
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db" 2>/dev/null
done
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $SRC" || fail "create $SRC"
"${PSQL[@]}" -d $SRC -c "CREATE EXTENSION acctsec" || fail "create extension"

has() {  # has DB FUNCTION: does acctsec.FUNCTION exist?
  [ "$("${PSQL[@]}" -d "$1" -c "SELECT count(*) FROM pg_proc WHERE pronamespace = 'acctsec'::regnamespace AND proname = '$2'")" != 0 ]
}

# --- fill --------------------------------------------------------------------
# Application objects built on the OTP pure functions: a generated column, an
# expression index, a view and a check constraint.
"${PSQL[@]}" -d $SRC <<'SQL' || fail "fill: OTP"
CREATE TABLE app_totp (
  id int PRIMARY KEY,
  secret bytea NOT NULL,
  secret_b32 text GENERATED ALWAYS AS (acctsec.base32_encode(secret)) STORED,
  CHECK (acctsec.base32_decode(secret_b32) = secret)
);
CREATE INDEX app_totp_b32 ON app_totp (acctsec.base32_encode(secret));
CREATE VIEW app_totp_uri AS
  SELECT id, acctsec.totp_uri(secret, 'user' || id, 'ACME') AS uri,
         acctsec.hotp(secret, 0, 8) AS first_code
  FROM app_totp;
INSERT INTO app_totp (id, secret)
  SELECT i, decode(md5(i::text) || substr(md5((i + 1)::text), 1, 8), 'hex')
  FROM generate_series(1, 200) AS i;
SQL
kinds="otp-objects"

# (each capability fills its state here as it lands)

# --- digests of what must survive ------------------------------------------------
digest() {  # digest DB: one line per extension table / sequence / app object
  "${PSQL[@]}" -d "$1" <<'SQL'
SELECT 'unregistered ' || c.oid::regclass
FROM pg_class c
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'acctsec'
WHERE c.relkind IN ('r', 'p', 'S') AND c.oid <> ALL (coalesce(e.extconfig, '{}'))
ORDER BY 1;
SELECT format('SELECT %L || '' '' || count(*) || '' '' || coalesce(md5(string_agg(t::text, ''|'' ORDER BY t::text)), ''-'') FROM %s t',
              c.oid::regclass::text, c.oid::regclass)
FROM pg_extension e, unnest(e.extconfig) AS x(oid) JOIN pg_class c ON c.oid = x.oid
WHERE e.extname = 'acctsec' AND c.relkind IN ('r', 'p')
ORDER BY 1 \gexec
SELECT format('SELECT %L || '' last_value '' || last_value || '' '' || is_called FROM %s',
              c.oid::regclass::text, c.oid::regclass)
FROM pg_extension e, unnest(e.extconfig) AS x(oid) JOIN pg_class c ON c.oid = x.oid
WHERE e.extname = 'acctsec' AND c.relkind = 'S'
ORDER BY 1 \gexec
SELECT 'app_totp ' || count(*) || ' ' || md5(string_agg(t::text, '|' ORDER BY id)) FROM app_totp t;
SELECT 'app_totp_uri ' || count(*) || ' ' || md5(string_agg(v::text, '|' ORDER BY id)) FROM app_totp_uri v;
SQL
}
digest $SRC >"$ACCTSEC_TMP/digest.src" || fail "digest of $SRC"
grep -q '^unregistered' "$ACCTSEC_TMP/digest.src" && { grep '^unregistered' "$ACCTSEC_TMP/digest.src"; fail "extension tables not registered with pg_extension_config_dump"; }

# --- dump and restore -------------------------------------------------------------
"$ACCTSEC_BIN/pg_dump" -Fc -f "$DUMP" $SRC || fail "pg_dump"
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DST" || fail "create $DST"
"$ACCTSEC_BIN/pg_restore" --exit-on-error --single-transaction -d $DST "$DUMP" \
  || fail "pg_restore"
echo "dump: $(stat -c %s "$DUMP") bytes, $("$ACCTSEC_BIN/pg_restore" -l "$DUMP" | grep -vc '^;') entries"

digest $DST >"$ACCTSEC_TMP/digest.dst" || fail "digest of $DST"
if ! diff "$ACCTSEC_TMP/digest.src" "$ACCTSEC_TMP/digest.dst"; then
  fail "restored state differs"
fi
echo "identical after restore:"; sed 's/^/  /' "$ACCTSEC_TMP/digest.dst"

# --- it works in the restored database ---------------------------------------------
# OTP objects: new rows pass the check constraint and use the restored index.
"${PSQL[@]}" -d $DST <<'SQL' || fail "restored OTP objects"
INSERT INTO app_totp (id, secret) VALUES (1000, '12345678901234567890'::bytea);
DO $$
BEGIN
  IF (SELECT first_code FROM app_totp_uri WHERE id = 1000) IS DISTINCT FROM '84755224' THEN
    RAISE EXCEPTION 'restored view gives a wrong RFC 4226 code';
  END IF;
  IF (SELECT count(*) FROM app_totp WHERE acctsec.base32_encode(secret) = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ') <> 1 THEN
    RAISE EXCEPTION 'restored expression index does not find the row';
  END IF;
END $$;
SQL

# (each capability checks its restored state here as it lands)

echo "state kinds checked: $kinds"
for db in $SRC $DST; do "${PSQL[@]}" -d postgres -c "DROP DATABASE $db"; done
echo "dump and restore: ok"
