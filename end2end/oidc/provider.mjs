// A real, independent OpenID Connect provider (npm `oidc-provider`) shaped like ID-porten or a
// MitID broker, for the portal's interoperability tests (server/tests/interop.rs).
//
//   node end2end/oidc/provider.mjs --port 4000 \
//     --client-redirect http://127.0.0.1:3000/auth/callback \
//     [--profile idporten|mitid-broker|os2faktor] [--client-id portal] [--client-secret secret] \
//     [--client-jwks '{"keys":[…]}'  (private_key_jwt instead of the secret)] \
//     [--post-logout-redirect URL] [--backchannel-logout-uri URL] \
//     [--account 'ingrid={"pid":"17848512397","given_name":"Ingrid","family_name":"Solberg"}']...
//
// Login: the interaction page finishes at once when the authorization request carries
// `login_hint=<account>[:<level>]` (level `low`, `substantial` or `high`; without one, the level
// the client asked for in `acr_values`), `login_hint=cancel` ends the login with access_denied;
// otherwise it shows a small form. Test helpers: `GET /__test/interactions` (what each
// interaction saw) and `GET /__test/backchannel` (every logout token sent, and the answer).
// `--port 0` picks a free port. Prints `ready <issuer>` on stdout once it answers. Test use
// only: never expose it.

import { createServer } from 'node:http';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'client-redirect': { type: 'string' },
    'client-id': { type: 'string', default: 'portal' },
    'client-secret': { type: 'string', default: 'interop-secret-0123456789abcdef' },
    // A JSON Web Key Set: the client authenticates with private_key_jwt instead of a secret.
    'client-jwks': { type: 'string' },
    profile: { type: 'string', default: 'idporten' },
    'post-logout-redirect': { type: 'string' },
    'backchannel-logout-uri': { type: 'string' },
    account: { type: 'string', multiple: true, default: [] },
  },
});

if (args.port === undefined || !args['client-redirect']) {
  console.error('usage: provider.mjs --port N --client-redirect URL [options]');
  process.exit(2);
}
if (!['idporten', 'mitid-broker', 'os2faktor'].includes(args.profile)) {
  console.error(`unknown --profile ${args.profile} (idporten, mitid-broker or os2faktor)`);
  process.exit(2);
}

