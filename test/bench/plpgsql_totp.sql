-- The PL/pgSQL + pgcrypto TOTP check that the benchmarks compare against:
-- how applications check TOTP in SQL today (HOTP over pgcrypto's hmac(), per
-- step), and the base32 decoding they run on a secret stored as text, as the
-- common SQL TOTP snippets do.  Loaded by totp_check.sh and totp_verify.sh.
CREATE FUNCTION plpgsql_hotp(secret bytea, counter bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  mac bytea := hmac(int8send(counter), secret, 'sha1');
  o int := get_byte(mac, 19) & 15;
  v bigint := ((get_byte(mac, o) & 127)::bigint << 24) | (get_byte(mac, o + 1) << 16)
              | (get_byte(mac, o + 2) << 8) | get_byte(mac, o + 3);
BEGIN
  RETURN lpad((v % 1000000)::text, 6, '0');
END $$;
CREATE FUNCTION plpgsql_totp_check(secret bytea, code text, win int, at timestamptz) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  step bigint := floor(extract(epoch FROM at) / 30);
BEGIN
  FOR i IN -win .. win LOOP
    IF plpgsql_hotp(secret, step + i) = code THEN RETURN true; END IF;
  END LOOP;
  RETURN false;
END $$;
-- What applications usually run: the secret stored as base32 text and
-- decoded in PL/pgSQL on every check (as the common SQL TOTP snippets do).
CREATE FUNCTION plpgsql_base32_decode(input text) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  alphabet text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  bits text := '';
  result bytea := '';
  ch text;
BEGIN
  FOREACH ch IN ARRAY regexp_split_to_array(upper(replace(input, '=', '')), '') LOOP
    bits := bits || substr((position(ch IN alphabet) - 1)::bit(5)::text, 1, 5);
  END LOOP;
  FOR i IN 0 .. length(bits) / 8 - 1 LOOP
    result := result || set_byte('\x00'::bytea, 0, substr(bits, i * 8 + 1, 8)::bit(8)::int);
  END LOOP;
  RETURN result;
END $$;
