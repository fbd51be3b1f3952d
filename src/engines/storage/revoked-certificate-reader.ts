import type { Kysely } from 'kysely';
import type { RevocationReason } from '../../domain/ca/revocation-reason.ts';
import type { RevokedCertificateReader, RevokedEntry } from '../../domain/ca/revoked-certificate-reader.ts';
import type { Database } from './schema.ts';

/**
 * Keyset pages over the index (issuer_ca_id, status, serial_number) of migration 0005: each page is one
 * range scan, so reading a million revoked entries costs a thousand short queries, not a sort.
 */
export class SqlRevokedCertificateReader implements RevokedCertificateReader {
  constructor(private readonly db: Kysely<Database>) {}

  async page(issuerCaId: string, afterSerial: string | null, limit: number, since?: Date): Promise<RevokedEntry[]> {
    let q = this.db
      .selectFrom('certificates')
      .select(['serial_number', 'revoked_at', 'revocation_reason', 'invalidity_date'])
      .where('issuer_ca_id', '=', issuerCaId)
      .where('status', '=', 'REVOKED');
    if (afterSerial !== null) q = q.where('serial_number', '>', afterSerial);
    if (since) q = q.where('revoked_at', '>=', since.getTime());
    const rows = await q.orderBy('serial_number').limit(limit).execute();
    return rows.map((r) => ({
      serialNumber: r.serial_number,
      revokedAt: new Date(Number(r.revoked_at ?? 0)),
      reason: (r.revocation_reason ?? 'Unspecified') as RevocationReason,
      ...(r.invalidity_date === null ? {} : { invalidityDate: new Date(Number(r.invalidity_date)) }),
    }));
  }
}
