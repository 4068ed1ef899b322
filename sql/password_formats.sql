-- Password hashes as frameworks write them (SPEC section 12): every format
-- of docs/passwords.md verifies the right password and refuses a wrong one;
-- a stored hash never raises (unknown, malformed, unsupported and over-cap
-- hashes answer false with a WARNING and a security event naming the
-- family); password_needs_rehash keeps stronger Argon2; acctsec.login
-- rehashes into the framework's own wrapping, or leaves the hash alone, as
-- the link's password_rehash option says.
--
-- The vectors were made once with the real libraries (Django 3.2, Werkzeug
-- 2.2, passlib 1.7.4, python3-bcrypt, argon2-cffi, PHP 8.2, node-argon2,
-- bcryptjs, libxcrypt's mkpasswd) or, where the framework is not packaged
-- (Werkzeug 3 and Django 4 scrypt, ASP.NET Core Identity, Spring Security,
-- Drupal 7, WordPress 6.8), by format-faithful scripts over the real
-- primitives; test/clients/check_password_formats.sh makes fresh ones with
-- random passwords on every run.  The password of every vector is
-- 'correct horse battery staple'.
\set VERBOSITY terse

CREATE TEMP TABLE fw (tool text, made_by text, hash text);
INSERT INTO fw VALUES
  ('Django pbkdf2_sha256', 'real library', 'pbkdf2_sha256$1000$Xq2cQ2oZ1Jmw$a3SzUUKLS1p6HKPpCcsItYg4zzGdga4lhOVPdHSB3uY='),
  ('Django pbkdf2_sha1', 'real library', 'pbkdf2_sha1$1000$Xq2cQ2oZ1Jmw$asMJ2T562uH+RxQ0CizgWnrswB8='),
  ('Django argon2', 'real library', 'argon2$argon2id$v=19$m=1024,t=1,p=2$WHEyY1Eyb1oxSm13YWJjZGVmZ2hpag$7X4dPleLEUrExARvv8E7Vg'),
  ('Django bcrypt', 'real library', 'bcrypt$$2b$05$0zTjueMNytlaDawMalr.xO.etByYKJf8OLt3k5icJUIj/h8hkDj5G'),
  ('Django bcrypt_sha256', 'real library', 'bcrypt_sha256$$2b$05$QD999pos69afgLLakqeJLOq4bpwsbcuoQPdNoeEFl3xH4siGvfii2'),
  ('Werkzeug pbkdf2:sha256', 'real library', 'pbkdf2:sha256:1000$n7HvUFGdZBqtWO6v$d8bdfa6f8fe5aef7a84dfb7f2c33061434637793a99672b15335a98ee2f2a2e5'),
  ('Werkzeug pbkdf2:sha512', 'real library', 'pbkdf2:sha512:1000$Qvj8LtR79vJ9Gfmg$354732d7f1d38285fc944f8a1e21f0f32d559d3deff54a7c186fd8fd8a5fc2ad1bf2a0ca9c00e1b4e67b878379dfb56b690010935be306737e4d5e15d0ba9c2e'),
  ('Werkzeug pbkdf2:sha1', 'real library', 'pbkdf2:sha1:1000$VupjhwRpdNLa1JPg$4e2a3a2e4c7ada9b68b11dc198a44427715bbaa4'),
  ('passlib pbkdf2', 'real library', '$pbkdf2$1000$H8MYY8wZgzAGwBjj/J8zhg$OVccHQ3nVKwa1dQml1wmHx8/U6E'),
  ('passlib pbkdf2-sha256', 'real library', '$pbkdf2-sha256$1000$lJJyjjEmpLS29j6H8B4jZA$id339xsiuyEMYCfRIny3RZrE6yDyg2mQ2XfKKbfa4gw'),
  ('passlib pbkdf2-sha512', 'real library', '$pbkdf2-sha512$1000$oLQWAoBwTklpzZmz1jqnNA$QPnDbtNX1Oxy7pG4Kt5F3Z7g18Nzs.k65ZAWsz6ilbOY2pvHesyT835CvSj/zrVzjSqld9ZGE0RJhX38whuJ6Q'),
  ('passlib scrypt', 'real library', '$scrypt$ln=10,r=8,p=1$IgTg/N87x7j3PkdoTal1Dg$zG7S5QMr6HguHCJrb774iwcTN5CqwTrFmggvcik8vsA'),
  ('passlib bcrypt_sha256 v2', 'real library', '$bcrypt-sha256$v=2,t=2b,r=5$e/x.x5WW1dANzUjDSyBEJe$YHG07UQ3JgZZa81slGnMXxX1aP3sax2'),
  ('passlib bcrypt_sha256 v1', 'real library', '$bcrypt-sha256$2b,5$NCnstP945DXzDXiFKqXSsO$PMYQEynt8ooCrWQBcFBEfm05nrB//zC'),
  ('passlib phpass $P$', 'real library', '$P$6SW9LXmPbPR/l8NtV9S9LcW4sOPVpg1'),
  ('passlib phpass $H$', 'real library', '$H$6/Mt8VbdtukuU0cn/iPIL9TfkqeCDK/'),
  ('passlib argon2', 'real library', '$argon2id$v=19$m=1024,t=1,p=2$sZbSujemtBbivNfaG4Owlg$xjVc6SBQMrd8az6kqeW+AA'),
  ('python bcrypt $2a$', 'real library', '$2a$05$5G8hdA9W/Vyr/uIsnkbtBe4XSTkyHcw5Ly6AmRsdgmy7kvmBNosia'),
  ('PHP password_hash bcrypt', 'real library', '$2y$05$Z6rE7.PoHEFfwZmMZ5zEsuyvKc3skb1Q9OZAnKYCtynMH/ZHRtA3.'),
  ('PHP password_hash argon2id', 'real library', '$argon2id$v=19$m=1024,t=1,p=1$WnFxc1NmWmNUelFRLmZrZg$K1cb9fbAn66jISZKIpqM9/o1N0tc5bjePgOC8d99YBU'),
  ('PHP password_hash argon2i', 'real library', '$argon2i$v=19$m=1024,t=2,p=1$SmJKdkFVb1k2QWJyQTZYdg$mgQqx57o6B7LnOmVTAL1HZ3yLETXV4U682eXYsZGXvI'),
  ('WordPress 6.8 wp_hash_password', 'format-faithful', '$wp$2y$05$X7Zt29haDddCT0XpQVYCzuLVfUCG9FerqUhZ.UXvLAaE9704cVN92'),
  ('Drupal 7', 'format-faithful', '$S$8qPKU5Rqyvy7a0D3SbQXUiw5ogR.uDxc3fmb1TgRrwulyFDNc0id'),
  ('node-argon2 argon2id', 'real library', '$argon2id$v=19$m=1024,p=2,t=2$snExSNBxpSO/FICfedDDLQ$0CGuYSFP2RGZF8A9uvOsYI4Hl7b3lAYq8UjK9/cm9ps'),
  ('node-argon2 argon2i', 'real library', '$argon2i$v=19$m=1024,p=1,t=2$XjxyTX7qFzjang5c4tDjQg$Jwb9to9cRL8x2HROdJtXAWuAyFbwzKh0Qyx/6qjMocU'),
  ('bcryptjs', 'real library', '$2b$05$U7r8fDivfcawoXd4PhXTqe2RfEyxVcfpXfycQnGgY1057LOnwKUH2'),
  ('mkpasswd gost-yescrypt', 'real library', '$gy$j7T$4HwiUBCwQzBKhM2ziAVMO0$3UkfUUOTvwCDnKQrSibNk83gdaxAIdTC9Ga34oFhzO8'),
  ('mkpasswd scrypt', 'real library', '$7$BU..../..../cRGcuvhex3q8dMo0E7A1.$MvQqonEW5B7YD5hMsXS/1zLmytl7ad7HmSoHwq8L/P9'),
  ('mkpasswd md5crypt', 'real library', '$1$7LSTYI.V$BOn/UfF2ztXeetIbEBOPG/'),
  ('mkpasswd descrypt', 'real library', 'vK6NV2eHvDZJs'),
  ('mkpasswd nt', 'real library', '$3$$1b9d5effd34ac283c8efe2eacaea8bbc'),
  ('mkpasswd sha256crypt', 'real library', '$5$dVeK7zBKDjmMaVMq$Km07JCCYWDbi1D2bnTgWo0QASKvcAW6IymAIvsOZ0e8'),
  ('mkpasswd yescrypt', 'real library', '$y$j9T$w8ykT781/Fu9GjAWLCtFW0$VQIvcamTGW77469DKs9BjXU/sj0/PxcF4NmAPdC7ZB2'),
  ('passlib sha1_crypt', 'real library', '$sha1$5000$FaWyIiAw$b297N/qHjQn19Mpz7QWiSAM9YEUm'),
  ('Werkzeug 3 scrypt', 'format-faithful', 'scrypt:1024:8:1$JM4w4vxtEoEvJP41$523c87dba3c0b074f24076a4ec8ec2ec59b05d7bebc752ca20db71cb9a3d8c8cf2801a0039e91b54db13a291f353c67fbd35152b297ad913bae7843212c8ee9d'),
  ('Django 4 scrypt', 'format-faithful', 'scrypt$1024$T9XK9UnK5564jnduW3pqTc$8$1$WHFWW9JX6+AwG+ugBbytlzbi7VAQQ2rykYwBDnbBdvFmLWpp2LrcDKWPa9+ec7oYH8RA4XQEvTKgKBligMaZvw=='),
  ('ASP.NET Identity v2', 'format-faithful', 'AIMfDep4GDpI6JC4JGUDR3l7f0CJUyocgF0UxYcTAGTbvIFsfTgsqGl7zo2JFtz3uQ=='),
  ('ASP.NET Identity v3', 'format-faithful', 'AQAAAAIAAAPoAAAAEFbtumH3NisWr27a9Yi2vGOUGUsSmts736CwURZ3rSDoE/AugxrK1FB54CbJVPSIXA=='),
  ('ASP.NET Identity v3 SHA-256', 'format-faithful', 'AQAAAAEAAAPoAAAAEACedlz1K/MLNN59s64Mu5FvnvOQmHcAqKUXLBg4qWvCSAp4f8cLrNzMGTRfFp5F5w=='),
  ('Spring {pbkdf2}', 'format-faithful', '{pbkdf2}27cd86cf1adbea5420ddbe346e81c737bb4eaae9ece96eb40a98d47e2cba918ee86fda6158ce660c'),
  ('Spring {pbkdf2@SpringSecurity_v5_8}', 'format-faithful', '{pbkdf2@SpringSecurity_v5_8}94c17c20437fdafb3ead4b60ed1c582a65a247f515586fed859e76591a5a0a8119d9e6237c8141f4dd6d048078d6f4b7'),
  ('Spring {bcrypt}', 'format-faithful', '{bcrypt}$2a$05$DauTVhl4TB4FtD4fXzwdz.5Wk7kbJMdTEzbPM44uGLQklHiQNDjNG'),
  ('Spring {argon2}', 'format-faithful', '{argon2}$argon2id$v=19$m=1024,t=1,p=1$9GfV4HCPUh0la7p4lHUInw$TEX38oixR5NaAa/CgeQdOMM1A3bDfm4zK4ASNeiYHpU');
SELECT tool, made_by, acctsec.password_hash_format(hash) AS format,
       acctsec.password_verify('correct horse battery staple', hash) AS right_password,
       acctsec.password_verify('xcorrect horse battery staple', hash) AS wrong_password,
       acctsec.password_verify('Correct horse battery staple', hash) AS wrong_case,
       acctsec.password_needs_rehash(hash) AS needs_rehash
FROM fw ORDER BY made_by DESC, tool;
-- bcrypt_sha256 pre-hashes, so bcrypt's 72-byte limit is gone (Django
-- hashed 80 times 'a')
SELECT acctsec.password_verify(repeat('a', 80), h) AS same,
       acctsec.password_verify(repeat('a', 79) || 'b', h) AS differs_after_72
