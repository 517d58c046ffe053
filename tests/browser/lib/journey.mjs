// Steps the journeys share: check the page the browser shows (and keep its HTML for the
// Nu HTML checker), Tab to an element with visible focus on every stop, press a key and
// wait for the page it leads to.
import { checkPage } from './checks.mjs';
import { htmlDir, tavleUrl } from './env.mjs';
import { navigation } from './signin.mjs';
import { saveHtml } from './vnu.mjs';

/** Check the page the browser shows now, keep its HTML, and collect problems. */
export async function check(page, res, name, problems, options = {}) {
  saveHtml(htmlDir, `journey__${name}`, await res.text(), {
    source: 'journeys',
    persona: name,
    path: new URL(page.url()).pathname,
    what: `journey: ${name}`,
    lang: await page.locator('html').getAttribute('lang'),
    status: res.status(),
  });
  const found = await checkPage(page, options);
  problems.push(...found.map((p) => ({ ...p, rule: `${p.rule} @ ${name}` })));
}

/**
 * Press Tab until the element with focus matches `selector`. On Tavle's pages every
 * stop on the way must be visibly focused (the page checks look at each stop closely;
 * here the point is that the journey can be done at all).
 */
export async function tabTo(page, selector, problems, max = 120) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const now = await page.evaluate((sel) => {
      const el = document.activeElement;
      if (!el || el === document.body) return { matches: false, el: 'body', ring: true };
      const c = getComputedStyle(el);
      return {
        matches: el.matches(sel),
        el: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.textContent || '').trim().slice(0, 30)}"`,
        ring: (c.outlineStyle !== 'none' && parseFloat(c.outlineWidth) >= 1) || c.boxShadow !== 'none',
      };
    }, selector);
    if (!now.ring && page.url().startsWith(tavleUrl())) {
      problems.push({ rule: 'focus-visible', element: now.el, message: `no visible focus on the way to ${selector}` });
    }
    if (now.matches) return;
  }
  throw new Error(`${max} presses of Tab never reached ${selector} on ${page.url()}`);
}

export const press = (page, key, prefix) => navigation(page, () => page.keyboard.press(key), prefix);
