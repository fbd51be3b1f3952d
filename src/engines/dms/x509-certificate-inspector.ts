/** CertificateInspector over our lean X.509 reader. */
import type { CertificateFacts, CertificateInspector } from '../../domain/dms/certificate-inspector.ts';
import { unauthenticated, isDomainError } from '../../domain/errors.ts';
import { parseCertificate, verifyCertificateSignature, type ParsedCertificate } from '../../x509/certificate.ts';
import { children, readRoot } from '../../x509/der.ts';
import { decodeGeneralNames } from '../../x509/extensions.ts';
import { decodeName } from '../../x509/name.ts';

const parsed = new WeakMap<CertificateFacts, ParsedCertificate>();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The subjectAltName extension value, verbatim, found by walking the TBS extensions. */
function subjectAltNameOf(der: Uint8Array): Uint8Array | undefined {
  // Certificate > TBSCertificate > [3] > Extensions > Extension (extnID, critical?, extnValue).
  const tbs = children(der, readRoot(der))[0]!;
  const exts = children(der, tbs).find((n) => n.tag === 0xa3);
  if (!exts) return undefined;
  for (const ext of children(der, children(der, exts)[0]!)) {
    const fields = children(der, ext);
    const oid = der.subarray(fields[0]!.valueStart, fields[0]!.end);
    // 2.5.29.17 = 55 1d 11
    if (oid.length === 3 && oid[0] === 0x55 && oid[1] === 0x1d && oid[2] === 0x11) {
      const value = fields[fields.length - 1]!;
      return der.subarray(value.valueStart, value.end);
    }
  }
  return undefined;
}

const names = (value: Uint8Array | undefined) => {
  if (!value) return [];
  const g = decodeGeneralNames(value);
  return [...g.dns.map((v) => `dns:${v.toLowerCase()}`), ...g.ip.map((v) => `ip:${v}`), ...g.uri.map((v) => `uri:${v}`), ...g.email.map((v) => `email:${v.toLowerCase()}`)].sort();
};

export class X509CertificateInspector implements CertificateInspector {
  parse(der: Uint8Array): CertificateFacts {
    let cert: ParsedCertificate;
    try {
      cert = parseCertificate(der);
    } catch (err) {
      if (isDomainError(err)) throw unauthenticated('ENROLL_CLIENT_CERTIFICATE_INVALID', `client certificate unreadable: ${err.message}`);
      throw err;
    }
    const facts: CertificateFacts = {
      der: cert.der,
      serialNumber: cert.serialNumber,
      subjectName: cert.subjectName,
      issuerName: cert.issuerName,
      commonName: cert.subject.common_name,
      subjectAltName: subjectAltNameOf(cert.der),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      isCa: cert.basicConstraints?.ca === true,
    };
    parsed.set(facts, cert);
    return facts;
  }

  async issued(issuer: CertificateFacts, child: CertificateFacts): Promise<boolean> {
    if (!this.sameName(issuer.subjectName, child.issuerName)) return false;
    const c = parsed.get(child) ?? parseCertificate(child.der);
    const i = parsed.get(issuer) ?? parseCertificate(issuer.der);
    return verifyCertificateSignature(c, i.publicKey);
  }

  sameName(a: Uint8Array, b: Uint8Array): boolean {
    if (sameBytes(a, b)) return true;
    // Same attributes in the same order, values compared case-insensitively after collapsing spaces
    // (RFC 5280 7.1, simplified): tolerates PrintableString vs UTF8String re-encodings by clients.
    try {
      const x = decodeName(a).attributes;
      const y = decodeName(b).attributes;
      const norm = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();
      return x.length === y.length && x.every((attr, i) => attr.type === y[i]!.type && norm(attr.value) === norm(y[i]!.value));
    } catch {
      return false;
    }
  }

  sameAltNames(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
    if (a && b && sameBytes(a, b)) return true;
    try {
      const x = names(a);
      const y = names(b);
      return x.length === y.length && x.every((n, i) => n === y[i]);
    } catch {
      return false;
    }
  }
}
