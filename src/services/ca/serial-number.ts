import type { RandomSource } from '../../domain/ports/id-generator.ts';

export const SERIAL_BYTES = 16;

/**
 * A fresh serial: 128 bits from the CSPRNG, read as an unsigned big-endian number, so it is positive (the
 * DER encoder adds a zero byte when the top bit is set). `hex` is Lamassu's form: lowercase, no colons, no
 * leading zeros.
 */
export function newSerialNumber(random: RandomSource): { bytes: Uint8Array; hex: string } {
  const bytes = random.bytes(SERIAL_BYTES);
  return { bytes, hex: serialHex(bytes) };
}

export function serialHex(magnitude: Uint8Array): string {
  const hex = Buffer.from(magnitude.buffer, magnitude.byteOffset, magnitude.byteLength).toString('hex').replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}
