import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseCertificate } from '../../x509/certificate.ts';
import { explicit, octetString, oid, sequence } from '../../x509/der.ts';
import { encodeCertId, issuerHashes } from '../../x509/ocsp-cert-id.ts';
import { OID_OCSP_NONCE } from '../../x509/ocsp-request.ts';
import { opensslSerial, run, startTestbed, type Testbed } from '../../../test/support/va-testbed.ts';

let tb: Testbed;
before(async () => {
  tb = await startTestbed({ leaves: 1 });
});
after(async () => tb?.close());

const MALFORMED = '30030a0101';
const UNAUTHORIZED = '30030a0106';

/** An OCSPRequest for leaf0, with a nonce when given. */
function request(nonce?: Uint8Array): Uint8Array {
  const issuer = parseCertificate(tb.sub.certificate.der);
  const h = issuerHashes('SHA-1', issuer.subjectName, issuer.publicKey.spki);
  const certId = encodeCertId('SHA-1', h.issuerNameHash, h.issuerKeyHash, Buffer.from(opensslSerial(tb.leaves[0]!.serialNumber), 'hex'));
  const exts = nonce ? [explicit(2, sequence(sequence(oid(OID_OCSP_NONCE), octetString(octetString(nonce)))))] : [];
  return sequence(sequence(sequence(sequence(certId)), ...exts));
}

/** A request whose base64 holds `//`, `+` and ends in `=` (nonces are tried until one does). */
function awkwardRequest(): { der: Uint8Array; b64: string } {
  for (;;) {
    // The nonce length varies too: padding depends on the length of the DER.
    const der = request(randomBytes(1 + (randomBytes(1)[0]! % 32)));
    const b64 = Buffer.from(der).toString('base64');
    if (b64.includes('//') && b64.includes('+') && b64.endsWith('=')) return { der, b64 };
  }
}

async function curl(urlPath: string, file: string): Promise<{ status: string; body: Buffer }> {
  const r = await run('curl', ['-s', '--path-as-is', '-o', file, '-w', '%{http_code}', `${tb.url}${urlPath}`], { cwd: tb.dir });
  const { readFileSync } = await import('node:fs');
  return { status: r.stdout.toString(), body: readFileSync(path.join(tb.dir, file)) };
}

