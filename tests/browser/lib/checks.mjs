// The checks run on every page: axe-core (WCAG 2.0/2.1 A and AA), the page language,
// headings, labels, form errors, keyboard use (skip link, focus order, visible focus),
// print and reflow. Each returns a list of problems {rule, element, message}; a page
// passes with none. The Nu HTML checker runs once over all pages afterwards (vnu.mjs).
//
// The same functions are tested against deliberately broken pages in fixtures/
// (specs/checker.spec.mjs), so a check that silently stopped finding anything fails.
import fs from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { repoRoot } from './env.mjs';

/** @typedef {{rule: string, element: string, message: string}} Problem */

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** axe-core with the WCAG 2.0 and 2.1 A and AA rules. */
export async function checkAxe(page) {
  const result = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  return result.violations.flatMap((v) =>
    v.nodes.map((n) => ({
      rule: `axe:${v.id}`,
      element: n.target.join(' '),
      message: `${v.help} [${v.impact}] ${v.helpUrl.replace(/\?.*$/, '')}`,
    })),
  );
}

// ---------------------------------------------------------------------------------
// Page language: the text on the page decides which language it is in, by the strings
// of Tavle's own catalogues (src/web/locales/*.ftl) found in it; <html lang> must say so.
// ---------------------------------------------------------------------------------

const localesDir = path.join(repoRoot, 'src/web/locales');

function parseCatalogue(file) {
  const out = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const i = t.indexOf('=');
    if (i > 0) out.set(t.slice(0, i).trim(), t.slice(i + 1).trim());
  }
  return out;
}

export const catalogues = Object.fromEntries(
  fs
    .readdirSync(localesDir)
    .filter((f) => f.endsWith('.ftl'))
    .map((f) => [f.slice(0, -4), parseCatalogue(path.join(localesDir, f))]),
);

/** Fragments (between placeholders, 8+ characters) found in one catalogue only. */
const distinctive = (() => {
  const fragments = (value) =>
    value
      .split(/\{[^}]*\}/)
      .map((s) => s.trim())
      .filter((s) => s.length >= 8);
  const all = Object.fromEntries(Object.entries(catalogues).map(([l, c]) => [l, [...c.values()].join('\n')]));
  return Object.fromEntries(
    Object.entries(catalogues).map(([lang, cat]) => {
      const others = Object.entries(all)
        .filter(([l]) => l !== lang)
        .map(([, text]) => text);
      const own = new Set([...cat.values()].flatMap(fragments).filter((f) => others.every((o) => !o.includes(f))));
      return [lang, [...own]];
    }),
  );
})();

/** The catalogue language whose strings the text contains most of, or null. */
export function detectLanguage(text) {
  const hits = Object.entries(distinctive)
    .map(([lang, frags]) => [lang, frags.filter((f) => text.includes(f)).length])
    .sort((a, b) => b[1] - a[1]);
  if (hits.length === 0 || hits[0][1] === 0 || (hits[1] && hits[1][1] === hits[0][1])) return null;
  return { lang: hits[0][0], count: hits[0][1] };
}

export async function checkLang(page) {
  const lang = await page.locator('html').getAttribute('lang');
  if (!lang) return [{ rule: 'lang', element: 'html', message: '<html> has no lang attribute' }];
  const detected = detectLanguage(await page.locator('body').innerText());
  if (detected && lang.split('-')[0].toLowerCase() !== detected.lang) {
    return [
      {
        rule: 'lang',
        element: 'html',
        message: `<html lang="${lang}"> but the page is in "${detected.lang}" (${detected.count} strings of locales/${detected.lang}.ftl on it)`,
      },
    ];
  }
  return [];
}

// ---------------------------------------------------------------------------------
// Structure: headings in order, one main, labels, form errors. One round trip.
// ---------------------------------------------------------------------------------

