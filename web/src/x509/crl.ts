/**
 * Just enough DER to read a CRL in the browser: this/next update and the revoked serials with their
 * reasons (RFC 5280 5.1 and 5.3.1). The server signs and serves the CRL; this only shows what it says.
 */
interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function read(der: Uint8Array, at: number): Tlv {
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > der.length) throw new Error('truncated DER');
  return { tag, start, end: start + len };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const t = read(der, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function time(der: Uint8Array, t: Tlv): string {
  const s = new TextDecoder().decode(der.subarray(t.start, t.end));
  // UTCTime YYMMDDHHMMSSZ (years 1950-2049) or GeneralizedTime YYYYMMDDHHMMSSZ.
  const full = t.tag === 0x17 ? (Number(s.slice(0, 2)) < 50 ? '20' : '19') + s : s;
  return `${full.slice(0, 4)}-${full.slice(4, 6)}-${full.slice(6, 8)}T${full.slice(8, 10)}:${full.slice(10, 12)}:${full.slice(12, 14)}Z`;
}

const REASONS = ['Unspecified', 'KeyCompromise', 'CACompromise', 'AffiliationChanged', 'Superseded', 'CessationOfOperation', 'CertificateHold', '(7)', 'RemoveFromCRL', 'PrivilegeWithdrawn', 'AACompromise'];
const REASON_CODE_OID = '551d15';

export interface CrlEntry {
  serial: string;
  revokedAt: string;
  reason?: string;
}

export interface CrlSummary {
  thisUpdate: string;
  nextUpdate?: string;
  entries: CrlEntry[];
}

export function readCrl(der: Uint8Array): CrlSummary {
  const list = read(der, 0);
  const tbs = children(der, list)[0]!;
  const times: string[] = [];
  const entries: CrlEntry[] = [];
  for (const field of children(der, tbs)) {
    if (field.tag === 0x17 || field.tag === 0x18) times.push(time(der, field));
    else if (field.tag === 0x30 && times.length > 0) {
      for (const entry of children(der, field)) {
        const [serial, revokedAt, extensions] = children(der, entry);
        let reason: string | undefined;
        for (const ext of extensions ? children(der, extensions) : []) {
          const parts = children(der, ext);
          if (hex(der.subarray(parts[0]!.start, parts[0]!.end)) !== REASON_CODE_OID) continue;
          const value = read(der, parts[parts.length - 1]!.start);
          reason = REASONS[der[value.start]!] ?? String(der[value.start]);
        }
        entries.push({ serial: hex(der.subarray(serial!.start, serial!.end)).replace(/^(00)+(?=.)/, ''), revokedAt: time(der, revokedAt!), reason });
      }
    }
  }
  return { thisUpdate: times[0]!, nextUpdate: times[1], entries };
}
