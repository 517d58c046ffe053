// Where things are, for the suite and its runner. run.mjs sets TAVLE_URL and IDP_URL
// after starting the local identity provider and `tavle demo`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const suiteDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = path.resolve(suiteDir, '../..');

/** Everything the suite writes, under the repository's target/ (git-ignored). */
export const outDir = path.join(repoRoot, 'target/browser');
export const htmlDir = path.join(outDir, 'html');
export const stateDir = path.join(outDir, 'state');
export const screenshotDir = path.join(repoRoot, 'target/screenshots');

/** Written by `cargo test --test tavle authz` (tests/tavle/authz.rs). */
export const matrixPath = process.env.TAVLE_MATRIX ?? path.join(repoRoot, 'target/authz/matrix.json');

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Debian's Chromium, headless, with nothing that reaches out to the network on its own
 * (this machine's network is closed; without these flags Chromium keeps trying).
 * Playwright adds --headless itself and gives every browser a fresh, empty
 * --user-data-dir in a temporary folder.
 */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function tavleUrl() {
  const url = process.env.TAVLE_URL;
  if (!url) throw new Error('TAVLE_URL is not set: run the suite with `node tests/browser/run.mjs`');
  return url.replace(/\/$/, '');
}

export function idpUrl() {
  const url = process.env.IDP_URL;
  if (!url) throw new Error('IDP_URL is not set: run the suite with `node tests/browser/run.mjs`');
  return url.replace(/\/$/, '');
}

export function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}
