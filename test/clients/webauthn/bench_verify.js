// For test/bench/passkeys.sh: verify the login responses in a file (made by
// the bench, each with its expected challenge, stored counter and COSE key)
// with @simplewebauthn/server, one after the other; prints the number
// verified and verifications per second.  Not a test.
'use strict';
const fs = require('fs');
const { verifyAuthenticationResponse } = require('@simplewebauthn/server');

(async () => {
  const { origin, rpID, items } = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const inputs = items.map((it) => ({
    response: it.response, expectedChallenge: it.challenge, expectedOrigin: origin, expectedRPID: rpID,
    requireUserVerification: false,   // acctsec's default, 'preferred'
    credential: { id: it.response.id, publicKey: Buffer.from(it.publicKey, 'base64url'), counter: it.counter },
  }));
  // a warm-up pass over a tenth, then the timed pass over all
  for (const i of inputs.slice(0, Math.ceil(inputs.length / 10))) await verifyAuthenticationResponse(i);
  let ok = 0;
  const t = process.hrtime.bigint();
  for (const i of inputs) if ((await verifyAuthenticationResponse(i)).verified) ok++;
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(ok, (inputs.length / secs).toFixed(1));
})().catch((e) => { console.error(e); process.exit(1); });
