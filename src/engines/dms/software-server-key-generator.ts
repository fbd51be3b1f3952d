/**
 * Server-side key generation (EST serverkeygen, DMS certificates): a fresh software key and a CSR signed
 * by it with the requested subject and extensions. The key leaves as PKCS#8 and is never kept.
 */
import { createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { GeneratedKeyRequest, ServerKeyGenerator } from '../../domain/dms/server-key-generator.ts';
import { invalid } from '../../domain/errors.ts';
import type { KeySpec } from '../../domain/ports/key-engine.ts';
import { bitString, contextTag, oid, sequence, set, setOf, smallInteger } from '../../x509/der.ts';
import { keyObjectSigner } from '../../x509/key-object-signer.ts';
import { algorithmIdentifier } from '../../x509/signer.ts';

const generateKeyPairAsync = promisify(generateKeyPair);
const CURVES: Record<number, string> = { 256: 'P-256', 384: 'P-384', 521: 'P-521' };
const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

async function newKey(spec: KeySpec): Promise<KeyObject> {
  if (spec.type === 'RSA' && [2048, 3072, 4096].includes(spec.bits)) {
    return (await generateKeyPairAsync('rsa', { modulusLength: spec.bits })).privateKey;
  }
  if (spec.type === 'ECDSA' && CURVES[spec.bits]) return (await generateKeyPairAsync('ec', { namedCurve: CURVES[spec.bits]! })).privateKey;
  if (spec.type === 'ED25519' && spec.bits === 256) return (await generateKeyPairAsync('ed25519')).privateKey;
  throw invalid('SERVER_KEYGEN_KEY_NOT_ALLOWED', `cannot generate ${spec.type} ${spec.bits} keys`);
}

export class SoftwareServerKeyGenerator implements ServerKeyGenerator {
  async generate(spec: KeySpec, subjectName: Uint8Array, extensions?: Uint8Array): Promise<GeneratedKeyRequest> {
    const privateKey = await newKey(spec);
    const spki = new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
    const attributes = extensions ? [sequence(oid(EXTENSION_REQUEST), set(extensions))] : [];
    const info = sequence(smallInteger(0), subjectName, spki, setOf(attributes, contextTag(0, true))); // [0] IMPLICIT SET OF Attribute
    const signer = keyObjectSigner(privateKey);
    const signature = await signer.sign(info);
    const csrDer = sequence(info, algorithmIdentifier(signer.algorithm), bitString(signature));
    const pkcs8 = new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }));
    return { pkcs8, csrDer };
  }
}
