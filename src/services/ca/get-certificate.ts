import type { CertificateQuery } from '../../domain/ca/certificate-repository.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import type { Page } from '../../domain/ca/page.ts';
import { invalid, notFound } from '../../domain/errors.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';

const SERIAL = /^[0-9a-fA-F:]{1,64}$/;

/** Lamassu's serial form: lowercase hex, no colons, no leading zeros. Accepts colon-separated input too. */
export function normalizeSerial(serial: string): string {
  if (!SERIAL.test(serial)) throw invalid('SERIAL_NUMBER_INVALID', 'serial number must be hex (colons allowed)');
  const hex = serial.replace(/:/g, '').toLowerCase().replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}

export async function getCertificate(deps: Pick<CaServiceDeps, 'storage'>, serial: string, issuerCaId?: string): Promise<Certificate> {
  const sn = normalizeSerial(serial);
  const cert = await deps.storage.certificates.findBySerial(sn, issuerCaId);
  if (!cert) throw notFound('CERTIFICATE_NOT_FOUND', `no certificate with serial ${sn}`, { serial_number: sn });
  return cert;
}

export const listCertificates = (deps: Pick<CaServiceDeps, 'storage'>, query: CertificateQuery): Promise<Page<Certificate>> =>
  deps.storage.certificates.list(query);
