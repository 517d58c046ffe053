// Absence journeys, signed in through the real identity provider: the teacher takes
// the register for a lesson with the keyboard alone, and a guardian reports a day of
// absence with a reason from the code list. Each has a mistake on the way: the form
// comes back with what was typed, an error summary that has focus, and the message by
// the field. (The file name ends in journeys.spec.mjs, so the journeys project runs it.)
import { expect, test } from '@playwright/test';
import { daysFrom, latestSchoolDay, nextWeekday, schoolMondayFrom } from '../lib/calendar.mjs';
import { catalogues, formatProblems, watchConsole } from '../lib/checks.mjs';
import { tavleUrl } from '../lib/env.mjs';
import { check, press, tabTo } from '../lib/journey.mjs';
import { expectSignedIn, navigation, signIn } from '../lib/signin.mjs';

const nb = (key) => catalogues.nb.get(key);

/** Focus a radio group with Tab (focus lands on its checked radio), arrow to `value`, check it. */
async function chooseRadio(page, name, value, problems) {
  await tabTo(page, `input[name="${name}"]`, problems);
  const count = await page.locator(`input[name="${name}"]`).count();
  for (let i = 0; i < count && (await page.evaluate(() => document.activeElement?.value)) !== value; i++) {
    await page.keyboard.press('ArrowDown');
  }
  await page.keyboard.press('Space');
  await expect(page.locator(`input[name="${name}"][value="${value}"]`)).toBeChecked();
}

/**
 * The register is one line a pupil: a class of 30 fits a 1280 x 800 screen (the form,
 * scrolled to, is no taller than the window) and takes at most three screens of a
 * 390 x 844 phone (the form). The demo's groups have about 20 pupils, so the heights
 * are extrapolated from the ones shown: the form less its list, plus 30 lines as tall
 * as the tallest plain line (no note, no message, no minutes field: a late pupil's
 * minutes may take a second line), in as many columns as the list has. With 30 or
 * more pupils shown, the real height counts.
 */
const CLASS = 30;
async function registerHeights(page) {
  return page.evaluate((n) => {
    const form = document.querySelector('form.tavle-register');
    const list = form.querySelector('.tavle-roll');
    const lines = [...list.children];
    const minutesShown = (li) => [...li.querySelectorAll('.tavle-register__minutes')].some((m) => m.getClientRects().length);
    const plain = lines.filter((li) => !li.querySelector('[data-field=description], .ds-validation-message') && !minutesShown(li));
    const line = Math.max(...(plain.length ? plain : lines).map((li) => li.getBoundingClientRect().height));
    const columns = Number.parseInt(getComputedStyle(list).columnCount, 10) || 1;
    const formHeight = form.getBoundingClientRect().height;
    const listHeight = list.getBoundingClientRect().height;
    const estimate = lines.length >= n ? formHeight : formHeight - listHeight + Math.ceil(n / columns) * line;
    const pageHeight = document.documentElement.scrollHeight;
    return { pupils: lines.length, plain: plain.length, line, columns, formHeight, estimate, page: pageHeight - formHeight + estimate };
  }, CLASS);
}

async function expectCompactRegister(page, what) {
  const wide = page.viewportSize();
  await page.setViewportSize({ width: 1280, height: 800 });
  const desk = await registerHeights(page);
  console.log(`[register] ${what} at 1280x800: ${JSON.stringify(desk)}`);
  expect(desk.estimate, `${what}: ${CLASS} pupils fit the height of a 1280 x 800 window`).toBeLessThanOrEqual(800);
  await page.setViewportSize({ width: 390, height: 844 });
  const phone = await registerHeights(page);
  console.log(`[register] ${what} at 390x844: ${JSON.stringify(phone)}`);
  expect(phone.estimate, `${what}: ${CLASS} pupils take at most three screens of a 390 x 844 phone`).toBeLessThanOrEqual(3 * 844);
  await page.setViewportSize(wide);
}