FROM (VALUES ('bcrypt_sha256$$2b$05$s3a3MWvDFZUchAtrvgKAV.aY43BG5b.o6hWTIU5BWgip2CaUtdGqm')) v(h);

-- needs_rehash: at or above the policy (m=19456, t=2) is never rewritten,
-- whatever the wrapping or the lanes
SELECT h AS hash, acctsec.password_needs_rehash(h) AS needs_rehash FROM unnest(ARRAY[
  '$argon2id$v=19$m=65536,t=4,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA',
  '$argon2id$v=19$m=102400,t=2,p=8$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA',
  '$argon2id$v=19$m=65536,p=4,t=3$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA',
  '$argon2id$v=19$m=47104,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA',
  'argon2$argon2id$v=19$m=102400,t=2,p=8$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA',
  '{argon2}$argon2id$v=19$m=16384,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA',
  '$argon2id$v=19$m=16384,t=10,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA',
  '$argon2i$v=19$m=65536,t=4,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA',
  '$argon2id$v=19$m=65536,t=4,p=1$c29tZQ$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA']) AS h;

-- a stored hash never raises: every refusal is false, a WARNING naming the
-- family (never the hash), and one password.hash_refused event
SELECT max(id) AS before_id FROM acctsec.audit_log \gset
CREATE TEMP TABLE refused (why text, hash text);
INSERT INTO refused VALUES
  ('unknown', 'plain text password'),
  ('unknown', ''),
  ('unknown, Spring scrypt', '{scrypt}$e0801$abc$def'),
  ('malformed Django PBKDF2', 'pbkdf2_sha256$600000$salt$hash'),
  ('malformed Werkzeug digest length', 'pbkdf2:sha256:1000$n7HvUFGdZBqtWO6v$d8bdfa'),
  ('malformed passlib', '$pbkdf2-sha256$1000$lJJyjjEmpLS29j6H8B4jZA$id339!!'),
  ('malformed ASP.NET v3 salt length', 'AQAAAAIAAAPoAAAACFbtumH3NisWr27a9Yi2vGOUGUsSmts736CwURZ3rSDoE/AugxrK1FB54CbJVPSIXA=='),
  ('malformed phpass count', '$P$ZSW9LXmPbPR/l8NtV9S9LcW4sOPVpg1'),
  ('malformed Drupal length', '$S$8qPKU5Rqyvy7a0D3SbQXUiw5ogR.uDxc3fmb1TgRrwulyFDNc0i'),
  ('malformed passlib bcrypt-sha256', '$bcrypt-sha256$v=2,t=2b,r=5$e/x.x5WW1dANzUjDSyBEJe$YHG07U'),
  ('malformed argon2, a repeated parameter', '$argon2id$v=19$m=1024,m=1024,p=2$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA'),
  ('unsupported argon2d', '$argon2d$v=19$m=1024,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CKGe5/bX9YnCq2rxjW5yQXKxn31v1GKzhDCrMc6r6vA'),
  ('unsupported Werkzeug md5', 'pbkdf2:md5:1000$salt$00ff'),
  ('unsupported ASP.NET PRF', 'AQAAAAMAAAPoAAAAEFbtumH3NisWr27a9Yi2vGOUGUsSmts736CwURZ3rSDoE/AugxrK1FB54CbJVPSIXA=='),
  ('over cap: PBKDF2 iterations', 'pbkdf2_sha256$2000001$Xq2cQ2oZ1Jmw$a3SzUUKLS1p6HKPpCcsItYg4zzGdga4lhOVPdHSB3uY='),
  ('over cap: ASP.NET iterations', 'AQAAAAL/////AAAAEFbtumH3NisWr27a9Yi2vGOUGUsSmts736CwURZ3rSDoE/AugxrK1FB54CbJVPSIXA=='),
  ('over cap: scrypt memory', 'scrypt:4194304:8:1$JM4w4vxtEoEvJP41$523c87dba3c0b074f24076a4ec8ec2ec59b05d7bebc752ca20db71cb9a3d8c8cf2801a0039e91b54db13a291f353c67fbd35152b297ad913bae7843212c8ee9d'),
  ('over cap: scrypt p', '$scrypt$ln=10,r=8,p=17$IgTg/N87x7j3PkdoTal1Dg$zG7S5QMr6HguHCJrb774iwcTN5CqwTrFmggvcik8vsA'),
  ('over cap: $7$ memory', '$7$HU..../..../cRGcuvhex3q8dMo0E7A1.$MvQqonEW5B7YD5hMsXS/1zLmytl7ad7HmSoHwq8L/P9'),
  ('over cap: phpass count 2^30', '$P$SSW9LXmPbPR/l8NtV9S9LcW4sOPVpg1'),
  ('over cap: bcrypt in Django', 'bcrypt$$2b$16$0zTjueMNytlaDawMalr.xO.etByYKJf8OLt3k5icJUIj/h8hkDj5G'),
  ('over cap: WordPress bcrypt', '$wp$2y$20$X7Zt29haDddCT0XpQVYCzuLVfUCG9FerqUhZ.UXvLAaE9704cVN92'),
  ('over cap: Spring argon2 memory', '{argon2}$argon2id$v=19$m=1048576,t=1,p=1$9GfV4HCPUh0la7p4lHUInw$TEX38oixR5NaAa/CgeQdOMM1A3bDfm4zK4ASNeiYHpU'),
  ('over cap: sha1crypt rounds', '$sha1$1000001$FaWyIiAw$b297N/qHjQn19Mpz7QWiSAM9YEUm'),
  ('over cap: Django scrypt memory', 'scrypt$4194304$T9XK9UnK5564jnduW3pqTc$8$1$WHFWW9JX6+AwG+ugBbytlzbi7VAQQ2rykYwBDnbBdvFmLWpp2LrcDKWPa9+ec7oYH8RA4XQEvTKgKBligMaZvw==');
