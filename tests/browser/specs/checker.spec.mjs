// A test of the checker itself: deliberately broken pages (fixtures/, never served by
// Tavle) must be caught, each by the check meant for it, with the element named; and a
// good page must pass, so that the checks are neither blind nor always failing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test } from '@playwright/test';
import {
  checkAxe,
  checkKeyboard,
  checkLang,
  checkPage,
  checkPrint,
  checkReflow,
  checkStructure,
  formatProblems,
} from '../lib/checks.mjs';
import { suiteDir } from '../lib/env.mjs';
import { claim, structureFingerprint } from '../lib/structure.mjs';
import { isError, runVnu, saveHtml } from '../lib/vnu.mjs';

const fixture = (name) => path.join(suiteDir, 'fixtures', name);
const open = (page, name) => page.goto(pathToFileURL(fixture(name)).href);
const rules = (problems) => [...new Set(problems.map((p) => p.rule))].sort();

test('a good page passes every check', async ({ page }) => {
  await open(page, 'good.html');
  const problems = await checkPage(page);
  await page.setViewportSize({ width: 390, height: 844 });
  problems.push(...(await checkReflow(page)));
  expect(problems, formatProblems('good.html', problems)).toEqual([]);
});

test('an input without a label is caught, naming page, rule and element', async ({ page }) => {
  await open(page, 'broken-label.html');
  const axe = await checkAxe(page);
  expect(axe.map((p) => p.rule)).toContain('axe:label');
  expect(axe.find((p) => p.rule === 'axe:label').element).toBe('#nameless');
  const own = await checkStructure(page);
  expect(own).toContainEqual(expect.objectContaining({ rule: 'labels', element: expect.stringContaining('input#nameless') }));
  // What the page test prints when it fails.
  const report = formatProblems('anonymous /broken-label', await checkPage(page));
  expect(report).toMatch(/^anonymous \/broken-label: \[axe:label\] #nameless — Form elements must have labels/m);
});

test('invalid HTML is caught by the Nu HTML checker, run as run.mjs runs it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tavle-vnu-'));
  try {
    for (const name of ['broken-markup.html', 'good.html', 'broken-label.html']) {
      saveHtml(dir, name.replace('.html', ''), fs.readFileSync(fixture(name), 'utf8'), { what: name });
    }
    const byFile = runVnu([dir]);
    const errors = (name) => (byFile.get(path.join(dir, name)) ?? []).filter(isError);
    const broken = errors('broken-markup.html');
    expect(broken.map((m) => m.message).join('\n')).toMatch(/Duplicate ID “main”/);
    expect(broken.map((m) => m.message).join('\n')).toMatch(/not allowed as child of element “ul”/);
    expect(broken.every((m) => m.line > 0)).toBe(true);
    expect(errors('good.html')).toEqual([]);
    expect(errors('broken-label.html')).toEqual([]); // a missing label is axe's to find, not the validator's
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a page without a skip link first and with invisible focus is caught', async ({ page }) => {
  await open(page, 'broken-keyboard.html');
  const problems = await checkKeyboard(page);
  expect(problems).toContainEqual(expect.objectContaining({ rule: 'skip-link', element: expect.stringContaining('a#invisible') }));
  expect(problems).toContainEqual(expect.objectContaining({ rule: 'focus-visible', element: expect.stringContaining('a#invisible') }));
  // The walk goes on past a date field's inner stops (one of which has no ring) …
  expect(problems).toContainEqual(expect.objectContaining({ rule: 'focus-visible', element: expect.stringContaining('input#when') }));
  expect(problems).toContainEqual(expect.objectContaining({ rule: 'focus-visible', element: expect.stringContaining('a#after') }));
  // … and the other link keeps the browser's own focus ring.
  expect(problems.filter((p) => p.rule === 'focus-visible' && p.element.includes('#more'))).toHaveLength(0);
});

test('wrong lang, headings out of order, silent form errors, printed chrome and sideways scrolling are caught', async ({ page }) => {
  await open(page, 'broken-structure.html');
  const lang = await checkLang(page);
  expect(lang).toEqual([expect.objectContaining({ rule: 'lang', message: expect.stringContaining('is in "nb"') })]);

  const structure = await checkStructure(page);
  expect(rules(structure)).toEqual(['form-errors', 'headings']);
  expect(structure.filter((p) => p.rule === 'headings').map((p) => p.message)).toEqual([
    '2 h1 elements; a page has exactly one',
    'h3 follows h1: a level is skipped',
  ]);
  expect(structure.filter((p) => p.rule === 'form-errors').map((p) => p.message)).toEqual([
    'a form with errors: the title should start with "Error:"',
    'fields are invalid but there is no error summary (.ds-error-summary)',
    'invalid field without aria-describedby pointing at its message',
  ]);

  const print = await checkPrint(page);
  expect(print).toContainEqual(expect.objectContaining({ rule: 'print', element: 'nav' }));

  await page.setViewportSize({ width: 390, height: 844 });
  const reflow = await checkReflow(page);
  expect(reflow).toEqual([expect.objectContaining({ rule: 'reflow', element: expect.stringContaining('div#too-wide') })]);
});

test('a page with other words or more rows of the same kind has the same structure; another element does not', async ({
  page,
}) => {
  const fingerprintOf = async (html) => {
    await page.setContent(html);
    return structureFingerprint(page);
  };
  const table = (rows) =>
    `<main><h1>Fravær</h1><table><tbody>${rows.map((r) => `<tr><td>${r}</td><td><input type="radio" name="${r}"></td></tr>`).join('')}</tbody></table></main>`;
  const few = await fingerprintOf(table(['Emma', 'Oskar']));
  expect(await fingerprintOf(table(['Aksel', 'Birk', 'Cecilie', 'Dina']))).toBe(few);
  // A label, a different input type, an attribute or a class each make another page.
  expect(await fingerprintOf(table(['Emma', 'Oskar']).replace('<h1>', '<h1 class="x">'))).not.toBe(few);
  expect(await fingerprintOf(table(['Emma']).replace('type="radio"', 'type="checkbox"'))).not.toBe(few);
  expect(await fingerprintOf(table(['Emma']).replace('<input ', '<input aria-invalid="true" '))).not.toBe(few);
  expect(await fingerprintOf(table(['Emma']).replace('</h1>', '</h1><label>Navn</label>'))).not.toBe(few);
  // Text where there was none is another page too (axe checks contrast of text).
  expect(await fingerprintOf(table(['Emma']).replace('<td><input', '<td>! <input'))).not.toBe(few);
});

test('a structure is claimed once per run', () => {
  const key = `test--${process.pid}-${Date.now()}`;
  expect(claim(key, {})).toBe(true);
  expect(claim(key, {})).toBe(false);
});
