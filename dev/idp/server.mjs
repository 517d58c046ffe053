#!/usr/bin/env node
// Tavle development identity provider.
//
// One process, one port, two OpenID Connect providers (each its own issuer):
//   <base>/feide     Feide-like (staff and pupils)
//   <base>/idporten  ID-porten-like (guardians)
//
// FOR DEVELOPMENT AND AUTOMATED TESTS ONLY. There are no passwords: anyone who can
// reach the port can log in as any configured account at any assurance level.
//
// Built on the OpenID-certified `oidc-provider` package; only Node built-ins besides.
// See README.md in this directory for configuration, the login form and the claims.
//
// stdout carries exactly one line, the ready line:
//   {"ready":true,"port":PORT,"feide":"<issuer>","idporten":"<issuer>"}
// Everything else goes to stderr.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// oidc-provider prints notices with console.info (stdout). stdout is reserved for
// the ready line, so route every console method to stderr before loading it.
for (const method of ['log', 'info', 'debug']) {
  console[method] = (...args) => console.error(...args);
}

const generateKeyPair = promisify(crypto.generateKeyPair);

// RSA key generation runs on the libuv thread pool; start it now so it overlaps with
// loading oidc-provider (start-up time matters to the test harness).
const earlyKeys = process.env.IDP_JWKS_FILE || process.argv.includes('--generate-jwks')
  ? undefined
  : Promise.all([generateJwks(), generateJwks()]);
earlyKeys?.catch(() => {}); // reported when awaited

const { default: Provider } = await import('oidc-provider');

const HERE = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------
// Constants: claims, scopes and assurance levels of the two providers
// ---------------------------------------------------------------------------

const EPPN_CLAIM = 'https://n.feide.no/claims/eduPersonPrincipalName';
const USERID_SEC_CLAIM = 'https://n.feide.no/claims/userid_sec';

// Offered in the login form, highest first; the first one is the default.
const FEIDE_ACR = [
  {
    value: 'urn:mace:feide.no:auth:level:fad08:3',
    label: 'Flerfaktor: passord og engangskode (fad08:3)',
    amr: ['pwd', 'otp', 'mfa'],
    advertised: true,
  },
  {
    value: 'urn:mace:feide.no:auth:level:fad08:2',
    label: 'Kun passord, ett faktor (fad08:2)',
    amr: ['pwd'],
    advertised: true,
  },
];

const IDPORTEN_ACR = [
  {
    value: 'idporten-loa-high',
    label: 'Høyt (idporten-loa-high)',
    amr: ['TestID'],
    advertised: true,
  },
  {
    value: 'idporten-loa-substantial',
    label: 'Betydelig (idporten-loa-substantial)',
    amr: ['TestID'],
    advertised: true,
  },
  {
    value: 'Level4',
    label: 'Level4 (utgått verdi – tjenesten skal avvise den)',
    amr: ['TestID'],
    advertised: false,
  },
  {
    value: 'Level3',
    label: 'Level3 (utgått verdi – tjenesten skal avvise den)',
    amr: ['TestID'],
    advertised: false,
  },
];

const KINDS = {
  feide: {
    name: 'feide',
    title: 'Feide',
    acr: FEIDE_ACR,
    scopes: ['openid', 'profile', 'userid-feide'],
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      profile: ['name'],
      'userid-feide': [EPPN_CLAIM, USERID_SEC_CLAIM],
    },
    usernameLabel: 'Feide-brukernavn',
    usernameNoun: 'Feide-brukernavn',
    usernameHint: 'For eksempel ola.nordmann',
    usernameInputAttrs: 'autocomplete="username" autocapitalize="none" spellcheck="false"',
  },
  idporten: {
    name: 'idporten',
    title: 'ID-porten',
    acr: IDPORTEN_ACR,
    scopes: ['openid', 'profile'],
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time', 'locale'],
      profile: ['pid'],
    },
    usernameLabel: 'Fødselsnummer (11 siffer)',
    usernameNoun: 'fødselsnummer',
    usernameHint: 'Syntetisk testnummer, som i ID-portens TestID',
    usernameInputAttrs: 'inputmode="numeric" autocomplete="off"',
  },
};

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