SELECT why, regress.error_of(format('SELECT acctsec.password_verify(%L, %L)', 'pw', hash)) AS outcome,
       acctsec.password_verify('correct horse battery staple', hash) AS verified
FROM refused ORDER BY why;
-- one event per refusal (two calls each above), naming family, format and
-- reason, never the hash or the password
SELECT new_values->>'family' AS family, new_values->>'format' AS format,
       new_values->>'reason' AS reason, count(*) AS events
FROM acctsec.audit_log WHERE id > :before_id AND operation = 'password.hash_refused'
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT count(*) AS events_quoting_a_hash_or_password
FROM acctsec.audit_log a, refused r
WHERE a.id > :before_id AND a.operation = 'password.hash_refused'
  AND (length(r.hash) > 0 AND a.new_values::text LIKE '%' || r.hash || '%'
       OR a.new_values::text LIKE '%correct horse%');
-- a lower cap refuses what was fine before
SET acctsec.password_max_iterations = 999;
SELECT acctsec.password_verify('correct horse battery staple', hash) AS over_lower_cap
FROM fw WHERE tool = 'Django pbkdf2_sha256';
RESET acctsec.password_max_iterations;
SET acctsec.password_max_bcrypt_cost = 4;
SELECT acctsec.password_verify('correct horse battery staple', hash) AS over_lower_cap
FROM fw WHERE tool = 'bcryptjs';
RESET acctsec.password_max_bcrypt_cost;
-- in a read-only transaction the WARNING is all (no audit row can be written)
BEGIN READ ONLY;
SELECT acctsec.password_verify('pw', 'plain') AS read_only;
COMMIT;
-- only NULL is an argument error (STRICT: NULL in, NULL out)
SELECT acctsec.password_verify('pw', NULL) IS NULL AS null_hash,
       acctsec.password_hash_format(NULL) IS NULL AS null_format,
       acctsec.password_hash_format('nothing known') IS NULL AS unknown_format;

