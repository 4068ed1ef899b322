#!/usr/bin/env bash
# The Node recipe of docs/frameworks.md, run as printed with npm's
# drizzle-orm over node-postgres (pinned in package.json) as an
# application role: Drizzle's own migrator applies the migration drizzle-kit
# writes for the schema, with acctsec's event triggers on; the users table
# is linked; a bcryptjs hash and a node-argon2 hash log in through
# acctsec.login, and node-argon2 verifies what acctsec stored; a stale
# update of the lock columns through Drizzle is replaced, its newer
# last_login_at kept and taken over; lockout; TOTP; updated_at in UTC.
set -eu -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../lib/clients.sh"
npm_install
recipe_setup node acctsec_recipe_node acctsec_node_drizzle
mkdir -p "$DIR/drizzle/meta"

# what drizzle-kit generate writes for schema.js
cat >"$DIR/drizzle/0000_init.sql" <<'SQL'
CREATE TABLE IF NOT EXISTS "users" (
	"id" serial PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"password_hash" text NOT NULL,
	"failed_login_attempts" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"last_login_at" timestamp with time zone,
	"login_count" integer DEFAULT 0 NOT NULL,
	"two_factor_enabled" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp (3) DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_unique" UNIQUE("email")
);
SQL
cat >"$DIR/drizzle/0001_display_name.sql" <<'SQL'
ALTER TABLE "users" ADD COLUMN "display_name" text;--> statement-breakpoint
ALTER TABLE "users" ALTER COLUMN "email" SET DATA TYPE varchar(320);
SQL
cat >"$DIR/drizzle/meta/_journal.json" <<'JSON'
{"version": "7", "dialect": "postgresql", "entries": [
  {"idx": 0, "version": "7", "when": 1730000000000, "tag": "0000_init", "breakpoints": true},
  {"idx": 1, "version": "7", "when": 1730000100000, "tag": "0001_display_name", "breakpoints": true}]}
JSON
export DB ROLE DIR
migrate() {
  NODE_PATH="$HERE/node_modules" node -e '
const { Pool } = require("pg");
const { drizzle } = require("drizzle-orm/node-postgres");
const { migrate } = require("drizzle-orm/node-postgres/migrator");
const fs = require("fs");
const journal = process.env.DIR + "/drizzle/meta/_journal.json";
const j = JSON.parse(fs.readFileSync(journal));
j.entries = j.entries.slice(0, Number(process.argv[1]));
const folder = process.env.DIR + "/drizzle-" + process.argv[1];
fs.mkdirSync(folder + "/meta", { recursive: true });
for (const e of j.entries) fs.copyFileSync(process.env.DIR + "/drizzle/" + e.tag + ".sql", folder + "/" + e.tag + ".sql");
fs.writeFileSync(folder + "/meta/_journal.json", JSON.stringify(j));
(async () => {
  const pool = new Pool({ host: process.env.PGHOST, port: process.env.PGPORT, user: process.env.ROLE, database: process.env.DB });
  await migrate(drizzle(pool), { migrationsFolder: folder });
  console.log("drizzle migrate, " + j.entries.length + " migration(s): ok");
  await pool.end();
})().catch((e) => { console.log("FAIL:", e.message); process.exit(1); });' "$1"
}
migrate 1
"${PSQL[@]}" -d $DB -c "SELECT acctsec.link_account_table('users', 'id')"
echo "users mirror: $("${PSQL[@]}" -d $DB -c "SELECT mirror FROM acctsec.linked_tables")"
migrate 2

rc=0
(cd "$DIR" && NODE_PATH="$HERE/node_modules" node - <<'JSEOF') || rc=$?
const crypto = require('crypto');
const { Pool } = require('pg');
const { drizzle } = require('drizzle-orm/node-postgres');
const { eq, sql } = require('drizzle-orm');
const argon2 = require('argon2');
const bcrypt = require('bcryptjs');
const { users } = require('./schema');
const { login, secondFactor, verifyOwn } = require('./acctsec');

const failed = [];
const check = (what, ok) => { console.log((ok ? 'ok   ' : 'FAIL ') + what); if (!ok) failed.push(what); };
function totp(secret, step) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) bits += abc.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const msg = Buffer.alloc(8); msg.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', key).update(msg).digest();
  const o = mac[19] & 15;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

