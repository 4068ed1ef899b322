#!/usr/bin/env bash
# Sessions from a Node application (npm pg, pinned in package.json) over TCP,
# as an application role given its rights by grant_app_role: sign in, check,
# rotate the refresh token, replay the old one within the grace (refused,
# session kept), replay it after the grace (session revoked), two concurrent
# rotations of one token from two connections (one winner), a password-reset
# token used once, and sign-out.
set -eu -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../lib/clients.sh"
npm_install
DB=acctsec_sessions_node
app_db $DB acctsec_node_app "acctsec.session_reuse_grace = '1s'"

rc=0
ACCTSEC_DB=$DB NODE_PATH="$HERE/node_modules" node - <<'JSEOF' || rc=$?
const { Pool } = require('pg');
const fail = (msg) => { console.log('FAIL:', msg); process.exit(1); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  console.log('pg', require('pg/package.json').version);
  const pool = new Pool({ host: process.env.ACCTSEC_TCP_HOST, port: process.env.PGPORT,
                          user: 'acctsec_node_app', database: process.env.ACCTSEC_DB, max: 4 });
  const one = async (sql, args) => (await pool.query(sql, args)).rows[0];
  const check = async (token) => (await pool.query('SELECT * FROM acctsec.session_check($1)', [token])).rows;
  const user = 'node-user-42';

  const grace = await one("SELECT current_setting('acctsec.session_reuse_grace') AS g");
  console.log('reuse grace for this database:', grace.g);

  // sign in: the application checked the password; acctsec decides and starts a session
  const login = await one('SELECT (acctsec.login_attempt($1, true, $2)).*', [user, '203.0.113.7']);
  if (!login.allowed) fail('login not allowed');
  const s = await one('SELECT * FROM acctsec.session_start($1, $2, $3)', [user, '203.0.113.7', 'node-check/1.0']);
  console.log('session', s.session_id, 'token format ok:', /^acs_[A-Za-z0-9_-]{56}$/.test(s.token));
  if (!/^acs_[A-Za-z0-9_-]{56}$/.test(s.token)) fail('token format');
  let rows = await check(s.token);
  if (rows.length !== 1 || rows[0].account !== user || rows[0].session_id !== s.session_id) fail('session_check');

  // refresh: rotate; the old token stops working, the new one works
  const t2 = (await one('SELECT acctsec.session_rotate($1) AS t', [s.token])).t;
  if (!t2 || t2 === s.token) fail('rotation gave no new token');
  if ((await check(s.token)).length !== 0) fail('old token still checks after rotation');
  if ((await check(t2)).length !== 1) fail('new token does not check');
  console.log('rotated: old token refused by session_check, new token accepted');

  // a retry with the old token inside the grace: refused, session kept
  const retry = (await one('SELECT acctsec.session_rotate($1) AS t', [s.token])).t;
  if (retry !== null) fail('old token rotated again within the grace');
  if ((await check(t2)).length !== 1) fail('a replay within the grace revoked the session');
  console.log('replay within the grace: refused, session kept');

  // the stolen old token replayed after the grace: the whole session is revoked
  await sleep(1500);
  const replay = (await one('SELECT acctsec.session_rotate($1) AS t', [s.token])).t;
  if (replay !== null) fail('replay after the grace rotated');
  if ((await check(t2)).length !== 0) fail('session not revoked after reuse');
  const left = await one('SELECT count(*)::int AS n FROM acctsec.sessions($1)', [user]);
  if (left.n !== 0) fail('session still listed');
  console.log('replay after the grace: session revoked, current token refused');

  // two connections rotate one token at the same moment: exactly one wins
  const s2 = await one('SELECT * FROM acctsec.session_start($1)', [user]);
  const results = await Promise.all([1, 2, 3].map(() =>
    one('SELECT acctsec.session_rotate($1) AS t', [s2.token])));
  const winners = results.filter((r) => r.t !== null);
  console.log('concurrent rotations:', results.length, 'winners:', winners.length);
  if (winners.length !== 1) fail('not exactly one winner');
  if ((await check(winners[0].t)).length !== 1) fail('the winner\'s token does not check');

  // a password-reset token: once
  const reset = (await one("SELECT acctsec.token_issue($1, 'password_reset', '15 minutes') AS t", [user])).t;
  if (!/^act_[A-Za-z0-9_-]{56}$/.test(reset)) fail('one-time token format');
  const used = [];
  for (let i = 0; i < 2; i++)
    used.push((await one("SELECT acctsec.token_consume($1, 'password_reset') AS a", [reset])).a);
  console.log('reset token consumed:', JSON.stringify(used));
  if (used[0] !== user || used[1] !== null) fail('one-time token not exactly once');

  // the password changed: all other sessions go, the caller's stays
  const s3 = await one('SELECT * FROM acctsec.session_start($1)', [user]);
  const n = (await one('SELECT acctsec.credentials_changed($1, $2) AS n', [user, s3.token])).n;
  if (n !== 1 || (await check(s3.token)).length !== 1 || (await check(winners[0].t)).length !== 0)
    fail('credentials_changed');
  console.log('credentials_changed revoked', n, 'session, kept the caller\'s');

  // sign out; the application role cannot read the tables
  const ended = (await one('SELECT acctsec.session_end($1) AS e', [s3.token])).e;
  if (ended !== true || (await check(s3.token)).length !== 0) fail('session_end');
  try { await pool.query('SELECT * FROM acctsec.account_sessions'); fail('app role read the sessions table'); }
  catch (e) { if (e.code !== '42501') throw e; console.log('sessions table: permission denied (42501)'); }
  await pool.end();
  console.log('ok');
})().catch((e) => { console.log('FAIL:', e.message); process.exit(1); });
JSEOF
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE acctsec_node_app"
exit $rc