-- acctsec.login with stored framework hashes: never raises, rehashes in the
-- framework's wrapping (default "framework"), or leaves the hash alone
CREATE TABLE pwf_users (id int PRIMARY KEY, password text);
SELECT acctsec.link_account_table('pwf_users', 'id', '{"password_hash": "password"}');
SELECT mirror FROM acctsec.linked_tables WHERE tbl = 'pwf_users'::regclass;
-- (accounts from 7001: other tests of this database use small account names)
INSERT INTO pwf_users SELECT 7000 + row_number() OVER (ORDER BY tool), hash FROM fw;
CREATE TEMP TABLE before AS SELECT u.id, f.tool, u.password FROM pwf_users u JOIN fw f ON f.hash = u.password;
CREATE TEMP TABLE outcome AS
SELECT id, (acctsec.login(id::text, 'correct horse battery staple')).status FROM before;
SELECT b.tool, o.status,
       CASE WHEN u.password = b.password THEN 'left alone'
            ELSE regexp_replace(u.password, '\$v=19\$.*$', '') END AS stored_now,
       acctsec.password_verify('correct horse battery staple', u.password) AS verifies,
       acctsec.password_needs_rehash(u.password) AS needs_rehash
FROM before b JOIN pwf_users u USING (id) JOIN outcome o USING (id) ORDER BY b.tool;
-- a bad stored hash: failed, with an event naming the account and family
UPDATE pwf_users SET password = 'pbkdf2_sha256$999999999999$Xq2cQ2oZ1Jmw$a3SzUUKLS1p6HKPpCcsItYg4zzGdga4lhOVPdHSB3uY=' WHERE id = 7001;
SELECT max(id) AS before_id FROM acctsec.audit_log \gset
SELECT (acctsec.login('7001', 'Tr0ub4dor&3-leak')).status AS over_cap_login;
SELECT account, new_values FROM acctsec.audit_log
WHERE id > :before_id AND operation = 'password.hash_refused';
-- never weaker: an Argon2id hash with fewer KiB but more passes keeps them
SET acctsec.password_memory_kib = 16384;
SET acctsec.password_iterations = 10;
UPDATE pwf_users SET password = acctsec.password_hash('correct horse battery staple') WHERE id = 7002;
RESET acctsec.password_memory_kib;
RESET acctsec.password_iterations;
SELECT (acctsec.login('7002', 'correct horse battery staple')).status;
SELECT substr(password, 1, 31) AS rehashed_keeping_passes FROM pwf_users WHERE id = 7002;
-- password_rehash "argon2id": the application reads bare Argon2id, so every
-- outdated hash becomes one (wrapped ones keep their wrapping)
SELECT acctsec.link_account_table('pwf_users', 'id', '{"password_hash": "password", "password_rehash": "argon2id"}');
SELECT mirror FROM acctsec.linked_tables WHERE tbl = 'pwf_users'::regclass;
TRUNCATE pwf_users;
INSERT INTO pwf_users SELECT id, password FROM before;
TRUNCATE outcome;
INSERT INTO outcome SELECT id, (acctsec.login(id::text, 'correct horse battery staple')).status FROM before;
SELECT b.tool, o.status,
       CASE WHEN u.password = b.password THEN 'left alone'
            ELSE regexp_replace(u.password, '\$v=19\$.*$', '') END AS stored_now
