/**
 * The CA service as the VA sees it (src/services/va/va-ca-gateway.ts): CA lookups, certificate status by
 * (issuer, serial), the revoked-certificate stream for CRLs, signers, and delegated OCSP responders.
 */
import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { wholeSeconds } from '../../domain/ca/duration.ts';
import { conflict } from '../../domain/errors.ts';
import type { KeySpec } from '../../domain/ports/key-engine.ts';
import { assembleCertificate, createCertificateTemplate } from '../../x509/certificate-template.ts';
import { buildName } from '../../x509/name.ts';
import { parsePublicKey, subjectKeyIdentifier } from '../../x509/public-key.ts';
import type { X509Signer } from '../../x509/signer.ts';
import type { IssuedResponder, VaCa, VaCaGateway, VaCertificateStatus, VaRevokedEntry } from '../va/va-ca-gateway.ts';
import { caEvent, CaEventType, certificateEventData, publishAfterCommit } from './ca-events.ts';
import type { CaService } from './ca-service.ts';
import { engineSigner, resolveEngine } from './engine-signer.ts';
import { normalizeSerial } from './get-certificate.ts';
import { newSerialNumber } from './serial-number.ts';

const PAGE = 1000;

const toVaCa = (ca: CertificateAuthority): VaCa => ({
  id: ca.id,
  certificateDer: ca.certificate.der,
  subjectKeyId: ca.certificate.subjectKeyId,
  hasKey: ca.keyId !== null && ca.engineId !== null,
  engineId: ca.engineId,
});

export class CaServiceVaGateway implements VaCaGateway {
  constructor(private readonly ca: CaService) {}

  private get deps() {
    return this.ca.deps;
  }

  async getCa(id: string): Promise<VaCa | undefined> {
    const ca = await this.deps.storage.cas.get(id);
    return ca && toVaCa(ca);
  }

  async findCaBySubjectKeyId(ski: string): Promise<VaCa | undefined> {
    const page = await this.deps.storage.cas.list({ subjectKeyId: ski.toLowerCase(), pageSize: 1 });
    const ca = page.list[0];
    return ca && toVaCa(ca);
  }

  async *listCas(): AsyncIterable<VaCa> {
    let bookmark: string | undefined;
    do {
      const page = await this.ca.listCas({ pageSize: PAGE, ...(bookmark ? { bookmark } : {}) });
      for (const ca of page.list) yield toVaCa(ca);
      bookmark = page.next ?? undefined;
    } while (bookmark);
  }

  async certificateStatus(caId: string, serialNumber: string): Promise<VaCertificateStatus | undefined> {
    const cert = await this.deps.storage.certificates.findBySerial(normalizeSerial(serialNumber), caId);
    return cert && { status: cert.status, revokedAt: cert.revokedAt, revocationReason: cert.revocationReason };
  }

  async *revokedCertificates(caId: string, since?: Date): AsyncIterable<VaRevokedEntry> {
    let after: string | null = null;
    for (;;) {
      const page = await this.deps.storage.revokedCertificates.page(caId, after, PAGE, since);
      for (const e of page) yield e;
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.serialNumber;
    }
  }

  async caSigner(caId: string): Promise<X509Signer> {
    const issuing = await this.ca.cache.get(caId);
    if (!issuing.signer) throw conflict('CA_CANNOT_SIGN', `CA "${caId}" has no private key`, { id: caId });
    return issuing.signer;
  }

  async keySigner(engineId: string, keyId: string): Promise<X509Signer> {
    const engine = resolveEngine(this.deps, engineId);
    const key = await engine.getKey(keyId);
    return engineSigner(engine, keyId, key.type, key.bits);
  }

  /**
   * A certificate for a new key in the CA's engine: digitalSignature, id-kp-OCSPSigning, ocsp-nocheck
   * (relying parties need not check the responder's own status), never outliving the CA. Stored like
   * every certificate the CA issues, so it shows in the CA's lists and can be revoked.
   */
  async issueOcspResponder(caId: string, keySpec: KeySpec, validityMs: number): Promise<IssuedResponder> {
    const deps = this.deps;
    const issuing = await this.ca.cache.get(caId);
    const ca = issuing.ca;
    if (!issuing.signer || ca.engineId === null) throw conflict('CA_CANNOT_SIGN', `CA "${caId}" has no private key`, { id: caId });
    const engine = resolveEngine(deps, ca.engineId);
    const key = await engine.createKey({ spec: keySpec, label: `ocsp-${caId}` });
    try {
      const now = deps.clock.now();
      const notBefore = wholeSeconds(now);
      const wanted = wholeSeconds(new Date(notBefore.getTime() + validityMs));
      const notAfter = wanted < ca.certificate.notAfter ? wanted : ca.certificate.notAfter;
      const subject = { common_name: `OCSP responder for ${ca.certificate.subjectCommonName}`.slice(0, 64) };
      const subjectName = buildName(subject);
      const publicKey = parsePublicKey(key.publicKeySpki);
      const ski = subjectKeyIdentifier(publicKey);
      const template = createCertificateTemplate({
        issuerName: issuing.subjectName,
        issuerKeyIdentifier: issuing.subjectKeyId,
        signatureAlgorithm: issuing.signer.algorithm,
        basicConstraints: { ca: false },
        keyUsage: ['digitalSignature'],
        extendedKeyUsage: ['OCSPSigning'],
        ocspNoCheck: true,
      });
      const serial = newSerialNumber(deps.random);
      const tbs = template.tbs({ serialNumber: serial.bytes, notBefore, notAfter, subjectName, spki: key.publicKeySpki, subjectKeyIdentifier: ski });
      const der = assembleCertificate(tbs, template.signatureAlgorithm, await issuing.signer.sign(tbs));
      const cert: Certificate = {
        id: deps.random.uuid(),
        serialNumber: serial.hex,
        issuerCaId: ca.id,
        caId: null,
        status: 'ACTIVE',
        notBefore,
        notAfter,
        aboutToExpireAt: notAfter,
        revokedAt: null,
        revocationReason: null,
        subjectCommonName: subject.common_name,
        subjectKeyId: Buffer.from(ski).toString('hex'),
        authorityKeyId: Buffer.from(issuing.subjectKeyId).toString('hex'),
        keyType: key.type,
        keyBits: key.bits,
        isCa: false,
        type: 'MANAGED',
        engineId: engine.id,
        createdAt: now,
        der,
        details: {
          subject,
          issuer: ca.certificate.details.subject,
          keyUsage: ['DigitalSignature'],
          extendedKeyUsage: ['OCSPSigning'],
          metadata: { 'lamassu.io/va/ocsp-responder': true },
        },
      };
      const events = [caEvent(deps, CaEventType.certificateCreate, cert.id, certificateEventData(cert), 'lamassu/va')];
      await deps.storage.certificates.insertMany([cert], events);
      await publishAfterCommit(deps, events);
      return { certificateDer: der, serialNumber: serial.hex, engineId: engine.id, keyId: key.id, notAfter };
    } catch (err) {
      await engine.deleteKey(key.id).catch(() => undefined);
      throw err;
    }
  }
}
