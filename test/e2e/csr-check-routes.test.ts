/**
 * Proof of possession through the real program, once with the native ECDSA verifier and once with it
 * switched off (LAMASSU_NATIVE_CRYPTO=off): openssl's CSRs for every curve are signed, the same CSRs with a
 * corrupted signature are refused with CSR_INVALID_SIGNATURE, and only the server without the native
 * verifier says so in its start-up log.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fromPem, toPem } from '../../src/x509/pem.ts';
import { startLamassu } from '../support/lamassu-process.ts';
import { needNativeEcVerify } from '../support/services.ts';
import { admin, pemOf } from './est-server.ts';

const CURVES = ['P-256', 'P-384', 'P-521'];
const WARNING = 'native ECDSA verifier not in use';

describe('CSR signature check, native verifier and node:crypto', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-csr-routes-'));
  const csrs = new Map<string, { good: string; bad: string }>();
  before(() => {
    for (const curve of CURVES) {
      const file = path.join(dir, `${curve}.csr`);
      execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-nodes', '-keyout', path.join(dir, `${curve}.key`),
        '-out', file, '-subj', `/CN=routes-${curve}`], { stdio: 'ignore' });
      const pem = readFileSync(file, 'utf8');
      const der = Uint8Array.from(fromPem(pem, 'CERTIFICATE REQUEST')!);
      // The last byte of the signature's s value: still well-formed DER, no longer a valid signature.
      der[der.length - 1]! ^= 0x01;
      const b64 = (text: string) => Buffer.from(text).toString('base64');
      csrs.set(curve, { good: b64(pem), bad: b64(toPem(der, 'CERTIFICATE REQUEST')) });
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const route of ['native', 'node:crypto'] as const) {
    it(`signs genuine CSRs and refuses forged ones (${route})`, async (t) => {
      if (route === 'native' && !(await needNativeEcVerify(t))) return;
      const server = await startLamassu({ LAMASSU_SERVICES: 'ca', ...(route === 'native' ? {} : { LAMASSU_NATIVE_CRYPTO: 'off' }) });
      try {
        await admin(server, 'POST', '/api/ca/v1/cas', {
          id: 'routes', subject: { common_name: 'Routes CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' },
        }, 201);
        for (const curve of CURVES) {
          const { good, bad } = csrs.get(curve)!;
          const ok = await admin(server, 'POST', '/api/ca/v1/cas/routes/certificates/sign', { csr: good }, 201);
          const subject = execFileSync('openssl', ['x509', '-noout', '-subject'], { input: pemOf(ok.json.certificate) }).toString();
          assert.match(subject, new RegExp(`CN ?= ?routes-${curve}`));
          const refused = await admin(server, 'POST', '/api/ca/v1/cas/routes/certificates/sign', { csr: bad }, 400);
          assert.equal(refused.json.code, 'CSR_INVALID_SIGNATURE', curve);
        }
        assert.equal(server.output().includes(WARNING), route === 'node:crypto', `start-up warning (${route})`);
      } finally {
        await server.stop();
      }
    });
  }
});
