import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromPem, fromPemAll, toPem } from './pem.ts';

test('PEM round-trips with 64-column lines and a final newline', () => {
  const der = new Uint8Array(100).map((_, i) => i);
  const pem = toPem(der, 'CERTIFICATE');
  assert.ok(pem.endsWith('-----END CERTIFICATE-----\n'));
  assert.ok(pem.split('\n').every((l) => l.length <= 64));
  assert.deepEqual(fromPem(pem, 'CERTIFICATE'), der);
});

test('decoding tolerates CRLF, indentation and several blocks', () => {
  const a = toPem(Uint8Array.of(1, 2, 3), 'CERTIFICATE').replace(/\n/g, '\r\n  ');
  const b = toPem(Uint8Array.of(4, 5), 'X509 CRL');
  const all = fromPemAll(`junk\n${a}\nmore junk\n${b}`);
  assert.deepEqual(all.map((x) => x.label), ['CERTIFICATE', 'X509 CRL']);
  assert.deepEqual(fromPem(a + b, 'X509 CRL'), Uint8Array.of(4, 5));
  assert.equal(fromPem('no pem here'), undefined);
});
