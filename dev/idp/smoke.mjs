#!/usr/bin/env node
// Smoke test for the dev IdP: `node smoke.mjs` (exit code 0 = all checks passed).
//
// Starts server.mjs on a free port with the example accounts and clients, then drives
// whole authorization-code + PKCE flows over HTTP with fetch (no browser), exactly the
// way an integration test of the app would: authorize -> login form -> code -> token.

import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const EPPN = 'https://n.feide.no/claims/eduPersonPrincipalName';
const SECRET = 'dev-secret-not-for-production';
const FEIDE = {
  name: 'feide',
  clientId: 'tavle-feide',
  redirectUri: 'http://127.0.0.1:8080/auth/feide/callback',
  scope: 'openid userid-feide profile',
};
const IDPORTEN = {
  name: 'idporten',
  clientId: 'tavle-idporten',
  redirectUri: 'http://127.0.0.1:8080/auth/idporten/callback',
  scope: 'openid profile',
};

// ---------------------------------------------------------------------------
// Tiny test runner
// ---------------------------------------------------------------------------

let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (err) {
    failed += 1;
    console.log(`not ok - ${name}\n  ${String(err?.stack ?? err).split('\n').join('\n  ')}`);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

function assertEqual(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

// ---------------------------------------------------------------------------
// HTTP with a small cookie jar (paths matter: the IdP scopes cookies per flow)
// ---------------------------------------------------------------------------

class CookieJar {
  constructor() {
    this.cookies = [];
  }

  store(url, response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let cookiePath = url.pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key, val = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path' && val.startsWith('/')) cookiePath = val;
        if (key.toLowerCase() === 'expires' && Date.parse(val) <= Date.now()) expired = true;
        if (key.toLowerCase() === 'max-age' && Number(val) <= 0) expired = true;
      }
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === cookiePath));
      if (!expired && value !== '') this.cookies.push({ name, value, path: cookiePath });
    }
  }

  header(url) {
    const p = url.pathname;
    const matches = this.cookies.filter((c) => p === c.path
      || (p.startsWith(c.path) && (c.path.endsWith('/') || p[c.path.length] === '/')));
    matches.sort((a, b) => b.path.length - a.path.length);
    return matches.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

async function http(jar, url, { method = 'GET', form, headers = {} } = {}) {
  const target = new URL(url);
  const h = { ...headers };
  const cookie = jar?.header(target);
  if (cookie) h.cookie = cookie;
  let body;
  if (form) {
    body = new URLSearchParams(form).toString();
    h['content-type'] = 'application/x-www-form-urlencoded';
  }
  const response = await fetch(target, { method, headers: h, body, redirect: 'manual' });
  jar?.store(target, response);
  const location = response.headers.get('location');
  return {
    status: response.status,
    headers: response.headers,
    location: location ? new URL(location, target).href : undefined,
    text: await response.text(),
  };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

// Follows redirects with GET until a page is returned or the redirect leaves the IdP
// (e.g. to the client's redirect_uri, which is not fetched).
async function follow(jar, start, idpOrigin) {
  let response = start;
  for (let hops = 0; hops < 10; hops += 1) {
    if (!REDIRECTS.has(response.status)) return { page: response };
    if (new URL(response.location).origin !== idpOrigin) return { redirect: new URL(response.location) };
    response = await http(jar, response.location);
  }
  throw new Error('too many redirects');
}

// ---------------------------------------------------------------------------
// HTML form parsing (the IdP promises a simple, stable form)
// ---------------------------------------------------------------------------

function decodeEntities(s) {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function attr(tag, name) {
  const m = new RegExp(`\\b${name}="([^"]*)"`).exec(tag);
  return m ? decodeEntities(m[1]) : undefined;
}

function parseForm(html, baseUrl) {
  const m = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html);
  if (!m) throw new Error(`no <form method="post"> in page:\n${html}`);
  const inputs = {};
  for (const [tag] of m[2].matchAll(/<input\b[^>]*>/g)) {
    inputs[attr(tag, 'name')] = { type: attr(tag, 'type'), value: attr(tag, 'value') ?? '' };
  }
  const buttons = [...m[2].matchAll(/<button\b[^>]*>/g)].map(([tag]) => ({ name: attr(tag, 'name'), value: attr(tag, 'value') }));
  const select = /<select\b[^>]*name="acr"[^>]*>([\s\S]*?)<\/select>/.exec(m[2]);
  const options = select
    ? [...select[1].matchAll(/<option value="([^"]*)"( selected)?>/g)].map((o) => ({ value: decodeEntities(o[1]), selected: !!o[2] }))
    : [];
  return { action: new URL(decodeEntities(m[1]), baseUrl).href, inputs, options, buttons };
}

// ---------------------------------------------------------------------------
// OIDC helpers
// ---------------------------------------------------------------------------

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function pkce() {
  const verifier = b64url(crypto.randomBytes(32));
  return { verifier, challenge: b64url(crypto.createHash('sha256').update(verifier).digest()) };
}

function authorizeUrl(meta, client, extra = {}) {
  const url = new URL(meta.authorization_endpoint);
  const params = {
    client_id: client.clientId,
    response_type: 'code',
    scope: client.scope,
    redirect_uri: client.redirectUri,
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

async function startLogin(ctx, client, { jar = new CookieJar(), extra = {} } = {}) {
  const { verifier, challenge } = pkce();
  const state = b64url(crypto.randomBytes(12));
  const nonce = b64url(crypto.randomBytes(12));
  const meta = ctx.meta[client.name];
  const url = authorizeUrl(meta, client, {
    state, nonce, code_challenge: challenge, code_challenge_method: 'S256', ...extra,
  });
  const { page, redirect } = await follow(jar, await http(jar, url), ctx.origin);
  assert(page, `expected the login page, got a redirect to ${redirect}`);
  assertEqual(page.status, 200, 'login page status');
  return { jar, page, form: parseForm(page.text, url), verifier, state, nonce, redirectUri: extra.redirect_uri ?? client.redirectUri };
}

async function submitLogin(ctx, login, fields) {
  const response = await http(login.jar, login.form.action, { method: 'POST', form: fields });
  return follow(login.jar, response, ctx.origin);
}

async function loginForCode(ctx, login, fields) {
  const { page, redirect } = await submitLogin(ctx, login, fields);
  assert(redirect, `expected a redirect to the client, got page ${page?.status}:\n${page?.text}`);
  assertEqual(`${redirect.origin}${redirect.pathname}`, login.redirectUri, 'redirect target');
  assert(!redirect.searchParams.has('error'), `authorization error: ${redirect.search}`);
  assertEqual(redirect.searchParams.get('state'), login.state, 'state in redirect');
  const code = redirect.searchParams.get('code');
  assert(code, 'no code in redirect');
  return { code, iss: redirect.searchParams.get('iss') };
}

async function token(ctx, client, { code, verifier, redirectUri = client.redirectUri, auth = 'basic' }) {
  const form = {
    grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri,
  };
  const headers = {};
  if (auth === 'basic') {
    const enc = encodeURIComponent;
    headers.authorization = `Basic ${Buffer.from(`${enc(client.clientId)}:${enc(SECRET)}`).toString('base64')}`;
  } else {
    form.client_id = client.clientId;
    form.client_secret = SECRET;
  }
  const response = await http(null, ctx.meta[client.name].token_endpoint, { method: 'POST', form, headers });
  return { status: response.status, json: JSON.parse(response.text) };
}

async function verifyIdToken(ctx, client, idToken) {
  const [h, p, s] = idToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const payload = JSON.parse(Buffer.from(p, 'base64url'));
  assertEqual(header.alg, 'RS256', 'id token alg');
  const jwks = JSON.parse((await http(null, ctx.meta[client.name].jwks_uri)).text);
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert(jwk, `no JWK with kid ${header.kid}`);
  assert(!('d' in jwk), 'JWKS must not expose private key material');
  const ok = crypto.verify('sha256', Buffer.from(`${h}.${p}`), crypto.createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'));
  assert(ok, 'id token signature does not verify');
  return payload;
}

function idportenSub(pid) {
  return b64url(crypto.createHash('sha256').update(`tavle-dev-idp:idporten:${pid}`).digest());
}

function assertSimpleAccessibleForm(page, form) {
  assert(/<html lang="nb">/.test(page.text), 'page must have lang="nb"');
  assert(!/<script|<style|\sstyle=|\son[a-z]+=/i.test(page.text), 'page must have no script or inline style');
  assert(/<label for="username">/.test(page.text) && /id="username"/.test(page.text), 'username field needs a label');
  assert(/<label for="acr">/.test(page.text) && /id="acr"/.test(page.text), 'acr select needs a label');
  assert('username' in form.inputs, 'form has <input name="username">');
  assert(form.options.length >= 2, 'form has <select name="acr"> with options');
  const csp = page.headers.get('content-security-policy') ?? '';
  assert(csp.includes("default-src 'none'"), `page CSP: ${csp}`);
}

// ---------------------------------------------------------------------------
// Start the server
// ---------------------------------------------------------------------------

function startServer() {
  const env = { ...process.env, IDP_PORT: '0', IDP_HOST: '127.0.0.1' };
  for (const k of ['IDP_ISSUER_BASE', 'IDP_ACCOUNTS', 'IDP_CLIENTS', 'IDP_JWKS_FILE', 'IDP_ID_TOKEN_TTL', 'IDP_EXIT_ON_STDIN_CLOSE']) delete env[k];
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [path.join(HERE, 'server.mjs')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { child, stderr: '', stdout: '', exit: null };
  child.stderr.setEncoding('utf8').on('data', (d) => { server.stderr += d; });
  server.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    server.exit = { code, signal };
    resolve(server.exit);
  }));
  server.ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ready line within 10 s')), 10_000);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      server.stdout += d;
      const nl = server.stdout.indexOf('\n');
      if (nl !== -1 && !server.readyLine) {
        server.readyLine = server.stdout.slice(0, nl);
        server.startupMs = Number(process.hrtime.bigint() - t0) / 1e6;
        clearTimeout(timer);
        resolve(server.readyLine);
      }
    });
    server.exited.then((e) => reject(new Error(`server exited before ready: ${JSON.stringify(e)}`)));
  });
  return server;
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