describe('GET with the request in the path, sent with curl --path-as-is', () => {
  let b64: string | undefined;
  let der: Uint8Array | undefined;
  const variants: [string, (b64: string) => string][] = [
    ['raw base64 with //, + and =', (b) => b],
    ['percent-encoded (%2F %2B %3D)', (b) => encodeURIComponent(b)],
    ['lower-case percent escapes', (b) => encodeURIComponent(b).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
    ['base64url without padding', (b) => b.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')],
    ['a run of slashes before the request', (b) => `//${b}`],
  ];
  variants.forEach(([name, encode], i) => {
    test(name, async () => {
      if (!b64) {
        ({ b64, der } = awkwardRequest());
        writeFileSync(path.join(tb.dir, 'awkward.der'), der);
      }
      const { status } = await curl(`/api/va/ocsp/${encode(b64)}`, `get${i}.der`);
      assert.equal(status, '200');
      // -reqin: openssl also checks that our answer echoes the request's nonce.
      const out = await run('openssl', ['ocsp', '-reqin', 'awkward.der', '-respin', `get${i}.der`, '-CAfile', 'root.pem', '-verify_other', 'ca.pem', '-resp_text'], { cwd: tb.dir });
      assert.match(out.out, /Response verify OK/);
      assert.doesNotMatch(out.out, /Nonce Verify error/);
      assert.match(out.out, new RegExp(`Serial Number: ${opensslSerial(tb.leaves[0]!.serialNumber)}\\s*\\n\\s*Cert Status: good`));
    });
  });
});

describe('RFC 5019 caching headers', () => {
  test('a nonce-less GET carries max-age bounded by nextUpdate, Expires, Last-Modified, ETag; If-None-Match gives 304', async () => {
    const p = encodeURIComponent(Buffer.from(request()).toString('base64'));
    const res = await fetch(`${tb.url}/api/va/ocsp/${p}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/ocsp-response');
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
    assert.ok(maxAge > 3500 && maxAge <= 3600, `max-age ${maxAge}`);
    const expires = Date.parse(res.headers.get('expires')!);
    const modified = Date.parse(res.headers.get('last-modified')!);
    assert.ok(expires - modified <= 3_600_000 && expires > Date.now());
    const etag = res.headers.get('etag')!;
    assert.match(etag, /^".+"$/);
    const again = await fetch(`${tb.url}/api/va/ocsp/${p}`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });

  test('an answer to a nonce is not cacheable', async () => {
    const res = await fetch(`${tb.url}/api/va/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: request(randomBytes(8)) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('etag'), null);
  });
});

describe('bad requests: OCSP error responses or 4xx, never 500', () => {
  const post = async (body: Uint8Array | string, contentType = 'application/ocsp-request') => {
    const res = await fetch(`${tb.url}/api/va/ocsp`, { method: 'POST', headers: { 'content-type': contentType }, body });
    return { status: res.status, hex: Buffer.from(await res.arrayBuffer()).toString('hex') };
  };

  test('garbage, truncated DER and an empty body are malformedRequest', async () => {
    const good = request();
    for (const body of [Buffer.from('hello, OCSP'), good.subarray(0, good.length - 5), new Uint8Array(0), Uint8Array.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff)]) {
      assert.deepEqual(await post(body), { status: 200, hex: MALFORMED });
    }
  });

  test('a wrong content type is refused (415) or malformedRequest', async () => {
    const good = request();
    for (const type of ['application/json', 'text/plain', 'application/x-foo']) {
      const r = await post(type === 'application/json' ? '{}' : Buffer.from(good), type);
      assert.ok(r.status === 415 || (r.status === 200 && r.hex === MALFORMED), `${type}: ${JSON.stringify(r)}`);
    }
  });

  test('GET paths that are not base64 or not a request are malformedRequest; a bad escape is 4xx', async () => {
    for (const p of ['!!!', 'aGVsbG8=', 'M', encodeURIComponent('MIIB%%')]) {
      const res = await fetch(`${tb.url}/api/va/ocsp/${p}`);
      assert.equal(res.status, 200, p);
      assert.equal(Buffer.from(await res.arrayBuffer()).toString('hex'), MALFORMED, p);
    }
    const { status } = await curl('/api/va/ocsp/%ZZ', 'bad-escape.der');
    assert.ok(status === '200' || status.startsWith('4'), status);
  });

  test('an issuer we do not know is unauthorized', async () => {
    const certId = encodeCertId('SHA-256', new Uint8Array(32), new Uint8Array(32), Uint8Array.of(1));
    assert.deepEqual(await post(sequence(sequence(sequence(sequence(certId))))), { status: 200, hex: UNAUTHORIZED });
  });

  test('a body over 64 KiB is 413', async () => {
    assert.equal((await post(new Uint8Array(70_000))).status, 413);
  });
});

test('the same answers over a raw POST body file sent by curl', async () => {
  writeFileSync(path.join(tb.dir, 'req.der'), request());
  const r = await run('curl', ['-s', '-o', 'post.der', '-w', '%{http_code}', '-H', 'Content-Type: application/ocsp-request', '--data-binary', '@req.der', `${tb.url}/api/va/ocsp`], { cwd: tb.dir });
  assert.equal(r.stdout.toString(), '200');
  const out = await run('openssl', ['ocsp', '-respin', 'post.der', '-issuer', 'ca.pem', '-cert', 'leaf0.pem', '-CAfile', 'root.pem'], { cwd: tb.dir });
  assert.match(out.out, /leaf0\.pem: good/);
});
