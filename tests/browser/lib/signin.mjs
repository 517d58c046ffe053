// Signing in the real way: Tavle's sign-in page → the local Feide / ID-porten form →
// back to Tavle with a session. No shortcuts: no demo persona picker, no cookies made up.
import { expect } from '@playwright/test';
import { idpUrl, tavleUrl } from './env.mjs';
import { persona } from './personas.mjs';

/**
 * Run `action` and resolve with the main frame's final response (not a redirect) once
 * the new document has loaded, optionally only one whose URL starts with `prefix`.
 */
export async function navigation(page, action, prefix = '') {
  const responded = page.waitForResponse(
    (r) =>
      r.request().isNavigationRequest() &&
      r.request().frame() === page.mainFrame() &&
      r.url().startsWith(prefix) &&
      !(r.status() >= 300 && r.status() < 400),
  );
  const committed = page.waitForEvent('framenavigated', {
    predicate: (f) => f === page.mainFrame() && f.url().startsWith(prefix),
  });
  await action();
  const [res] = await Promise.all([responded, committed]);
  await page.waitForLoadState('load');
  return res;
}

/** Sign in as `key` with the mouse; returns the response Tavle answered the callback with. */
export async function signIn(page, key) {
  const p = persona(key);
  await page.goto(`${tavleUrl()}/sign-in`);
  await navigation(page, () => page.click(`#sign-in-${p.tenant}-${p.idp}`), idpUrl());
  await page.fill('#username', p.username);
  // The provider's default level is its highest, which every persona is allowed.
  return navigation(page, () => page.click('button[type=submit]'), tavleUrl());
}

/** Check that the page shows `key` as signed in. */
export async function expectSignedIn(page, key) {
  const p = persona(key);
  await expect(page.locator('form[action="/sign-out"]'), `${key} is signed in`).toHaveCount(1);
  await expect(page.locator('.tavle-user')).toContainText(p.name);
}
