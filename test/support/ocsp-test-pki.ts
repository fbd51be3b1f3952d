/**
 * Test-only: a small PKI made by openssl (the independent implementation) for the OCSP and CRL tests:
 * an EC root, an RSA issuing CA, a delegated OCSP responder and leaves with a CRL distribution point.
 */
import { BasicOCSPResponse, OCSPResponse } from '@peculiar/asn1-ocsp';
import { AsnConvert } from '@peculiar/asn1-schema';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseCertificate } from '../../src/x509/certificate.ts';
import { sequence } from '../../src/x509/der.ts';
import { encodeCertId, issuerHashes } from '../../src/x509/ocsp-cert-id.ts';
import { keyObjectSigner } from '../../src/x509/key-object-signer.ts';
import { fromPem } from '../../src/x509/pem.ts';
import type { SignatureAlgorithm, X509Signer } from '../../src/x509/signer.ts';

export const CRL_URL = 'http://va.example.test/api/va/crl/issuing.crl';

export function openssl(args: string[], cwd: string, input?: Uint8Array): string {
  return execFileSync('openssl', args, { cwd, input, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'latin1' });
}

/** Like openssl() but returns stdout+stderr (openssl reports verification on stderr) and success. */
export function opensslStatus(args: string[], cwd: string): { ok: boolean; out: string } {
  const r = spawnSync('openssl', args, { cwd, encoding: 'latin1', maxBuffer: 256 << 20 });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

export interface TestCert {
  /** File name (PEM) inside the PKI directory. */
  file: string;
  der: Uint8Array;
  serial: Uint8Array;
  serialHex: string;
  subjectName: Uint8Array;
  spki: Uint8Array;
  /** Subject key identifier value, when present. */
  ski?: Uint8Array;
}

export interface TestIssuer extends TestCert {
  key: KeyObject;
  signer: X509Signer;
}

export interface TestPki {
  dir: string;
  root: TestIssuer;
  ca: TestIssuer;
  responder: TestIssuer;
  leaves: TestCert[];
  cleanup(): void;
}

function readCert(dir: string, file: string): TestCert {
  const cert = parseCertificate(fromPem(readFileSync(path.join(dir, file), 'utf8'), 'CERTIFICATE')!);
  return {
    file,
    der: cert.der,
    // The canonical spelling drops leading zero nibbles: pad to whole bytes, or Buffer.from cuts the last nibble.
    serial: Uint8Array.from(Buffer.from(cert.serialNumber.length % 2 ? `0${cert.serialNumber}` : cert.serialNumber, 'hex')),
    serialHex: cert.serialNumber,
    subjectName: cert.subjectName,
    spki: cert.publicKey.spki,
    ...(cert.subjectKeyIdentifier ? { ski: cert.subjectKeyIdentifier } : {}),
  };
}

const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n';

export function makeTestPki(leafCount = 3): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-x509-'));
  const run = (...args: string[]) => openssl(args, dir);
  writeFileSync(path.join(dir, 'ca.ext'), CA_EXT);
  writeFileSync(
    path.join(dir, 'responder.ext'),
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\nnoCheck=ignored\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  writeFileSync(
    path.join(dir, 'leaf.ext'),
    `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\ncrlDistributionPoints=URI:${CRL_URL}\nauthorityKeyIdentifier=keyid\n`,
  );
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'root.key', '-out', 'root.pem',
    '-subj', '/CN=Test Root/O=Lamassu', '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const issue = (name: string, newkey: string[], subj: string, issuer: string, ext: string) => {
    run('req', '-new', '-newkey', ...newkey, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-set_serial',
      `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')}`, '-days', '365', '-extfile', ext, '-out', `${name}.pem`);
  };
  issue('ca', ['rsa:2048'], '/CN=Test Issuing CA/O=Lamassu', 'root', 'ca.ext');
  issue('responder', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=Test OCSP Responder/O=Lamassu', 'ca', 'responder.ext');
  const leaves: TestCert[] = [];
  for (let i = 0; i < leafCount; i++) {
    issue(`leaf${i}`, ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], `/CN=device-${i}/O=Lamassu`, 'ca', 'leaf.ext');
    leaves.push(readCert(dir, `leaf${i}.pem`));
  }
  const issuer = (name: string, alg: SignatureAlgorithm): TestIssuer => {
    const key = createPrivateKey(readFileSync(path.join(dir, `${name}.key`)));
    return { ...readCert(dir, `${name}.pem`), key, signer: keyObjectSigner(key, alg) };
  };
  return {
    dir,
    root: issuer('root', 'ecdsa-with-SHA256'),
    ca: issuer('ca', 'sha256WithRSAEncryption'),
    responder: issuer('responder', 'ecdsa-with-SHA256'),
    leaves,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Nonce-less OCSP requests (DER) for the certificates a CA issued, by SHA-1 CertID: `issuerDer` is the
 * CA's certificate, the serial is hex as the API gives it (an odd length gets its leading 0 back).
 */
export function ocspRequestsFor(issuerDer: Uint8Array): (serial: string) => Uint8Array {
  const issuer = parseCertificate(issuerDer);
  const h = issuerHashes('SHA-1', issuer.subjectName, issuer.publicKey.spki);
  return (serial) => {
    const hex = serial.length % 2 ? `0${serial}` : serial;
    return sequence(sequence(sequence(sequence(encodeCertId('SHA-1', h.issuerNameHash, h.issuerKeyHash, Buffer.from(hex, 'hex'))))));
  };
}

/** The first certStatus of an OCSP response (DER): revoked, good or other; `error <status>` for an unsuccessful response. */
export function ocspAnswer(der: ArrayBuffer | Uint8Array): string {
  const resp = AsnConvert.parse(Buffer.from(der as ArrayBuffer), OCSPResponse);
  if (!resp.responseBytes) return `error ${resp.responseStatus}`;
  const status = AsnConvert.parse(resp.responseBytes.response.buffer, BasicOCSPResponse).tbsResponseData.responses[0]!.certStatus;
  return status.revoked ? 'revoked' : status.good !== undefined ? 'good' : 'other';
}
