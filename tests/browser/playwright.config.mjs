// Playwright for Tavle's browser suite. Start it with `node run.mjs` (which starts the
// local identity provider and `tavle demo`, sets TAVLE_URL and IDP_URL, and runs the
// Nu HTML checker afterwards); `npx playwright test` alone works against running ones.
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumPath, outDir } from './lib/env.mjs';

export default defineConfig({
  testDir: './specs',
  testMatch: /.*\.(spec|setup)\.mjs$/,
  outputDir: path.join(outDir, 'test-results'),
  // Two cores are shared with Tavle, PostgreSQL and other work on the machine.
  workers: Number(process.env.BROWSER_WORKERS ?? 2),
  fullyParallel: true,
  forbidOnly: true,
  retries: 0,
  // A long page (an SFO day list: hundreds of buttons) walked by keyboard on a busy
  // machine took more than 90 s once.
  timeout: 180_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: path.join(outDir, 'report.json') }]],
  use: {
    baseURL: process.env.TAVLE_URL,
    locale: 'nb-NO',
    viewport: { width: 1280, height: 800 },
    // No transitions: the focus check compares styles right after a Tab press.
    reducedMotion: 'reduce',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: { executablePath: chromiumPath, args: chromiumArgs },
  },
  projects: [
    { name: 'checker', testMatch: /checker\.spec\.mjs$/ },
    { name: 'sign-in', testMatch: /signin\.setup\.mjs$/ },
    { name: 'pages', testMatch: /pages\.spec\.mjs$/, dependencies: ['sign-in'] },
    { name: 'journeys', testMatch: /journeys\.spec\.mjs$/ },
  ],
});
