// Every page, every role: each GET of the authorization matrix that a persona may see
// (plus the 403 and 404 pages, and being sent to sign in), visited in a real browser
// as that persona. On every visit, in Norwegian bokmål: the outcome the matrix demands,
// language, headings, labels, form errors, console and CSP errors, reflow at 390 px.
// On the first visit of each page structure in the run (lib/structure.mjs) also
// axe-core, keyboard use, print and screenshots at 1280 and 390 px, and the page again
// in English; English besides on the first allowed visit of each route. The served HTML
// of every visit is kept for the Nu HTML checker.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { checkPage, checkReflow, formatProblems, timed, watchConsole } from '../lib/checks.mjs';
import { htmlDir, screenshotDir, stateDir, tavleUrl } from '../lib/env.mjs';
import { label, loadMatrix, personasOf, visitsFor } from '../lib/matrix.mjs';
import { claim, structureFingerprint } from '../lib/structure.mjs';
import { saveHtml } from '../lib/vnu.mjs';

const entries = loadMatrix();
// Bokmål first: its visit decides whether the page's structure is new in this run.
// English, the same templates with other strings, gets what depends on the strings:
// lang, headings, labels, form errors, console, and the Nu HTML checker.
const LANGUAGES = [
  { lang: 'nb', locale: 'nb-NO' },
  { lang: 'en', locale: 'en-GB' },
];

const slug = (s) =>
  s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60) || 'root';

/** Did the browser end up where the matrix says? A problem, or null. */
function outcomeProblem(entry, status, finalUrl) {
  const finalPath = new URL(finalUrl).pathname;
  const requested = new URL(entry.path, 'http://x').pathname;
  const signIn = finalPath === '/sign-in' && requested !== '/sign-in';
  const got =
    status === 404 ? 'Hidden' : status === 403 ? 'Refused' : signIn ? 'SignIn' : status >= 200 && status < 300 ? 'Allowed' : `status ${status}`;
  return got === entry.expected
    ? null
    : { rule: 'outcome', element: entry.path, message: `expected ${entry.expected}, got ${got} (${status} at ${finalPath})` };
}

/** The type each kind of download is sent as. */
const DOWNLOAD_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  zip: 'application/zip',
};

/**
 * A file to download (a CSV export: `Content-Disposition: attachment`) is no page: the
 * browser would not show it. Fetch it with the persona's cookies instead and check the
 * outcome, that it is sent as a download, and (when allowed) its type. `null` when the
 * path answers with a page.
 */
async function downloadProblems(context, entry) {
  // Only paths that name a file (`….csv`): every other path is a page.
  if (!/\.[a-z0-9]+$/i.test(entry.path.split('?')[0])) return null;
  const res = await context.request.get(tavleUrl() + entry.path, { maxRedirects: 0 });
  const disposition = res.headers()['content-disposition'] ?? '';
  if (!disposition.startsWith('attachment')) return null;
  const status = res.status();
  const got = status === 200 ? 'Allowed' : status === 404 ? 'Hidden' : status === 403 ? 'Refused' : `HTTP ${status}`;
  if (got !== entry.expected) {
    return [{ rule: 'outcome', element: entry.path, message: `expected ${entry.expected}, got ${got} (a download)` }];
  }
  const type = res.headers()['content-type'] ?? '';
  const extension = entry.path.split('?')[0].split('.').pop().toLowerCase();
  const expected = DOWNLOAD_TYPES[extension] ?? 'text/csv; charset=utf-8';
  return type.toLowerCase() === expected
    ? []
    : [{ rule: 'download', element: entry.path, message: `a download sent as ${type}, not ${expected}` }];
}

for (const persona of personasOf(entries)) {
  test.describe(label(persona), () => {
    for (const entry of visitsFor(entries, persona)) {
      const name = `${label(persona)}: GET ${entry.route} — ${entry.what} → ${entry.expected}`;
      test(name, async ({ browser }) => {
        const storageState = persona ? path.join(stateDir, `${persona}.json`) : undefined;
        if (storageState && !fs.existsSync(storageState)) throw new Error(`no session for ${persona}: did sign-in fail?`);
        const outcome = entry.expected === 'Allowed' ? '' : `-${entry.expected.toLowerCase()}`;
        const file = `${slug(entry.route)}--${slug(entry.what)}${outcome}`;
        const problems = [];
        // Whether bokmål found a structure no visit of this run has checked in full yet.
        let fresh = false;
        for (const { lang, locale } of LANGUAGES) {
          // The 403 and 404 pages and the sign-in redirect: in bokmål only. English for a
          // new structure, and once per route whatever its structure.
          if (lang !== 'nb') {
            if (entry.expected !== 'Allowed') continue;
            if (!fresh && !claim(`en--${entry.route}`, { persona: label(persona), path: entry.path })) continue;
          }
          const timings = {};
          const context = await timed(timings, 'context', () =>
            browser.newContext({ storageState, locale, viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' }),
          );
          try {
            const page = await context.newPage();
            const consoleProblems = watchConsole(page);
            const download = await downloadProblems(context, entry);
            if (download) {
              problems.push(...download.map((p) => ({ ...p, rule: `${p.rule} (${lang})` })));
              continue;
            }
            const res = await timed(timings, 'load', () => page.goto(tavleUrl() + entry.path));
            expect(res, `a response for ${entry.path}`).not.toBeNull();
            const wrong = outcomeProblem(entry, res.status(), page.url());
            const html = (res.headers()['content-type'] ?? '').startsWith('text/html');
            const here = [];
            if (wrong) here.push(wrong);
            // Being sent to sign in shows the sign-in page, checked as its own entry.
            else if (html && entry.expected !== 'SignIn') {
              const name = `pages__${label(persona)}__${file}__${lang}`;
              const served = await res.text();
              if (lang === 'nb') {
                const fingerprint = await timed(timings, 'fingerprint', () => structureFingerprint(page));
                fresh = claim(`fp--${fingerprint}`, { persona: label(persona), path: entry.path });
              }
              const full = lang === 'nb' && fresh;
              here.push(...(await checkPage(page, { axe: full, keyboard: full, print: full }, timings)));
              if (lang === 'nb') {
                const dir = path.join(screenshotDir, label(persona));
                if (full) {
                  await timed(timings, 'screenshots', async () => {
                    await page.evaluate(() => {
                      /** @type {HTMLElement} */ (document.activeElement)?.blur();
                      window.scrollTo(0, 0);
                    });
                    await page.screenshot({ path: path.join(dir, `${file}-1280.png`), fullPage: true });
                  });
                }
                await page.setViewportSize({ width: 390, height: 844 });
                here.push(...(await timed(timings, 'reflow', () => checkReflow(page))));
                if (full) {
                  await timed(timings, 'screenshots', () =>
                    page.screenshot({ path: path.join(dir, `${file}-390.png`), fullPage: true }),
                  );
                }
              }
              saveHtml(htmlDir, name, served, {
                source: 'pages',
                persona: label(persona),
                route: entry.route,
                path: entry.path,
                what: entry.what,
                expected: entry.expected,
                lang,
                full,
                status: res.status(),
                timings,
              });
            }
            here.push(...consoleProblems);
            problems.push(...here.map((p) => ({ ...p, rule: `${p.rule} (${lang})` })));
          } finally {
            await context.close();
          }
        }
        expect(problems, `\n${formatProblems(`${label(persona)} ${entry.path} (${entry.what})`, problems)}\n`).toEqual([]);
      });
    }
  });
}
