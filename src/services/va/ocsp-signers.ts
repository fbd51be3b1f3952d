/**
 * Who signs a CA's OCSP answers: the CA key itself, or a delegated responder certificate the CA issued
 * (key in the CA's engine), per the CA's VA role. The delegated certificate is renewed once less than a
 * third of its validity is left, as long as the CA's own validity allows a longer one.
 */
import type { Clock } from '../../domain/ports/clock.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { OcspResponderRepository } from '../../domain/va/ocsp-responder-record.ts';
import type { OcspSignerChoice } from '../../domain/va/va-role.ts';
import { parseCertificate } from '../../x509/certificate.ts';
import { responderKeyHash } from '../../x509/ocsp-cert-id.ts';
import type { X509Signer } from '../../x509/signer.ts';
import type { VaCaGateway } from './va-ca-gateway.ts';

export interface OcspSigner {
  choice: OcspSignerChoice;
  signer: X509Signer;
  responderKeyHash: Uint8Array;
  /** The delegated responder's certificate, sent in the response; empty for the CA key. */
  certs: Uint8Array[];
  /** Epoch ms after which this signer must be looked at again (renewal). */
  validUntil: number;
}

export interface OcspSignerOptions {
  responderValidityMs: number;
}

export class OcspSigners {
  private readonly signers = new Map<string, Promise<OcspSigner>>();

  constructor(
    private readonly ca: VaCaGateway,
    private readonly responders: OcspResponderRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: OcspSignerOptions,
  ) {}

  async get(caId: string, choice: OcspSignerChoice): Promise<OcspSigner> {
    const now = this.clock.now().getTime();
    const current = this.signers.get(caId);
    if (current) {
      const s = await current.catch(() => undefined);
      if (s && s.choice === choice && now < s.validUntil) return s;
      if (this.signers.get(caId) === current) this.signers.delete(caId);
    }
    let next = this.signers.get(caId);
    if (!next) {
      next = choice === 'CA' ? this.caKey(caId) : this.delegated(caId);
      this.signers.set(caId, next);
      next.catch(() => this.signers.delete(caId));
    }
    return next;
  }

  /** One CA's signer, or every one (events about CAs may have been missed). */
  forget(caId?: string): void {
    if (caId === undefined) this.signers.clear();
    else this.signers.delete(caId);
  }

  private async caKey(caId: string): Promise<OcspSigner> {
    const ca = await this.ca.getCa(caId);
    const signer = await this.ca.caSigner(caId);
    const cert = parseCertificate(ca!.certificateDer);
    return { choice: 'CA', signer, responderKeyHash: responderKeyHash(cert.publicKey.spki), certs: [], validUntil: Number.POSITIVE_INFINITY };
  }

  private async delegated(caId: string): Promise<OcspSigner> {
    const now = this.clock.now().getTime();
    let rec = await this.responders.get(caId);
    if (!rec || now >= renewAt(rec.createdAt.getTime(), rec.notAfter.getTime())) {
      const ca = await this.ca.getCa(caId);
      const caNotAfter = ca ? parseCertificate(ca.certificateDer).notAfter.getTime() : 0;
      // Renew only when the CA allows a responder that lives longer than the current one.
      if (!rec || caNotAfter > rec.notAfter.getTime()) {
        const issued = await this.ca.issueOcspResponder(caId, { type: 'ECDSA', bits: 256 }, this.opts.responderValidityMs);
        rec = { caId, certificateDer: issued.certificateDer, serialNumber: issued.serialNumber, engineId: issued.engineId, keyId: issued.keyId, notAfter: issued.notAfter, createdAt: new Date(now) };
        await this.responders.put(rec);
        this.logger.info({ caId, serial: rec.serialNumber, notAfter: rec.notAfter.toISOString() }, 'issued a delegated OCSP responder certificate');
      }
    }
    const cert = parseCertificate(rec.certificateDer);
    const renew = renewAt(rec.createdAt.getTime(), rec.notAfter.getTime());
    return {
      choice: 'DELEGATED',
      signer: await this.ca.keySigner(rec.engineId, rec.keyId),
      responderKeyHash: responderKeyHash(cert.publicKey.spki),
      certs: [rec.certificateDer],
      // Past its renewal point with a CA that allows no longer one: keep it until it expires.
      validUntil: now < renew ? renew : rec.notAfter.getTime(),
    };
  }
}

/** Renewal point: a third of the validity left. */
const renewAt = (createdAt: number, notAfter: number) => notAfter - (notAfter - createdAt) / 3;