test('teacher: takes the register for a lesson with the keyboard; a mistake keeps the marks, saving twice changes nothing', async ({
  page,
}) => {
  const problems = watchConsole(page);
  await signIn(page, 'teacher');
  await expectSignedIn(page, 'teacher');

  // "Absence" in the menu leads to the day's lessons; on a day without school (a
  // holiday, the summer), to the latest school day's.
  await tabTo(page, 'a[href="/absence"]', problems);
  let res = await press(page, 'Enter', tavleUrl());
  expect(new URL(page.url()).pathname).toBe('/absence/register');
  if ((await page.locator('main table tbody th a[href^="/absence/groups/"]').count()) === 0) {
    res = await navigation(page, () => page.goto(`${tavleUrl()}/absence/register?date=${latestSchoolDay()}`), tavleUrl());
  }
  await check(page, res, 'teacher-lessons', problems);
  // A lesson's register (a school that records per day also offers the day's register).
  const href = await page.locator('main table tbody th a[href^="/absence/groups/"]').first().getAttribute('href');
  await tabTo(page, `main table tbody th a[href="${href}"]`, problems);
  res = await press(page, 'Enter', tavleUrl());
  await expect(page.locator('h1')).toContainText(nb('absence.register.title'));
  await check(page, res, 'teacher-register', problems);
  await expectCompactRegister(page, 'lesson register');

  const ids = await page
    .locator('form.tavle-register input[type=radio][value=present]')
    .evaluateAll((els) => els.map((e) => e.name.replace(/^status-/, '')));
  expect(ids.length, 'the group has pupils').toBeGreaterThan(2);
  const [first, second, third] = ids;

  // One pupil absent, one late by 7 minutes, one late without minutes: a mistake.
  await chooseRadio(page, `status-${first}`, 'absent', problems);
  await chooseRadio(page, `status-${second}`, 'late', problems);
  await page.keyboard.press('Tab');
  await expect(page.locator(`#minutes-${second}`)).toBeFocused();
  await page.keyboard.type('7');
  await chooseRadio(page, `status-${third}`, 'late', problems);
  await tabTo(page, 'form.tavle-register button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(422);
  await expect(page).toHaveTitle(new RegExp(`^${nb('form.error_title_prefix')}`));
  await expect(page.locator('.ds-error-summary')).toBeFocused();
  await expect(page.locator(`#err-${third}`)).toHaveText(nb('absence.error.minutes_late'));
  await expect(page.locator(`#minutes-${third}`)).toHaveAttribute('aria-invalid', 'true');
  // What the teacher marked is still there.
  await expect(page.locator(`#s-${first}-absent`)).toBeChecked();
  await expect(page.locator(`#s-${second}-late`)).toBeChecked();
  await expect(page.locator(`#minutes-${second}`)).toHaveValue('7');
  await check(page, res, 'teacher-register-error', problems, { keyboard: false });

  // The summary's link leads to the pupil's minutes; fill them in and save.
  await page.keyboard.press('Tab');
  await expect(page.locator(`.ds-error-summary a[href="#minutes-${third}"]`)).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator(`#minutes-${third}`)).toBeFocused();
  await page.keyboard.type('12');
  await tabTo(page, 'form.tavle-register button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(200);
  await expect(page.locator('main [role=status]')).toHaveText(nb('absence.register.saved'));
  await check(page, res, 'teacher-register-saved', problems, { keyboard: false });

  // Open the register again: it shows what was saved; saving it unchanged keeps it so.
  for (let round = 0; round < 2; round++) {
    res = await navigation(page, () => page.goto(tavleUrl() + href), tavleUrl());
    await expect(page.locator(`#s-${first}-absent`)).toBeChecked();
    await expect(page.locator(`#s-${second}-late`)).toBeChecked();
    await expect(page.locator(`#minutes-${second}`)).toHaveValue('7');
    await expect(page.locator(`#s-${third}-late`)).toBeChecked();
    await expect(page.locator(`#minutes-${third}`)).toHaveValue('12');
    await expect(page.locator('input[type=radio][value=absent]:checked')).toHaveCount(1);
    if (round === 0) {
      await navigation(page, () => page.click('form.tavle-register button[type=submit]'), tavleUrl());
      await expect(page.locator('main [role=status]')).toHaveText(nb('absence.register.saved'));
    }
  }
  expect(problems, formatProblems('teacher register journey', problems)).toEqual([]);
});

test('guardian: reports a day of absence with a reason from the list; a mistake keeps what was typed', async ({
  page,
}) => {
  const problems = watchConsole(page);
  await signIn(page, 'guardian');
  await expectSignedIn(page, 'guardian');

  // Two children: "Absence" asks which one.
  await tabTo(page, 'a[href="/absence"]', problems);
  let res = await press(page, 'Enter', tavleUrl());
  await check(page, res, 'guardian-absence-children', problems);
  const cards = page.locator('main a.ds-card[href^="/absence/children/"]');
  await expect(cards).toHaveCount(2);
  const href = await cards.first().getAttribute('href');
  const child = (await cards.first().locator('h2').textContent()).trim();
  await tabTo(page, `main a.ds-card[href="${href}"]`, problems);
  res = await press(page, 'Enter', tavleUrl());
  await expect(page.locator('h1 .tavle-subtitle')).toHaveText(child);
  await check(page, res, 'guardian-absence-child', problems);
  // There is nowhere to write why: only dates, times and the reason codes.
  await expect(page.locator('main form textarea, main form input[type=text]')).toHaveCount(0);
  const before = await page.locator('main table tbody tr').count();

  // The next weekday (a report for a day not begun yet can be withdrawn again).
  const day = nextWeekday();

  // The last day before the first: the form comes back with the dates and the reason kept.
  await page.fill('#first_day', day);
  await page.fill('#last_day', daysFrom(day, -1));
  await chooseRadio(page, 'reason', 'illness', problems);
  await tabTo(page, 'main form[method=post] button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(422);
  await expect(page.locator('.ds-error-summary')).toBeFocused();
  await expect(page.locator('#last_day-err')).toHaveText(nb('absence.error.last_before_first'));
  await expect(page.locator('#last_day')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#first_day')).toHaveValue(day);
  await expect(page.locator('#reason-illness')).toBeChecked();
  await check(page, res, 'guardian-report-error', problems, { keyboard: false });

  // One day: leave the last day empty, and send.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(page.locator('#last_day')).toBeFocused();
  await page.fill('#last_day', '');
  await tabTo(page, 'main form[method=post] button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(200);
  await expect(page.locator('main [role=status]')).toHaveText(nb('absence.report.created'));
  await expect(page.locator('main table tbody tr')).toHaveCount(before + 1);
  await expect(page.locator('main table tbody').getByText(nb('absence.report.by_you'))).not.toHaveCount(0);
  await check(page, res, 'guardian-report-created', problems, { keyboard: false });

  // Withdraw it again.
  await tabTo(page, 'main form[action$="/withdraw"] button', problems);
  res = await press(page, 'Enter', tavleUrl());
  await expect(page.locator('main [role=status]')).toHaveText(nb('absence.report.withdrawn'));
  await expect(page.locator('main table tbody tr')).toHaveCount(before);
  expect(problems, formatProblems('guardian report journey', problems)).toEqual([]);
});

test('pupil: sees their own week and their own absence, and nobody else’s', async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, 'pupil');
  await expectSignedIn(page, 'pupil');

  // The week: lessons, and the next week one step away.
  await tabTo(page, 'a[href="/timetable"]', problems);
  let res = await press(page, 'Enter', tavleUrl());
  await check(page, res, 'pupil-timetable', problems);
  await tabTo(page, 'main a[rel="next"]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(200);

  // Absence: the pupil's own overview, with the diploma's days and hours.
  await tabTo(page, 'a[href="/absence"]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(new URL(page.url()).pathname).toBe('/absence/me');
  await expect(page.locator('h1')).toHaveText(nb('totals.me.title'));
  await expect(page.locator('#totals-days')).toHaveText(/^\d+$/);
  await expect(page.locator('#totals-hours')).not.toBeEmpty();
  // Nothing to change here: a pupil only reads.
  await expect(page.locator('main form[method=post]')).toHaveCount(0);
  await check(page, res, 'pupil-absence', problems);
  expect(problems, formatProblems('pupil journey', problems)).toEqual([]);
});

test('contact teacher: opens the class overview, reviews a day of a pupil’s absence, and sees it counted', async ({
  page,
}) => {
  const problems = watchConsole(page);
  await signIn(page, 'contact_teacher');
  await expectSignedIn(page, 'contact_teacher');

  // The classes the contact teacher follows, then the class.
  await tabTo(page, 'a[href="/absence/classes"]', problems);
  let res = await press(page, 'Enter', tavleUrl());
  await check(page, res, 'contact-teacher-classes', problems);
  const classLink = page.locator('main a.ds-card[href^="/absence/classes/"]').first();
  const classHref = await classLink.getAttribute('href');
  await tabTo(page, `main a[href="${classHref}"]`, problems);
  res = await press(page, 'Enter', tavleUrl());
  await check(page, res, 'contact-teacher-class', problems);
  const pupilLinks = page.locator('main a[href^="/absence/pupils/"][href$="/review"]');
  expect(await pupilLinks.count(), 'the class lists its pupils').toBeGreaterThan(3);

  // The class's day register (its school records absence per day) is as compact.
  res = await navigation(page, () => page.goto(`${tavleUrl()}${classHref}/day?date=${latestSchoolDay()}`), tavleUrl());
  expect(res.status()).toBe(200);
  await expectCompactRegister(page, 'day register');
  await navigation(page, () => page.goto(tavleUrl() + classHref), tavleUrl());

  // A pupil with absence to review (the demo's history); early in the autumn there is
  // none yet: take the class's day register for one pupil first, on the latest school day.
  let reviewHref = null;
  for (const href of await pupilLinks.evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
    await page.goto(tavleUrl() + href);
    if ((await page.locator('#review-days tbody tr').count()) > 0) {
      reviewHref = href;
      break;
    }
  }
  if (reviewHref === null) {
    await page.goto(`${tavleUrl()}${classHref}/day?date=${latestSchoolDay()}`);
    const absent = page.locator('form input[type=radio][value=absent]').first();
    const pupil = (await absent.getAttribute('name')).replace(/^status-/, '');
    await absent.check();
    await navigation(page, () => page.click('form button[type=submit]'), tavleUrl());
    reviewHref = `/absence/pupils/${pupil}/review`;
  }
  res = await navigation(page, () => page.goto(tavleUrl() + reviewHref), tavleUrl());
  await check(page, res, 'contact-teacher-review', problems);
  const unreviewedBefore = Number(await page.locator('#totals-unreviewed').textContent());

  // An unreviewed day: open it, then send the form for a Sunday instead — a mistake.
  const day = page.locator('#review-days tbody tr', { hasText: nb('totals.not_reviewed') }).first().locator('th a');
  const dayHref = await day.getAttribute('href');
  await tabTo(page, `#review-days a[href="${dayHref}"]`, problems);
  res = await press(page, 'Enter', tavleUrl());
  await expect(page.locator('#review-lessons li')).not.toHaveCount(0);
  const date = await page.locator('#date').inputValue();
  const code = await page.locator('#code option:not([value=""])').first().getAttribute('value');
  let sunday = date;
  while (new Date(`${sunday}T12:00:00Z`).getUTCDay() !== 0) sunday = daysFrom(sunday, -1);
  await page.fill('#date', sunday);
  await page.selectOption('#code', code);
  await tabTo(page, 'main form[method=post] button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(422);
  await expect(page.locator('.ds-error-summary')).toBeFocused();
  await expect(page.locator('#date')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#code')).toHaveValue(code);
  await check(page, res, 'contact-teacher-review-error', problems, { keyboard: false });

  // The summary leads to the date; put the day back and save: one day fewer to review.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(page.locator('#date')).toBeFocused();
  await page.fill('#date', date);
  await tabTo(page, 'main form[method=post] button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(200);
  await expect(page.locator('main [role=status]').first()).toBeVisible();
  await expect(page.locator('#totals-unreviewed')).toHaveText(String(unreviewedBefore - 1));
  await check(page, res, 'contact-teacher-reviewed', problems, { keyboard: false });
  expect(problems, formatProblems('contact teacher journey', problems)).toEqual([]);
});

test('guardian and principal: leave applied for in advance, decided by the school, the answer shown to the guardian', async ({
  page,
  browser,
}) => {
  const problems = watchConsole(page);
  await signIn(page, 'guardian');
  await expectSignedIn(page, 'guardian');

  // Emma's absence page, then "apply for leave".
  await tabTo(page, 'a[href="/absence"]', problems);
  await press(page, 'Enter', tavleUrl());
  const emma = page.locator('main a.ds-card[href^="/absence/children/"]', { hasText: 'Emma' });
  const childHref = await emma.getAttribute('href');
  await tabTo(page, `main a.ds-card[href="${childHref}"]`, problems);
  await press(page, 'Enter', tavleUrl());
  await tabTo(page, `main a[href="${childHref}/leave"]`, problems);
  let res = await press(page, 'Enter', tavleUrl());
  await check(page, res, 'guardian-leave', problems);
  await expect(page.locator('main form textarea, main form input[type=text]')).toHaveCount(0);

  // A weekend only: no school days, so nothing to apply for. (The weekend before a
  // Monday of school at least a week ahead, from the calendar.)
  const monday = schoolMondayFrom(9);
  const saturday = daysFrom(monday, -2);
  await page.fill('#first_day', saturday);
  await page.fill('#last_day', daysFrom(saturday, 1));
  await chooseRadio(page, 'reason', 'family_event', problems);
  await tabTo(page, 'main form[method=post][action$="/leave"] button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(422);
  await expect(page.locator('.ds-error-summary')).toBeFocused();
  await expect(page.locator('.ds-error-summary')).toContainText(nb('leave.error.no_school_days'));
  await expect(page.locator('#reason-family_event')).toBeChecked();
  await check(page, res, 'guardian-leave-error', problems, { keyboard: false });

  // The Monday after: one school day.
  await page.fill('#first_day', monday);
  await page.fill('#last_day', monday);
  await tabTo(page, 'main form[method=post][action$="/leave"] button[type=submit]', problems);
  res = await press(page, 'Enter', tavleUrl());
  expect(res.status()).toBe(200);
  await expect(page.locator('main [role=status]')).toHaveText(nb('leave.created'));
  await expect(page.locator('main table tbody')).toContainText(nb('leave.status.pending'));

  // The principal of Emma's school finds it first in the list and approves it.
  const office = await browser.newContext({ locale: 'nb-NO', reducedMotion: 'reduce' });
  try {
    const p = await office.newPage();
    problems.push(...watchConsole(p));
    await signIn(p, 'principal');
    res = await navigation(p, () => p.goto(`${tavleUrl()}/absence/leave`), tavleUrl());
    await check(p, res, 'principal-leave-queue', problems);
    const row = p.locator('main table tbody tr', { hasText: 'Emma' }).last().locator('th a');
    const appHref = await row.getAttribute('href');
    await tabTo(p, `main a[href="${appHref}"]`, problems);
    res = await press(p, 'Enter', tavleUrl());
    await check(p, res, 'principal-leave-application', problems);
    await chooseRadio(p, 'decision', 'approve', problems);
    await tabTo(p, 'main form[method=post] button[type=submit]', problems);
    res = await press(p, 'Enter', tavleUrl());
    expect(res.status()).toBe(200);
    await expect(p.locator('main [role=status]')).toHaveText(nb('leave.decided.approved'));
    await check(p, res, 'principal-leave-decided', problems, { keyboard: false });
  } finally {
    await office.close();
  }

  // The guardian sees the answer.
  res = await navigation(page, () => page.reload(), tavleUrl());
  await expect(page.locator('main table tbody')).toContainText(nb('leave.status.approved'));
  expect(problems, formatProblems('leave journey', problems)).toEqual([]);
});
