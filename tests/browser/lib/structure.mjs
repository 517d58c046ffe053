// A page's structure, without its words: what decides whether axe-core, the keyboard
// walk and the print check could find something another visit has not already checked.
//
// The pages suite visits every page of the matrix as every role that may see it
// (hundreds of visits), but most of them render one of a few dozen structures: the
// same template with other names in it. The checks that cost seconds (axe-core, the
// keyboard walk, print, screenshots) and the English visit run on the first visit of
// each structure in a run (and English once per route besides); every visit still gets
// its outcome, language, headings, labels, form errors, console, reflow and the Nu HTML
// checker. So the suite grows with the number of distinct pages, not pages × roles.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { outDir } from './env.mjs';

/**
 * The fingerprint of the page's live DOM: each element's tag, role, type, classes, the
 * names (not values) of its attributes, and whether it holds text of its own; runs of
 * identical siblings (table rows, list items, pupils) count as one, so a class of 25 and
 * a class of 30 are the same page.
 */
export async function structureFingerprint(page) {
  const shape = await page.evaluate(() => {
    const IGNORED = new Set(['SCRIPT', 'NOSCRIPT', 'TEMPLATE']);
    const sign = (el) => {
      const attrs = [...el.attributes]
        .map((a) => a.name)
        .filter((n) => n !== 'class' && n !== 'role' && n !== 'type')
        .sort()
        .join(',');
      const classes = [...el.classList].sort().join('.');
      const text = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== '');
      const kids = [];
      for (const child of el.children) {
        if (IGNORED.has(child.tagName)) continue;
        const s = sign(child);
        if (kids[kids.length - 1] !== s) kids.push(s);
      }
      return `${el.tagName}|${el.getAttribute('role') ?? ''}|${el.getAttribute('type') ?? ''}|${classes}|${attrs}|${
        text ? 'T' : ''
      }(${kids.join('')})`;
    };
    return sign(document.documentElement);
  });
  return crypto.createHash('sha256').update(shape).digest('hex').slice(0, 32);
}

const claimsDir = path.join(outDir, 'claims');

/**
 * True for the first caller in this run (across Playwright's worker processes: the
 * claim is a file created exclusively); false for every later one. run.mjs empties
 * target/browser/ before each run, so a run starts with no claims.
 */
export function claim(key, by) {
  fs.mkdirSync(claimsDir, { recursive: true });
  const file = path.join(claimsDir, key.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 150));
  try {
    fs.writeFileSync(file, JSON.stringify(by), { flag: 'wx' });
    return true;
  } catch (e) {
    if (e.code === 'EEXIST') return false;
    throw e;
  }
}
