/**
 * A real SMTP server for alert tests (smtp-server): STARTTLS with a self-signed certificate made by
 * openssl for 127.0.0.1, AUTH PLAIN/LOGIN only after STARTTLS, every received message parsed with mailparser.
 * `refuseNext(n, code)` answers the next n messages with an SMTP error (4xx: try later, 5xx: final).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  mail: ParsedMail;
  /** The SMTP envelope's recipients. */
  to: string[];
  /** Whether the session had been upgraded by STARTTLS when the message came. */
  secure: boolean;
  user: string | undefined;
  at: number;
}

export interface SmtpTestServer {
  host: string;
  port: number;
  username: string;
  password: string;
  /** PEM file of the server's self-signed certificate, to trust it. */
  caFile: string;
  received: ReceivedMail[];
  refuseNext(count: number, code: number): void;
  /** Resolves when `count` messages have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export async function startSmtpTestServer(): Promise<SmtpTestServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-smtp-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  const username = 'alerts';
  const password = 'smtp-secret';
  const received: ReceivedMail[] = [];
  let refusals: { count: number; code: number } = { count: 0, code: 451 };
  const waiters: (() => void)[] = [];

  const server = new SMTPServer({
    key: readFileSync(key),
    cert: readFileSync(cert),
    authMethods: ['PLAIN', 'LOGIN'],
    // AUTH is refused until the session is secure: a client that skips STARTTLS cannot log in.
    allowInsecureAuth: false,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === username && auth.password === password) cb(null, { user: username });
      else cb(new Error('bad credentials'));
    },
    onData(stream, session, cb) {
      if (refusals.count > 0) {
        refusals.count--;
        stream.resume();
        stream.on('end', () => cb(Object.assign(new Error('try again later'), { responseCode: refusals.code })));
        return;
      }
      simpleParser(stream).then(
        (mail) => {
          received.push({ mail, to: session.envelope.rcptTo.map((r) => r.address), secure: session.secure, user: session.user as string | undefined, at: Date.now() });
          for (const w of waiters.splice(0)) w();
          cb();
        },
        (err: Error) => cb(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    username,
    password,
    caFile: cert,
    received,
    refuseNext(count, code) {
      refusals = { count, code };
    },
    async waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} mails within ${timeoutMs} ms, got ${received.length}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
      return received;
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
