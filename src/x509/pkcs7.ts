/**
 * Degenerate "certs-only" CMS SignedData (RFC 5652 5, RFC 7030 4.1.3): a bag of certificates with no
 * content and no signers, as EST's /cacerts and /simpleenroll answer.
 */
import { contextTag, explicit, oid, sequence, set, smallInteger, tlv } from './der.ts';

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_DATA = '1.2.840.113549.1.7.1';

/**
 * ContentInfo { signedData { version 1, no digest algorithms, id-data without content, certificates,
 * no signers } }. Certificates keep the given order (leaf or CA first, as the caller wants) instead of
 * DER's sorted SET OF: clients read them in order and every parser we know accepts it.
 */
export function certsOnlyPkcs7(certs: readonly Uint8Array[]): Uint8Array {
  const signedData = sequence(
    smallInteger(1),
    set(),
    sequence(oid(OID_DATA)),
    tlv(contextTag(0, true), ...certs),
    set(),
  );
  return sequence(oid(OID_SIGNED_DATA), explicit(0, signedData));
}

/** Base64 in lines of 64 characters, each ending in a newline: the body EST sends (RFC 7030 4.1.3). */
export function base64Lines(der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let out = '';
  for (let i = 0; i < b64.length; i += 64) out += `${b64.slice(i, i + 64)}\n`;
  return out;
}
