/**
 * The CLI's OCSP client against OpenSSL as the responder (`openssl ocsp -reqin ... -respout`): OpenSSL reads
 * our requests, we read its responses (good, revoked with reason, unknown), a delegated responder is accepted
 * only with id-kp-OCSPSigning from the issuer, and a response signed by another key is caught.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTestPki, openssl, type TestPki } from '../../test/support/ocsp-test-pki.ts';
import { parseCertificate } from '../x509/certificate.ts';
import { buildOcspRequest, readOcspResponse } from './ocsp-client.ts';

describe('CLI OCSP client against openssl ocsp', () => {
  let pki: TestPki;
  const parsed = (der: Uint8Array) => parseCertificate(der);

  before(() => {
    pki = makeTestPki(3);
    // openssl's index: leaf0 valid, leaf1 revoked (keyCompromise), leaf2 absent (unknown).
    const serial = (hex: string) => (hex.length % 2 ? `0${hex}` : hex).toUpperCase();
    writeFileSync(
      path.join(pki.dir, 'index.txt'),
      `V\t301231000000Z\t\t${serial(pki.leaves[0]!.serialHex)}\tunknown\t/CN=device-0\n` +
        `R\t301231000000Z\t250102030405Z,keyCompromise\t${serial(pki.leaves[1]!.serialHex)}\tunknown\t/CN=device-1\n`,
    );
  });
  after(() => pki?.cleanup());

  function ask(leaf: number, signer: { cert: string; key: string }) {
    const issuer = parsed(pki.ca.der);
    const request = buildOcspRequest(parsed(pki.leaves[leaf]!.der), issuer);
    writeFileSync(path.join(pki.dir, 'req.der'), request.der);
    // openssl echoes our nonce and sends the responder certificate along with the response.
    openssl(['ocsp', '-index', 'index.txt', '-CA', 'ca.pem', '-rsigner', signer.cert, '-rkey', signer.key, '-reqin', 'req.der', '-respout', 'resp.der'], pki.dir);
    return readOcspResponse(new Uint8Array(readFileSync(path.join(pki.dir, 'resp.der'))), request, issuer);
  }

  test('openssl reads our request; good, revoked with time and reason, unknown; nonce echoed', () => {
    const delegated = { cert: 'responder.pem', key: 'responder.key' };
    const good = ask(0, delegated);
    assert.deepEqual([good.responseStatus, good.certStatus, good.signatureValid, good.signedBy, good.nonceMatches], ['successful', 'good', true, 'delegated responder', true]);
    const revoked = ask(1, delegated);
    assert.equal(revoked.certStatus, 'revoked');
    assert.equal(revoked.revocationReason, 'KeyCompromise');
    assert.equal(revoked.revocationTime?.toISOString(), '2025-01-02T03:04:05.000Z');
    assert.equal(ask(2, delegated).certStatus, 'unknown');
  });

  test('signed by the issuer itself', () => {
    const byIssuer = ask(0, { cert: 'ca.pem', key: 'ca.key' });
    assert.deepEqual([byIssuer.signatureValid, byIssuer.signedBy], [true, 'issuer']);
  });

  test('a responder the issuer did not delegate to (another CA signed it, or no OCSPSigning) is not trusted', () => {
    // The root's key and certificate: a real signature, but not the issuer's and not delegated by it.
    const stranger = ask(0, { cert: 'root.pem', key: 'root.key' });
    assert.equal(stranger.signatureValid, false);
    assert.equal(stranger.signedBy, undefined);
    // A leaf of the issuer without id-kp-OCSPSigning.
    const leafSigned = ask(0, { cert: 'leaf2.pem', key: 'leaf2.key' });
    assert.equal(leafSigned.signatureValid, false);
  });
});