(async () => {
  const ver = (p) => JSON.parse(require('fs').readFileSync(`${process.env.NODE_PATH}/${p}/package.json`)).version;
  console.log('drizzle-orm', ver('drizzle-orm'), 'pg', ver('pg'), 'argon2', ver('argon2'), 'bcryptjs', ver('bcryptjs'));
  const pool = new Pool({ host: process.env.PGHOST, port: process.env.PGPORT, user: process.env.ROLE,
                          database: process.env.DB, options: '-c TimeZone=America/New_York' });
  const db = drizzle(pool);
  const pw = 'correct horse battery staple';
  const [ann] = await db.insert(users).values({ email: 'ann@example.com', passwordHash: await bcrypt.hash(pw, 10) }).returning();
  const [ben] = await db.insert(users).values({ email: 'ben@example.com', passwordHash: await argon2.hash('ben-pass') }).returning();
  console.log('node-argon2 writes', ben.passwordHash.slice(0, 30) + '...');

  check('login with the bcryptjs hash', await login(db, ann.id, pw, '192.0.2.1') === 'ok');
  let [row] = await db.select().from(users).where(eq(users.id, ann.id));
  console.log('stored after the login:', row.passwordHash.slice(0, 30) + '...');
  check('the application still verifies what is stored', await verifyOwn(row.passwordHash, pw) && !(await verifyOwn(row.passwordHash, 'nope')));
  check('rehashed to Argon2id or left alone', row.passwordHash.startsWith('$argon2id$') || row.passwordHash === ann.passwordHash);
  check('Drizzle reads acctsec\'s login count and time', row.loginCount === 1 && row.lastLoginAt instanceof Date);

  const benLogin = await login(db, ben.id, 'ben-pass').catch((e) => 'error: ' + e.message);
  check('login with node-argon2\'s own default hash: ' + benLogin, benLogin === 'ok');
  [row] = await db.select().from(users).where(eq(users.id, ben.id));
  check('node-argon2 verifies what is stored for it', await argon2.verify(row.passwordHash, 'ben-pass'));

  // the application's own newer last_login_at is kept and acctsec's; a stale lock write is not
  const mine = new Date(Date.now() + 5000);
  await db.update(users).set({ lastLoginAt: mine, failedLoginAttempts: 0 }).where(eq(users.id, ann.id));
  const seen = [];
  for (let i = 0; i < 3; i++) seen.push(await login(db, ann.id, 'wrong'));
  check('wrong passwords: ' + seen.join(', '), seen.join() === 'failed,failed,locked');
  await db.update(users).set({ lockedUntil: null, failedLoginAttempts: 0, email: 'ann@example.org' }).where(eq(users.id, ann.id));
  [row] = await db.select().from(users).where(eq(users.id, ann.id));
  check('a stale write cannot clear the lock; other columns saved', row.lockedUntil > new Date() && row.email === 'ann@example.org');
  check('its newer last_login_at kept', row.lastLoginAt.getTime() === mine.getTime());
  const st = (await pool.query("SELECT last_login_at FROM acctsec.account_status($1)", [String(ann.id)])).rows[0];
  check('and acctsec took it over', st.last_login_at.getTime() === mine.getTime());
  check('locked: right password refused', await login(db, ann.id, pw) === 'locked');

  // TOTP for ben
  const secret = (await pool.query("SELECT secret FROM acctsec.totp_enroll($1, 'app', 'ben')", [String(ben.id)])).rows[0].secret;
  const step = Math.floor(Date.now() / 30000);
  check('totp_confirm', (await pool.query('SELECT acctsec.totp_confirm($1, $2) AS ok', [String(ben.id), totp(secret, step)])).rows[0].ok);
  check('password alone: second factor required', await login(db, ben.id, 'ben-pass') === 'second_factor_required');
  check('the code completes the login', await secondFactor(db, ben.id, totp(secret, step + 1)));
  [row] = await db.select().from(users).where(eq(users.id, ben.id));
  check('two_factor_enabled mirrored', row.twoFactorEnabled === true);

  // updated_at: timestamp(3) in UTC from a New York session; Drizzle reads the instant
  const c = await pool.connect();
  await c.query('BEGIN');
  await c.query("UPDATE users SET display_name = 'raw' WHERE id = $1", [ben.id]);
  const u = (await c.query("SELECT updated_at = (now() AT TIME ZONE 'UTC')::timestamp(3) AS utc FROM users WHERE id = $1", [ben.id])).rows[0];
  await c.query('COMMIT');
  c.release();
  check('raw UPDATE: updated_at in UTC, milliseconds', u.utc === true);
  [row] = await db.select().from(users).where(eq(users.id, ben.id));
  check('Drizzle reads it as now (within a minute)', Math.abs(row.updatedAt.getTime() - Date.now()) < 60000);
  await pool.end();
  process.exit(failed.length ? 1 : 0);
})().catch((e) => { console.log('FAIL:', e.stack); process.exit(1); });
JSEOF
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE $ROLE"
[ $rc -eq 0 ] && echo ok
exit $rc
