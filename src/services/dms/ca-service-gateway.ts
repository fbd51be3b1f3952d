/** Adapts the CA service to the narrow interface the DMS and device managers depend on. */
import { dmsManagerCaGeneration } from '../../domain/ca/ca.ts';
import type { CertificateAuthorityGateway } from '../../domain/dms/certificate-authority-gateway.ts';
import { isDomainError } from '../../domain/errors.ts';
import type { CaService } from '../ca/ca-service.ts';

async function orUndefined<T>(p: Promise<T>, notFoundCode: string): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isDomainError(err) && err.code === notFoundCode) return undefined;
    throw err;
  }
}

export function caServiceGateway(ca: CaService): CertificateAuthorityGateway {
  return {
    getCa: (id) => orUndefined(ca.getCa(id), 'CA_NOT_FOUND'),
    dmsManagerCa: () => ca.ensureInternalCa(),
    caChain: (caId) => ca.caChain(caId),
    issue: (req) =>
      ca.signCertificate({
        caId: req.caId,
        csr: req.csrDer,
        profile: req.profileId ? { profileId: req.profileId } : { caDefault: true },
        ...(req.metadata ? { metadata: req.metadata } : {}),
        ...(req.csrSignatureVerified ? { skipCsrSignatureCheck: true } : {}),
        ...(req.dms ? { dms: req.dms } : {}),
        // Only DMS certificates are signed by the internal CA (any generation); device enrollment names its CA explicitly.
        ...(dmsManagerCaGeneration(req.caId) !== undefined ? { allowInternalCa: true } : {}),
        actor: req.actor,
      }),
    revoke: (req) =>
      ca.updateCertificateStatus({
        serialNumber: req.serialNumber,
        issuerCaId: req.issuerCaId,
        request: { status: 'REVOKED', reason: req.reason },
        actor: req.actor,
      }),
    getCertificate: (serial, issuerCaId) => orUndefined(ca.getCertificate(serial, issuerCaId), 'CERTIFICATE_NOT_FOUND'),
    updateCertificateMetadata: (req) =>
      ca.updateCertificateMetadata({ serialNumber: req.serialNumber, ...(req.issuerCaId ? { issuerCaId: req.issuerCaId } : {}), change: req.change, actor: req.actor }),
    replanDmsExpiry: (dmsId, deltas) => ca.replanDmsExpiry(dmsId, deltas),
    profileExists: async (id) => (await orUndefined(ca.getProfile(id), 'PROFILE_NOT_FOUND')) !== undefined,
    cryptoEnforcement: async (caId, profileId) => {
      const id = profileId ?? (await ca.getCa(caId)).profileId;
      return id === null ? ca.deps.settings.defaultIssuance.cryptoEnforcement : (await ca.getProfile(id)).cryptoEnforcement;
    },
  };
}
