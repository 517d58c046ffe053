// A local SMS gateway for Tavle's SMS tests (tests/tavle/sms.rs). NOT for production.
//
// A small real HTTP server with the shape of a commercial SMS gateway's API, so that
// Tavle's adapter (src/sms/gateway.rs) and its delivery-report webhook are tested on
// the wire rather than against a mock. No dependencies beyond Node itself.
//
// POST /messages, `Authorization: Bearer <SMS_TOKEN>`, a JSON body
//   {"to": "+4791234567", "from": "Fjordvik", "text": "...", "reference": "<uuid>",
//    "callback": "http://127.0.0.1:8080/sms/reports/<tenant>"}
// answers 202 {"id": "gw-<n>"} and writes the message to SMS_DIR/<n>.json; a wrong
// token gets 401, a malformed message 400 {"error": "..."}.
//
// Numbers choose the outcome (E.164, +47 400 00 …):
//   +4740000 5xx   503 every time (a transient failure: the sender retries)
//   +4740000 4xx   400 (permanent refusal)
//   +4740000 3xx   503 the first time a reference is seen, accepted on the next try
//   +4740000 6xx   accepted, then reported `failed` (could not be delivered)
//
// Delivery reports go to the message's callback, signed with
//   `X-Signature: sha256=<hex HMAC-SHA256 of the body with SMS_WEBHOOK_SECRET>`,
// as {"id", "reference", "status": "buffered"|"delivered"|"failed", "at"}.
//
// Environment:
//   SMS_PORT                 port on 127.0.0.1 (0: any free port)
//   SMS_DIR                  where accepted messages are written (created if missing)
//   SMS_TOKEN                the API token clients must send (unset: any)
//   SMS_WEBHOOK_SECRET       the key delivery reports are signed with (unset: no reports)
//   SMS_DELAY_MS             wait this long before answering a send (default 0)
//   SMS_REPORTS              ordered (buffered, then delivered), reversed (delivered,
//                            then buffered, then delivered again: out of order and
//                            duplicated), or none (default ordered)
//   SMS_EXIT_ON_STDIN_CLOSE  1: exit when standard input closes (the test process went)
//
// When ready it prints one JSON line on stdout: {"port": 12345}.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const port = Number(process.env.SMS_PORT ?? 2626);
const dir = process.env.SMS_DIR ?? 'received';
const token = process.env.SMS_TOKEN ?? '';
const secret = process.env.SMS_WEBHOOK_SECRET ?? '';
const delay = Number(process.env.SMS_DELAY_MS ?? 0);
const reports = process.env.SMS_REPORTS ?? 'ordered';
fs.mkdirSync(dir, { recursive: true });
let count = 0;
const seen = new Set();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function problem(m) {
  if (typeof m !== 'object' || m === null) return 'body is not a JSON object';
  if (typeof m.to !== 'string' || !/^\+[1-9][0-9]{6,14}$/.test(m.to)) return 'to: not an E.164 number';
  if (typeof m.from !== 'string' || !/^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/.test(m.from)) return 'from: not an alphanumeric sender of at most 11 characters';
  if (typeof m.text !== 'string' || m.text.length === 0 || m.text.length > 1600) return 'text: empty or too long';
  if (typeof m.reference !== 'string' || m.reference.length === 0 || m.reference.length > 64) return 'reference: missing';
  if (m.callback !== undefined && (typeof m.callback !== 'string' || !/^https?:\/\//.test(m.callback))) return 'callback: not a URL';
  return null;
}

async function report(m, id, status) {
  const body = JSON.stringify({ id, reference: m.reference, status, at: new Date().toISOString() });
  const signature = crypto.createHmac('sha256', secret).update(body).digest('hex');
  try {
    await fetch(m.callback, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': `sha256=${signature}` },
      body,
    });
  } catch {
    // The receiver is gone (a test ended): reports are best effort, as real ones are.
  }
}

async function reportAll(m, id) {
  if (!secret || !m.callback || reports === 'none') return;
  await sleep(20);
  const final = m.to.startsWith('+47400006') ? 'failed' : 'delivered';
  const order = reports === 'reversed' ? [final, 'buffered', final] : ['buffered', final];
  for (const status of order) await report(m, id, status);
}

const server = http.createServer(async (req, res) => {
  if (req.method !== 'POST' || req.url !== '/messages') return answer(res, 404, { error: 'not found' });
  if (token && req.headers.authorization !== `Bearer ${token}`) return answer(res, 401, { error: 'unauthorized' });
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  let m;
  try {
    m = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return answer(res, 400, { error: 'body is not JSON' });
  }
  const wrong = problem(m);
  if (wrong) return answer(res, 400, { error: wrong });
  if (delay > 0) await sleep(delay);
  if (m.to.startsWith('+47400005')) return answer(res, 503, { error: 'try again later' });
  if (m.to.startsWith('+47400004')) return answer(res, 400, { error: 'number refused' });
  if (m.to.startsWith('+47400003') && !seen.has(m.reference)) {
    seen.add(m.reference);
    return answer(res, 503, { error: 'try again later' });
  }
  count += 1;
  const n = String(count).padStart(6, '0');
  const id = `gw-${n}`;
  const file = path.join(dir, `${n}.json`);
  fs.writeFileSync(`${file}.part`, JSON.stringify({ id, ...m }));
  fs.renameSync(`${file}.part`, file);
  answer(res, 202, { id });
  reportAll(m, id);
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});

if (process.env.SMS_EXIT_ON_STDIN_CLOSE === '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
}
