// Assessment journeys, one story in order (the file's tests share the demo's state):
// the subject teacher enters a group's autumn grades with the keyboard (a value out of
// range on the way, refused by its field with what was typed kept); the pupil does not
// see them before publication; the principal closes the window and publishes, then
// changes a locked grade, which needs a reason, and finds the change in the pupil's
// history; the contact teacher lowers a conduct grade and sends the warning it calls
// for; the pupil and a guardian read the published grade. (The file name ends in
// journeys.spec.mjs, so the journeys project runs it.)
import { expect, test } from '@playwright/test';
import { daysFrom, today } from '../lib/calendar.mjs';
import { catalogues, formatProblems, watchConsole } from '../lib/checks.mjs';
import { tavleUrl } from '../lib/env.mjs';
import { check, press, tabTo } from '../lib/journey.mjs';
import { expectSignedIn, navigation, signIn } from '../lib/signin.mjs';

const nb = (key) => catalogues.nb.get(key);
const EMMA = 'Emma Nordmann';

test.describe.configure({ mode: 'serial' });

/** Shared along the story: Emma's mathematics group's grid, and the period's heading. */
const story = { grid: '', period: '' };

/** On 1 August the school year begins: closing entry "yesterday" is outside it. */
const yearBegins = today().slice(5) === '08-01';

/** Select the field's text and type `value` over it. */
async function typeOver(page, value) {
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type(value);
}

test('subject teacher: enters the autumn grades with the keyboard; a value out of range is refused by its field', async ({
  page,
}) => {
  const problems = watchConsole(page);
  await signIn(page, 'subject_teacher');
  await expectSignedIn(page, 'subject_teacher');
  await tabTo(page, 'a[href="/assessment"]', problems);
  let res = await press(page, 'Enter', tavleUrl());
  await check(page, res, 'teacher-assessment-groups', problems);
  // The group with Emma in it.
  const links = await page.locator('main table a[href^="/assessment/groups/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  expect(links.length, 'the teacher has groups').toBeGreaterThan(0);
  for (const href of links) {
    res = await navigation(page, () => page.goto(tavleUrl() + href), tavleUrl());
    if ((await page.locator('main table tbody th', { hasText: EMMA }).count()) > 0) {
      story.grid = href;
      break;
    }
  }
  expect(story.grid, "one of the teacher's groups has Emma").not.toBe('');
  story.period = (await page.locator('#period option[selected]').textContent()).trim();
  expect(story.period).toContain(nb('assessment.kind.autumn'));
  await check(page, res, 'teacher-grade-grid', problems);

  const inputs = page.locator('form.tavle-grades input[name^="g-"]');
  const ids = await inputs.evaluateAll((els) => els.map((e) => e.id));
  expect(ids.length, 'the group has pupils').toBeGreaterThan(2);
  const emma = await page.locator('form.tavle-grades tr', { hasText: EMMA }).locator('input').getAttribute('id');
  const other = ids.find((id) => id !== emma);

  // Emma 5, another pupil 7 (out of range): Tab from one field to the next.
  await tabTo(page, `#${emma}`, problems);
  await typeOver(page, '5');
  await tabTo(page, `#${other}`, problems);
  await typeOver(page, '7');
  await tabTo(page, 'form.tavle-grades button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(422);
  await expect(page).toHaveTitle(new RegExp(`^${nb('form.error_title_prefix')}`));
  await expect(page.locator('.ds-error-summary')).toBeFocused();
  await expect(page.locator(`#${other}`)).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator(`#${other}`)).toHaveValue('7');
  await expect(page.locator(`#${emma}`)).toHaveValue('5');
  await expect(page.locator('main .ds-validation-message')).toHaveText(nb('assessment.error.unknown_value'));
  await check(page, res, 'teacher-grade-grid-error', problems, { keyboard: false });

  // The summary's link leads to the field; correct it and save.
  await page.keyboard.press('Tab');
  await expect(page.locator(`.ds-error-summary a[href="#${other}"]`)).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator(`#${other}`)).toBeFocused();
  await typeOver(page, '4');
  await tabTo(page, 'form.tavle-grades button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(200);
  await expect(page.locator('main [role=status]')).toContainText(nb('assessment.grid.saved').split('{')[0].trim());
  await expect(page.locator(`#${emma}`)).toHaveValue('5');
  await expect(page.locator(`#${other}`)).toHaveValue('4');
  await check(page, res, 'teacher-grade-grid-saved', problems, { keyboard: false });
  expect(problems, formatProblems('teacher grade journey', problems)).toEqual([]);
});

test('contact teacher: lowers a pupil\'s conduct and sends the written warning it calls for', async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, 'subject_teacher');
  let res = await navigation(page, () => page.goto(`${tavleUrl()}/assessment`), tavleUrl());
  const conduct = await page.locator('main a[href$="/conduct"]').first().getAttribute('href');
  await tabTo(page, `main a[href="${conduct}"]`, problems);
  res = await press(page, 'Enter', tavleUrl());
  await check(page, res, 'contact-teacher-conduct', problems);
  // The first pupil's conduct: NG, chosen from the keyboard.
  const field = await page.locator('form.tavle-grades select[name^="conduct-"]').first().getAttribute('id');
  await tabTo(page, `#${field}`, problems);
  await page.selectOption(`#${field}`, 'NG');
  await tabTo(page, 'form.tavle-grades button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(200);
  await expect(page.locator(`#${field}`)).toHaveValue('NG');

  // The warnings page offers the warning; send it.
  await tabTo(page, 'main a[href$="/warnings"]', problems);
  res = await press(page, 'Enter', tavleUrl());
  const pupil = field.replace(/^conduct-/, '');
  const box = `w-${pupil}-conduct`;
  await expect(page.locator(`[id="${box}"]`)).toHaveCount(1);
  await check(page, res, 'contact-teacher-warnings', problems);
  await tabTo(page, `[id="${box}"]`, problems);
  await page.keyboard.press('Space');
  await tabTo(page, 'main form[method=post] button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(200);
  await expect(page.locator('main [role=status]')).toContainText(nb('assessment.warnings.sent').split('{')[0].trim());
  await expect(page.locator('main table tr', { has: page.locator('th') }).filter({ hasText: nb('assessment.aspect.conduct').toLowerCase() }).locator('.ds-tag[data-color=success]')).not.toHaveCount(0);
  await check(page, res, 'contact-teacher-warning-sent', problems, { keyboard: false });
  expect(problems, formatProblems('contact teacher warning journey', problems)).toEqual([]);
});

test('pupil: the new autumn grades are not shown before they are published', async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, 'pupil');
  await tabTo(page, 'a[href="/assessment"]', problems);
  const res = await press(page, 'Enter', tavleUrl());
  expect(new URL(page.url()).pathname).toBe('/assessment/me');
  await expect(page.locator('main h2', { hasText: story.period })).toHaveCount(0);
  await check(page, res, 'pupil-grades-before', problems);
  expect(problems, formatProblems('pupil before publication', problems)).toEqual([]);
});

