/**
 * Finds the CA a CertID names. Each CA's issuerNameHash and issuerKeyHash are computed once per hash
 * algorithm (SHA-1, SHA-256, SHA-384, SHA-512), so a lookup is one map access.
 */
import type { Clock } from '../../domain/ports/clock.ts';
import { parseCertificate } from '../../x509/certificate.ts';
import { issuerHashes, ocspHashAlgorithms, type OcspHashAlgorithm } from '../../x509/ocsp-cert-id.ts';
import type { VaCa, VaCaGateway } from './va-ca-gateway.ts';

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const keyOf = (alg: OcspHashAlgorithm, nameHash: Uint8Array, keyHash: Uint8Array) => `${alg}|${hex(nameHash)}|${hex(keyHash)}`;

export class IssuerIndex {
  private readonly byHashes = new Map<string, string>();
  private lastScan = Number.NEGATIVE_INFINITY;
  private scanning: Promise<void> | undefined;

  /** `rescanMs` bounds how often an unknown issuer makes us list the CAs again (unknown issuers cost nothing after). */
  constructor(
    private readonly ca: VaCaGateway,
    private readonly clock: Clock,
    private readonly rescanMs: number,
  ) {}

  add(ca: VaCa): void {
    const cert = parseCertificate(ca.certificateDer);
    for (const alg of Object.keys(ocspHashAlgorithms) as OcspHashAlgorithm[]) {
      const h = issuerHashes(alg, cert.subjectName, cert.publicKey.spki);
      this.byHashes.set(keyOf(alg, h.issuerNameHash, h.issuerKeyHash), ca.id);
    }
  }

  /** The CA id, or undefined when no CA of ours has these hashes. */
  async lookup(alg: OcspHashAlgorithm, nameHash: Uint8Array, keyHash: Uint8Array): Promise<string | undefined> {
    const key = keyOf(alg, nameHash, keyHash);
    const hit = this.byHashes.get(key);
    if (hit !== undefined) return hit;
    if (this.clock.now().getTime() - this.lastScan < this.rescanMs) return undefined;
    await this.scan();
    return this.byHashes.get(key);
  }

  private scan(): Promise<void> {
    this.scanning ??= (async () => {
      try {
        for await (const ca of this.ca.listCas()) this.add(ca);
        this.lastScan = this.clock.now().getTime();
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }
}
