#!/usr/bin/env node
// Tavle's browser suite, start to finish:
//   1. start the local identity provider (dev/idp) on a free port;
//   2. start `tavle demo` (debug build) with a fresh data folder, signing in through it;
//   3. run Playwright (playwright.config.mjs) against them with Debian's Chromium;
//   4. run the Nu HTML checker once over every page the suite collected;
//   5. stop Tavle (which stops its PostgreSQL) and the provider, also on failure or Ctrl-C.
// Needs: `cargo test --test tavle authz` run first (it writes target/authz/matrix.json)
// and the tavle binary ($TAVLE_BIN, else $CARGO_TARGET_DIR/debug/tavle). scripts/test
// does both. Arguments are passed to `playwright test` (e.g. a project or a grep).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { htmlDir, matrixPath, outDir, repoRoot, screenshotDir, suiteDir } from './lib/env.mjs';
import { isError, runVnu } from './lib/vnu.mjs';

const started = Date.now();
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1);
const log = (...a) => console.log('[browser]', ...a);

const tavleBin =
  process.env.TAVLE_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, 'target'), 'debug/tavle');
for (const [what, file, hint] of [
  ['tavle binary', tavleBin, 'cargo build --locked (or set TAVLE_BIN)'],
  ['authorization matrix', matrixPath, 'cargo test --locked --test tavle authz'],
  ['dev/idp packages', path.join(repoRoot, 'dev/idp/node_modules'), '(cd dev/idp && npm ci)'],
  ['suite packages', path.join(suiteDir, 'node_modules'), '(cd tests/browser && npm ci)'],
]) {
  if (!fs.existsSync(file)) {
    console.error(`[browser] the ${what} is missing (${file}): run ${hint}`);
    process.exit(2);
  }
}

/** Children to stop on the way out, newest first. */
const children = [];
let dataDir = null;

async function stop(child, name) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    log(`${name} did not stop within 20 s; killing it`);
    child.kill('SIGKILL');
  }, 20_000);
  await exited;
  clearTimeout(timer);
}

async function cleanup() {
  for (const { child, name } of children.splice(0).reverse()) await stop(child, name);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = null;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    cleanup().finally(() => process.exit(130));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Spawn, log stderr (and stdout) to a file, and wait for a stdout line `ready` accepts. */
function start(name, cmd, args, env, ready, timeoutMs) {
  const logFile = path.join(outDir, `${name}.log`);
  const out = fs.createWriteStream(logFile);
  const fullEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete fullEnv[k];
  const child = spawn(cmd, args, { cwd: repoRoot, env: fullEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push({ child, name });
  child.stderr.pipe(out);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready within ${timeoutMs / 1000} s (see ${logFile})`)), timeoutMs);
    const lines = readline.createInterface({ input: child.stdout });
    let done = false;
    lines.on('line', (line) => {
      out.write(`${line}\n`);
      if (done) return;
      const value = ready(line);
      if (value !== undefined) {
        done = true;
        clearTimeout(timer);
        resolve(value);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!done) {
        const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
        reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${tail}`));
      }
    });
  });
}

