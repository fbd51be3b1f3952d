import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crlReasonCodes } from './crl-reason.ts';
import { responderKeyHash } from './ocsp-cert-id.ts';
import { parseOcspRequest } from './ocsp-request.ts';
import { buildBasicResponse, encodeSingleResponse, encodeStatusInfo, ocspErrorResponse } from './ocsp-response.ts';
import type { OcspCertStatus, OcspErrorStatus } from './ocsp-response.ts';
import { makeTestPki, opensslStatus } from '../../test/support/ocsp-test-pki.ts';
import type { TestIssuer, TestPki } from '../../test/support/ocsp-test-pki.ts';

let pki: TestPki;
before(() => {
  pki = makeTestPki(3);
  writeFileSync(path.join(pki.dir, 'chain.pem'), readFileSync(path.join(pki.dir, 'ca.pem')));
});
after(() => pki.cleanup());

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
// openssl checks validity against the real clock, so dates sit around now (whole seconds).
const now = Math.floor(Date.now() / 1000) * 1000;
const thisUpdate = new Date(now - 3600_000);
const nextUpdate = new Date(now + 86400_000);
const revokedAt = new Date(now - 2 * 86400_000);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** A date as openssl prints it: "Nov  1 08:30:00 2026 GMT". */
const opensslDate = (d: Date) =>
  `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()} GMT`;

/** Asks openssl for a request, answers it with `statusOf`, and has openssl check the answer. */
async function roundTrip(opts: {
  flags?: string[];
  responder: 'ca' | 'delegated';
  statusOf: (serialHex: string) => OcspCertStatus;
  leaves?: number[];
  tamperNonce?: boolean;
}) {
  const leaves = opts.leaves ?? [0];
  const id = randomBytes(4).toString('hex');
  const flags = opts.flags ?? [];
  const certArgs = leaves.flatMap((i) => ['-cert', `leaf${i}.pem`]);
  const made = opensslStatus(['ocsp', '-issuer', 'ca.pem', ...flags, ...certArgs, '-reqout', `req-${id}.der`], pki.dir);
  assert.ok(made.ok, made.out);
  const req = parseOcspRequest(new Uint8Array(readFileSync(path.join(pki.dir, `req-${id}.der`))));
  const single = req.requests.map((r) =>
    encodeSingleResponse(r.certId, encodeStatusInfo({ certStatus: opts.statusOf(r.serialHex), thisUpdate, nextUpdate })),
  );
  const signerCert: TestIssuer = opts.responder === 'ca' ? pki.ca : pki.responder;
  const nonce = req.nonce && opts.tamperNonce ? randomBytes(req.nonce.length) : req.nonce;
  const resp = await buildBasicResponse({
    singleResponses: single,
    producedAt: thisUpdate,
    responderKeyHash: responderKeyHash(signerCert.spki),
    signer: signerCert.signer,
    ...(nonce ? { nonce } : {}),
    ...(opts.responder === 'delegated' ? { certs: [pki.responder.der] } : {}),
  });
  writeFileSync(path.join(pki.dir, `resp-${id}.der`), resp);
  // The issuing CA is an untrusted intermediate; openssl accepts the CA's own key as responder and a
  // delegated one only with the OCSPSigning EKU and a certificate issued by the CA.
  const trust = ['-CAfile', 'root.pem', '-verify_other', 'chain.pem'];
  // Against the request file openssl checks signature and nonce; with -cert it builds its own
  // request (fresh nonce), so statuses are read in a second pass that skips the nonce.
  const withRequest = opensslStatus(['ocsp', '-respin', `resp-${id}.der`, '-reqin', `req-${id}.der`, ...trust, '-resp_text'], pki.dir);
  const hashFlags = flags.filter((f) => f !== '-no_nonce');
  const statuses = opensslStatus(['ocsp', '-respin', `resp-${id}.der`, '-issuer', 'ca.pem', ...hashFlags, ...certArgs, ...trust, '-no_nonce'], pki.dir);
  return { ok: withRequest.ok && statuses.ok, out: `${withRequest.out}\n${statuses.out}` };
}

