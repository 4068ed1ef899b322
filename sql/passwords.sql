-- Passwords: Argon2id hashing, verification of every supported format
-- (hashes made by outside tools), rehash detection, caps, errors, privileges.
\set VERBOSITY terse

-- a new hash: standard PHC string, current settings, 16-byte salt, 32-byte hash
SELECT acctsec.password_hash('correct horse battery staple') AS h \gset
SELECT :'h' ~ '^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$' AS standard_form,
       length(:'h') AS length,
       acctsec.password_verify('correct horse battery staple', :'h') AS right_password,
       acctsec.password_verify('correct horse battery stapler', :'h') AS wrong_password,
       acctsec.password_verify('', :'h') AS empty_password,
       acctsec.password_needs_rehash(:'h') AS needs_rehash;
-- settings and their defaults (OWASP's minimum for Argon2id)
SELECT name, setting, unit, context FROM pg_settings
WHERE name LIKE 'acctsec.password%' ORDER BY name;
-- a random salt: the same password never gives the same hash twice
SELECT acctsec.password_hash('same') <> acctsec.password_hash('same') AS salted;
-- any text survives the round trip: multibyte, long (bcrypt's 72-byte limit
-- does not apply to Argon2)
SELECT acctsec.password_verify('pässwörd 密码 🔑', acctsec.password_hash('pässwörd 密码 🔑')) AS unicode,
       acctsec.password_verify(repeat('x', 4096), acctsec.password_hash(repeat('x', 4096))) AS long_ok,
       acctsec.password_verify(repeat('x', 100) || 'a', acctsec.password_hash(repeat('x', 100) || 'b')) AS long_differs;

-- other settings: new hashes follow them, older ones need a rehash
SET acctsec.password_memory_kib = 8192;
SET acctsec.password_iterations = 3;
SELECT acctsec.password_hash('pw') AS h2 \gset
SELECT substr(:'h2', 1, 30) AS params, acctsec.password_needs_rehash(:'h2') AS new_needs_rehash,
       acctsec.password_needs_rehash(:'h') AS old_needs_rehash,
       acctsec.password_verify('correct horse battery staple', :'h') AS old_still_verifies;
SET acctsec.password_memory_kib = '64MB';
SHOW acctsec.password_memory_kib;
RESET acctsec.password_memory_kib;
RESET acctsec.password_iterations;

-- hashes made by other tools: the Argon2 reference implementation (argon2
-- CLI; p=4 and a 24-byte hash), PHP's password_hash documentation, mkpasswd
-- (libxcrypt) for bcrypt, SHA-crypt and yescrypt
CREATE TEMP TABLE vectors (tool text, password text, hash text);
INSERT INTO vectors VALUES
 ('argon2 CLI -id',   'password', '$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU'),
 ('argon2 CLI -i',    'password', '$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG'),
 ('argon2 CLI -id',   'password', '$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA'),
 ('PHP docs $2y$',    'rasmuslerdorf', '$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a'),
 ('mkpasswd $2a$',    'correct horse battery staple', '$2a$05$5U2FBd8/L0FebXJetqFQB.AE4vRMFB0Ux4dfVLvpnOWMIOZ5ZNpN2'),
 ('mkpasswd $2b$',    'correct horse battery staple', '$2b$05$pz5MCME87t2WGbWIOLTzheFsffPrb6OnCPOv/Pk42xaP/VUEBHlQu'),
 ('mkpasswd $5$',     'correct horse battery staple', '$5$fQ/YHy5b4Ycofcf.$MsFcoW4VwtXIK7cNCkBfS5OvoRjkq.SKx/5K7B37Z49'),
 ('mkpasswd $6$',     'correct horse battery staple', '$6$gUOd2Mf5NQrIyCxz$uZODhS5ZhOHTIYBSpMn0W573GFuL7CxMV5JgAXhghXAqdlTW/L3aXJBgxIeTUAC1RLj/Dpgq2BCfvqQOaA2cP0'),
 ('mkpasswd $6$ rounds', 'correct horse battery staple', '$6$rounds=1000$G8bpcd1sGhcMUOMr$bBaH67xJthkMNLb53b7qV3v0UliHXzhRZGeCRw1aomNWWq.q8xRJysbfr1rqSBP0OnkAQ8xF5gyDL9pjsC5Wa0'),
 ('mkpasswd $y$',     'correct horse battery staple', '$y$j9T$h5Vj5wCSEh8owiGVQgFc0.$ENeZD.ud7tTDA682Z8L019RrhPiwDY5/ffaDCx3ioi5');
SELECT tool, split_part(hash, '$', 2) AS scheme,
       acctsec.password_verify(password, hash) AS right_password,
       acctsec.password_verify(password || '!', hash) AS wrong_password,
       acctsec.password_verify(upper(password), hash) AS wrong_case,
       acctsec.password_needs_rehash(hash) AS needs_rehash
FROM vectors ORDER BY tool;
-- bcrypt reads only the first 72 bytes of a password (mkpasswd hashed 72
-- times 'a' then 'Y'): a property of bcrypt, and a reason to rehash
SELECT acctsec.password_verify(repeat('a', 72) || 'Y', '$2b$05$4ctZZNXZTZz2v9fG8m5wHOl2vWNSj/RiH.9iNkNrheT8NZieotbJ.') AS same,
       acctsec.password_verify(repeat('a', 72) || 'anything else', '$2b$05$4ctZZNXZTZz2v9fG8m5wHOl2vWNSj/RiH.9iNkNrheT8NZieotbJ.') AS truncated,
       acctsec.password_verify(repeat('a', 71) || 'Y', '$2b$05$4ctZZNXZTZz2v9fG8m5wHOl2vWNSj/RiH.9iNkNrheT8NZieotbJ.') AS shorter;

-- needs_rehash: anything that is not Argon2id at the current settings
SELECT h AS hash, acctsec.password_needs_rehash(h) AS needs_rehash FROM unnest(ARRAY[
  '', 'plain text', '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$garbage',
  '$argon2id$v=19$m=19456,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA',
  '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA',
  '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA',
  '$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA']) AS h;

-- NULLs: strict
SELECT acctsec.password_hash(NULL) IS NULL AS a, acctsec.password_verify(NULL, 'x') IS NULL AS b,
       acctsec.password_verify('x', NULL) IS NULL AS c, acctsec.password_needs_rehash(NULL) IS NULL AS d;

-- refusals: unknown formats, malformed hashes, and hashes asking for more
-- work than the caps allow (refused before any work is done: these return at
-- once) answer false with a WARNING, never an error; no message shows the
-- password or the hash.  A password over 4096 bytes is false too.  Only the
-- settings' own limits and password_hash's arguments are errors.
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.password_verify('pw', '')$$,
  $$SELECT acctsec.password_verify('pw', 'pw')$$,
  $$SELECT acctsec.password_verify('pw', '$1$adSi0tDn$NYM71ZU1ZLACufsngMen10')$$,
  $$SELECT acctsec.password_verify('pw', '$7$CU..../....abc$def')$$,
  $$SELECT acctsec.password_verify('pw', '$2x$05$pz5MCME87t2WGbWIOLTzheFsffPrb6OnCPOv/Pk42xaP/VUEBHlQu')$$,
  $$SELECT acctsec.password_verify('pw', '$argon2d$v=19$m=1024,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA')$$,
  $$SELECT acctsec.password_verify('pw', '$argon2id$v=16$m=1024,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA')$$,
  $$SELECT acctsec.password_verify('pw', '$argon2id$m=1024,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA')$$,
  $$SELECT acctsec.password_verify('pw', '$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHRzb21lc2FsdA')$$,
  $$SELECT acctsec.password_verify('pw', '$argon2id$v=19$m=1024,t=2,p=1$c29t$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA')$$,
  $$SELECT acctsec.password_verify('pw', '$argon2id$v=19$m=1024,t=0,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA')$$,
  $$SELECT acctsec.password_verify('pw', '$argon2id$v=19$m=262145,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA')$$,
  $$SELECT acctsec.password_verify('pw', '$argon2i$v=19$m=99999999999999999999,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA')$$,
  $$SELECT acctsec.password_verify('pw', '$argon2id$v=19$m=1024,t=17,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA')$$,
  $$SELECT acctsec.password_verify('pw', '$argon2id$v=19$m=8192,t=2,p=65$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA')$$,
  $$SELECT acctsec.password_verify('pw', '$2b$16$pz5MCME87t2WGbWIOLTzheFsffPrb6OnCPOv/Pk42xaP/VUEBHlQu')$$,
  $$SELECT acctsec.password_verify('pw', '$2b$31$pz5MCME87t2WGbWIOLTzheFsffPrb6OnCPOv/Pk42xaP/VUEBHlQu')$$,
  $$SELECT acctsec.password_verify('pw', '$2b$03$pz5MCME87t2WGbWIOLTzheFsffPrb6OnCPOv/Pk42xaP/VUEBHlQu')$$,
  $$SELECT acctsec.password_verify('pw', '$2b$05$pz5MCME87t2WGbWIOLTzheFsffPrb6OnCPOv')$$,
  $$SELECT acctsec.password_verify('pw', '$2b$5$pz5MCME87t2WGbWIOLTzheFsffPrb6OnCPOv/Pk42xaP/VUEBHlQu')$$,
  $$SELECT acctsec.password_verify('pw', '$2b$05$!!5MCME87t2WGbWIOLTzheFsffPrb6OnCPOv/Pk42xaP/VUEBHlQu')$$,
  $$SELECT acctsec.password_verify('pw', '$6$rounds=1000001$G8bpcd1sGhcMUOMr$bBaH67xJthkMNLb53b7qV3v0UliHXzhRZGeCRw1aomNWWq.q8xRJysbfr1rqSBP0OnkAQ8xF5gyDL9pjsC5Wa0')$$,
  $$SELECT acctsec.password_verify('pw', '$5$rounds=999999999999999999999$salt$MsFcoW4VwtXIK7cNCkBfS5OvoRjkq.SKx/5K7B37Z49')$$,
  $$SELECT acctsec.password_verify('pw', '$6$rounds=$G8bpcd1sGhcMUOMr$bBaH67xJthkMNLb53b7qV3v0UliHXzhRZGeCRw1aomNWWq.q8xRJysbfr1rqSBP0OnkAQ8xF5gyDL9pjsC5Wa0')$$,
  $$SELECT acctsec.password_verify('pw', '$y$jET$7abcdefghijklmnopqrstu$ENeZD.ud7tTDA682Z8L019RrhPiwDY5/ffaDCx3ioi5')$$,
  $$SELECT acctsec.password_verify('pw', '$y$jzT$7abcdefghijklmnopqrstu$ENeZD.ud7tTDA682Z8L019RrhPiwDY5/ffaDCx3ioi5')$$,
  $$SELECT acctsec.password_verify('pw', '$y$j9T.$h5Vj5wCSEh8owiGVQgFc0.$ENeZD.ud7tTDA682Z8L019RrhPiwDY5/ffaDCx3ioi5')$$,
  $$SELECT acctsec.password_verify('pw', '$y$j9$')$$,
  $$SELECT acctsec.password_verify('pw', '$y$j9T$h5Vj5wCSEh8owiGVQgFc0.$')$$,
  $$SELECT acctsec.password_verify('pw', '$5$fQ/YHy5b4Ycofcf.$MsFcoW4VwtXIK7cNCkBfS5OvoRjkq.SKx/5K7B37Z4')$$,
  $$SELECT acctsec.password_verify('pw', '$5$fQ/YHy5b4Ycofcf.xyz$MsFcoW4VwtXIK7cNCkBfS5OvoRjkq.SKx/5K7B37Z49')$$,
  $$SELECT acctsec.password_verify('pw', '$6$' || repeat('a', 600))$$,
  $$SELECT acctsec.password_verify(repeat('p', 4097), '$2b$05$pz5MCME87t2WGbWIOLTzheFsffPrb6OnCPOv/Pk42xaP/VUEBHlQu')$$,
  $$SELECT acctsec.password_hash(repeat('p', 4097))$$,
  $$SELECT acctsec.password_hash('')$$,
  $$SET acctsec.password_memory_kib = 7$$,
  $$SET acctsec.password_iterations = 0$$,
  $$SET acctsec.password_iterations = 17$$,
  $$SET acctsec.password_max_memory_kib = '5GB'$$
]) AS s;
-- a lower cap also refuses hashes that were fine before (false), and hashing
-- with more memory than the cap would make unverifiable hashes (an error)
SET acctsec.password_max_memory_kib = 16384;
SELECT regress.error_of($$SELECT acctsec.password_verify('password', '$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU')$$) AS argon2,
       regress.error_of($$SELECT acctsec.password_verify('pw', '$y$jAT$h5Vj5wCSEh8owiGVQgFc0.$ENeZD.ud7tTDA682Z8L019RrhPiwDY5/ffaDCx3ioi5')$$) AS yescrypt,
       regress.error_of($$SELECT acctsec.password_hash('pw')$$) AS hash;
RESET acctsec.password_max_memory_kib;

-- privileges: password_hash and password_needs_rehash are PUBLIC;
-- password_verify is not (it would let any role use the server to test
-- guesses against hashes it brings); settings are superuser-only
CREATE ROLE regress_pw_user;
SET ROLE regress_pw_user;
SELECT acctsec.password_hash('pw') LIKE '$argon2id$%' AS hash_ok,
       acctsec.password_needs_rehash('x') AS rehash_ok;
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.password_verify('pw', '$2b$05$pz5MCME87t2WGbWIOLTzheFsffPrb6OnCPOv/Pk42xaP/VUEBHlQu')$$,
  $$SET acctsec.password_memory_kib = 8192$$,
  $$SET acctsec.password_iterations = 1$$,
  $$SET acctsec.password_max_memory_kib = 4194304$$
]) AS s;
RESET ROLE;
DROP ROLE regress_pw_user;

-- volatility, parallel safety, strictness, cost
SELECT proname, provolatile, proparallel, proisstrict, procost, prosecdef
FROM pg_proc WHERE pronamespace = 'acctsec'::regnamespace AND proname LIKE 'password%'
ORDER BY proname;
