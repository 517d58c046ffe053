// Sign in once as every persona of the matrix through the real identity provider and
// keep the session (cookies) for the page visits. Refused personas are journeys.
import path from 'node:path';
import { test } from '@playwright/test';
import { stateDir } from '../lib/env.mjs';
import { loadMatrix, personasOf } from '../lib/matrix.mjs';
import { REFUSED } from '../lib/personas.mjs';
import { expectSignedIn, signIn } from '../lib/signin.mjs';

for (const key of personasOf(loadMatrix()).filter((p) => p && !REFUSED.includes(p))) {
  test(`sign in as ${key}`, async ({ page }) => {
    const res = await signIn(page, key);
    test.expect(res.status(), `${key}: Tavle's answer to the sign-in`).toBe(200);
    await expectSignedIn(page, key);
    await page.context().storageState({ path: path.join(stateDir, `${key}.json`) });
  });
}
