import type { Certificate } from '../../domain/ca/certificate.ts';
import type { ExpiryDeltas } from '../../domain/ca/expiry-deltas.ts';
import { invalid } from '../../domain/errors.ts';
import { parseCsrInput, verifyCsrSignature, type ParsedCsr } from '../../x509/csr.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { issueCertificate, issuingCa, resolveSettings, type ProfileChoice } from './issue-certificate.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';

export interface SignCertificateInput {
  caId: string;
  /** PEM, base64 DER or DER (see parseCsrInput). */
  csr: string | Uint8Array;
  profile: ProfileChoice;
  metadata?: Record<string, unknown>;
  allowInternalCa?: boolean;
  /** The caller already checked proof of possession (e.g. the DMS, by its own policy). */
  skipCsrSignatureCheck?: boolean;
  /** The enrolling DMS and its expiration deltas. */
  dms?: { id: string; expiryDeltas: ExpiryDeltas | null };
  actor: string;
}

/**
 * Signs a CSR with a CA. Throws CA_NOT_FOUND, CA_CANNOT_SIGN, CA_INTERNAL, PROFILE_NOT_FOUND, CSR_MALFORMED,
 * CSR_KEY_UNSUPPORTED, CSR_SIGNATURE_ALGORITHM_UNSUPPORTED, CSR_INVALID_SIGNATURE, CSR_KEY_NOT_ALLOWED.
 */
export async function signCertificate(deps: CaServiceDeps, cache: IssuingCaCache, input: SignCertificateInput): Promise<Certificate> {
  // The CA and profile come first: an unknown CA is a 404 whatever the CSR, and the profile decides
  // whether the CSR signature matters.
  const issuing = await issuingCa(cache, input.caId, input.allowInternalCa);
  const resolved = { issuing, ...(await resolveSettings(deps, cache, issuing, input.profile)) };
  const { settings } = resolved;
  const csr = parseCsrInput(input.csr);
  if (settings.verifyCsrSignature && !input.skipCsrSignatureCheck && !(await proofOfPossession(deps, csr))) {
    throw invalid('CSR_INVALID_SIGNATURE', 'the CSR signature does not verify with its own public key (no proof of possession)');
  }
  return issueCertificate(deps, cache, {
    caId: input.caId,
    profile: input.profile,
    subjectName: csr.subjectName,
    subject: csr.subject,
    publicKey: csr.publicKey,
    ...(csr.extensions.subjectAltName ? { subjectAltName: csr.extensions.subjectAltName } : {}),
    ...(csr.extensions.keyUsage ? { requestedKeyUsage: csr.extensions.keyUsage } : {}),
    ...(csr.extensions.extendedKeyUsage ? { requestedExtendedKeyUsage: csr.extensions.extendedKeyUsage } : {}),
    ...(input.metadata ? { metadata: input.metadata } : {}),
    ...(input.allowInternalCa ? { allowInternalCa: true } : {}),
    ...(input.dms ? { dms: input.dms } : {}),
    actor: input.actor,
  }, resolved);
}

/** On the verifier's worker threads when the server has them (the dearest step of issuance), else inline. */
function proofOfPossession(deps: CaServiceDeps, csr: ParsedCsr): boolean | Promise<boolean> {
  return deps.csrVerifier ? deps.csrVerifier.verify(csr.der) : verifyCsrSignature(csr);
}
