import { sign, type KeyObject } from 'node:crypto';
import type { X509Signer, SignatureAlgorithm } from './signer.ts';
import { signatureAlgorithmFor, signatureAlgorithms } from './signer.ts';

/**
 * An X509Signer over a node:crypto private KeyObject (software keys, tests). The algorithm defaults to the
 * one signatureAlgorithmFor picks for the key; ECDSA signatures come out DER-encoded as X.509 wants.
 */
export function keyObjectSigner(privateKey: KeyObject, algorithm?: SignatureAlgorithm): X509Signer {
  const alg = algorithm ?? signatureAlgorithmFor(...keyTypeOf(privateKey));
  const hash = signatureAlgorithms[alg].hash;
  const digest = hash ? hash.replace('-', '').toLowerCase() : null;
  return {
    algorithm: alg,
    sign: async (tbs) => new Uint8Array(sign(digest, tbs, privateKey)),
  };
}

function keyTypeOf(key: KeyObject): Parameters<typeof signatureAlgorithmFor> {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RSA', d.modulusLength ?? 2048];
    case 'ec':
      return ['ECDSA', d.namedCurve === 'secp521r1' ? 521 : d.namedCurve === 'secp384r1' ? 384 : 256];
    case 'ed25519':
      return ['ED25519', 256];
    default:
      throw new RangeError(`no X.509 signature algorithm for ${key.asymmetricKeyType} keys`);
  }
}
