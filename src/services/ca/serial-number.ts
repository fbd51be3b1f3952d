import type { RandomSource } from '../../domain/ports/id-generator.ts';
import { serialHex } from '../../x509/serial.ts';

export const SERIAL_BYTES = 16;

/**
 * A fresh serial: 128 bits from the CSPRNG, read as an unsigned big-endian number, so it is positive (the
 * DER encoder adds a zero byte when the top bit is set). `hex` is the canonical spelling (src/x509/serial.ts).
 */
export function newSerialNumber(random: RandomSource): { bytes: Uint8Array; hex: string } {
  const bytes = random.bytes(SERIAL_BYTES);
  return { bytes, hex: serialHex(bytes) };
}