const DEBUG = /^(1|true|yes)$/i.test(process.env.IDP_DEBUG ?? '');

function log(...args) {
  console.error('[dev-idp]', ...args);
}

function debug(...args) {
  if (DEBUG) console.error('[dev-idp]', ...args);
}

function die(message) {
  console.error(`[dev-idp] fatal: ${message}`);
  process.exit(2);
}

function intFromEnv(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) die(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) die(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function fileFromEnv(name, defaultFile) {
  const raw = process.env[name];
  return raw ? path.resolve(raw) : path.join(HERE, defaultFile);
}

function readJsonFile(file, what) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    die(`cannot read ${what} (${file}): ${err.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    die(`${what} (${file}) is not valid JSON: ${err.message}`);
  }
  return undefined;
}

function escapeHtml(value) {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function isNonEmptyString(value) {
  return typeof value === 'string' && value.trim() !== '';
}

function b64url(buffer) {
  return Buffer.from(buffer).toString('base64url');
}

// ---------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------

// ID-porten gives each service an opaque, pairwise-looking `sub`; the dev IdP derives
// one from the pid so it is stable across restarts but is not the pid itself.
function idportenSubFor(pid) {
  return b64url(crypto.createHash('sha256').update(`tavle-dev-idp:idporten:${pid}`).digest());
}

function loadAccounts(file) {
  const raw = readJsonFile(file, 'IDP_ACCOUNTS');
  if (!raw || typeof raw !== 'object') die(`IDP_ACCOUNTS (${file}) must hold a JSON object`);

  const feide = [];
  const seenFeide = new Set();
  for (const [i, a] of (raw.feide ?? []).entries()) {
    const where = `IDP_ACCOUNTS feide[${i}]`;
    for (const field of ['sub', 'username', 'name', 'eppn']) {
      if (!isNonEmptyString(a?.[field])) die(`${where}: "${field}" must be a non-empty string`);
    }
    const username = a.username.trim();
    if (seenFeide.has(`u:${username.toLowerCase()}`)) die(`${where}: duplicate username ${username}`);
    if (seenFeide.has(`s:${a.sub}`)) die(`${where}: duplicate sub ${a.sub}`);
    seenFeide.add(`u:${username.toLowerCase()}`);
    seenFeide.add(`s:${a.sub}`);
    feide.push({
      accountId: a.sub,
      username,
      display: `${a.name} (${a.eppn})`,
      claims: {
        sub: a.sub,
        name: a.name,
        [EPPN_CLAIM]: a.eppn,
        [USERID_SEC_CLAIM]: [`feide:${a.eppn}`],
      },
    });
  }

  const idporten = [];
  const seenPid = new Set();
  for (const [i, a] of (raw.idporten ?? []).entries()) {
    const where = `IDP_ACCOUNTS idporten[${i}]`;
    if (typeof a?.pid !== 'string' || !/^\d{11}$/.test(a.pid)) die(`${where}: "pid" must be a string of 11 digits`);
    if (!isNonEmptyString(a.name)) die(`${where}: "name" must be a non-empty string`);
    if (a.sub !== undefined && !isNonEmptyString(a.sub)) die(`${where}: "sub", if given, must be a non-empty string`);
    if (a.locale !== undefined && !isNonEmptyString(a.locale)) die(`${where}: "locale", if given, must be a non-empty string`);
    if (seenPid.has(a.pid)) die(`${where}: duplicate pid ${a.pid}`);
    seenPid.add(a.pid);
    const sub = a.sub ?? idportenSubFor(a.pid);
    idporten.push({
      accountId: sub,
      username: a.pid,
      display: a.name,
      // The name is only shown in the login form: ID-porten itself does not release it.
      claims: { sub, pid: a.pid, locale: a.locale ?? 'nb' },
    });
  }

  return { feide, idporten };
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function loadClients(file) {
  const raw = readJsonFile(file, 'IDP_CLIENTS');
  if (!raw || typeof raw !== 'object') die(`IDP_CLIENTS (${file}) must hold a JSON object`);
  const out = {};
  for (const kind of Object.keys(KINDS)) {
    out[kind] = { metadata: [], anyLoopbackPort: new Set() };
    for (const [i, c] of (raw[kind] ?? []).entries()) {
      const where = `IDP_CLIENTS ${kind}[${i}]`;
      if (!isNonEmptyString(c?.client_id)) die(`${where}: "client_id" must be a non-empty string`);
      if (!isNonEmptyString(c.client_secret)) die(`${where}: "client_secret" must be a non-empty string`);
      if (!Array.isArray(c.redirect_uris) || c.redirect_uris.length === 0) die(`${where}: "redirect_uris" must be a non-empty array`);
      const authMethod = c.token_endpoint_auth_method ?? 'client_secret_basic';
      if (!['client_secret_basic', 'client_secret_post'].includes(authMethod)) {
        die(`${where}: token_endpoint_auth_method must be client_secret_basic or client_secret_post`);
      }
      out[kind].metadata.push({
        client_id: c.client_id,
        client_secret: c.client_secret,
        ...(c.client_name ? { client_name: c.client_name } : {}),
        redirect_uris: c.redirect_uris,
        post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: authMethod,
        id_token_signed_response_alg: 'RS256',
      });
      if (c.allow_any_loopback_port === true) out[kind].anyLoopbackPort.add(c.client_id);
    }
  }
  return out;
}

// RFC 8252 §7.3-style matching: a registered http://127.0.0.1/... (or localhost, [::1])
// URI also matches the same URI on any port. Used for clients with
// "allow_any_loopback_port": true so tests can run the app on a random port.
function loopbackMatches(registered, value) {
  let want;
  let got;
  try {
    want = new URL(registered);
    got = new URL(value);
  } catch {
    return false;
  }
  return want.protocol === 'http:' && got.protocol === 'http:'
    && LOOPBACK_HOSTS.has(want.hostname) && got.hostname === want.hostname
    && got.pathname === want.pathname && got.search === want.search
    && got.hash === '' && got.username === '' && got.password === '';
}

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

function jwkThumbprint(jwk) {
  const members = jwk.kty === 'RSA'
    ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
    : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return b64url(crypto.createHash('sha256').update(JSON.stringify(members)).digest());
}

async function generateJwks() {
  const { privateKey } = await generateKeyPair('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: jwkThumbprint(jwk), alg: 'RS256', use: 'sig' }] };
}

function checkJwks(jwks, where) {
  if (!jwks || !Array.isArray(jwks.keys) || jwks.keys.length === 0) die(`${where} must be a JWKS: {"keys":[...]}`);
  const keys = jwks.keys.map((k, i) => {
    if (!k || typeof k !== 'object' || typeof k.d !== 'string') die(`${where} keys[${i}] must be a private JWK (with "d")`);
    return { ...k, kid: k.kid ?? jwkThumbprint(k) };
  });
  if (!keys.some((k) => k.kty === 'RSA' && (k.alg === undefined || k.alg === 'RS256') && k.use !== 'enc')) {
    die(`${where} needs at least one RSA signing key usable with RS256`);
  }
  return { keys };
}

// IDP_JWKS_FILE holds either one JWKS used by both providers ({"keys":[...]}) or one
// per provider ({"feide":{"keys":[...]},"idporten":{"keys":[...]}}).
function loadJwksFile(file) {
  const raw = readJsonFile(file, 'IDP_JWKS_FILE');
  if (raw && Array.isArray(raw.keys)) {
    const jwks = checkJwks(raw, 'IDP_JWKS_FILE');
    return { feide: jwks, idporten: jwks };
  }
  return {
    feide: checkJwks(raw?.feide, 'IDP_JWKS_FILE "feide"'),
    idporten: checkJwks(raw?.idporten, 'IDP_JWKS_FILE "idporten"'),
  };
}

// ---------------------------------------------------------------------------
// Storage: a small in-memory adapter, one store per provider (the one bundled with
// oidc-provider is shared by every provider in the process).
// ---------------------------------------------------------------------------

function makeMemoryAdapter() {
  const store = new Map(); // "Model:id" -> { payload, expiresAt }
  const byGrant = new Map(); // grantId -> Set("Model:id")
  const byUid = new Map(); // "Model:uid" -> id
  const byUserCode = new Map(); // "Model:userCode" -> id

  const live = (key) => {
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  };

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [key, entry] of store) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) store.delete(key);
    }
    for (const [grantId, keys] of byGrant) {
      for (const key of keys) if (!store.has(key)) keys.delete(key);
      if (keys.size === 0) byGrant.delete(grantId);
    }
    for (const index of [byUid, byUserCode]) {
      for (const [key, id] of index) {
        if (!store.has(`${key.slice(0, key.indexOf(':'))}:${id}`)) index.delete(key);
      }
    }
  }, 60_000);
  sweep.unref();

  return class MemoryAdapter {
    constructor(model) {
      this.model = model;
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      store.set(key, {
        payload: structuredClone(payload),
        expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
      });
      if (payload.grantId) {
        if (!byGrant.has(payload.grantId)) byGrant.set(payload.grantId, new Set());
        byGrant.get(payload.grantId).add(key);
      }
      if (payload.uid) byUid.set(`${this.model}:${payload.uid}`, id);
      if (payload.userCode) byUserCode.set(`${this.model}:${payload.userCode}`, id);
    }

    async find(id) {
      return live(this.key(id));
    }

    async findByUid(uid) {
      const id = byUid.get(`${this.model}:${uid}`);
      return id === undefined ? undefined : live(this.key(id));
    }

    async findByUserCode(userCode) {
      const id = byUserCode.get(`${this.model}:${userCode}`);
      return id === undefined ? undefined : live(this.key(id));
    }

    async consume(id) {
      const payload = live(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id) {
      store.delete(this.key(id));
    }

    async revokeByGrantId(grantId) {
      for (const key of byGrant.get(grantId) ?? []) store.delete(key);
      byGrant.delete(grantId);
    }
  };
}

// ---------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'Content-Security-Policy': "default-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

function htmlPage(title, body) {
  return `<!DOCTYPE html>
<html lang="nb">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)}</title>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function sendHtml(req, res, status, html) {
  res.statusCode = status;
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(html));
  res.end(req.method === 'HEAD' ? undefined : html);
}

