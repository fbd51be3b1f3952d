/**
 * Creates the internal TLS CA and server certificates with @peculiar/x509 over node's WebCrypto.
 * Loaded only when something must be issued, so ordinary restarts skip this library.
 */
// @peculiar/x509 resolves its algorithm providers through tsyringe, which needs this polyfill first.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import net from 'node:net';
import * as x509 from '@peculiar/x509';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
const crypto = webcrypto as unknown as NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 24 * 3600 * 1000;
const CA_LIFETIME = 20 * 365 * DAY;

/** PEM texts, each ending with a newline. */
export interface PemPair {
  certPem: string;
  keyPem: string;
}

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

const pem = (cert: x509.X509Certificate) => cert.toString('pem') + '\n';

export async function createTlsCa(now: Date): Promise<PemPair> {
  const { keys, keyPem } = await newKey();
  const from = notBefore(now);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      // A random suffix keeps two installations' CAs apart in a client's trust store.
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
  return { certPem: pem(cert), keyPem };
}

export async function issueTlsServerCertificate(ca: PemPair, hostnames: string[], now: Date, lifetimeMs = 365 * DAY): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await crypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.keyPem), EC, false, ['sign']);
  const { keys, keyPem } = await newKey();
  const from = notBefore(now);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: `CN=${hostnames[0]}`,
      issuer: caCert.subject,
      notBefore: from,
      notAfter: new Date(from.getTime() + lifetimeMs),
      publicKey: keys.publicKey,
      signingKey: caKey,
      signingAlgorithm: SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(
          hostnames.map((h) => ({ type: net.isIP(h) ? ('ip' as const) : ('dns' as const), value: h })),
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caCert, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: pem(cert), keyPem };
}
