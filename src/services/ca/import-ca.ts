import type { CaRecord, CertificateAuthority } from '../../domain/ca/ca.ts';
import { checkCaIdNotRetired } from './delete-ca.ts';
import { conflict, invalid } from '../../domain/errors.ts';
import { fromPem, isPem } from '../../x509/pem.ts';
import { CaEventType } from './ca-events.ts';
import { storeNewCa } from './store-new-ca.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { checkCaId } from './create-ca.ts';
import { resolveEngine } from './engine-signer.ts';
import { getCa } from './get-ca.ts';
import { certificateFromDer, findIssuerCa, readCertificateInput } from './certificate-from-der.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';

export interface ImportCaInput {
  id?: string;
  /** The CA certificate: PEM, base64 DER or DER. */
  certificate: string | Uint8Array;
  /** PKCS#8 PEM ("PRIVATE KEY") or DER; absent: the CA is tracked and cannot sign. */
  privateKey?: string | Uint8Array;
  engineId?: string;
  /** Absent: found by the certificate's authority key identifier among our CAs. */
  parentId?: string;
  profileId?: string;
  aboutToExpireMs?: number;
  metadata?: Record<string, unknown>;
  actor: string;
}

function pkcs8Of(input: string | Uint8Array): Uint8Array {
  if (typeof input !== 'string') return input;
  if (isPem(input)) {
    const der = fromPem(input, 'PRIVATE KEY');
    if (!der) throw invalid('PRIVATE_KEY_INVALID', 'the private key must be an unencrypted PKCS#8 PEM block (BEGIN PRIVATE KEY)');
    return der;
  }
  return new Uint8Array(Buffer.from(input, 'base64'));
}

/**
 * Imports an existing CA. With its key, the key goes into an engine (and must match the certificate);
 * without, the CA is tracked (its status, its certificates) but cannot sign.
 */
export async function importCa(deps: CaServiceDeps, cache: IssuingCaCache, input: ImportCaInput): Promise<CertificateAuthority> {
  const parsed = readCertificateInput(input.certificate);
  if (!parsed.basicConstraints?.ca) throw invalid('CA_CERTIFICATE_NOT_CA', 'the certificate is not a CA certificate (basicConstraints CA:TRUE)');
  const id = checkCaId(input.id ?? deps.random.uuid());
  // EST labels name a DMS or a CA: the two id spaces never meet (the DMS manager checks the other way).
  if (await deps.storage.dms.get(id)) throw conflict('CA_EXISTS', `"${id}" is already the id of a DMS`, { id });
  if (!(await deps.storage.cas.get(id))) await checkCaIdNotRetired(deps, id);
  const parent = input.parentId !== undefined ? await getCa(deps, input.parentId) : await findIssuerCa(deps, parsed);
  if (input.profileId !== undefined) await cache.profile(input.profileId);
  const selfSigned = Buffer.compare(Buffer.from(parsed.issuerName), Buffer.from(parsed.subjectName)) === 0;

  const engine = input.privateKey !== undefined ? resolveEngine(deps, input.engineId) : undefined;
  const key = engine ? await engine.importKey({ pkcs8: pkcs8Of(input.privateKey!), label: `ca-${id}` }) : undefined;
  try {
    if (key && Buffer.compare(Buffer.from(key.publicKeySpki), Buffer.from(parsed.publicKey.spki)) !== 0) {
      throw invalid('CA_KEY_MISMATCH', 'the private key does not belong to the certificate');
    }
    const now = deps.clock.now();
    const cert = certificateFromDer(deps, parsed, {
      issuerCaId: parent?.id ?? (selfSigned ? id : null),
      caId: id,
      type: key ? 'IMPORTED_WITH_KEY' : 'IMPORTED_WITHOUT_KEY',
      engineId: engine?.id ?? null,
      aboutToExpireMs: input.aboutToExpireMs ?? deps.settings.aboutToExpireMs,
      metadata: {},
    });
    const record: CaRecord = {
      id,
      certificateId: cert.id,
      parentId: parent?.id ?? null,
      level: parent ? parent.level + 1 : 0,
      type: key ? 'IMPORTED_WITH_KEY' : 'IMPORTED_WITHOUT_KEY',
      engineId: engine && key ? engine.id : null,
      keyId: key?.id ?? null,
      internal: false,
      profileId: input.profileId ?? null,
      aboutToExpireMs: input.aboutToExpireMs ?? null,
      metadata: input.metadata ?? {},
      createdAt: now,
    };
    return await storeNewCa(deps, cert, record, CaEventType.caImport, input.actor);
  } catch (err) {
    if (engine && key) await engine.deleteKey(key.id).catch(() => undefined);
    throw err;
  }
}
