// The authorization matrix (tests/tavle/authz.rs writes it): every route × every role,
// with a concrete path and the outcome DOMAIN.md demands. The browser suite visits
// pages from it, so a page added to the product reaches the suite with no change here.
import fs from 'node:fs';
import { matrixPath, readJson } from './env.mjs';

/** @typedef {{method: string, route: string, path: string, what: string, persona: string, expected: 'Allowed'|'Hidden'|'Refused'|'SignIn', in_demo: boolean, same_for_everyone?: boolean}} Entry */

/** @returns {Entry[]} */
export function loadMatrix() {
  if (!fs.existsSync(matrixPath)) {
    throw new Error(`${matrixPath} is missing: run \`cargo test --test tavle authz\` first (scripts/test does)`);
  }
  const entries = readJson(matrixPath);
  if (!Array.isArray(entries) || entries.length === 0) throw new Error(`${matrixPath} has no entries`);
  return entries;
}

/** Personas in the order the matrix names them ("" is the anonymous visitor). */
export function personasOf(entries) {
  return [...new Set(entries.map((e) => e.persona))];
}

export const label = (persona) => persona || 'anonymous';

/** The feature a route belongs to: its first literal segment (`/pupils/{id}/…` → `pupils`). */
export const featureOf = (route) => route.split('/').find((s) => s && !s.startsWith('{')) ?? '';

/**
 * The GET requests the suite makes as `persona`:
 * - every page the persona may see (Allowed) — the point of the exercise;
 * - every Refused one (the 403 page is checked like any other page);
 * - Hidden ones, to check the 404 page: only paths that exist (another persona may see
 *   them) — "not yours" must look exactly like "not there" — and one per feature (the
 *   route's first segment), since they all show the same page;
 * - for the anonymous visitor, being sent to sign in: one per feature too;
 * - a page that is the same whoever asks (`same_for_everyone`: an emergency notice's
 *   link, the health checks): as the anonymous visitor and the first signed-in persona
 *   only.
 * Every Hidden and SignIn outcome of every route is asserted in process by the Rust
 * authorization matrix (tests/tavle/authz.rs); here it is the page a browser shows. So
 * the suite grows with the pages personas may see, not with routes × personas.
 * @param {Entry[]} entries
 */
export function visitsFor(entries, persona) {
  // Paths naming objects that only the matrix test made are not in the suite's demo.
  const gets = entries.filter((e) => e.method === 'GET' && e.in_demo !== false);
  const existing = new Set(gets.filter((e) => e.expected === 'Allowed').map((e) => e.path));
  const sampled = new Set();
  const out = [];
  const firstSignedIn = personasOf(entries).find((p) => p !== '');
  for (const e of gets.filter((g) => g.persona === persona)) {
    if (e.same_for_everyone && persona !== '' && persona !== firstSignedIn) continue;
    if (e.expected === 'Hidden' || e.expected === 'SignIn') {
      if (e.expected === 'Hidden' && !existing.has(e.path)) continue;
      const key = `${e.expected} ${featureOf(e.route)}`;
      if (sampled.has(key)) continue;
      sampled.add(key);
    }
    out.push(e);
  }
  return out;
}

/** Paths of `route` that `persona` may GET. */
export function allowedPaths(entries, persona, route) {
  return entries
    .filter((e) => e.method === 'GET' && e.persona === persona && e.route === route && e.expected === 'Allowed')
    .map((e) => e.path);
}