describe('OCSP responses checked by openssl ocsp', () => {
  for (const responder of ['ca', 'delegated'] as const) {
    for (const flags of [[], ['-no_nonce'], ['-sha256']]) {
      test(`${responder} responder, ${flags.join(' ') || 'default request'}: good, revoked with reason, unknown`, async () => {
        const statuses: OcspCertStatus[] = [
          { status: 'good' },
          { status: 'revoked', revocationTime: revokedAt, reason: 'keyCompromise' },
          { status: 'unknown' },
        ];
        const bySerial = new Map(pki.leaves.map((l, i) => [l.serialHex, statuses[i]!]));
        const r = await roundTrip({ responder, flags, leaves: [0, 1, 2], statusOf: (s) => bySerial.get(s)! });
        assert.ok(r.ok, r.out);
        assert.match(r.out, /Response verify OK/);
        assert.match(r.out, /leaf0\.pem: good/);
        assert.match(r.out, /leaf1\.pem: revoked[\s\S]*Reason: keyCompromise/);
        assert.match(r.out, /leaf2\.pem: unknown/);
        assert.ok(r.out.includes(`Revocation Time: ${opensslDate(revokedAt)}`), r.out);
        assert.ok(r.out.includes(`This Update: ${opensslDate(thisUpdate)}`), r.out);
        assert.ok(r.out.includes(`Next Update: ${opensslDate(nextUpdate)}`), r.out);
        assert.doesNotMatch(r.out, /WARNING: no nonce|Nonce Verify error/);
        if (!flags.includes('-no_nonce')) assert.match(r.out, /OCSP Nonce/);
        if (responder === 'delegated') assert.match(r.out, /OCSP No Check/);
      });
    }
  }

  test('every CRL reason reaches openssl with its RFC 5280 code', async () => {
    const reasons = ['unspecified', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'] as const;
    for (const reason of reasons) {
      const r = await roundTrip({ responder: 'ca', flags: ['-no_nonce'], statusOf: () => ({ status: 'revoked', revocationTime: revokedAt, reason }) });
      assert.ok(r.ok, r.out);
      // openssl 3.0 has no names for codes 9 and 10, so the code is what is checked.
      assert.ok(r.out.includes(`(0x${crlReasonCodes[reason].toString(16)})`), r.out);
    }
    const noReason = await roundTrip({ responder: 'ca', flags: ['-no_nonce'], statusOf: () => ({ status: 'revoked', revocationTime: revokedAt }) });
    assert.match(noReason.out, /leaf0\.pem: revoked/);
    assert.doesNotMatch(noReason.out, /Reason:/);
  });

  test('a wrong nonce is caught by the client', async () => {
    const r = await roundTrip({ responder: 'ca', statusOf: () => ({ status: 'good' }), tamperNonce: true });
    assert.match(r.out, /Nonce Verify error/);
  });

  test('a response signed by a key that is not the responder\'s fails verification', async () => {
    const leaf = { ...pki.responder, signer: pki.root.signer };
    const saved = pki.responder;
    pki.responder = leaf;
    try {
      const r = await roundTrip({ responder: 'delegated', flags: ['-no_nonce'], statusOf: () => ({ status: 'good' }) });
      assert.ok(!r.ok || !/Response verify OK/.test(r.out), r.out);
    } finally {
      pki.responder = saved;
    }
  });
});

describe('OCSP encodings', () => {
  test('status info known answers', () => {
    const thisUpdate = new Date('2026-11-29T12:00:00Z');
    const nextUpdate = new Date('2026-11-30T12:00:00Z');
    const revokedAt = new Date('2026-11-28T08:30:00Z');
    assert.equal(hex(encodeStatusInfo({ certStatus: { status: 'good' }, thisUpdate })), '8000180f32303236313132393132303030305a');
    assert.equal(
      hex(encodeStatusInfo({ certStatus: { status: 'revoked', revocationTime: revokedAt, reason: 'superseded' }, thisUpdate, nextUpdate })),
      'a116180f32303236313132383038333030305aa0030a0104' + '180f32303236313132393132303030305a' + 'a011180f32303236313133303132303030305a',
    );
    assert.equal(hex(encodeStatusInfo({ certStatus: { status: 'unknown' }, thisUpdate }).subarray(0, 2)), '8200');
  });

  const errors: [OcspErrorStatus, string][] = [
    ['malformedRequest', 'malformedrequest (1)'],
    ['internalError', 'internalerror (2)'],
    ['tryLater', 'trylater (3)'],
    ['sigRequired', 'sigrequired (5)'],
    ['unauthorized', 'unauthorized (6)'],
  ];
  for (const [status, text] of errors) {
    test(`error response ${status} is read by openssl`, () => {
      const der = ocspErrorResponse(status);
      assert.equal(hex(der.subarray(0, 4)), '30030a01');
      writeFileSync(path.join(pki.dir, `err-${status}.der`), der);
      const r = opensslStatus(['ocsp', '-respin', `err-${status}.der`, '-resp_text', '-noverify'], pki.dir);
      assert.ok(r.out.toLowerCase().includes(text), r.out);
    });
  }
});
