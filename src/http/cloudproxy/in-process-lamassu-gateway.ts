/**
 * The cloud connectors' view of this PKI, in-process: the server's one CA service and device manager, and
 * the DMS repository (read only, for a DMS's metadata). Services are looked up at each call, not at
 * construction, so the connector shares the instances the CA plugin built whatever the order of --services.
 */
import { webcrypto } from 'node:crypto';
import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import type { CloudCaView, CloudCertificateView, CloudLamassuGateway } from '../../domain/cloud/lamassu-gateway.ts';
import { isDomainError } from '../../domain/errors.ts';
import { toPem } from '../../x509/pem.ts';
import { caServiceFor } from '../ca/ca-plugin.ts';
import { deviceServiceFor } from '../dms/dms-managers.ts';
import type { ServiceDeps } from '../service-plugin.ts';

const orUndefined = async <T>(p: Promise<T>): Promise<T | undefined> => {
  try {
    return await p;
  } catch (err) {
    if (isDomainError(err) && err.kind === 'not_found') return undefined;
    throw err;
  }
};

const pemOf = (c: Certificate) => toPem(c.der, 'CERTIFICATE');

const caView = (ca: CertificateAuthority): CloudCaView => ({ id: ca.id, status: ca.certificate.status, metadata: ca.metadata, certificatePem: pemOf(ca.certificate) });

export function inProcessLamassuGateway(deps: ServiceDeps, actor: string): CloudLamassuGateway {
  const ca = () => caServiceFor(deps);
  return {
    ca: async (id) => {
      const found = await orUndefined(ca().getCa(id));
      return found && caView(found);
    },
    cas: async () => {
      const out: CloudCaView[] = [];
      let bookmark: string | undefined;
      do {
        const page = await ca().listCas({ pageSize: 500, ...(bookmark ? { bookmark } : {}) });
        out.push(...page.list.map(caView));
        bookmark = page.next ?? undefined;
      } while (bookmark);
      return out;
    },
    dmsMetadata: async (id) => (await deps.storage.dms.get(id))?.metadata,
    device: async (id) => {
      const d = await orUndefined(deviceServiceFor(deps).get(id));
      return (
        d && {
          id: d.id,
          dmsId: d.dmsId,
          status: d.status,
          tags: d.tags,
          metadata: d.metadata,
          activeCertificates: d.slots.map((s) => ({ slot: s.name, serialNumber: s.active.serialNumber, issuerCaId: s.active.issuerCaId })),
        }
      );
    },
    certificate: async (serial, issuerCaId): Promise<CloudCertificateView | undefined> => {
      const c = await orUndefined(ca().getCertificate(serial, issuerCaId ?? undefined));
      return c && { serialNumber: c.serialNumber, issuerCaId: c.issuerCaId, status: c.status, revocationReason: c.revocationReason, pem: pemOf(c) };
    },
    verificationCertificate: async (caId, commonName) => {
      // AWS only checks the subject and the CA's signature; the key is made here and forgotten.
      const x509 = await import('@peculiar/x509');
      x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
      const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
      const keys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'];
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${commonName.replace(/[^A-Za-z0-9-]/g, '')}`, keys, signingAlgorithm: alg });
      const cert = await ca().signCertificate({
        caId,
        csr: new Uint8Array(csr.rawData),
        profile: { caDefault: true },
        metadata: { 'lamassu.io/cloud/verification-certificate': actor },
        actor,
      });
      return pemOf(cert);
    },
  };
}
