// Reads an otpauth:// URI on stdin and prints the TOTP codes for the current
// step and the next one, computed by the otpauth package (an independent
// implementation) from the URI alone, then what it read from the URI:
// issuer|label|algorithm|digits|period.
import * as OTPAuth from "otpauth";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const totp = OTPAuth.URI.parse(input.trim());
const now = Date.now();
console.log(totp.generate({ timestamp: now }));
console.log(totp.generate({ timestamp: now + totp.period * 1000 }));
console.log([totp.issuer, totp.label, totp.algorithm, totp.digits, totp.period].join("|"));
