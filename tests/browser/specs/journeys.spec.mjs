// The main journeys, signed in through the real identity provider: the office clerk
// finds a pupil by name and opens the card (with the keyboard alone), adds a contact
// person, plans (and cancels) a move to another school and previews the school-year
// rollover, a guardian sees
// their own children and gives a pick-up permission, a pupil sees themself, refused people get the calm no-access
// page, and signing out ends the provider's session too. Pages reached by POST are
// checked like every other page and kept for the Nu HTML checker.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { catalogues, checkPrint, formatProblems, watchConsole } from '../lib/checks.mjs';
import { idpUrl, screenshotDir, tavleUrl } from '../lib/env.mjs';
import { check, press, tabTo } from '../lib/journey.mjs';
import { today } from '../lib/calendar.mjs';
import { allowedPaths, loadMatrix } from '../lib/matrix.mjs';
import { persona, REFUSED } from '../lib/personas.mjs';
import { expectSignedIn, navigation, signIn } from '../lib/signin.mjs';

const entries = loadMatrix();
const nb = (key) => catalogues.nb.get(key);
const en = (key) => catalogues.en.get(key);

test('office clerk: signs in, finds a pupil by name and opens the card, with the keyboard alone', async ({ page }) => {
  const problems = watchConsole(page);
  const clerk = persona('office_clerk');

  // The start page, anonymous: the skip link is the first stop and moves focus to main.
  await page.goto(`${tavleUrl()}/`);
  await page.keyboard.press('Tab');
  await expect(page.locator('a[href="#main"]')).toBeFocused();
  await expect(page.locator('a[href="#main"]')).toHaveText(nb('layout.skip_link'));
  await page.keyboard.press('Enter');
  await expect(page.locator('main')).toBeFocused();

  // Sign in: Tavle's sign-in page, then the provider's form.
  await tabTo(page, 'main a[href="/sign-in"]', problems);
  await press(page, 'Enter', tavleUrl());
  await tabTo(page, `#sign-in-${clerk.tenant}-feide`, problems);
  await press(page, 'Enter', idpUrl());
  await tabTo(page, '#username', problems);
  await page.keyboard.type(clerk.username);
  await press(page, 'Enter', tavleUrl());
  await expectSignedIn(page, 'office_clerk');

  // The pupil list of the clerk's school.
  await tabTo(page, 'a[href="/pupils"]', problems);
  const list = await press(page, 'Enter', tavleUrl());
  expect(new URL(page.url()).pathname).toMatch(/^\/schools\/[0-9a-f-]{36}\/pupils$/);
  const row = page.locator('main table tbody th a').nth(2);
  const [name, href] = [(await row.textContent()).trim(), await row.getAttribute('href')];
  expect(name, 'rows show "Family, Given"').toMatch(/^.+, .+$/);
  expect(allowedPaths(entries, 'office_clerk', '/pupils/{pupil_id}').length).toBeGreaterThan(0);
  await check(page, list, 'office_clerk-list', problems, { keyboard: false });

  // A name that is too long: the form comes back with an error summary that has focus,
  // links to the field, and a message the field points to.
  await tabTo(page, '#q', problems);
  await page.keyboard.type('x'.repeat(101));
  const invalid = await press(page, 'Enter', tavleUrl());
  expect(invalid.status()).toBe(422);
  await expect(page).toHaveTitle(new RegExp(`^${nb('form.error_title_prefix')}`));
  await expect(page.locator('.ds-error-summary')).toBeFocused();
  await expect(page.locator('#q')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#q')).toHaveAccessibleDescription(nb('pupils.error.q_too_long'));
  await check(page, invalid, 'office_clerk-search-error', problems, { keyboard: false });
  await page.keyboard.press('Tab');
  await expect(page.locator('.ds-error-summary a[href="#q"]')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('#q')).toBeFocused();

  // The name, searched by POST (never in the URL), and the pupil's card.
  await page.keyboard.press('Control+A');
  await page.keyboard.type(name);
  const found = await press(page, 'Enter', tavleUrl());
  expect(found.request().method()).toBe('POST');
  expect(page.url()).not.toContain(encodeURIComponent(name.split(',')[0]));
  await expect(page.locator(`main table a[href="${href}"]`)).toHaveText(name);
  await check(page, found, 'office_clerk-search-results', problems, { keyboard: false });
  await tabTo(page, `main table a[href="${href}"]`, problems);
  const card = await press(page, 'Enter', tavleUrl());
  expect(new URL(page.url()).pathname).toBe(href);
  const [family, given] = name.split(', ');
  await expect(page.locator('h1')).toHaveText(`${given} ${family}`);
  await expect(page.locator('#national-id')).toHaveText(/^\d{6} \*{5}$/);

  // Reveal the national id (a POST, audited with the reason chosen), then print the card.
  await tabTo(page, 'form[action$="/national-id"] select', problems);
  await page.locator('form[action$="/national-id"] select').selectOption('identity_check');
  await tabTo(page, 'form[action$="/national-id"] button', problems);
  const revealed = await press(page, 'Enter', tavleUrl());
  await expect(page.locator('#national-id')).toHaveText(/^\d{11}$/);
  await check(page, revealed, 'office_clerk-card-revealed', problems, { keyboard: false });
  problems.push(...(await checkPrint(page)));
  await page.emulateMedia({ media: 'print' });
  const printDir = path.join(screenshotDir, 'print');
  fs.mkdirSync(printDir, { recursive: true });
  await page.screenshot({ path: path.join(printDir, 'pupil-card.png'), fullPage: true });
  await page.pdf({ path: path.join(printDir, 'pupil-card.pdf'), format: 'A4' });
  await page.emulateMedia({ media: 'screen' });
  expect(card.status()).toBe(200);

  // Sign out, and end the provider's session too.
  await tabTo(page, 'form[action="/sign-out"] button', problems);
  const signedOut = await press(page, 'Enter', tavleUrl());
  await check(page, signedOut, 'signed-out', problems);
  await tabTo(page, '#provider-logout', problems);
  await press(page, 'Enter', idpUrl());
  await tabTo(page, 'button[name="logout"][value="yes"]', problems);
  await press(page, 'Enter', tavleUrl());
  await expect(page.locator('form[action="/sign-out"]')).toHaveCount(0);
  await expect(page.locator('h1')).toHaveText(nb('home.welcome'));

  expect(problems, formatProblems('office clerk journey', problems)).toEqual([]);
});

test('guardian: signs in with ID-porten and sees their own children, and only them', async ({ page }) => {
  const problems = watchConsole(page);
  const res = await signIn(page, 'guardian');
  await expectSignedIn(page, 'guardian');
  await check(page, res, 'guardian-start', problems);
  const own = allowedPaths(entries, 'guardian', '/pupils/{pupil_id}');
  expect(own.length, 'the matrix gives the guardian children').toBeGreaterThan(0);
  const cards = page.locator('main a.ds-card[href^="/pupils/"]');
  expect((await cards.evaluateAll((as) => as.map((a) => a.getAttribute('href')))).sort()).toEqual([...own].sort());
  for (const href of own) {
    const child = (await page.locator(`main a[href="${href}"] h2`).textContent()).trim();
    const card = await page.goto(tavleUrl() + href);
    expect(card.status()).toBe(200);
    await expect(page.locator('h1')).toHaveText(child);
    await page.goBack();
  }
  expect(problems, formatProblems('guardian journey', problems)).toEqual([]);
});

test('office clerk: adds a contact person from the card, a bad phone number refused by its field', async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, 'office_clerk');
  await expectSignedIn(page, 'office_clerk');
  const [contacts] = allowedPaths(entries, 'office_clerk', '/pupils/{pupil_id}/contacts');
  expect(contacts, 'the matrix gives the office clerk a pupil whose contact persons they keep').toBeTruthy();
  const card = await page.goto(tavleUrl() + contacts.replace(/\/contacts$/, ''));
  expect(card.status()).toBe(200);
  await tabTo(page, `main a[href="${contacts}"]`, problems);
  const opened = await press(page, 'Enter', tavleUrl());
  await check(page, opened, 'office_clerk-contacts', problems);
  await tabTo(page, '#relation', problems);
  await page.locator('#relation').selectOption('neighbour');
  await tabTo(page, '#given_name', problems);
  await page.keyboard.type('Turid');
  await tabTo(page, '#family_name', problems);
  await page.keyboard.type('Aasen');
  await tabTo(page, '#phone', problems);
  await page.keyboard.type('ring etter fire');
  await tabTo(page, 'form[action$="/contacts"] button[type="submit"]', problems);
  const refused = await press(page, 'Enter', tavleUrl());
  expect(refused.status()).toBe(422);
  await expect(page.locator('#phone')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#family_name')).toHaveValue('Aasen');
  await check(page, refused, 'office_clerk-contacts-refused', problems, { keyboard: false });
  await page.locator('#phone').fill('+47 915 00 000');
  await tabTo(page, 'form[action$="/contacts"] button[type="submit"]', problems);
  const added = await press(page, 'Enter', tavleUrl());
  expect(new URL(page.url()).searchParams.get('done')).toBe('added');
  await expect(page.locator('main h2').filter({ hasText: 'Turid Aasen' })).toHaveCount(1);
  await check(page, added, 'office_clerk-contacts-added', problems, { keyboard: false });
  expect(problems, formatProblems('office contact person journey', problems)).toEqual([]);
});

