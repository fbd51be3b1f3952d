/**
 * The floor of issuance on our stack, for bench/issuance.bench.ts: what a certificate costs in Node 20 with
 * fastify over TLS when everything else is taken away. It takes the same request as our sign route
 * (`{"csr": base64(PEM)}`), decodes and parses the CSR, checks its signature (the native verifier when
 * built), signs a fixed certificate-sized TBS with the CA key on the libuv pool, and answers 201 with a
 * response of the same shape and size as ours. No authentication, profile, certificate building, storage,
 * events or metrics. One event loop, no worker threads: the least CPU per certificate any server of ours
 * can reach; whatever our server spends beyond it is ours to lose.
 *
 * Usage: node --import tsx bench/issuance-floor-server.ts <port> <dir with tls.pem, tls-key.pem, ca-key.pem>
 */
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { parseCsr, verifyCsrSignature } from '../src/x509/csr.ts';
import { fromPem, toPem } from '../src/x509/pem.ts';

const [port, dir] = process.argv.slice(2) as [string, string];
const caKey = createPrivateKey(readFileSync(path.join(dir, 'ca-key.pem')));
const signAsync = promisify(sign);
const isEc = caKey.asymmetricKeyType === 'ec';
const tbs = randomBytes(450);

const app = Fastify({ https: { key: readFileSync(path.join(dir, 'tls-key.pem')), cert: readFileSync(path.join(dir, 'tls.pem')) }, logger: false });
app.post<{ Body: { csr: string } }>(
  '/sign',
  { schema: { body: { type: 'object', required: ['csr'], properties: { csr: { type: 'string' } } } } },
  async (request, reply) => {
    const der = fromPem(Buffer.from(request.body.csr, 'base64').toString('latin1'), 'CERTIFICATE REQUEST');
    if (!der) return reply.code(400).send({ code: 'CSR_MALFORMED' });
    const csr = parseCsr(der);
    if (!verifyCsrSignature(csr)) return reply.code(400).send({ code: 'CSR_INVALID_SIGNATURE' });
    const signature = await signAsync('sha256', tbs, isEc ? { key: caKey, dsaEncoding: 'der' } : caKey);
    const certificate = Buffer.concat([tbs, signature, csr.publicKey.spki]);
    return reply.code(201).send({
      serial_number: randomBytes(16).toString('hex'),
      certificate: Buffer.from(toPem(certificate, 'CERTIFICATE')).toString('base64'),
      status: 'ACTIVE',
      valid_from: new Date().toISOString(),
      valid_to: new Date(Date.now() + 365 * 86400_000).toISOString(),
    });
  },
);
await app.listen({ host: '127.0.0.1', port: Number(port) });
console.log('ready');
