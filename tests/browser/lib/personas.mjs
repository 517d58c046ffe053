// How each demo persona signs in through the local identity provider (dev/idp).
// Feide accounts are the persona keys themselves (dev/idp/accounts.demo.json, kept in
// step with src/demo/personas.rs by a Rust test); the municipality is the domain of
// the account's Feide id. ID-porten accounts are national ids, so the guardians are
// named here.
import path from 'node:path';
import { readJson, repoRoot } from './env.mjs';

const accounts = readJson(path.join(repoRoot, 'dev/idp/accounts.demo.json'));

/** ID-porten personas: the pid they type at the provider, and their municipality. */
const ID_PORTEN = {
  guardian: { pid: '12838410047', tenant: 'fjordvik' },
  guardian_no_responsibility: { pid: '21867910015', tenant: 'fjordvik' },
};

/** Personas whom sign-in refuses (src/demo/personas.rs): they get the calm 403 page. */
export const REFUSED = ['guardian_no_responsibility', 'former_teacher'];

/**
 * @returns {{key: string, idp: 'feide'|'idporten', tenant: string, username: string, name: string}}
 */
export function persona(key) {
  const feide = accounts.feide.find((a) => a.username === key);
  if (feide) {
    const tenant = feide.eppn.split('@')[1].split('.')[0];
    return { key, idp: 'feide', tenant, username: key, name: feide.name };
  }
  const ip = ID_PORTEN[key];
  const account = ip && accounts.idporten.find((a) => a.pid === ip.pid);
  if (account) return { key, idp: 'idporten', tenant: ip.tenant, username: ip.pid, name: account.name };
  throw new Error(
    `persona ${JSON.stringify(key)} has no account in dev/idp/accounts.demo.json the suite knows how to use ` +
      '(Feide: username = persona key; ID-porten: add it to ID_PORTEN in tests/browser/lib/personas.mjs)',
  );
}