test('office clerk: plans a move to another school from the card, a missing school refused by its field, and cancels it', async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, 'office_clerk');
  await expectSignedIn(page, 'office_clerk');
  const [move] = allowedPaths(entries, 'office_clerk', '/pupils/{pupil_id}/move');
  expect(move, 'the matrix gives the office clerk a pupil they may move').toBeTruthy();
  const card = await page.goto(tavleUrl() + move.replace(/\/move$/, ''));
  expect(card.status()).toBe(200);
  await tabTo(page, `main a[href="${move}"]`, problems);
  const opened = await press(page, 'Enter', tavleUrl());
  await check(page, opened, 'office_clerk-move', problems);
  // Two weeks on: planned, so the demo's today is the same for every other test.
  const iso = new Date(Date.parse(today()) + 14 * 86_400_000).toISOString().slice(0, 10);
  // A radio group is one Tab stop (the chosen radio); the arrow keys choose another.
  await tabTo(page, '#kind-class', problems);
  await page.keyboard.press('ArrowDown');
  await page.locator('#date').fill(iso);
  await tabTo(page, 'form[action$="/move"] button[type="submit"]', problems);
  const refused = await press(page, 'Enter', tavleUrl());
  expect(refused.status()).toBe(422);
  await expect(page.locator('#school')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#kind-school')).toBeChecked();
  await check(page, refused, 'office_clerk-move-refused', problems, { keyboard: false });
  const school = await page.locator('#school option', { hasText: 'Nordlys' }).first().getAttribute('value');
  await page.locator('#school').selectOption(school);
  await tabTo(page, 'form[action$="/move"] button[type="submit"]', problems);
  const planned = await press(page, 'Enter', tavleUrl());
  expect(new URL(page.url()).searchParams.get('done')).toBe('planned');
  await expect(page.locator('#plan-title')).toHaveCount(1);
  await expect(page.locator('main').getByText('Nordlys', { exact: false }).first()).toBeVisible();
  await check(page, planned, 'office_clerk-move-planned', problems, { keyboard: false });
  await tabTo(page, 'form[action$="/move/cancel"] button', problems);
  const cancelled = await press(page, 'Enter', tavleUrl());
  expect(new URL(page.url()).searchParams.get('done')).toBe('cancelled');
  await expect(page.locator('#plan-title')).toHaveCount(0);
  await check(page, cancelled, 'office_clerk-move-cancelled', problems, { keyboard: false });
  expect(problems, formatProblems('office move journey', problems)).toEqual([]);
});

