/**
 * Degenerate "certs-only" CMS SignedData (RFC 5652 5, RFC 7030 4.1.3): a bag of certificates with no
 * content and no signers, as EST's /cacerts and /simpleenroll answer.
 */
import { contextTag, explicit, oid, sequence, setOf, smallInteger } from './der.ts';

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_DATA = '1.2.840.113549.1.7.1';

/**
 * ContentInfo { signedData { version 1, no digest algorithms, id-data without content, certificates,
 * no signers } }, in DER: `certificates` is a [0] IMPLICIT SET OF, so its elements go out sorted by their
 * encodings (X.690 11.6), not in chain order; a SET carries no order, and strict parsers check DER's.
 * (No CRLs: certs-only has none.)
 */
export function certsOnlyPkcs7(certs: readonly Uint8Array[]): Uint8Array {
  const signedData = sequence(
    smallInteger(1),
    setOf([]), // digestAlgorithms
    sequence(oid(OID_DATA)),
    setOf(certs, contextTag(0, true)),
    setOf([]), // signerInfos
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
