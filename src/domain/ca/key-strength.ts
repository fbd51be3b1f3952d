import type { KeyType } from '../ports/key-engine.ts';

export type KeyStrength = 'HIGH' | 'MEDIUM' | 'LOW';

/** Lamassu's grading: RSA <2048 LOW, 2048-3071 MEDIUM, >=3072 HIGH; ECDSA <224 LOW, <256 MEDIUM; Ed25519 HIGH. */
export function keyStrength(type: KeyType, bits: number): KeyStrength {
  if (type === 'ED25519') return 'HIGH';
  if (type === 'RSA') return bits < 2048 ? 'LOW' : bits < 3072 ? 'MEDIUM' : 'HIGH';
  return bits < 224 ? 'LOW' : bits < 256 ? 'MEDIUM' : 'HIGH';
}