function setKoaHtml(ctx, html) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) ctx.set(name, value);
  ctx.type = 'html';
  ctx.body = html;
}

function loginPage(op, interaction, { error, username, acr } = {}) {
  const { kind } = op;
  const { params, uid } = interaction;
  const action = `${op.mountPath}/interaction/${uid}`;
  const selected = acr ?? kind.acr[0].value;
  const value = username ?? params.login_hint ?? '';
  const requestedAcr = typeof params.acr_values === 'string' && params.acr_values.trim()
    ? params.acr_values.trim().split(/\s+/) : [];

  const options = kind.acr.map((a) => `<option value="${escapeHtml(a.value)}"${a.value === selected ? ' selected' : ''}>${escapeHtml(a.label)}</option>`).join('\n');
  const accounts = op.accounts.map((a) => `<li><code>${escapeHtml(a.username)}</code> – ${escapeHtml(a.display)}</li>`).join('\n');
  const invalid = error ? ' aria-invalid="true" aria-describedby="feil username-hint"' : ' aria-describedby="username-hint"';

  return htmlPage(`Logg inn – ${kind.title} (utvikling)`, `<h1>Logg inn med ${escapeHtml(kind.title)}</h1>
<p>Lokal testinnlogging for utvikling og tester. Dette er ikke ekte ${escapeHtml(kind.title)}, og ingen passord blir sjekket.</p>
<p>Tjeneste: <strong>${escapeHtml(params.client_id)}</strong></p>
${requestedAcr.length ? `<p>Tjenesten ba om sikkerhetsnivå: ${requestedAcr.map((v) => `<code>${escapeHtml(v)}</code>`).join(', ')}</p>\n` : ''}${error ? `<p id="feil" role="alert">${escapeHtml(error)}</p>\n` : ''}<form method="post" action="${escapeHtml(action)}">
<p>
<label for="username">${escapeHtml(kind.usernameLabel)}</label>
<input id="username" name="username" type="text" value="${escapeHtml(value)}" required ${kind.usernameInputAttrs}${invalid}>
<span id="username-hint">${escapeHtml(kind.usernameHint)}</span>
</p>
<p>
<label for="acr">Sikkerhetsnivå</label>
<select id="acr" name="acr">
${options}
</select>
</p>
<p><button type="submit">Logg inn</button></p>
</form>
<h2>Testbrukere</h2>
<ul>
${accounts || '<li>Ingen testbrukere er satt opp.</li>'}
</ul>`);
}

