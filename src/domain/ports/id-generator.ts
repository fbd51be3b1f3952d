/** Random ids and serials; a port so that services need not import node:crypto. */
export interface RandomSource {
  uuid(): string;
  bytes(n: number): Uint8Array;
}
