import type { Certificate } from '../../domain/ca/certificate.ts';
import type { Subject } from '../../domain/ca/subject.ts';
import { invalid, unsupported } from '../../domain/errors.ts';
import type { KeySpec } from '../../domain/ports/key-engine.ts';
import { parseCsr } from '../../x509/csr.ts';
import { buildName } from '../../x509/name.ts';
import { parsePublicKey } from '../../x509/public-key.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { resolveEngine } from './engine-signer.ts';
import { issueCertificate, issuingCa, type ProfileChoice } from './issue-certificate.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';

export interface GenerateCertificateInput {
  caId: string;
  keySpec: KeySpec;
  /** Keep the new key in this engine; absent: return it once as PKCS#8 and keep nothing. */
  engineId?: string;
  subject: Subject;
  profile: ProfileChoice;
  metadata?: Record<string, unknown>;
  actor: string;
}

export interface GeneratedCertificate {
  certificate: Certificate;
  /** Only when the key was not kept in an engine: PKCS#8 DER, shown to the caller once. */
  privateKeyPkcs8?: Uint8Array;
  /** Only when the key was kept in an engine. */
  keyId?: string;
}

/** Server-side key generation and issuance in one call. */
export async function generateCertificate(deps: CaServiceDeps, cache: IssuingCaCache, input: GenerateCertificateInput): Promise<GeneratedCertificate> {
  if (!input.subject.common_name) throw invalid('SUBJECT_INVALID', 'subject.common_name is required');
  await issuingCa(cache, input.caId);
  const subjectName = buildName(input.subject);
  const issue = (publicKey: ReturnType<typeof parsePublicKey>, engineId: string | null) =>
    issueCertificate(deps, cache, {
      caId: input.caId,
      profile: input.profile,
      subjectName,
      subject: input.subject,
      publicKey,
      engineId,
      ...(input.metadata ? { metadata: input.metadata } : {}),
      actor: input.actor,
    });

  if (input.engineId !== undefined) {
    const engine = resolveEngine(deps, input.engineId);
    const key = await engine.createKey({ spec: input.keySpec, label: `cert-${input.subject.common_name}` });
    try {
      return { certificate: await issue(parsePublicKey(key.publicKeySpki), engine.id), keyId: key.id };
    } catch (err) {
      await engine.deleteKey(key.id).catch(() => undefined);
      throw err;
    }
  }
  if (!deps.keyGenerator) throw unsupported('SERVER_KEYGEN_UNAVAILABLE', 'server-side key generation without an engine is not configured');
  const generated = await deps.keyGenerator.generate(input.keySpec, subjectName);
  const csr = parseCsr(generated.csrDer);
  return { certificate: await issue(csr.publicKey, null), privateKeyPkcs8: generated.pkcs8 };
}
