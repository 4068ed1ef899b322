#!/usr/bin/env bash
# Bounded state under attack: an attacker rotating through addresses must not
# make acctsec.networks grow beyond the networks that failed within one
# window.  Deterministic (no clock, no rates): 20,000 addresses fail once
# each, then all their rows are made expired; 20,000 new addresses then fail
# once each.  Every new network row deletes up to 4 expired ones, so the
# table never grows past its size before the second wave, and by its end no
# expired row is left, with nobody calling prune_networks().  The sizes are
# sampled every 500 attempts inside the attack.
set -eu -o pipefail
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
DB=acctsec_bound
N=${BOUND_ADDRESSES:-20000}
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
"${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec" \
  -c "ALTER DATABASE $DB SET acctsec.max_failed_attempts = 0"

"${PSQL[@]}" -d $DB -v n="$N" <<'SQL'
\pset footer off
\pset tuples_only off
\pset format aligned
SET bound.n = :'n';
-- first wave: one failure from each of n addresses, over 1,000 accounts
SELECT count(*) AS first_wave
FROM generate_series(1, :n) AS i,
     acctsec.login_attempt('victim' || i % 1000, false, '10.0.0.0'::inet + i) AS r;
-- the window passes for all of them
UPDATE acctsec.networks SET expires_at = now() - interval '1 second';
SELECT count(*) AS rows_before, count(*) FILTER (WHERE expires_at <= now()) AS expired_before
FROM acctsec.networks \gset
SET bound.rows_before = :'rows_before';
-- second wave from n new addresses, sampling the table every 500 attempts
CREATE TEMP TABLE sizes (attempts int, network_rows bigint, expired_rows bigint);
DO $$
DECLARE
  n int := current_setting('bound.n')::int;
BEGIN
  FOR i IN 1 .. n LOOP
    PERFORM acctsec.login_attempt('victim' || i % 1000, false, '10.128.0.0'::inet + i);
    IF i % 500 = 0 THEN
      INSERT INTO sizes SELECT i, count(*), count(*) FILTER (WHERE expires_at <= now())
      FROM acctsec.networks;
    END IF;
  END LOOP;
END $$;
SELECT :rows_before AS rows_before, max(network_rows) AS most_rows_seen,
       (SELECT network_rows FROM sizes ORDER BY attempts DESC LIMIT 1) AS rows_at_end,
       (SELECT expired_rows FROM sizes ORDER BY attempts DESC LIMIT 1) AS expired_at_end,
       min(attempts) FILTER (WHERE expired_rows = 0) AS attempts_until_no_expired_row
FROM sizes;
DO $$
DECLARE r record;
BEGIN
  SELECT max(network_rows) AS most,
         (SELECT expired_rows FROM sizes ORDER BY attempts DESC LIMIT 1) AS expired_end,
         count(*) AS samples
  INTO r FROM sizes;
  IF r.samples < 10 THEN RAISE EXCEPTION 'too few samples (%)', r.samples; END IF;
  IF r.most > current_setting('bound.rows_before')::bigint THEN
    RAISE EXCEPTION 'acctsec.networks grew to % rows past the % it held before the second wave',
      r.most, current_setting('bound.rows_before');
  END IF;
  IF r.expired_end > 0 THEN
    RAISE EXCEPTION '% expired network rows were left behind', r.expired_end;
  END IF;
END $$;
SQL