function messagePage(title, message) {
  return htmlPage(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}

// ---------------------------------------------------------------------------
// Interactions (our own login "page"; consent is always granted)
// ---------------------------------------------------------------------------

const MAX_FORM_BYTES = 16 * 1024;

async function readForm(req) {
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type && type !== 'application/x-www-form-urlencoded') return { error: 415 };
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return { error: 413 };
    chunks.push(chunk);
  }
  return { form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) };
}

// Grant everything the client asked for that this provider knows, so the flow never
// stops on a consent screen.
async function grantEverything(op, accountId, interaction) {
  const { provider, kind } = op;
  const { params, prompt } = interaction;
  let grant;
  if (interaction.grantId) grant = await provider.Grant.find(interaction.grantId);
  if (!grant || grant.accountId !== accountId || grant.clientId !== params.client_id) {
    grant = new provider.Grant({ accountId, clientId: params.client_id });
  }
  const requested = String(params.scope ?? '').split(' ').filter((s) => kind.scopes.includes(s));
  const scopes = new Set([...requested, ...(prompt.details?.missingOIDCScope ?? [])]);
  if (scopes.size) grant.addOIDCScope([...scopes].join(' '));
  if (prompt.details?.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, s] of Object.entries(prompt.details?.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, s.join(' '));
  }
  return grant.save();
}