test('office clerk: opens the school-year rollover preview from the classes, and an unconfirmed rollover is refused by its box', async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, 'office_clerk');
  await expectSignedIn(page, 'office_clerk');
  const [groups] = allowedPaths(entries, 'office_clerk', '/schools/{school_id}/groups');
  expect(groups, 'the matrix gives the office clerk a school whose classes they keep').toBeTruthy();
  const list = await page.goto(tavleUrl() + groups);
  expect(list.status()).toBe(200);
  const rollover = groups.replace(/\/groups$/, '/rollover');
  await tabTo(page, `main a[href="${rollover}"]`, problems);
  const preview = await press(page, 'Enter', tavleUrl());
  expect(preview.status()).toBe(200);
  // The preview names what will happen: pupils per grade, and next year's classes.
  await expect(page.locator('td[id^="advance-"]').first()).toBeVisible();
  await expect(page.locator('#rollover-groups tbody tr').first()).toBeVisible();
  await check(page, preview, 'office_clerk-rollover', problems);
  await tabTo(page, 'form[aria-labelledby="confirm-title"] button[type="submit"]', problems);
  const refused = await press(page, 'Enter', tavleUrl());
  expect(refused.status()).toBe(422);
  await expect(page.locator('#confirm')).toHaveAttribute('aria-invalid', 'true');
  await check(page, refused, 'office_clerk-rollover-refused', problems, { keyboard: false });
  // Next year's classes from a list: a line without a class is refused, by line.
  await page.locator('#placements').fill('12345678901');
  await tabTo(page, 'form[aria-labelledby="list-title"] button[type="submit"]', problems);
  const listed = await press(page, 'Enter', tavleUrl());
  expect(listed.status()).toBe(422);
  await expect(page.locator('#placements')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#list-problems li')).toHaveCount(1);
  await expect(page.locator('#placements')).toHaveValue('12345678901');
  expect(problems, formatProblems('office rollover journey', problems)).toEqual([]);
});