test('principal: closes entry and publishes, then changes a locked grade with a reason kept in the history', async ({
  page,
}) => {
  test.skip(yearBegins, 'the school year begins today: entry cannot close before it');
  const problems = watchConsole(page);
  await signIn(page, 'principal');
  await expectSignedIn(page, 'principal');
  let res = await navigation(page, () => page.goto(`${tavleUrl()}/assessment`), tavleUrl());
  const periods = page.locator('main a[href$="/periods"]');
  await expect(periods).toHaveCount(1);
  await tabTo(page, 'main a[href$="/periods"]', problems);
  res = await press(page, 'Enter', tavleUrl());
  await check(page, res, 'principal-periods', problems);
  // Entry closed yesterday; published from today at midnight.
  const opens = await page.locator('#autumn-opens').inputValue();
  const yesterday = daysFrom(today(), -1);
  if (opens > yesterday) await page.fill('#autumn-opens', yesterday);
  await page.fill('#autumn-closes', yesterday);
  await page.fill('#autumn-publish_on', today());
  await page.fill('#autumn-publish_time', '00:00');
  await tabTo(page, 'main form button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(200);
  await expect(page.locator('main [role=status]')).toHaveText(nb('assessment.periods.saved'));

  // The grid is locked: a change without a reason is refused, with one it is saved.
  res = await navigation(page, () => page.goto(tavleUrl() + story.grid), tavleUrl());
  await expect(page.locator('main .ds-alert').first()).toContainText(nb('assessment.grid.mode_locked'));
  const emma = await page.locator('form.tavle-grades tr', { hasText: EMMA }).locator('input').getAttribute('id');
  await tabTo(page, `#${emma}`, problems);
  await typeOver(page, '6');
  await tabTo(page, 'form.tavle-grades button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(422);
  await expect(page.locator('.ds-error-summary')).toBeFocused();
  await expect(page.locator('#reason')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator(`#${emma}`)).toHaveValue('6');
  await check(page, res, 'principal-locked-grid-error', problems, { keyboard: false });
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(page.locator('#reason')).toBeFocused();
  await page.selectOption('#reason', 'complaint_upheld');
  await tabTo(page, 'form.tavle-grades button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(200);
  await expect(page.locator(`main table tr`, { hasText: EMMA }).locator('.ds-tag')).toContainText(
    nb('assessment.grid.changed_after_close'),
  );

  // Emma's grades at the school: the earlier value, the new one and why.
  const card = await page.locator('main table tr', { hasText: EMMA }).locator('th a').first().getAttribute('href');
  await tabTo(page, `main table th a[href="${card}"]`, problems);
  res = await press(page, 'Enter', tavleUrl());
  await expect(page.locator('main .tavle-history li', { hasText: '5 → 6' })).toContainText(
    nb('assessment.reason.complaint_upheld'),
  );
  await check(page, res, 'principal-pupil-grades', problems);
  expect(problems, formatProblems('principal grade journey', problems)).toEqual([]);
});

test('pupil and guardian: read the published autumn grades', async ({ page }) => {
  test.skip(yearBegins, 'nothing was published: the principal could not close entry today');
  const problems = watchConsole(page);
  await signIn(page, 'pupil');
  let res = await navigation(page, () => page.goto(`${tavleUrl()}/assessment/me`), tavleUrl());
  const section = page.locator('main section', { has: page.locator('h2', { hasText: story.period }) });
  await expect(section).toHaveCount(1);
  await expect(section.locator('tr', { hasText: 'Matematikk' }).locator('td strong')).toHaveText('6');
  await check(page, res, 'pupil-grades-published', problems);

  await page.context().clearCookies();
  await signIn(page, 'guardian');
  await tabTo(page, 'a[href="/assessment"]', problems);
  res = await press(page, 'Enter', tavleUrl());
  const cards = page.locator('main a.ds-card[href^="/assessment/children/"]', { hasText: 'Emma' });
  await expect(cards).toHaveCount(1);
  await tabTo(page, `main a.ds-card[href="${await cards.getAttribute('href')}"]`, problems);
  res = await press(page, 'Enter', tavleUrl());
  const child = page.locator('main section', { has: page.locator('h2', { hasText: story.period }) });
  await expect(child.locator('tr', { hasText: 'Matematikk' }).locator('td strong')).toHaveText('6');
  await check(page, res, 'guardian-child-grades', problems);
  expect(problems, formatProblems('pupil and guardian grades', problems)).toEqual([]);
});
