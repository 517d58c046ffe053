// A local SMTP server for Tavle's mail tests (tests/tavle/mail.rs). NOT for production.
//
// It is a real SMTP server (the `smtp-server` package: EHLO, multi-line replies,
// dot-unstuffing, size limits), so the tests exercise Tavle's SMTP client on the wire
// rather than a mock of it. Every message it accepts is written to SMTP_DIR as
// `<n>.eml` (the raw message as received) with `<n>.json` beside it (the envelope:
// MAIL FROM and RCPT TO), each file renamed into place only when complete.
//
// Recipients whose local part starts with `tempfail` are refused with 451 (a transient
// failure the sender should retry), those starting with `reject` with 550 (permanent).
//
// Environment:
//   SMTP_PORT                 port to listen on, on 127.0.0.1 (0: any free port)
//   SMTP_DIR                  where to write received messages (created if missing)
//   SMTP_EXIT_ON_STDIN_CLOSE  1: exit when standard input closes (the test process went)
//
// When ready it prints one JSON line on stdout: {"port": 12345}.

import fs from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

const port = Number(process.env.SMTP_PORT ?? 2525);
const dir = process.env.SMTP_DIR ?? 'received';
fs.mkdirSync(dir, { recursive: true });
let count = 0;

function refusal(address) {
  const local = address.split('@')[0].toLowerCase();
  if (local.startsWith('tempfail')) {
    return Object.assign(new Error('4.3.0 Mailbox temporarily unavailable, try again later'), { responseCode: 451 });
  }
  if (local.startsWith('reject')) {
    return Object.assign(new Error('5.1.1 No such mailbox here'), { responseCode: 550 });
  }
  return null;
}

function writeAtomically(file, data) {
  const tmp = `${file}.part`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

const server = new SMTPServer({
  name: 'smtp.tavle.test',
  banner: 'Tavle test SMTP server',
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  size: 1024 * 1024,
  logger: false,
  onRcptTo(address, _session, callback) {
    callback(refusal(address.address));
  },
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => {
      if (stream.sizeExceeded) {
        callback(Object.assign(new Error('5.3.4 Message too big'), { responseCode: 552 }));
        return;
      }
      count += 1;
      const base = path.join(dir, String(count).padStart(6, '0'));
      const envelope = {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
        to: session.envelope.rcptTo.map((r) => r.address),
      };
      writeAtomically(`${base}.eml`, Buffer.concat(chunks));
      writeAtomically(`${base}.json`, JSON.stringify(envelope));
      callback(null, `Stored as ${count}`);
    });
  },
});

server.on('error', (err) => {
  console.error(`smtp: ${err.message}`);
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.server.address().port })}\n`);
});

if (process.env.SMTP_EXIT_ON_STDIN_CLOSE === '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
}
