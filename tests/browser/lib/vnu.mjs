// The Nu HTML checker (npm vnu-jar, Java 17), run once over every page collected,
// since starting the JVM costs more than checking a hundred pages.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vnuJar from 'vnu-jar';

/**
 * Check HTML files (or folders of them) and return the messages by absolute path.
 * @returns {Map<string, {type: string, subType?: string, message: string, line?: number, column?: number, extract?: string}[]>}
 */
export function runVnu(targets) {
  const java = process.env.JAVA ?? 'java';
  const res = spawnSync(java, ['-jar', vnuJar, '--format', 'json', '--exit-zero-always', '--skip-non-html', ...targets], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (res.error) throw new Error(`could not run the Nu HTML checker (${java} -jar ${vnuJar}): ${res.error.message}`);
  let report;
  try {
    report = JSON.parse(res.stderr || res.stdout);
  } catch {
    throw new Error(`the Nu HTML checker said something unexpected (exit ${res.status}):\n${res.stderr}\n${res.stdout}`);
  }
  const byFile = new Map();
  for (const m of report.messages ?? []) {
    const file = m.url ? fileURLToPath(m.url) : '(none)';
    if (!byFile.has(file)) byFile.set(file, []);
    byFile.get(file).push({
      type: m.type,
      subType: m.subType,
      message: m.message,
      line: m.lastLine ?? m.firstLine,
      column: m.firstColumn,
      extract: m.extract,
    });
  }
  return byFile;
}

/** Errors (and fatal errors) only: what fails the suite. */
export const isError = (m) => m.type === 'error' || (m.type === 'non-document-error');

/** Save a page's HTML as served, with what it is, for the one vnu run at the end. */
export function saveHtml(dir, name, html, meta) {
  fs.mkdirSync(dir, { recursive: true });
  const base = name.replace(/[^a-zA-Z0-9._-]+/g, '_').slice(0, 150);
  fs.writeFileSync(path.join(dir, `${base}.html`), html);
  fs.writeFileSync(path.join(dir, `${base}.json`), JSON.stringify(meta));
  return path.join(dir, `${base}.html`);
}
