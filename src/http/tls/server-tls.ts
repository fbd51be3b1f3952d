/**
 * TLS for the HTTPS listener without any setup: on first start an internal CA (ECDSA P-256) and a
 * server certificate for the configured host names are created in `<data dir>/tls/`; later starts reuse
 * them and re-issue only the server certificate, when the host names changed or it nears expiry.
 * Clients trust `<data dir>/tls/ca.pem`. Operators with their own certificate set
 * LAMASSU_TLS_CERT_FILE/KEY_FILE instead. Start-up path only, so @peculiar/x509 is fast enough.
 */
// @peculiar/x509 resolves its algorithm providers through tsyringe, which needs this polyfill first.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { ConfigError } from '../../config/load-config.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { TlsMaterial } from '../build-https-app.ts';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const crypto = webcrypto as unknown as NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 24 * 3600 * 1000;
const CA_LIFETIME = 20 * 365 * DAY;
const SERVER_LIFETIME = 365 * DAY;
/** Re-issue the server certificate when less than this is left. */
export const SERVER_RENEW_BEFORE = 30 * DAY;

export const TLS_DIR = 'tls';
const FILES = { caCert: 'ca.pem', caKey: 'ca-key.pem', cert: 'server.pem', key: 'server-key.pem' } as const;

export interface ServerTlsOptions {
  dataDir: string;
  hostnames: string[];
  certFile?: string;
  keyFile?: string;
  clock: Clock;
  logger: Logger;
}

interface Pair {
  cert: x509.X509Certificate;
  key: CryptoKey;
  keyPem: string;
}

/** Key and certificate for the HTTPS listener, creating or renewing them as needed. */
export async function serverTls(opts: ServerTlsOptions): Promise<TlsMaterial> {
  if (opts.certFile && opts.keyFile) {
    return { cert: await readSetting('LAMASSU_TLS_CERT_FILE', opts.certFile), key: await readSetting('LAMASSU_TLS_KEY_FILE', opts.keyFile) };
  }
  const dir = path.join(opts.dataDir, TLS_DIR);
  await mkdir(dir, { recursive: true });
  const file = (name: keyof typeof FILES) => path.join(dir, FILES[name]);

  let ca = await load(file('caCert'), file('caKey'));
  if (!ca) {
    ca = await createCa(opts.clock.now());
    await writeAtomic(file('caKey'), ca.keyPem, 0o600);
    await writeAtomic(file('caCert'), ca.cert.toString('pem') + '\n', 0o644);
    opts.logger.info({ file: file('caCert') }, 'created the internal TLS CA; clients trust this file');
  }

  let server = await load(file('cert'), file('key'));
  const why = server ? await renewalReason(server.cert, ca.cert, opts.hostnames, opts.clock.now()) : 'none yet';
  if (why) {
    server = await issueServer(ca, opts.hostnames, opts.clock.now());
    await writeAtomic(file('key'), server.keyPem, 0o600);
    await writeAtomic(file('cert'), server.cert.toString('pem') + '\n', 0o644);
    opts.logger.info({ file: file('cert'), hostnames: opts.hostnames, reason: why }, 'issued the TLS server certificate');
  }
  return { cert: server!.cert.toString('pem') + '\n', key: server!.keyPem };
}

async function readSetting(name: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError([`${name}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
}

async function load(certFile: string, keyFile: string): Promise<Pair | undefined> {
  if (!existsSync(certFile) || !existsSync(keyFile)) return undefined;
  const keyPem = await readFile(keyFile, 'utf8');
  const der = x509.PemConverter.decodeFirst(keyPem);
  const key = await crypto.subtle.importKey('pkcs8', der, EC, false, ['sign']);
  return { cert: new x509.X509Certificate(await readFile(certFile, 'utf8')), key, keyPem };
}

/** Why the server certificate must be re-issued, or undefined when it is still good. */
export async function renewalReason(
  cert: x509.X509Certificate,
  ca: x509.X509Certificate,
  hostnames: string[],
  now: Date,
): Promise<string | undefined> {
  if (!(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }, crypto))) return 'not issued by the current CA';
  if (cert.notAfter.getTime() - now.getTime() < SERVER_RENEW_BEFORE) return 'near expiry';
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const have = new Set((san?.names.items ?? []).map((n) => canonical(n.value)));
  const want = new Set(hostnames.map(canonical));
  if (have.size !== want.size || [...want].some((n) => !have.has(n))) return 'host names changed';
  return undefined;
}

const canonical = (name: string) => (net.isIPv6(name) ? new URL(`http://[${name}]/`).hostname : name.toLowerCase());

/** 127 random bits; a positive, minimally encoded INTEGER. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** Whole seconds, a minute back for clock skew between hosts. */
const notBefore = (now: Date) => new Date(Math.floor(now.getTime() / 1000) * 1000 - 60_000);

async function newKey(): Promise<{ keys: CryptoKeyPair; keyPem: string }> {
  const keys = (await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keys, keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n' };
}

async function createCa(now: Date): Promise<Pair> {
  const { keys, keyPem } = await newKey();
  const from = notBefore(now);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: `CN=Lamassu internal TLS CA ${randomBytes(4).toString('hex')}`,
      notBefore: from,
      notAfter: new Date(from.getTime() + CA_LIFETIME),
      keys,
      signingAlgorithm: SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { cert, key: keys.privateKey, keyPem };
}

async function issueServer(ca: Pair, hostnames: string[], now: Date): Promise<Pair> {
  const { keys, keyPem } = await newKey();
  const from = notBefore(now);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: `CN=${hostnames[0]}`,
      issuer: ca.cert.subject,
      notBefore: from,
      notAfter: new Date(from.getTime() + SERVER_LIFETIME),
      publicKey: keys.publicKey,
      signingKey: ca.key,
      signingAlgorithm: SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(
          hostnames.map((h) => ({ type: net.isIP(h) ? ('ip' as const) : ('dns' as const), value: h })),
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false, crypto),
      ],
    },
    crypto,
  );
  return { cert, key: keys.privateKey, keyPem };
}

async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, file);
}