async function main() {
  const server = startServer();
  const ctx = { meta: {} };
  let readyLine;
  try {
    readyLine = await server.ready;
  } catch (err) {
    console.log(`not ok - server start: ${err.message}\n${server.stderr}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }

  await check('ready line is exactly {"ready":true,"port":N,"feide":ISSUER,"idporten":ISSUER}', () => {
    const ready = JSON.parse(readyLine);
    assertEqual(Object.keys(ready), ['ready', 'port', 'feide', 'idporten'], 'ready line keys');
    assert(ready.ready === true && Number.isInteger(ready.port) && ready.port > 0, `ready line ${readyLine}`);
    assertEqual(ready.feide, `http://127.0.0.1:${ready.port}/feide`, 'feide issuer');
    assertEqual(ready.idporten, `http://127.0.0.1:${ready.port}/idporten`, 'idporten issuer');
    ctx.ready = ready;
    ctx.origin = `http://127.0.0.1:${ready.port}`;
  });
  if (!ctx.ready) process.exit(1);

  await check(`start-up is quick (${server.startupMs.toFixed(0)} ms from spawn to ready line)`, () => {
    assert(server.startupMs < 2500, `start-up took ${server.startupMs} ms`);
  });

  for (const client of [FEIDE, IDPORTEN]) {
    await check(`${client.name}: discovery document`, async () => {
      const issuer = ctx.ready[client.name];
      const r = await http(null, `${issuer}/.well-known/openid-configuration`);
      assertEqual(r.status, 200, 'discovery status');
      const meta = JSON.parse(r.text);
      assertEqual(meta.issuer, issuer, 'issuer');
      for (const k of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint', 'end_session_endpoint']) {
        assert(meta[k]?.startsWith(`${issuer}/`), `${k} under issuer: ${meta[k]}`);
      }
      assertEqual(meta.code_challenge_methods_supported, ['S256'], 'code_challenge_methods_supported');
      assertEqual(meta.response_types_supported, ['code'], 'response_types_supported');
      assertEqual(meta.grant_types_supported, ['authorization_code'], 'grant_types_supported');
      assertEqual(meta.id_token_signing_alg_values_supported, ['RS256'], 'id_token_signing_alg_values_supported');
      assertEqual(meta.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post'], 'token auth methods');
      if (client === FEIDE) {
        assertEqual(meta.acr_values_supported, ['urn:mace:feide.no:auth:level:fad08:3', 'urn:mace:feide.no:auth:level:fad08:2'], 'acr_values_supported');
        assert(meta.claims_supported.includes(EPPN), 'eppn claim advertised');
        assert(meta.scopes_supported.includes('userid-feide'), 'userid-feide scope advertised');
      } else {
        assertEqual(meta.acr_values_supported, ['idporten-loa-high', 'idporten-loa-substantial'], 'acr_values_supported');
        assert(meta.claims_supported.includes('pid'), 'pid claim advertised');
      }
      ctx.meta[client.name] = meta;
    });
  }
  if (!ctx.meta.feide || !ctx.meta.idporten) process.exit(1);

  // --- Feide: the whole flow --------------------------------------------------
  let feideLogin;
  let feideCode;
  let feideTokens;
  await check('feide: authorize -> accessible login form (acr defaults to the highest)', async () => {
    feideLogin = await startLogin(ctx, FEIDE, { extra: { acr_values: 'urn:mace:feide.no:auth:level:fad08:3' } });
    assertSimpleAccessibleForm(feideLogin.page, feideLogin.form);
    assertEqual(feideLogin.form.options.map((o) => o.value), ['urn:mace:feide.no:auth:level:fad08:3', 'urn:mace:feide.no:auth:level:fad08:2'], 'acr options');
    assertEqual(feideLogin.form.options.find((o) => o.selected)?.value, 'urn:mace:feide.no:auth:level:fad08:3', 'default acr');
    assert(new URL(feideLogin.form.action).pathname.startsWith('/feide/interaction/'), `form action ${feideLogin.form.action}`);
  });

  await check('feide: unknown username is refused and the form is shown again', async () => {
    const { page, redirect } = await submitLogin(ctx, feideLogin, { username: 'ukjent.bruker', acr: 'urn:mace:feide.no:auth:level:fad08:3' });
    assert(!redirect, `unexpected redirect ${redirect}`);
    assertEqual(page.status, 400, 'status');
    assert(/role="alert"[^>]*>[^<]*ukjent\.bruker/.test(page.text), 'error message names the username');
    const again = parseForm(page.text, feideLogin.form.action);
    assertEqual(again.action, feideLogin.form.action, 'same form action');
  });

  await check('feide: valid login redirects to redirect_uri with code and state', async () => {
    feideCode = await loginForCode(ctx, feideLogin, { username: 'ola.nordmann', acr: 'urn:mace:feide.no:auth:level:fad08:3' });
    assertEqual(feideCode.iss, ctx.ready.feide, 'iss authorization response parameter');
  });

  await check('feide: token request with a wrong PKCE verifier is refused (invalid_grant)', async () => {
    const r = await token(ctx, FEIDE, { code: feideCode.code, verifier: pkce().verifier });
    assertEqual(r.status, 400, 'status');
    assertEqual(r.json.error, 'invalid_grant', 'error');
  });

  await check('feide: token request (client_secret_basic) returns a valid RS256 id token', async () => {
    const r = await token(ctx, FEIDE, { code: feideCode.code, verifier: feideLogin.verifier });
    assertEqual(r.status, 200, `token status (${JSON.stringify(r.json)})`);
    assert(!r.json.refresh_token, 'no refresh token');
    feideTokens = r.json;
    const claims = await verifyIdToken(ctx, FEIDE, r.json.id_token);
    if (process.env.SMOKE_SHOW_TOKENS) console.log(JSON.stringify({ token_response: { ...r.json, id_token: '...' }, claims }, null, 1));
    assertEqual(claims.iss, ctx.ready.feide, 'iss');
    assertEqual(claims.aud, 'tavle-feide', 'aud');
    assertEqual(claims.nonce, feideLogin.nonce, 'nonce');
    assertEqual(claims.acr, 'urn:mace:feide.no:auth:level:fad08:3', 'acr');
    assertEqual(claims.amr, ['pwd', 'otp', 'mfa'], 'amr');
    assertEqual(claims.sub, '6f1b2c3d-0a4e-4b5f-9c6d-7e8f9a0b1c2d', 'sub');
    assertEqual(claims.name, 'Ola Nordmann', 'name');
    assertEqual(claims[EPPN], 'ola.nordmann@kommune.no', 'eppn');
    assertEqual(claims.exp - claims.iat, 300, 'id token lifetime');
  });

  await check('feide: userinfo answers for the access token', async () => {
    const r = await http(null, ctx.meta.feide.userinfo_endpoint, { headers: { authorization: `Bearer ${feideTokens.access_token}` } });
    assertEqual(r.status, 200, 'status');
    const info = JSON.parse(r.text);
    assertEqual(info.sub, '6f1b2c3d-0a4e-4b5f-9c6d-7e8f9a0b1c2d', 'sub');
    assertEqual(info[EPPN], 'ola.nordmann@kommune.no', 'eppn');
  });

  await check('feide: the code cannot be used twice (and reuse revokes its tokens)', async () => {
    const r = await token(ctx, FEIDE, { code: feideCode.code, verifier: feideLogin.verifier });
    assertEqual(r.json.error, 'invalid_grant', 'error');
  });

  await check('feide: RP-initiated logout honours a registered post_logout_redirect_uri', async () => {
    const url = new URL(ctx.meta.feide.end_session_endpoint);
    url.searchParams.set('id_token_hint', feideTokens.id_token);
    url.searchParams.set('post_logout_redirect_uri', 'http://127.0.0.1:8080/');
    url.searchParams.set('state', 'bye');
    const page = await http(feideLogin.jar, url.href);
    assertEqual(page.status, 200, 'logout page status');
    assert(!/<script|<style/i.test(page.text), 'logout page has no script or style');
    const form = parseForm(page.text, url.href);
    assert(form.inputs.xsrf?.value, 'xsrf field');
    const done = await http(feideLogin.jar, form.action, { method: 'POST', form: { xsrf: form.inputs.xsrf.value, logout: 'yes' } });
    assertEqual(done.status, 303, 'status');
    assertEqual(done.location, 'http://127.0.0.1:8080/?state=bye', 'post logout redirect');
  });

  await check('feide: logout without an IdP session cookie shows the same plain form', async () => {
    const jar = new CookieJar();
    const url = new URL(ctx.meta.feide.end_session_endpoint);
    url.searchParams.set('client_id', 'tavle-feide');
    url.searchParams.set('post_logout_redirect_uri', 'http://127.0.0.1:8080/auth/logged-out');
    const page = await http(jar, url.href);
    assertEqual(page.status, 200, 'logout page status');
    assert(!/<script|<style/i.test(page.text), 'no script or style');
    const form = parseForm(page.text, url.href);
    const done = await http(jar, form.action, { method: 'POST', form: { xsrf: form.inputs.xsrf.value, logout: 'yes' } });
    assertEqual(done.location, 'http://127.0.0.1:8080/auth/logged-out', 'post logout redirect');
  });

  await check('feide: unregistered post_logout_redirect_uri is refused', async () => {
    const url = new URL(ctx.meta.feide.end_session_endpoint);
    url.searchParams.set('client_id', 'tavle-feide');
    url.searchParams.set('post_logout_redirect_uri', 'http://evil.invalid/');
    const r = await http(new CookieJar(), url.href);
    assertEqual(r.status, 400, 'status');
  });

  await check('feide: same cookie jar, another user, lower acr, app on another loopback port', async () => {
    const redirectUri = 'http://127.0.0.1:39123/auth/feide/callback';
    const login = await startLogin(ctx, FEIDE, { jar: feideLogin.jar, extra: { redirect_uri: redirectUri } });
    const { code } = await loginForCode(ctx, login, { username: 'Per.Elev', acr: 'urn:mace:feide.no:auth:level:fad08:2' });
    const r = await token(ctx, FEIDE, { code, verifier: login.verifier, redirectUri, auth: 'post' });
    assertEqual(r.status, 200, `token status (${JSON.stringify(r.json)})`);
    const claims = await verifyIdToken(ctx, FEIDE, r.json.id_token);
    assertEqual(claims[EPPN], 'per.elev@elev.kommune.no', 'eppn');
    assertEqual(claims.acr, 'urn:mace:feide.no:auth:level:fad08:2', 'acr');
    assertEqual(claims.amr, ['pwd'], 'amr');
  });

  await check('feide: no single sign-on — a second login in the same jar shows the form again', async () => {
    const login = await startLogin(ctx, FEIDE, { jar: feideLogin.jar });
    assert('username' in login.form.inputs, 'login form shown');
    const { code } = await loginForCode(ctx, login, { username: 'kari.rektor' });
    const r = await token(ctx, FEIDE, { code, verifier: login.verifier });
    const claims = await verifyIdToken(ctx, FEIDE, r.json.id_token);
    assertEqual(claims[EPPN], 'kari.rektor@kommune.no', 'eppn');
    assertEqual(claims.acr, 'urn:mace:feide.no:auth:level:fad08:3', 'acr defaults to the highest when omitted');
  });

  await check('feide: scope openid only (and prompt=login consent) gives no name or eppn', async () => {
    const login = await startLogin(ctx, { ...FEIDE, scope: 'openid' }, { extra: { prompt: 'login consent' } });
    const { code } = await loginForCode(ctx, login, { username: 'ola.nordmann' });
    const r = await token(ctx, FEIDE, { code, verifier: login.verifier });
    const claims = await verifyIdToken(ctx, FEIDE, r.json.id_token);
    assert(!(EPPN in claims) && !('name' in claims), `claims ${JSON.stringify(claims)}`);
    assert(claims.acr && claims.amr, 'acr and amr always present');
  });

  // --- ID-porten: the whole flow ---------------------------------------------
  await check('idporten: whole flow (client_secret_post), pid and pairwise-looking sub', async () => {
    const login = await startLogin(ctx, IDPORTEN, { extra: { acr_values: 'idporten-loa-substantial', ui_locales: 'nb' } });
    assertSimpleAccessibleForm(login.page, login.form);
    assertEqual(login.form.options.map((o) => o.value), ['idporten-loa-high', 'idporten-loa-substantial', 'Level4', 'Level3'], 'acr options');
    assertEqual(login.form.options.find((o) => o.selected)?.value, 'idporten-loa-high', 'default acr');

    const refused = await submitLogin(ctx, login, { username: '01010100000', acr: 'idporten-loa-high' });
    assertEqual(refused.page?.status, 400, 'unknown pid refused');
    assert(/role="alert"/.test(refused.page.text), 'error shown');
    const badAcr = await submitLogin(ctx, login, { username: '12838510068', acr: 'idporten-loa-low' });
    assertEqual(badAcr.page?.status, 400, 'unknown acr refused');

    const { code } = await loginForCode(ctx, login, { username: '12838510068', acr: 'idporten-loa-substantial' });
    const bad = await token(ctx, IDPORTEN, { code, verifier: pkce().verifier, auth: 'post' });
    assertEqual(bad.json.error, 'invalid_grant', 'wrong verifier refused');
    const r = await token(ctx, IDPORTEN, { code, verifier: login.verifier, auth: 'post' });
    assertEqual(r.status, 200, `token status (${JSON.stringify(r.json)})`);
    const claims = await verifyIdToken(ctx, IDPORTEN, r.json.id_token);
    if (process.env.SMOKE_SHOW_TOKENS) console.log(JSON.stringify({ claims }, null, 1));
    assertEqual(claims.iss, ctx.ready.idporten, 'iss');
    assertEqual(claims.aud, 'tavle-idporten', 'aud');
    assertEqual(claims.nonce, login.nonce, 'nonce');
    assertEqual(claims.acr, 'idporten-loa-substantial', 'acr');
    assertEqual(claims.amr, ['TestID'], 'amr');
    assertEqual(claims.pid, '12838510068', 'pid');
    assertEqual(claims.locale, 'nb', 'locale');
    assertEqual(claims.sub, idportenSub('12838510068'), 'sub');
    assert(claims.sub !== claims.pid, 'sub is not the pid');
    assert(!('name' in claims), 'ID-porten releases no name');
  });

  await check('idporten: legacy acr Level3 can be chosen (so the app can prove it refuses it)', async () => {
    const login = await startLogin(ctx, IDPORTEN, { extra: { login_hint: '24858210034' } });
    assertEqual(login.form.inputs.username.value, '24858210034', 'login_hint fills in the username');
    const { code } = await loginForCode(ctx, login, { username: '24858210034', acr: 'Level3' });
    const r = await token(ctx, IDPORTEN, { code, verifier: login.verifier });
    const claims = await verifyIdToken(ctx, IDPORTEN, r.json.id_token);
    assertEqual(claims.acr, 'Level3', 'acr');
    assertEqual(claims.locale, 'nn', 'locale from the account');
  });

  // --- Refusals ----------------------------------------------------------------
  for (const client of [FEIDE, IDPORTEN]) {
    await check(`${client.name}: authorize without code_challenge is refused (invalid_request)`, async () => {
      const url = authorizeUrl(ctx.meta[client.name], client, { state: 's1', nonce: 'n1' });
      const r = await http(new CookieJar(), url);
      assertEqual(r.status, 303, 'status');
      const loc = new URL(r.location);
      assertEqual(`${loc.origin}${loc.pathname}`, client.redirectUri, 'error goes back to the client');
      assertEqual(loc.searchParams.get('error'), 'invalid_request', 'error');
      assertEqual(loc.searchParams.get('state'), 's1', 'state');
    });
  }

  await check('feide: code_challenge_method=plain is refused', async () => {
    const url = authorizeUrl(ctx.meta.feide, FEIDE, { state: 's2', code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
    const r = await http(new CookieJar(), url);
    assertEqual(new URL(r.location).searchParams.get('error'), 'invalid_request', 'error');
  });

  await check('feide: unregistered redirect_uri gets an error page, not a redirect', async () => {
    const { challenge } = pkce();
    const url = authorizeUrl(ctx.meta.feide, { ...FEIDE, redirectUri: 'http://evil.invalid/cb' }, { code_challenge: challenge, code_challenge_method: 'S256' });
    const r = await http(new CookieJar(), url);
    assertEqual(r.status, 400, 'status');
    assert(!r.location, 'no redirect');
    assert(/<html lang="nb">/.test(r.text) && !/<style/.test(r.text), 'own error page');
  });

  await check('feide: prompt=none gives login_required (no SSO by design)', async () => {
    const { challenge } = pkce();
    const url = authorizeUrl(ctx.meta.feide, FEIDE, { state: 's3', prompt: 'none', code_challenge: challenge, code_challenge_method: 'S256' });
    const r = await http(new CookieJar(), url);
    assertEqual(new URL(r.location).searchParams.get('error'), 'login_required', 'error');
  });

  await check('feide: unknown or stale interaction id gives an error page', async () => {
    const r = await http(new CookieJar(), `${ctx.ready.feide}/interaction/doesnotexist`);
    assertEqual(r.status, 400, 'status');
  });

  await check('stdout holds nothing but the ready line', () => {
    assertEqual(server.stdout, `${readyLine}\n`, 'stdout');
  });

  await check('exits cleanly (code 0) on SIGTERM', async () => {
    server.child.kill('SIGTERM');
    const exit = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r('timeout'), 3000))]);
    assertEqual(exit, { code: 0, signal: null }, 'exit');
  });

  if (failed) console.log(`--- server stderr ---\n${server.stderr}`);
  if (server.exit === null) server.child.kill('SIGKILL');
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

await main();
