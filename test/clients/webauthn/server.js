// The application side of the browser check (check_passkeys_browser.sh): a
// page and a JSON API over node's http module, calling acctsec through npm
// pg as an application role.  The page's script is the browser block of
// docs/passkeys.md, taken from the page itself, so the docs' example is the
// code that runs.
//
// The "signed-in" account (for registration) and a few test knobs live in
// `state`, which the driver sets: `alg` narrows pubKeyCredParams to one
// algorithm (how the check makes the virtual authenticator use EdDSA), and
// `hold` makes the finish endpoints keep the browser's response instead of
// sending it to acctsec, for the cross-check to verify and mutate.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

const DOCS = path.join(__dirname, '..', '..', '..', 'docs', 'passkeys.md');
const MARK = '// passkeys.js:';

// The one ```js block of the page that starts with the marker line.
function docsClientCode() {
  const md = fs.readFileSync(DOCS, 'utf8');
  const blocks = [...md.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  const mine = blocks.filter((b) => b.startsWith(MARK));
  if (mine.length !== 1)
    throw new Error(`docs/passkeys.md: expected one js block starting "${MARK}", found ${mine.length}`);
  return mine[0];
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>acctsec passkeys</title>
<script src="/passkeys.js"></script></head>
<body><p>acctsec passkeys check page</p></body></html>
`;

// state.pool: the application role's pg Pool
function createApp(state) {
  const clientJs = docsClientCode();
  const one = async (sql, args) => (await state.pool.query(sql, args)).rows[0];
  const routes = {
    async '/passkeys/register/begin'() {
      const { o } = await one('SELECT acctsec.passkey_register_begin($1) AS o', [state.account]);
      if (state.alg !== undefined)
        o.pubKeyCredParams = o.pubKeyCredParams.filter((p) => p.alg === state.alg);
      state.issued.register = o;
      return o;
    },
    async '/passkeys/register/finish'(body) {
      state.captured.register = body.credential;
      if (state.hold) return { held: true };
      const { id } = await one('SELECT acctsec.passkey_register_finish($1, $2::jsonb, $3) AS id',
                               [state.account, body.credential, body.name ?? null]);
      return { id };
    },
    async '/passkeys/login/begin'(body) {
      const { o } = await one('SELECT acctsec.passkey_login_begin($1) AS o', [body.username ?? null]);
      state.issued.login = o;
      return o;
    },
    async '/passkeys/login/finish'(body, req) {
      state.captured.login = body;
      if (state.hold) return { held: true };
      const ip = req.socket.remoteAddress.replace(/^::ffff:/, '');
      return one('SELECT * FROM acctsec.passkey_login_finish($1::jsonb, $2::inet, $3)',
                 [body, ip, req.headers['user-agent']]);
    },
  };
  return async (req, res) => {
    const send = (status, type, text) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(text);
    };
    try {
      if (req.method === 'GET' && req.url === '/') return send(200, 'text/html', PAGE);
      if (req.method === 'GET' && req.url === '/favicon.ico') return send(204, 'text/plain', '');
      if (req.method === 'GET' && req.url === '/passkeys.js') return send(200, 'text/javascript', clientJs);
      const route = routes[req.url];
      if (req.method !== 'POST' || !route) return send(404, 'text/plain', 'not found');
      let raw = '';
      for await (const chunk of req) {
        raw += chunk;
        if (raw.length > 128 * 1024) return send(413, 'text/plain', 'too large');
      }
      const answer = await route(raw ? JSON.parse(raw) : {}, req);
      send(200, 'application/json', JSON.stringify(answer));
    } catch (e) {
      // acctsec's refusals (22023, 23505) go back to the page as they are
      send(e.code ? 400 : 500, 'application/json', JSON.stringify({ error: e.message, code: e.code }));
    }
  };
}

// Listen on a free loopback port; resolves to the port.
function listen(handler) {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

module.exports = { createApp, listen, docsClientCode };
