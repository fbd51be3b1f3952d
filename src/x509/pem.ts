/** PEM encoding (RFC 7468). Decoding is lenient about line breaks and surrounding text. */

export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export interface PemBlock {
  label: string;
  der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;

/** Every PEM block in `text`, in order. Blocks whose body is not base64 are skipped. */
export function fromPemAll(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const body = m[2]!;
    // Encapsulated headers (RFC 1421 "Proc-Type:") are not base64: such blocks are not for us.
    if (!BASE64_BODY.test(body)) continue;
    out.push({ label: m[1]!, der: new Uint8Array(Buffer.from(body.replace(/\s+/g, ''), 'base64')) });
  }
  return out;
}

/** The first block with one of `labels`, or undefined. */
export function fromPem(text: string, ...labels: string[]): Uint8Array | undefined {
  return fromPemAll(text).find((b) => labels.length === 0 || labels.includes(b.label))?.der;
}

export const isPem = (text: string) => text.includes('-----BEGIN ');