// Listen first (port 0 picks a free one), then name the issuer after the real port.
const server = createServer((req, res) => handle(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(args.port), '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;
const redirect = args['client-redirect'];
const clientOrigin = new URL(redirect).origin;
const mitid = args.profile === 'mitid-broker';
// A municipality's staff provider shaped like OS2faktor: `loa` "3" after a second factor, "2"
// without; roles in `roles` (from the account's claims).
const os2faktor = args.profile === 'os2faktor';

// Levels of assurance as each profile names them.
const NSIS = 'https://data.gov.dk/concept/core/nsis/';
const levels = os2faktor
  ? { low: '2', substantial: '3', high: '3' }
  : mitid
    ? { low: `${NSIS}Low`, substantial: `${NSIS}Substantial`, high: `${NSIS}High` }
    : { low: 'idporten-loa-low', substantial: 'idporten-loa-substantial', high: 'idporten-loa-high' };

// Synthetic persons: from --account, else one per profile (the portal's demo persons).
const accounts = new Map();
for (const spec of args.account) {
  const eq = spec.indexOf('=');
  if (eq < 1) {
    console.error(`--account must be name={json claims}: ${spec}`);
    process.exit(2);
  }
  accounts.set(spec.slice(0, eq), JSON.parse(spec.slice(eq + 1)));
}
if (accounts.size === 0) {
  if (os2faktor) {
    accounts.set('mette', { name: 'Mette Sagsbehandler', roles: ['borgerservice'] });
  } else if (mitid) {
    accounts.set('mette', { 'dk.cpr': '2309721846', given_name: 'Mette', family_name: 'Kjærgaard Nielsen' });
  } else {
    accounts.set('ingrid', { pid: '17848512397', given_name: 'Ingrid', family_name: 'Solberg' });
  }
}

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
Object.assign(signingKey, { kid: 'interop-rs256', use: 'sig', alg: 'RS256' });

// What the tests can ask afterwards.
const seenInteractions = [];
const sentLogoutTokens = [];

const clientAuth = args['client-jwks']
  ? {
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: JSON.parse(args['client-jwks']),
    }
  : { token_endpoint_auth_method: 'client_secret_basic', client_secret: args['client-secret'] };

const configuration = {
  clients: [{
    client_id: args['client-id'],
    ...clientAuth,
    redirect_uris: [redirect],
    post_logout_redirect_uris: [args['post-logout-redirect'] ?? `${clientOrigin}/logged-out`],
    backchannel_logout_uri: args['backchannel-logout-uri'] ?? `${clientOrigin}/auth/backchannel-logout`,
    backchannel_logout_session_required: true,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: 'RS256',
    // ID-porten gives each client its own `sub` for a person.
    subject_type: 'pairwise',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  // `pid` (ID-porten) and `loa` (MitID broker) come with `openid`; the CPR with scope `ssn`.
  claims: {
    openid: ['sub', 'pid', 'loa', 'roles'],
    profile: ['name', 'given_name', 'family_name', 'locale'],
    ssn: ['dk.cpr'],
  },
  acrValues: [...new Set(Object.values(levels))],
  subjectTypes: ['public', 'pairwise'],
  pairwiseIdentifier: async (ctx, accountId, client) => createHash('sha256')
    .update(`${client.sectorIdentifier}|${accountId}|interop`)
    .digest('base64url'),
  // Custom claims such as `pid` go into the id_token itself, as at ID-porten.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // `token` is the authorization code at the token endpoint: its `acr` is the level the login
  // was made at, which a MitID broker also sends as `loa`.
  async findAccount(ctx, sub, token) {
    const claims = accounts.get(sub);
    if (!claims) return undefined;
    return {
      accountId: sub,
      async claims() {
        const name = [claims.given_name, claims.family_name].filter(Boolean).join(' ');
        const loa = (mitid || os2faktor) && token?.acr ? { loa: token.acr } : {};
        return { sub, ...(name ? { name } : {}), ...loa, ...claims };
      },
    };
  },
  // A first-party client: the grant is given at once (no consent screen), for what it asked.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const grant = await ctx.oidc.provider.Grant.find(grantId);
      if (grant) {
        grant.addOIDCScope(ctx.oidc.params.scope);
        await grant.save();
        return grant;
      }
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
  // The library refuses to call special-use addresses (127.0.0.1 among them); the portal under
  // test listens there. Record each back-channel logout token for the tests.
  async fetch(url, options) {
    const { dispatcher, ...rest } = options;
    const token = rest.body instanceof URLSearchParams ? rest.body.get('logout_token') : null;
    const response = await globalThis.fetch(url, rest);
    if (token) {
      sentLogoutTokens.push({ url: String(url), logout_token: token, status: response.status });
    }
    return response;
  },
  async renderError(ctx, out, error) {
    console.error('provider error page:', out, error?.message);
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><title>error</title><h1>${escape(out.error)}</h1><p>${escape(out.error_description)}</p>`;
  },
};

function escape(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const provider = new Provider(issuer, configuration);
for (const event of ['server_error', 'backchannel.error', 'grant.error', 'end_session.error']) {
  provider.on(event, (...details) => {
    const error = details.find((d) => d instanceof Error);
    console.error(`provider ${event}:`, error?.message ?? details);
  });
}

/** `account[:level]` → the account id and the acr to report (or null for an unknown account). */
function chooseLogin(hint, requestedAcr) {
  const [account, level] = hint.split(':');
  if (!accounts.has(account)) return null;
  let acr;
  if (level === undefined || level === '') {
    acr = requestedAcr?.split(' ')[0] ?? levels.substantial;
  } else {
    acr = levels[level] ?? level;
  }
  return { accountId: account, acr };
}

async function finishLogin(req, res, login) {
  await provider.interactionFinished(req, res, {
    login: { accountId: login.accountId, acr: login.acr, amr: ['pwd'] },
  }, { mergeWithLastSubmission: false });
}

function html(res, status, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Interop eID</title></head><body>${body}</body></html>`);
}

function json(res, value) {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(value));
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res, path) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, uid } = details;
  if (req.method === 'GET' && path === `/interaction/${uid}`) {
    seenInteractions.push({
      uid,
      prompt: prompt.name,
      reasons: prompt.reasons,
      params,
      had_session: Boolean(details.session?.accountId),
    });
    if (prompt.name !== 'login') {
      // Consent is granted by loadExistingGrant; anything else is unexpected here.
      await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
      return;
    }
    if (params.login_hint === 'cancel') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'the person cancelled',
      }, { mergeWithLastSubmission: false });
      return;
    }
    if (params.login_hint) {
      const login = chooseLogin(params.login_hint, params.acr_values);
      if (login) {
        await finishLogin(req, res, login);
        return;
      }
    }
    const options = [...accounts.keys()]
      .map((a) => `<option value="${escape(a)}">${escape(a)}</option>`).join('');
    const levelOptions = Object.keys(levels)
      .map((l) => `<option value="${l}"${l === 'substantial' ? ' selected' : ''}>${l}</option>`).join('');
    html(res, 200, `<h1>Interop eID (${escape(args.profile)})</h1>
      <form method="post" action="/interaction/${escape(uid)}/login">
        <label>Person <select name="account">${options}</select></label>
        <label>Level <select name="level">${levelOptions}</select></label>
        <button type="submit">Log in</button>
      </form>
      <form method="post" action="/interaction/${escape(uid)}/abort"><button>Cancel</button></form>`);
    return;
  }
  if (req.method === 'POST' && path === `/interaction/${uid}/login`) {
    const form = await readForm(req);
    const login = chooseLogin(`${form.get('account')}:${form.get('level') ?? ''}`, params.acr_values);
    if (!login) {
      html(res, 400, '<p>Unknown person.</p>');
      return;
    }
    await finishLogin(req, res, login);
    return;
  }
  if (req.method === 'POST' && path === `/interaction/${uid}/abort`) {
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'the person cancelled',
    }, { mergeWithLastSubmission: false });
    return;
  }
  html(res, 404, '<p>Not found.</p>');
}

const oidcHandler = provider.callback();
async function handle(req, res) {
  const path = new URL(req.url, issuer).pathname;
  try {
    if (path.startsWith('/interaction/')) {
      await interaction(req, res, path);
    } else if (req.method === 'GET' && path === '/__test/interactions') {
      json(res, seenInteractions);
    } else if (req.method === 'GET' && path === '/__test/backchannel') {
      json(res, sentLogoutTokens);
    } else {
      oidcHandler(req, res);
    }
  } catch (error) {
    console.error('interaction failed:', error);
    if (!res.headersSent) html(res, 500, `<p>${escape(error.message)}</p>`);
  }
}

console.log(`ready ${issuer}`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