FROM before b JOIN pwf_users u USING (id) JOIN outcome o USING (id)
WHERE b.tool IN ('Werkzeug pbkdf2:sha256', 'bcryptjs', 'mkpasswd yescrypt', 'Django pbkdf2_sha1', 'Spring {bcrypt}')
ORDER BY b.tool;
-- "never": nothing is rewritten
SELECT acctsec.link_account_table('pwf_users', 'id', '{"password_hash": "password", "password_rehash": "never"}');
TRUNCATE pwf_users;
INSERT INTO pwf_users SELECT id, password FROM before;
SELECT count(*) FILTER (WHERE (acctsec.login(id::text, 'correct horse battery staple')).status = 'ok') AS ok,
       count(*) AS logins FROM pwf_users;
SELECT count(*) AS rewritten FROM before b JOIN pwf_users u USING (id) WHERE u.password <> b.password;
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.link_account_table('pwf_users', 'id', '{"password_hash": "password", "password_rehash": "sometimes"}')$$,
  $$SELECT acctsec.link_account_table('pwf_users', 'id', '{"password_hash": "password", "password_rehash": true}')$$
]) AS s;
-- options only: the columns are detected as for NULL
SELECT acctsec.link_account_table('pwf_users', 'id', '{"password_rehash": "never"}');
SELECT mirror FROM acctsec.linked_tables WHERE tbl = 'pwf_users'::regclass;
SELECT acctsec.unlink_account_table('pwf_users');
SELECT count(*) FILTER (WHERE acctsec.forget_account(id::text)) AS forgotten FROM before;
DROP TABLE pwf_users;