export async function checkStructure(page) {
  const facts = await page.evaluate(() => {
    const describe = (el) => {
      let s = el.tagName.toLowerCase();
      if (el.id) s += `#${el.id}`;
      else if (el.getAttribute('name')) s += `[name="${el.getAttribute('name')}"]`;
      else if (el.classList.length) s += `.${[...el.classList].slice(0, 2).join('.')}`;
      const text = (el.innerText || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 50);
      return text ? `${s} "${text}"` : s;
    };
    const exposed = (el) => !el.closest('[aria-hidden="true"], [hidden]') && el.getClientRects().length > 0;
    const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6, [role="heading"]')]
      .filter(exposed)
      .map((el) => ({
        level: Number(el.getAttribute('aria-level') || el.tagName.slice(1)) || 2,
        el: describe(el),
      }));
    const controls = [...document.querySelectorAll('input, select, textarea')].filter(
      (el) => !['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type) && exposed(el),
    );
    const textOf = (ids) =>
      (ids || '')
        .split(/\s+/)
        .filter(Boolean)
        .map((id) => document.getElementById(id))
        .map((el) => (el ? el.textContent.trim() : null));
    const unlabelled = controls
      .filter((el) => {
        const byLabel = [...(el.labels || [])].some((l) => l.textContent.trim());
        const byRef = textOf(el.getAttribute('aria-labelledby')).some((t) => t);
        return !byLabel && !byRef;
      })
      .map(describe);
    const summary = document.querySelector('.ds-error-summary');
    const invalid = [...document.querySelectorAll('[aria-invalid="true"]')].map((el) => {
      const refs = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
      return {
        el: describe(el),
        id: el.id,
        refs,
        missing: refs.filter((id) => !document.getElementById(id)),
        described: textOf(el.getAttribute('aria-describedby')).some((t) => t),
        // A radio or checkbox group is one field: the summary links to one of its options.
        inSummary: !!(
          summary &&
          (el.matches('input[type=radio], input[type=checkbox]') && el.name
            ? [...document.getElementsByName(el.name)]
            : [el]
          ).some((o) => o.id && summary.querySelector(`a[href="#${CSS.escape(o.id)}"]`))
        ),
      };
    });
    const firstForm = document.querySelector('main form');
    return {
      headings,
      mains: document.querySelectorAll('main, [role="main"]').length,
      unlabelled,
      invalid,
      summary: summary && {
        el: describe(summary),
        beforeForms: !firstForm || !!(summary.compareDocumentPosition(firstForm) & Node.DOCUMENT_POSITION_FOLLOWING),
        focused: summary === document.activeElement || summary.contains(document.activeElement),
        links: [...summary.querySelectorAll('a[href^="#"]')].map((a) => ({
          el: describe(a),
          target: !!document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1))),
        })),
      },
      title: document.title,
      lang: document.documentElement.lang,
    };
  });
  const problems = [];
  const add = (rule, element, message) => problems.push({ rule, element, message });

  const h1s = facts.headings.filter((h) => h.level === 1);
  if (h1s.length !== 1) add('headings', h1s.map((h) => h.el).join(', ') || 'h1', `${h1s.length} h1 elements; a page has exactly one`);
  if (facts.headings.length && facts.headings[0].level !== 1) add('headings', facts.headings[0].el, 'the first heading is not the h1');
  facts.headings.forEach((h, i) => {
    const prev = facts.headings[i - 1];
    if (prev && h.level > prev.level + 1) add('headings', h.el, `h${h.level} follows h${prev.level}: a level is skipped`);
  });
  if (facts.mains !== 1) add('landmarks', 'main', `${facts.mains} main landmarks; a page has exactly one`);

  for (const el of facts.unlabelled) add('labels', el, 'form control without a visible label (<label for> or aria-labelledby)');

  if (facts.invalid.length) {
    const prefix = catalogues[facts.lang?.split('-')[0]]?.get('form.error_title_prefix');
    if (prefix && !facts.title.startsWith(prefix)) add('form-errors', 'title', `a form with errors: the title should start with "${prefix}"`);
    if (!facts.summary) add('form-errors', 'main', 'fields are invalid but there is no error summary (.ds-error-summary)');
    else {
      if (!facts.summary.beforeForms) add('form-errors', facts.summary.el, 'the error summary must come before the form');
      if (!facts.summary.focused) add('form-errors', facts.summary.el, 'the error summary does not have focus when the page loads, so it is not announced');
      for (const l of facts.summary.links.filter((x) => !x.target)) add('form-errors', l.el, 'error summary link to nothing');
    }
    for (const f of facts.invalid) {
      if (!f.refs.length) add('form-errors', f.el, 'invalid field without aria-describedby pointing at its message');
      for (const id of f.missing) add('form-errors', f.el, `aria-describedby names #${id}, which does not exist`);
      if (f.refs.length && !f.described) add('form-errors', f.el, 'aria-describedby points at no text');
      if (facts.summary && !f.inSummary) add('form-errors', f.el, 'invalid field not linked from the error summary');
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------
// Keyboard: Tab through the whole page from the top. The first stop is a skip link to
// the main content, which works; every stop is on screen and visibly changes when it
// gets focus (an outline or box-shadow that is not there without focus).
// ---------------------------------------------------------------------------------

/** One Tab press: what has focus now, and how the previous stop looks without it. */
async function focusStep() {
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += `#${el.id}`;
    else if (el.getAttribute('href')) s += `[href="${el.getAttribute('href')}"]`;
    else if (el.getAttribute('name')) s += `[name="${el.getAttribute('name')}"]`;
    else if (el.classList.length) s += `.${[...el.classList].slice(0, 2).join('.')}`;
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return text ? `${s} "${text}"` : s;
  };
  const look = (el) => {
    const c = getComputedStyle(el);
    return [c.outlineStyle, c.outlineWidth, c.outlineColor, c.boxShadow, c.borderColor, c.backgroundColor, c.color, c.textDecorationLine].join('|');
  };
  const w = /** @type {any} */ (window);
  w.__tavleSeen = w.__tavleSeen || new Set();
  const prev = w.__tavleFocus;
  const out = { prevUnfocused: prev && prev !== document.activeElement ? look(prev) : null };
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return { ...out, end: 'left the page' };
  const ring = () => {
    const c = getComputedStyle(el);
    return (c.outlineStyle !== 'none' && parseFloat(c.outlineWidth) >= 1) || c.boxShadow !== 'none';
  };
  // Still the same element: a date or time field has a stop for each part (and for its
  // picker button). Each of those stops must show the ring too; then walk on.
  if (el === prev) return { prevUnfocused: null, within: { el: describe(el), ring: ring() } };
  if (w.__tavleSeen.has(el)) return { ...out, end: 'came round again' };
  w.__tavleSeen.add(el);
  w.__tavleFocus = el;
  if (!w.__tavleFirst) w.__tavleFirst = el;
  const c = getComputedStyle(el);
  const onScreen = () => {
    const r = el.getBoundingClientRect();
    return r.width >= 4 && r.height >= 4 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
  };
  // The browser scrolls a focused element into view; on a loaded machine the scroll can
  // land a frame after the Tab. Measure again after two frames before calling it off screen.
  let visible = onScreen();
  if (!visible) {
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    visible = onScreen();
  }
  return {
    ...out,
    stop: {
      el: describe(el),
      tag: el.tagName.toLowerCase(),
      href: el.getAttribute('href'),
      look: look(el),
      ring: (c.outlineStyle !== 'none' && parseFloat(c.outlineWidth) >= 1) || c.boxShadow !== 'none',
      onScreen: visible,
    },
  };
}

/** Tab from the top of a freshly loaded page through all of it. */
export async function checkKeyboard(page, { maxStops = 200 } = {}) {
  const problems = [];
  const add = (rule, element, message) => problems.push({ rule, element, message });
  const fresh = await page.evaluate(() => !document.activeElement || document.activeElement === document.body);
  if (!fresh) {
    add('keyboard', 'document', 'something already has focus when the page loads (checked without it from the top)');
    await page.evaluate(() => /** @type {HTMLElement} */ (document.activeElement).blur());
  }
  const stops = [];
  for (let i = 0; i < maxStops; i++) {
    await page.keyboard.press('Tab');
    const step = await page.evaluate(focusStep);
    if (step.within) {
      if (!step.within.ring) add('focus-visible', step.within.el, 'no outline or box-shadow on one of its inner stops');
      continue;
    }
    if (stops.length && step.prevUnfocused !== null) stops[stops.length - 1].unfocused = step.prevUnfocused;
    if (step.end) break;
    stops.push(step.stop);
  }
  for (const s of stops) {
    if (!s.onScreen) add('focus-visible', s.el, 'has focus but is not on screen');
    else if (!s.ring) add('focus-visible', s.el, 'no outline or box-shadow while it has focus');
    else if (s.unfocused !== undefined && s.unfocused === s.look) add('focus-visible', s.el, 'looks the same with and without focus');
  }

  // The skip link: first stop, to the main content, and it moves focus there.
  const first = stops[0];
  if (!first) return [...problems, { rule: 'skip-link', element: 'body', message: 'nothing on the page takes keyboard focus' }];
  if (first.tag !== 'a' || !first.href?.startsWith('#')) {
    add('skip-link', first.el, 'the first Tab stop is not a skip link (a link to #main content)');
  } else {
    const target = first.href.slice(1);
    const ok = await page.evaluate(async (id) => {
      const t = document.getElementById(id);
      if (!t || !(t.tagName === 'MAIN' || t.getAttribute('role') === 'main' || t.querySelector('main'))) return 'target';
      /** @type {any} */ (window).__tavleFirst.focus();
      return 'ok';
    }, target);
    if (ok !== 'ok') add('skip-link', first.el, `the skip link's target #${target} is not the main content`);
    else {
      await page.keyboard.press('Enter');
      const moved = await page.evaluate((id) => {
        const t = document.getElementById(id);
        return !!t && (document.activeElement === t || t.contains(document.activeElement));
      }, target);
      if (!moved) add('skip-link', first.el, `activating the skip link does not move focus to #${target}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------
// Print and reflow.
// ---------------------------------------------------------------------------------

/** In print, only the content: no page header/footer, navigation, forms or buttons. */
export async function checkPrint(page) {
  await page.emulateMedia({ media: 'print' });
  try {
    const facts = await page.evaluate(() => {
      const describe = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : el.classList.length ? `.${[...el.classList].slice(0, 2).join('.')}` : '');
      const chrome = 'body > header, body > footer, nav, form, button, select, input, textarea, .tavle-no-print';
      return {
        shown: [...document.querySelectorAll(chrome)].filter((el) => el.checkVisibility()).map(describe),
        h1: [...document.querySelectorAll('main h1')].some((el) => el.checkVisibility()),
      };
    });
    const problems = facts.shown.map((el) => ({ rule: 'print', element: el, message: 'printed, but page chrome and controls should not be' }));
    if (!facts.h1) problems.push({ rule: 'print', element: 'main h1', message: 'the page heading is not printed' });
    return problems;
  } finally {
    await page.emulateMedia({ media: 'screen' });
  }
}

/** At the current (narrow) width, the page never scrolls sideways (WCAG 1.4.10). */
export async function checkReflow(page) {
  const facts = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const scroll = document.documentElement.scrollWidth;
    const scrolls = (el) => {
      for (let p = el.parentElement; p; p = p.parentElement) {
        if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX) && p !== document.documentElement && p !== document.body) return true;
      }
      return false;
    };
    const wide = scroll > width + 1
      ? [...document.body.querySelectorAll('*')]
          .filter((el) => el.getBoundingClientRect().right > width + 1 && !scrolls(el))
          .slice(-3)
          .map((el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : el.classList.length ? `.${[...el.classList].slice(0, 2).join('.')}` : ''))
      : [];
    return { width, scroll, wide };
  });
  if (facts.scroll <= facts.width + 1) return [];
  return [{ rule: 'reflow', element: facts.wide.join(', ') || 'body', message: `the page is ${facts.scroll} px wide at ${facts.width} px: it scrolls sideways` }];
}

// ---------------------------------------------------------------------------------

/** Console errors and CSP violations while the page is open (collect before goto). */
export function watchConsole(page) {
  const problems = [];
  // The browser asks for /favicon.ico by itself when a response (e.g. /healthz, plain
  // text) names no icon; that is not the page's doing.
  const own = (url) => new URL(url, 'http://x').pathname !== '/favicon.ico';
  page.on('console', (m) => {
    if (m.type() !== 'error' || !own(m.location().url || '/')) return;
    // The page's own 4xx status is reported as a failed load; that is the point of the page.
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()) && m.location().url === page.url()) return;
    problems.push({ rule: 'console', element: m.location().url || 'page', message: m.text() });
  });
  page.on('pageerror', (e) => problems.push({ rule: 'console', element: 'script', message: e.message }));
  page.on('response', (r) => {
    if (!r.request().isNavigationRequest() && r.status() >= 400 && own(r.url())) {
      problems.push({ rule: 'subresource', element: r.url(), message: `status ${r.status()}` });
    }
  });
  return problems;
}

/** Run `fn`, adding its milliseconds to `timings[name]`. */
export async function timed(timings, name, fn) {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    timings[name] = (timings[name] ?? 0) + Math.round(performance.now() - t);
  }
}

/** Every check that needs no change of viewport, as run on each page. */
export async function checkPage(page, { axe = true, keyboard = true, print = true } = {}, timings = {}) {
  const problems = [];
  if (axe) problems.push(...(await timed(timings, 'axe', () => checkAxe(page))));
  problems.push(...(await timed(timings, 'lang', () => checkLang(page))));
  problems.push(...(await timed(timings, 'structure', () => checkStructure(page))));
  if (print) problems.push(...(await timed(timings, 'print', () => checkPrint(page))));
  if (keyboard) problems.push(...(await timed(timings, 'keyboard', () => checkKeyboard(page))));
  return problems;
}

/** "page: [rule] element — message", one line each. */
export function formatProblems(where, problems) {
  return problems.map((p) => `${where}: [${p.rule}] ${p.element} — ${p.message}`).join('\n');
}
