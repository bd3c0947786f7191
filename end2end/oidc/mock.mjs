// npm `oauth2-mock-server` wrapped for the portal's interoperability tests: a provider that
// signs (validly, with the key in its JWKS) whatever claims a scenario asks for, or serves a
// hand-made bad token. It is not a full OpenID Connect provider: /authorize redirects back at
// once with a code (no login page, no session), /token answers any code it issued.
//
//   node end2end/oidc/mock.mjs --port 4001 [--profile idporten|mitid-broker|os2faktor] \
//     [--claims '{"pid":"17848512397","given_name":"Ingrid"}'] [--scenario NAME]
//
// The id_token carries `--claims`, plus `acr` (and `loa` for mitid-broker and os2faktor, a
// municipality's staff provider whose `loa` is "3" or "2") echoing the
// `acr_values` the client asked for. Scenarios (default `valid`):
//   wrong-aud, extra-aud, wrong-iss, expired, iat-future, nonce-wrong, nonce-missing,
//   acr-substantial, acr-low, acr-missing, no-national-id: validly signed, wrong claims;
//   alg-none (unsigned), foreign-key (signed by a key not in the JWKS, with the JWKS key's kid),
//   alg-hs256 (HMAC with the client secret): hand-made tokens with otherwise correct claims;
//   callback-iss-wrong: the authorization response names another issuer (RFC 9207 `iss`);
//   auth-time-old, auth-time-missing: `auth_time` an hour old, or left out (otherwise it is
//   the time of the token request), whatever the login asked for (`prompt=login` ignored).
// `--port 0` picks a free port. Prints `ready <issuer>` on stdout once it listens. Test use only.

import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { parseArgs } from 'node:util';
import { OAuth2Server } from 'oauth2-mock-server';

const SCENARIOS = new Set([
  'valid', 'wrong-aud', 'extra-aud', 'wrong-iss', 'expired', 'iat-future', 'nonce-wrong',
  'nonce-missing', 'acr-substantial', 'acr-low', 'acr-missing', 'no-national-id', 'alg-none',
  'foreign-key', 'alg-hs256', 'callback-iss-wrong', 'auth-time-old', 'auth-time-missing',
]);

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    profile: { type: 'string', default: 'idporten' },
    claims: { type: 'string', default: '{}' },
    scenario: { type: 'string', default: 'valid' },
    'client-secret': { type: 'string', default: 'interop-secret-0123456789abcdef' },
  },
});

if (args.port === undefined) {
  console.error('usage: mock.mjs --port N [--profile P] [--claims JSON] [--scenario NAME]');
  process.exit(2);
}
if (!SCENARIOS.has(args.scenario)) {
  console.error(`unknown --scenario ${args.scenario}; one of: ${[...SCENARIOS].join(', ')}`);
  process.exit(2);
}
const scenario = args.scenario;
const mitid = args.profile === 'mitid-broker';
// A municipality's staff provider shaped like OS2faktor: `loa` "3" after a second factor.
const os2faktor = args.profile === 'os2faktor';
const extraClaims = JSON.parse(args.claims);

const NSIS = 'https://data.gov.dk/concept/core/nsis/';
const levels = os2faktor
  ? { low: '2', substantial: '3', high: '3' }
  : mitid
    ? { low: `${NSIS}Low`, substantial: `${NSIS}Substantial`, high: `${NSIS}High` }
    : { low: 'idporten-loa-low', substantial: 'idporten-loa-substantial', high: 'idporten-loa-high' };

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');

// The acr_values each code was issued for.
const requestedAcr = new Map();

server.service.on('beforeAuthorizeRedirect', ({ url }, req) => {
  const code = url.searchParams.get('code');
  if (code) requestedAcr.set(code, typeof req.query.acr_values === 'string' ? req.query.acr_values : undefined);
  if (scenario === 'callback-iss-wrong') url.searchParams.set('iss', 'http://127.0.0.1:1/another-issuer');
});

server.service.on('beforeTokenSigning', (token, req) => {
  const { payload } = token;
  // The access token carries `scope`; the id_token does not (and has the client as `aud`).
  if (!('aud' in payload) || 'scope' in payload) return;
  const now = Math.floor(Date.now() / 1000);
  const asked = requestedAcr.get(req.body.code)?.split(' ')[0] ?? levels.substantial;
  let acr = asked;
  if (scenario === 'acr-substantial') acr = levels.substantial;
  if (scenario === 'acr-low') acr = levels.low;
  Object.assign(payload, extraClaims, { sub: 'interop-subject', sid: 'interop-sid', auth_time: now });
  if (scenario === 'acr-missing') {
    delete payload.acr;
  } else {
    payload.acr = acr;
    if (mitid || os2faktor) payload.loa = acr;
  }
  if (scenario === 'no-national-id') {
    delete payload.pid;
    delete payload['dk.cpr'];
  }
  switch (scenario) {
    case 'wrong-aud': payload.aud = 'another-client'; break;
    case 'extra-aud': payload.aud = [payload.aud, 'another-client']; break;
    case 'wrong-iss': payload.iss = 'http://127.0.0.1:1/another-issuer'; break;
    case 'expired': Object.assign(payload, { iat: now - 7200, nbf: now - 7200, exp: now - 3600 }); break;
    case 'iat-future': Object.assign(payload, { iat: now + 3600, nbf: now + 3600, exp: now + 7200 }); break;
    case 'nonce-wrong': payload.nonce = 'not-the-nonce-the-client-sent'; break;
    case 'nonce-missing': delete payload.nonce; break;
    // An hour-old authentication, whatever the login asked for (prompt=login ignored).
    case 'auth-time-old': payload.auth_time = now - 3600; break;
    case 'auth-time-missing': delete payload.auth_time; break;
    default: break;
  }
});

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const foreignKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

server.service.on('beforeResponse', (response, req) => {
  const idToken = response.body.id_token;
  if (typeof idToken !== 'string') return;
  const [headerPart, payloadPart] = idToken.split('.');
  const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'));
  const claims = Buffer.from(payloadPart, 'base64url').toString('utf8');
  switch (scenario) {
    case 'alg-none':
      response.body.id_token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
      break;
    case 'foreign-key': {
      const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: header.kid })}.${b64(claims)}`;
      response.body.id_token = `${input}.${sign('sha256', Buffer.from(input), foreignKey).toString('base64url')}`;
      break;
    }
    case 'alg-hs256': {
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: header.kid })}.${b64(claims)}`;
      const mac = createHmac('sha256', args['client-secret']).update(input).digest('base64url');
      response.body.id_token = `${input}.${mac}`;
      break;
    }
    default: break;
  }
  void req;
});

// `--port 0` picks a free port; the issuer is named after the real one.
await server.start(Number(args.port), '127.0.0.1');
server.issuer.url = `http://127.0.0.1:${server.address().port}`;
console.log(`ready ${server.issuer.url}`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.stop().finally(() => process.exit(0)));
}
