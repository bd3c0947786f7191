// The demo agency's side of the agency API, for tests that need an agency to act: a token
// signed with the demo agency's key (made by the portal at first start; `cargo xtask test`
// passes its path in DEMO_AGENCY_KEY).
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A token for the demo agency, for `audience` (the portal's origin). */
export function agencyToken(audience: string): string {
  const path = process.env.DEMO_AGENCY_KEY;
  if (!path) throw new Error('DEMO_AGENCY_KEY is not set: run the browser tests with `cargo xtask test`');
  const key = createPrivateKey(readFileSync(path));
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${part({ alg: 'ES256', typ: 'JWT' })}.${part({
    iss: 'demo-agency',
    aud: audience,
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
  })}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}
