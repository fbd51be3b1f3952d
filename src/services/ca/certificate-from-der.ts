import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import { statusAt } from '../../domain/ca/certificate-status.ts';
import type { Certificate, CertificateType } from '../../domain/ca/certificate.ts';
import { invalid } from '../../domain/errors.ts';
import { parseCertificate, type ParsedCertificate } from '../../x509/certificate.ts';
import { fromPem, isPem } from '../../x509/pem.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { fromX509Eku, fromX509KeyUsage } from './usage-names.ts';

/** A certificate as the API receives it: PEM, base64 of DER, base64 of PEM (Lamassu), or DER. */
export function readCertificateInput(input: string | Uint8Array): ParsedCertificate {
  if (typeof input !== 'string') return parseCertificate(input);
  let text = input.trim();
  if (!isPem(text) && /^[A-Za-z0-9+/=\s]+$/.test(text)) {
    const decoded = Buffer.from(text, 'base64');
    const asText = decoded.toString('latin1');
    if (isPem(asText)) text = asText;
    else return parseCertificate(new Uint8Array(decoded));
  }
  const der = fromPem(text, 'CERTIFICATE');
  if (!der) throw invalid('CERTIFICATE_MALFORMED', 'no CERTIFICATE PEM block');
  return parseCertificate(der);
}

/** Our CA whose key identifier is the certificate's authority key identifier, if any. */
export async function findIssuerCa(deps: Pick<CaServiceDeps, 'storage'>, parsed: ParsedCertificate): Promise<CertificateAuthority | undefined> {
  if (!parsed.authorityKeyIdentifier) return undefined;
  const aki = Buffer.from(parsed.authorityKeyIdentifier).toString('hex');
  const selfSigned = parsed.subjectKeyIdentifier && Buffer.from(parsed.subjectKeyIdentifier).toString('hex') === aki;
  if (selfSigned) return undefined;
  const page = await deps.storage.cas.list({ subjectKeyId: aki, pageSize: 1 });
  return page.list[0];
}

export interface CertificateRowFacts {
  issuerCaId: string | null;
  caId: string | null;
  type: CertificateType;
  engineId: string | null;
  aboutToExpireMs: number;
  metadata: Record<string, unknown>;
}

/** The stored form of a certificate we did not issue, its status from its validity. */
export function certificateFromDer(deps: CaServiceDeps, parsed: ParsedCertificate, facts: CertificateRowFacts): Certificate {
  const now = deps.clock.now();
  const aboutToExpireAt = new Date(parsed.notAfter.getTime() - facts.aboutToExpireMs);
  const ski = parsed.subjectKeyIdentifier ?? new Uint8Array(0);
  return {
    id: deps.random.uuid(),
    serialNumber: parsed.serialNumber,
    issuerCaId: facts.issuerCaId,
    caId: facts.caId,
    status: statusAt(now, parsed.notAfter, aboutToExpireAt),
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    aboutToExpireAt,
    revokedAt: null,
    revocationReason: null,
    subjectCommonName: parsed.subject.common_name ?? '',
    subjectKeyId: Buffer.from(ski).toString('hex'),
    authorityKeyId: parsed.authorityKeyIdentifier ? Buffer.from(parsed.authorityKeyIdentifier).toString('hex') : null,
    keyType: parsed.publicKey.type,
    keyBits: parsed.publicKey.bits,
    isCa: parsed.basicConstraints?.ca ?? false,
    type: facts.type,
    engineId: facts.engineId,
    createdAt: now,
    der: parsed.der,
    details: {
      subject: parsed.subject,
      issuer: parsed.issuer,
      keyUsage: (parsed.keyUsage ?? []).map(fromX509KeyUsage),
      extendedKeyUsage: (parsed.extendedKeyUsage ?? []).map(fromX509Eku),
      metadata: facts.metadata,
    },
  };
}
