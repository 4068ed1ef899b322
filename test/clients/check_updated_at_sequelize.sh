#!/usr/bin/env bash
# updated_at with Sequelize (npm, pinned in package.json) over node-postgres
# on the unix socket: sync() creates the table with Sequelize's camelCase
# "updatedAt", acctsec attaches the trigger by itself, and raw SQL writes
# that bypass the model still move the column.
set -eu -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../lib/clients.sh"
npm_install
DB=acctsec_ua_sequelize
fresh_db $DB acctsec

rc=0
ACCTSEC_DB=$DB NODE_PATH="$HERE/node_modules" node - <<'JSEOF' || rc=$?
const { Sequelize, DataTypes, QueryTypes } = require('sequelize');
const fail = (msg) => { console.log('FAIL:', msg); process.exit(1); };
(async () => {
  const sequelize = new Sequelize(process.env.ACCTSEC_DB, process.env.PGUSER, null, {
    host: process.env.PGHOST, port: process.env.PGPORT, dialect: 'postgres', logging: false,
  });
  console.log('Sequelize', require('sequelize/package.json').version);
  const User = sequelize.define('User', { email: DataTypes.STRING });      // timestamps: true
  const Tag = sequelize.define('Tag', { name: DataTypes.STRING }, { timestamps: false });
  await sequelize.sync();

  const q = (sql, opts = {}) => sequelize.query(sql, { type: QueryTypes.SELECT, ...opts });
  const triggers = await q(`SELECT tgrelid::regclass::text AS tbl, pg_get_triggerdef(oid) AS def
                            FROM pg_trigger WHERE tgname = 'acctsec_updated_at' ORDER BY 1`);
  console.log('triggers:', JSON.stringify(triggers));
  if (triggers.length !== 1 || triggers[0].tbl !== '"Users"') fail('sync() table did not get the trigger (or a table without updatedAt did)');
  const col = await q(`SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute
                       WHERE attrelid = '"Users"'::regclass AND attname = 'updatedAt'`);
  console.log('"updatedAt" is', col[0].t);

  await User.create({ email: 'a@example.com' });
  // raw SQL that does not know about updatedAt: INSERT with no value at all
  await sequelize.query(`INSERT INTO "Users" (email, "createdAt") VALUES ('raw@example.com', now())`);
  await sequelize.query(`UPDATE "Users" SET "updatedAt" = '2000-01-01 00:00:00+00'`);
  const kept = await q(`SELECT count(*)::int AS n FROM "Users" WHERE "updatedAt" = '2000-01-01 00:00:00+00'`);
  if (kept[0].n !== 2) fail('explicit "updatedAt" not kept');

  const moved = await sequelize.transaction(async (t) => {
    await sequelize.query(`UPDATE "Users" SET email = upper(email)`, { transaction: t });
    return q(`SELECT bool_and("updatedAt" = now()) AS ok FROM "Users"`, { transaction: t });
  });
  console.log('raw UPDATE: "updatedAt" = now():', moved[0].ok);
  if (moved[0].ok !== true) fail('raw UPDATE did not move "updatedAt"');

  const u = await User.findOne({ where: { email: 'A@EXAMPLE.COM' } });   // the model sees it
  if (!(u.updatedAt > new Date('2001-01-01'))) fail('model does not see the new "updatedAt"');
  await sequelize.close();
  console.log('ok');
})().catch((e) => { console.log('FAIL:', e.message); process.exit(1); });
JSEOF
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
exit $rc
