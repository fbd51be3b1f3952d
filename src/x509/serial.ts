/**
 * The one spelling of a serial number everywhere (database, API, OCSP lookups): lowercase hex of the
 * positive integer, no colons, no leading zeros ("0" for zero), as Lamassu writes it. Every reader of
 * DER serials goes through `serialHex`, so a serial whose first byte is below 0x10 matches the same row
 * whether it came from a certificate, an OCSP request or the API.
 */
export function serialHex(integerValue: Uint8Array): string {
  const hex = Buffer.from(integerValue.buffer, integerValue.byteOffset, integerValue.byteLength).toString('hex').replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}