test('guardian: gives a pick-up permission from the SFO page, with the keyboard, and a wrong time is refused by its field', async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, 'guardian');
  await expectSignedIn(page, 'guardian');
  const sfo = await page.goto(`${tavleUrl()}/sfo`);
  await check(page, sfo, 'guardian-sfo', problems);
  await tabTo(page, 'main a[href$="/pickup"]', problems);
  const opened = await press(page, 'Enter', tavleUrl());
  await expect(page.locator('h1')).toContainText(nb('sfo.pickup.title'));
  await check(page, opened, 'guardian-pickup', problems);
  // Home alone, with a time that is none: refused by the field, what was typed kept.
  await tabTo(page, '#home_alone', problems);
  if (!(await page.locator('#home_alone').isChecked())) await page.keyboard.press('Space');
  await tabTo(page, '#alone_after', problems);
  await page.locator('#alone_after').evaluate((el) => {
    el.type = 'text';
  });
  await page.locator('#alone_after').fill('25:99');
  await tabTo(page, 'main form button[type="submit"]', problems);
  const refused = await press(page, 'Enter', tavleUrl());
  expect(refused.status()).toBe(422);
  await expect(page.locator('#alone_after')).toHaveAttribute('aria-invalid', 'true');
  await check(page, refused, 'guardian-pickup-refused', problems, { keyboard: false });
  // Then 15:00: saved, and the page says so.
  await page.locator('#alone_after').fill('15:00');
  await tabTo(page, 'main form button[type="submit"]', problems);
  const saved = await press(page, 'Enter', tavleUrl());
  expect(new URL(page.url()).searchParams.get('done')).toBe('saved');
  await expect(page.locator('.ds-alert[role="status"]')).toContainText(nb('sfo.pickup.saved'));
  await check(page, saved, 'guardian-pickup-saved', problems, { keyboard: false });
  expect(problems, formatProblems('guardian pick-up journey', problems)).toEqual([]);
});

test('pupil: signs in with Feide and sees their own card', async ({ page }) => {
  const problems = watchConsole(page);
  const pupil = persona('pupil');
  const res = await signIn(page, 'pupil');
  await expectSignedIn(page, 'pupil');
  await check(page, res, 'pupil-start', problems);
  const own = allowedPaths(entries, 'pupil', '/pupils/{pupil_id}');
  expect(own, 'the matrix lets the pupil see one card: their own').toHaveLength(1);
  await expect(page.locator('main a[href^="/pupils/"]')).toHaveCount(1);
  await expect(page.locator('a[href="/pupils"]'), 'no pupil lists for a pupil').toHaveCount(0);
  await navigation(page, () => page.click(`main a[href="${own[0]}"]`), tavleUrl());
  await expect(page.locator('h1')).toHaveText(pupil.name);
  expect(problems, formatProblems('pupil journey', problems)).toEqual([]);
});

for (const key of REFUSED) {
  test(`${key}: is refused at sign-in with the calm no-access page`, async ({ page }) => {
    const problems = watchConsole(page);
    const res = await signIn(page, key);
    expect(res.status()).toBe(403);
    await expect(page.locator('h1')).toHaveText(nb('signin.no_access_title'));
    await expect(page.locator('form[action="/sign-out"]')).toHaveCount(0);
    await check(page, res, `${key}-refused`, problems);
    await page.screenshot({ path: path.join(screenshotDir, key, 'sign-in-refused-1280.png'), fullPage: true });
    expect(problems, formatProblems(`${key} refused`, problems)).toEqual([]);
  });
}

test('anyone: switches to English with the keyboard, and the page says so', async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto(`${tavleUrl()}/`);
  await tabTo(page, 'a[hreflang="en"]', problems);
  await expect(page.locator('a[hreflang="en"]')).toHaveAttribute('lang', 'en');
  const res = await press(page, 'Enter', tavleUrl());
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.locator('h1')).toHaveText(en('home.welcome'));
  await check(page, res, 'english-start', problems);
  expect(problems, formatProblems('language journey', problems)).toEqual([]);
});