async function handleInteraction(op, req, res, uid) {
  const { provider, kind } = op;
  let interaction;
  try {
    interaction = await provider.interactionDetails(req, res);
  } catch (err) {
    debug(`[${kind.name}] interaction ${uid}: ${err.message}`);
    interaction = undefined;
  }
  if (!interaction || interaction.uid !== uid) {
    sendHtml(req, res, 400, messagePage('Innloggingen er utløpt',
      'Fant ikke denne innloggingen (den kan være utløpt, eller informasjonskapsler mangler). Start innloggingen på nytt fra tjenesten.'));
    return;
  }

  const promptName = interaction.prompt?.name;

  if (promptName === 'consent') {
    // Only reachable when a session already exists; grant and carry on.
    const accountId = interaction.session?.accountId;
    if (!accountId) {
      sendHtml(req, res, 400, messagePage('Feil', 'Samtykke uten innlogget bruker.'));
      return;
    }
    if (req.method === 'POST') await readForm(req);
    const grantId = await grantEverything(op, accountId, interaction);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }

  if (promptName !== 'login') {
    sendHtml(req, res, 400, messagePage('Feil', `Ukjent steg i innloggingen: ${promptName}`));
    return;
  }

  if (req.method === 'GET' || req.method === 'HEAD') {
    sendHtml(req, res, 200, loginPage(op, interaction));
    return;
  }

  if (req.method !== 'POST') {
    res.setHeader('Allow', 'GET, HEAD, POST');
    sendHtml(req, res, 405, messagePage('Feil', 'Metoden er ikke tillatt.'));
    return;
  }

  const { form, error: formError } = await readForm(req);
  if (formError) {
    sendHtml(req, res, formError, messagePage('Feil', 'Skjemaet må sendes som application/x-www-form-urlencoded (høyst 16 KiB).'));
    return;
  }

  const username = (form.get('username') ?? '').trim();
  const acrValue = (form.get('acr') ?? '').trim() || kind.acr[0].value;
  const acr = kind.acr.find((a) => a.value === acrValue);
  if (!acr) {
    sendHtml(req, res, 400, loginPage(op, interaction, {
      error: `Ukjent sikkerhetsnivå «${acrValue}».`, username,
    }));
    return;
  }

  const account = op.findAccountByUsername(username);
  if (!account) {
    debug(`[${kind.name}] refused unknown username ${JSON.stringify(username)}`);
    sendHtml(req, res, 400, loginPage(op, interaction, {
      error: username
        ? `Fant ingen testbruker med ${kind.usernameNoun} «${username}». Prøv igjen.`
        : `Skriv inn ${kind.usernameNoun}.`,
      username,
      acr: acr.value,
    }));
    return;
  }

  const grantId = await grantEverything(op, account.accountId, interaction);
  debug(`[${kind.name}] login ${account.username} acr=${acr.value} client=${interaction.params.client_id}`);
  await provider.interactionFinished(req, res, {
    login: { accountId: account.accountId, acr: acr.value, amr: acr.amr, remember: false },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

// ---------------------------------------------------------------------------
// Providers
// ---------------------------------------------------------------------------

function buildProvider({ kind, issuer, jwks, clients, accounts, idTokenTtl, trustProxy }) {
  const mountPath = new URL(issuer).pathname.replace(/\/$/, '');
  const cookiePrefix = `_${kind.name}`;
  const byId = new Map(accounts.map((a) => [a.accountId, a]));
  const byUsername = new Map(accounts.map((a) => [kind.name === 'feide' ? a.username.toLowerCase() : a.username, a]));

  function renderLogout(ctx) {
    const action = ctx.oidc.urlFor('end_session_confirm');
    const secret = ctx.oidc.session.state.secret;
    const client = ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId;
    setKoaHtml(ctx, htmlPage(`Logg ut – ${kind.title} (utvikling)`, `<h1>Logg ut fra ${escapeHtml(kind.title)}</h1>
<p>Vil du logge ut${client ? ` (forespurt av ${escapeHtml(client)})` : ''}?</p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="xsrf" value="${escapeHtml(secret)}">
<p><button type="submit" name="logout" value="yes">Ja, logg ut</button></p>
<p><button type="submit">Nei, forbli innlogget</button></p>
</form>`));
  }

  const provider = new Provider(issuer, {
    adapter: makeMemoryAdapter(),
    clients: clients.metadata,
    jwks,
    findAccount(ctx, id) {
      const account = byId.get(id);
      if (!account) return undefined;
      return {
        accountId: account.accountId,
        async claims() {
          return structuredClone(account.claims);
        },
      };
    },
    claims: kind.claims,
    scopes: kind.scopes,
    acrValues: kind.acr.filter((a) => a.advertised).map((a) => a.value),
    subjectTypes: ['public'],
    responseTypes: ['code'],
    pkce: { methods: ['S256'], required: () => true },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    // Put the scope claims (name, eppn, pid, ...) in the ID token, like Feide and ID-porten do.
    conformIdTokenClaims: false,
    allowOmittingSingleRegisteredRedirectUri: false,
    issueRefreshToken: async () => false,
    clientBasedCORS: () => false,
    routes: {
      authorization: '/authorize',
      token: '/token',
      userinfo: '/userinfo',
      jwks: '/jwks',
      end_session: '/logout',
    },
    interactions: {
      url: (ctx, interaction) => `${mountPath}/interaction/${interaction.uid}`,
    },
    cookies: {
      names: {
        session: `${cookiePrefix}_session`,
        interaction: `${cookiePrefix}_interaction`,
        resume: `${cookiePrefix}_interaction_resume`,
      },
      long: { signed: true, httpOnly: true, sameSite: 'lax', path: mountPath || '/' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
      keys: [crypto.randomBytes(32).toString('base64url')],
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 120,
      IdToken: idTokenTtl,
      Interaction: 3600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: false },
      resourceIndicators: { enabled: false },
      introspection: { enabled: false },
      revocation: { enabled: false },
      registration: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx) => renderLogout(ctx),
        postLogoutSuccessSource: async (ctx) => {
          setKoaHtml(ctx, messagePage('Du er logget ut', `Du er logget ut fra ${kind.title} (utviklingsinnlogging).`));
        },
      },
    },
    async renderError(ctx, out, error) {
      debug(`[${kind.name}] error page: ${out.error}: ${out.error_description ?? ''}`, error?.message ?? '');
      const rows = Object.entries(out).map(([k, v]) => `<dt>${escapeHtml(k)}</dt>\n<dd>${escapeHtml(v)}</dd>`).join('\n');
      setKoaHtml(ctx, htmlPage(`Feil – ${kind.title} (utvikling)`, `<h1>Noe gikk galt</h1>\n<dl>\n${rows}\n</dl>`));
    },
  });
  provider.proxy = trustProxy;

  // Allow registered loopback redirect URIs on any port for flagged clients.
  const { Client } = provider;
  const redirectUriAllowed = Client.prototype.redirectUriAllowed;
  Client.prototype.redirectUriAllowed = function redirectUriAllowedAnyLoopbackPort(value) {
    if (redirectUriAllowed.call(this, value)) return true;
    return clients.anyLoopbackPort.has(this.clientId)
      && this.redirectUris.some((registered) => loopbackMatches(registered, value));
  };
  const postLogoutRedirectUriAllowed = Client.prototype.postLogoutRedirectUriAllowed;
  Client.prototype.postLogoutRedirectUriAllowed = function postLogoutAnyLoopbackPort(value) {
    if (postLogoutRedirectUriAllowed.call(this, value)) return true;
    return clients.anyLoopbackPort.has(this.clientId)
      && (this.postLogoutRedirectUris ?? []).some((registered) => loopbackMatches(registered, value));
  };

  // Without a session oidc-provider answers the logout request with an auto-submitting
  // (JavaScript) form; show the same plain confirmation form in both cases instead.
  // Also: refresh tokens are never issued, so don't advertise the grant.
  provider.use(async (ctx, next) => {
    await next();
    const route = ctx.oidc?.route;
    if (route === 'end_session' && ctx.status === 200 && ctx.oidc.session?.state?.secret) {
      renderLogout(ctx);
    } else if (route === 'discovery' && ctx.status === 200 && Array.isArray(ctx.body?.grant_types_supported)) {
      ctx.body.grant_types_supported = ctx.body.grant_types_supported.filter((g) => g !== 'refresh_token');
    }
  });

  for (const event of ['authorization.error', 'grant.error', 'end_session.error', 'userinfo.error', 'jwks.error', 'discovery.error']) {
    provider.on(event, (ctx, err) => debug(`[${kind.name}] ${event}: ${err.error ?? err.name}: ${err.error_description ?? err.message}`));
  }
  provider.on('server_error', (ctx, err) => log(`[${kind.name}] server error:`, err));

  return {
    kind,
    issuer,
    mountPath,
    provider,
    accounts,
    handler: provider.callback(),
    sessionCookies: new Set(['', '.sig', '.legacy', '.legacy.sig'].map((s) => `${cookiePrefix}_session${s}`)),
    findAccountByUsername(username) {
      const key = kind.name === 'feide' ? username.toLowerCase() : username.replace(/\s+/g, '');
      return byUsername.get(key);
    },
  };
}

function stripCookies(req, names) {
  const header = req.headers.cookie;
  if (!header) return;
  const kept = header.split(';').map((c) => c.trim()).filter((c) => {
    const eq = c.indexOf('=');
    return c !== '' && !names.has((eq === -1 ? c : c.slice(0, eq)).trim());
  });
  if (kept.length) req.headers.cookie = kept.join('; ');
  else delete req.headers.cookie;
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main() {
  if (process.argv.includes('--generate-jwks')) {
    process.stdout.write(`${JSON.stringify(await generateJwks(), null, 2)}\n`);
    return;
  }

  const host = process.env.IDP_HOST || '127.0.0.1';
  const port = intFromEnv('IDP_PORT', 0, 0, 65535);
  const idTokenTtl = intFromEnv('IDP_ID_TOKEN_TTL', 300, 1, 24 * 3600);
  const accountsFile = fileFromEnv('IDP_ACCOUNTS', 'accounts.example.json');
  const clientsFile = fileFromEnv('IDP_CLIENTS', 'clients.example.json');
  const accounts = loadAccounts(accountsFile);
  const clients = loadClients(clientsFile);

  let issuerBase = process.env.IDP_ISSUER_BASE?.trim();
  if (issuerBase) {
    let url;
    try {
      url = new URL(issuerBase);
    } catch {
      die(`IDP_ISSUER_BASE is not a URL: ${issuerBase}`);
    }
    if (!['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.username) {
      die('IDP_ISSUER_BASE must be a plain http(s) URL without query, fragment or credentials');
    }
    issuerBase = url.href.replace(/\/+$/, '');
  }

  // Keys are generated while the port is being bound.
  const jwksPromise = process.env.IDP_JWKS_FILE
    ? Promise.resolve(loadJwksFile(path.resolve(process.env.IDP_JWKS_FILE)))
    : earlyKeys.then(([feide, idporten]) => ({ feide, idporten }));

  let ops = [];
  const server = http.createServer((req, res) => {
    dispatch(req, res).catch((err) => {
      log('request failed:', err);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end('internal error in dev IdP\n');
      } else {
        res.destroy();
      }
    });
  });

  async function dispatch(req, res) {
    const started = DEBUG ? Date.now() : 0;
    if (DEBUG) res.on('finish', () => debug(`${req.method} ${req.url} -> ${res.statusCode} (${Date.now() - started} ms)`));

    const pathname = new URL(req.url, 'http://dev-idp.invalid').pathname;
    if (pathname === '/healthz') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ ok: ops.length > 0 }));
      return;
    }
    for (const op of ops) {
      if (pathname !== op.mountPath && !pathname.startsWith(`${op.mountPath}/`)) continue;
      const rest = pathname.slice(op.mountPath.length) || '/';
      const interaction = /^\/interaction\/([A-Za-z0-9_-]+)\/?$/.exec(rest);
      if (interaction) {
        await handleInteraction(op, req, res, interaction[1]);
        return;
      }
      // No single sign-on: every authorization request starts without the provider
      // session, so the login form is always shown and switching accounts in the same
      // browser (or HTTP client cookie jar) just works. prompt=none => login_required.
      if (rest === '/authorize' || rest.startsWith('/authorize/')) stripCookies(req, op.sessionCookies);
      req.originalUrl = req.url;
      req.url = req.url.slice(op.mountPath.length) || '/';
      op.handler(req, res);
      return;
    }
    if (pathname === '/') {
      res.setHeader('Content-Type', 'application/json');
      res.end(`${JSON.stringify(Object.fromEntries(ops.map((op) => [op.kind.name, op.issuer])))}\n`);
      return;
    }
    res.statusCode = 404;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('not found\n');
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err) => die(`cannot listen on ${host}:${port}: ${err.message}`));
  server.on('error', (err) => log('server error:', err));

  const actualPort = server.address().port;
  if (!issuerBase) {
    let issuerHost = host;
    if (host === '0.0.0.0' || host === '::') {
      issuerHost = '127.0.0.1';
      log(`listening on all interfaces; issuers use 127.0.0.1 (set IDP_ISSUER_BASE to change)`);
    }
    if (issuerHost.includes(':')) issuerHost = `[${issuerHost}]`;
    issuerBase = `http://${issuerHost}:${actualPort}`;
  }

  const jwks = await jwksPromise;
  ops = Object.values(KINDS).map((kind) => buildProvider({
    kind,
    issuer: `${issuerBase}/${kind.name}`,
    jwks: jwks[kind.name],
    clients: clients[kind.name],
    accounts: accounts[kind.name],
    idTokenTtl,
    trustProxy: issuerBase.startsWith('https:'),
  }));

  let stopping = false;
  const stop = (why) => {
    if (stopping) return;
    stopping = true;
    log(`${why}: shutting down`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (/^(1|true|yes)$/i.test(process.env.IDP_EXIT_ON_STDIN_CLOSE ?? '')) {
    process.stdin.on('end', () => stop('stdin closed'));
    process.stdin.on('error', () => stop('stdin error'));
    process.stdin.resume();
  }

  const ms = performance.now(); // since process start
  const [feide, idporten] = ops.map((op) => op.issuer);
  log(`ready in ${ms.toFixed(0)} ms; accounts: ${accountsFile}; clients: ${clientsFile}${process.env.IDP_JWKS_FILE ? `; keys: ${process.env.IDP_JWKS_FILE}` : ''}`);
  log(`feide issuer ${feide}; idporten issuer ${idporten}`);
  process.stdout.write(`${JSON.stringify({ ready: true, port: actualPort, feide, idporten })}\n`);
}

await main();
