/**
 * A small EST client (RFC 7030): makes a key and CSR, posts it, and reads the answers: certs-only PKCS#7
 * (base64), and serverkeygen's multipart/mixed of a PKCS#8 key and a certificate.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { bitString, children, contextTag, elementOf, readRoot, sequence, smallInteger } from '../x509/der.ts';
import { keyObjectSigner } from '../x509/key-object-signer.ts';
import { buildName, type SubjectFields } from '../x509/name.ts';
import { algorithmIdentifier } from '../x509/signer.ts';
import type { KeySpec } from './options.ts';

export function generateKey(spec: KeySpec): KeyObject {
  if (spec.type === 'RSA') return generateKeyPairSync('rsa', { modulusLength: spec.bits }).privateKey;
  if (spec.type === 'ED25519') return generateKeyPairSync('ed25519').privateKey;
  const curve = { 256: 'prime256v1', 384: 'secp384r1', 521: 'secp521r1' }[spec.bits];
  if (!curve) throw new RangeError(`no ECDSA curve of ${spec.bits} bits`);
  return generateKeyPairSync('ec', { namedCurve: curve }).privateKey;
}

/** A PKCS#10 CertificationRequest (RFC 2986) for `key`, no attributes. */
export async function buildCsr(key: KeyObject, subject: SubjectFields): Promise<Uint8Array> {
  const spki = new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  // attributes [0] IMPLICIT SET OF Attribute: none.
  const info = sequence(smallInteger(0), buildName(subject), spki, Uint8Array.of(contextTag(0, true), 0));
  const signer = keyObjectSigner(key);
  const signature = await signer.sign(info);
  return sequence(info, algorithmIdentifier(signer.algorithm), bitString(signature));
}

const base64Body = (text: string) => new Uint8Array(Buffer.from(text.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'));

/** The certificates of a certs-only PKCS#7 (ContentInfo { signedData { ..., [0] certificates } }). */
export function certsFromPkcs7(der: Uint8Array): Uint8Array[] {
  const [, content] = children(der, readRoot(der));
  const signedData = children(der, children(der, content!)[0]!);
  const certs = signedData.find((n) => n.tag === contextTag(0, true));
  if (!certs) return [];
  return children(der, certs).map((c) => elementOf(der, c));
}

/** An EST certificates answer: base64 PKCS#7, or PEM when the server chose to send it. */
export function certsFromEstBody(body: string): Uint8Array[] {
  if (body.includes('-----BEGIN')) {
    return [...body.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => base64Body(m[1]!));
  }
  return certsFromPkcs7(base64Body(body));
}

/** serverkeygen's answer: the PKCS#8 key part and the certificate part (RFC 7030 4.4.2). */
export function readServerKeygen(contentType: string, body: string): { pkcs8: Uint8Array; certificates: Uint8Array[] } {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) throw new Error(`serverkeygen answer is not multipart (${contentType})`);
  const parts = body
    .split(`--${boundary}`)
    .slice(1)
    .filter((p) => !p.startsWith('--'))
    .map((p) => {
      const split = p.search(/\r?\n\r?\n/);
      return { headers: p.slice(0, split).toLowerCase(), body: p.slice(split).trim() };
    });
  const keyPart = parts.find((p) => p.headers.includes('application/pkcs8'));
  const certPart = parts.find((p) => p.headers.includes('application/pkcs7-mime'));
  if (!keyPart || !certPart) throw new Error('serverkeygen answer lacks the key or the certificate part');
  return { pkcs8: base64Body(keyPart.body), certificates: certsFromEstBody(certPart.body) };
}
