/**
 * TLS for the HTTPS listener without any setup: on first start an internal CA (ECDSA P-256) and a
 * server certificate for the configured host names are created in `<data dir>/tls/`; later starts reuse
 * them and re-issue only the server certificate, when the host names changed or it nears expiry.
 * Clients trust `<data dir>/tls/ca.pem`. Operators with their own certificate set
 * LAMASSU_TLS_CERT_FILE/KEY_FILE instead.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { ConfigError } from '../../config/load-config.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { TlsMaterial } from '../build-https-app.ts';
import type { PemPair } from './tls-certificates.ts';

const DAY = 24 * 3600 * 1000;
/** Defaults of LAMASSU_TLS_CERT_LIFETIME and LAMASSU_TLS_RENEW_BEFORE. */
export const SERVER_LIFETIME = 365 * DAY;
export const SERVER_RENEW_BEFORE = 30 * DAY;

export const TLS_DIR = 'tls';
const FILES = { caCert: 'ca.pem', caKey: 'ca-key.pem', cert: 'server.pem', key: 'server-key.pem' } as const;

export interface ServerTlsOptions {
  dataDir: string;
  hostnames: string[];
  certFile?: string;
  keyFile?: string;
  /** Validity of a generated server certificate (default one year). */
  lifetimeMs?: number;
  /** Re-issue the generated certificate when less than this is left (default 30 days). */
  renewBeforeMs?: number;
  clock: Clock;
  logger: Logger;
}

/** Key and certificate for the HTTPS listener at start, creating or renewing them as needed. */
export async function serverTls(opts: ServerTlsOptions): Promise<TlsMaterial> {
  const material = await currentServerTls(opts);
  if (opts.certFile && opts.keyFile) await warnIfOthersCanRead(opts.keyFile, opts.logger);
  return material;
}

/**
 * The operator's files as they are now, or the generated certificate, re-issued when due. Called at
 * start and periodically while running (tls-renewal.ts).
 */
export async function currentServerTls(opts: ServerTlsOptions): Promise<TlsMaterial> {
  if (opts.certFile && opts.keyFile) {
    return { cert: await readSetting('LAMASSU_TLS_CERT_FILE', opts.certFile), key: await readSetting('LAMASSU_TLS_KEY_FILE', opts.keyFile) };
  }
  const dir = path.join(opts.dataDir, TLS_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = (name: keyof typeof FILES) => path.join(dir, FILES[name]);

  let ca = await load(file('caCert'), file('caKey'));
  if (!ca) {
    const { createTlsCa } = await import('./tls-certificates.ts');
    ca = await createTlsCa(opts.clock.now());
    await writeAtomic(file('caKey'), ca.keyPem, 0o600);
    await writeAtomic(file('caCert'), ca.certPem, 0o600);
    opts.logger.info({ file: file('caCert') }, 'created the internal TLS CA; clients trust this file');
  }

  let server = await load(file('cert'), file('key'));
  const renewBefore = opts.renewBeforeMs ?? SERVER_RENEW_BEFORE;
  const why = server ? renewalReason(server.certPem, ca.certPem, opts.hostnames, opts.clock.now(), renewBefore) : 'none yet';
  if (why) {
    const { issueTlsServerCertificate } = await import('./tls-certificates.ts');
    server = await issueTlsServerCertificate(ca, opts.hostnames, opts.clock.now(), opts.lifetimeMs ?? SERVER_LIFETIME);
    await writeAtomic(file('key'), server.keyPem, 0o600);
    await writeAtomic(file('cert'), server.certPem, 0o600);
    opts.logger.info({ file: file('cert'), hostnames: opts.hostnames, reason: why }, 'issued the TLS server certificate');
  }
  return { cert: server!.certPem, key: server!.keyPem };
}

/**
 * The CA of the HTTPS listener's certificate (Lamassu's "system CA", which a DMS's include_system_ca adds to
 * EST cacerts) as DER: with the operator's certificate file, the certificates that follow the server's own
 * in it (its chain; none when the file holds the server certificate alone); else the internal TLS CA
 * (`<data dir>/tls/ca.pem`), when it exists. Read at each call: renewal may replace the files.
 */
export async function systemTlsCaCertificates(opts: { dataDir?: string; certFile?: string }): Promise<Uint8Array[]> {
  let pem: string;
  if (opts.certFile) {
    pem = await readFile(opts.certFile, 'utf8').catch(() => '');
    return pemCertificates(pem).slice(1);
  }
  if (!opts.dataDir) return [];
  pem = await readFile(path.join(opts.dataDir, TLS_DIR, FILES.caCert), 'utf8').catch(() => '');
  return pemCertificates(pem);
}

function pemCertificates(pem: string): Uint8Array[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
}

async function readSetting(name: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError([`${name}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
}

/** The operator's key file is theirs to place; a mode that lets others read it deserves a word. */
async function warnIfOthersCanRead(file: string, logger: Logger): Promise<void> {
  const mode = (await stat(file)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    logger.warn({ file, mode: `0${mode.toString(8)}` }, 'LAMASSU_TLS_KEY_FILE is readable by other users: run chmod 600 on it');
  }
}

async function load(certFile: string, keyFile: string): Promise<PemPair | undefined> {
  if (!existsSync(certFile) || !existsSync(keyFile)) return undefined;
  return { certPem: await readFile(certFile, 'utf8'), keyPem: await readFile(keyFile, 'utf8') };
}

/** Why the server certificate must be re-issued, or undefined when it is still good. */
export function renewalReason(
  certPem: string,
  caPem: string,
  hostnames: string[],
  now: Date,
  renewBeforeMs = SERVER_RENEW_BEFORE,
): string | undefined {
  const cert = new X509Certificate(certPem);
  if (!cert.verify(new X509Certificate(caPem).publicKey)) return 'not issued by the current CA';
  if (new Date(cert.validTo).getTime() - now.getTime() < renewBeforeMs) return 'near expiry';
  const have = new Set(
    (cert.subjectAltName ?? '')
      .split(', ')
      .filter((n) => n !== '')
      .map((n) => canonical(n.replace(/^(DNS|IP Address):/, ''))),
  );
  const want = new Set(hostnames.map(canonical));
  if (have.size !== want.size || [...want].some((n) => !have.has(n))) return 'host names changed';
  return undefined;
}

const canonical = (name: string) => (net.isIPv6(name) ? new URL(`http://[${name}]/`).hostname : name.toLowerCase());

async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, file);
}