function runPlaywright(env) {
  return new Promise((resolve) => {
    const cli = path.join(suiteDir, 'node_modules/@playwright/test/cli.js');
    const child = spawn(process.execPath, [cli, 'test', '--config', path.join(suiteDir, 'playwright.config.mjs'), ...process.argv.slice(2)], {
      cwd: suiteDir,
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    children.push({ child, name: 'playwright' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** The Nu HTML checker over every collected page; prints and counts the errors. */
function checkHtml() {
  const files = fs.existsSync(htmlDir) ? fs.readdirSync(htmlDir).filter((f) => f.endsWith('.html')) : [];
  if (files.length === 0) {
    log('Nu HTML checker: no pages were collected');
    return { pages: 0, errors: 0, warnings: 0 };
  }
  const t = Date.now();
  const byFile = runVnu([htmlDir]);
  let errors = 0;
  let warnings = 0;
  const lines = [];
  for (const f of files.sort()) {
    const file = path.join(htmlDir, f);
    const meta = JSON.parse(fs.readFileSync(file.replace(/\.html$/, '.json'), 'utf8'));
    const where = `${meta.persona} ${meta.path ?? ''} (${meta.what}, ${meta.lang})`;
    for (const m of byFile.get(file) ?? []) {
      if (isError(m)) {
        errors++;
        lines.push(`${where}: [nu:${m.type}] line ${m.line}:${m.column} — ${m.message}${m.extract ? ` «${m.extract.replace(/\s+/g, ' ').trim()}»` : ''}   (${f})`);
      } else if (m.subType === 'warning') warnings++;
    }
  }
  for (const [file, msgs] of byFile) {
    if (!file.startsWith(htmlDir)) for (const m of msgs) lines.push(`${file}: [nu:${m.type}] ${m.message}`), errors++;
  }
  log(`Nu HTML checker: ${files.length} pages, ${errors} errors, ${warnings} warnings (${seconds(t)} s)`);
  // Where the page visits spent their time (summed over pages; workers overlap).
  const spent = {};
  for (const f of files) {
    const meta = JSON.parse(fs.readFileSync(path.join(htmlDir, f.replace(/\.html$/, '.json')), 'utf8'));
    for (const [k, ms] of Object.entries(meta.timings ?? {})) spent[k] = (spent[k] ?? 0) + ms;
  }
  if (Object.keys(spent).length) {
    log(`time in page checks: ${Object.entries(spent).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(0)} s`).join(', ')}`);
    const claims = fs.existsSync(path.join(outDir, 'claims')) ? fs.readdirSync(path.join(outDir, 'claims')) : [];
    const structures = claims.filter((c) => c.startsWith('fp--')).length;
    const english = files.filter((f) => f.startsWith('pages__') && f.endsWith('__en.html')).length;
    log(`page structures checked in full (axe-core, keyboard, print, screenshots): ${structures}; English visits: ${english}`);
  }
  for (const l of lines) console.log(l);
  return { pages: files.length, errors, warnings };
}

/** What Playwright's JSON report says: tests by project and outcome. */
function summarise() {
  const file = path.join(outDir, 'report.json');
  if (!fs.existsSync(file)) return null;
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byProject = {};
  const walk = (suite) => {
    for (const s of suite.suites ?? []) walk(s);
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        const p = (byProject[t.projectName] ??= { passed: 0, failed: 0, skipped: 0 });
        const status = t.results?.at(-1)?.status;
        if (status === 'passed') p.passed++;
        else if (status === 'skipped' || !status) p.skipped++;
        else p.failed++;
      }
    }
  };
  for (const s of report.suites ?? []) walk(s);
  return byProject;
}

let exitCode = 1;
try {
  for (const dir of [outDir, screenshotDir]) fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });

  const idp = await start(
    'idp',
    process.execPath,
    ['dev/idp/server.mjs'],
    { IDP_PORT: '0', IDP_ACCOUNTS: 'dev/idp/accounts.demo.json', IDP_EXIT_ON_STDIN_CLOSE: '1' },
    (line) => {
      try {
        const j = JSON.parse(line);
        return j.ready ? j : undefined;
      } catch {
        return undefined;
      }
    },
    30_000,
  );
  const idpUrl = `http://127.0.0.1:${idp.port}`;
  log(`identity provider at ${idpUrl}`);

  // The demo's calendar around the day it runs as (TAVLE_TODAY, else today): the
  // journeys pick their days from it (lib/calendar.mjs).
  const calendarFile = path.join(outDir, 'calendar.json');
  await new Promise((resolve, reject) => {
    const child = spawn(tavleBin, ['demo', '--print-calendar'], { cwd: repoRoot, stdio: ['ignore', fs.openSync(calendarFile, 'w'), 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tavle demo --print-calendar exited with ${code}`))));
  });
  log(`the demo runs as on ${JSON.parse(fs.readFileSync(calendarFile, 'utf8')).today}`);

  // The embedded PostgreSQL runs as the `postgres` user when we are root: it must be
  // able to reach the folder.
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tavle-browser-'));
  fs.chmodSync(dataDir, 0o755);
  const port = await freePort();
  const t = Date.now();
  const tavleUrl = await start(
    'tavle',
    tavleBin,
    // TAVLE_BROWSER_DEMO_ARGS adds to the demo's arguments: `--external` runs it on the
    // databases of TAVLE_MIGRATION_DATABASE_URL and DATABASE_URL (scripts/citus-local).
    ['demo', '--data-dir', path.join(dataDir, 'data'), '--listen', `127.0.0.1:${port}`, '--dev-idp', idpUrl,
      ...(process.env.TAVLE_BROWSER_DEMO_ARGS ?? '').split(' ').filter(Boolean)],
    // Every role signs in from 127.0.0.1 within minutes: more than the default limit allows.
    // Each persona signs in once, before the pages, and some personas' pages come more than
    // the default 30 idle minutes later: keep those sessions up to the absolute lifetime.
    // (The idle timeout itself is tested in the Rust suite.)
    {
      TAVLE_SIGN_IN_LIMIT: '100000',
      TAVLE_STAFF_IDLE_MINUTES: '600',
      TAVLE_CITIZEN_IDLE_MINUTES: '600',
      TAVLE_PUBLIC_URL: undefined,
      TAVLE_LISTEN: undefined,
    },
    (line) => line.match(/is running at (\S+)/)?.[1],
    300_000,
  );
  log(`tavle demo at ${tavleUrl} (ready in ${seconds(t)} s)`);

  const t2 = Date.now();
  const code = await runPlaywright({ TAVLE_URL: tavleUrl, IDP_URL: idpUrl, TAVLE_CALENDAR: calendarFile });
  log(`Playwright finished with ${code} in ${seconds(t2)} s`);
  const nu = checkHtml();
  const projects = summarise();
  if (projects?.pages && nu.pages === 0) {
    log('the pages project ran but collected no HTML for the Nu HTML checker');
    nu.errors++;
  }
  const summary = {
    seconds: Number(seconds(started)),
    playwright_exit: code,
    projects,
    html_pages_checked: nu.pages,
    nu_errors: nu.errors,
    nu_warnings: nu.warnings,
  };
  fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 2));
  if (projects?.pages) {
    log(`pages × roles: ${projects.pages.passed + projects.pages.failed} visits (${projects.pages.passed} passed, ${projects.pages.failed} failed)`);
  }
  log(`screenshots in ${path.relative(repoRoot, screenshotDir)}/`);
  exitCode = code === 0 && nu.errors === 0 ? 0 : 1;
} catch (e) {
  console.error(`[browser] ${e.stack ?? e}`);
  exitCode = 1;
} finally {
  await cleanup();
  log(`${exitCode === 0 ? 'passed' : 'FAILED'} in ${seconds(started)} s`);
  process.exit(exitCode);
}
