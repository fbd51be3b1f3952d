/**
 * The floor of an OCSP responder on our stack, for bench/ocsp.bench.ts: Node 20's own `node:http` server
 * answering every request (GET, or POST once its body is read) with a fixed body of the size of our signed
 * responses, as `application/ocsp-response`. No routing, parsing, lookup, cache or metrics: the most requests
 * per second one Node process can answer on this machine under the same wrk load, the ceiling our VA's
 * keep-alive rate is compared with.
 *
 * Usage: `node --import tsx bench/ocsp-floor-server.ts <port> <body bytes>`.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';

const [port, bytes] = process.argv.slice(2).map(Number) as [number, number];
const body = randomBytes(bytes);
const headers = { 'content-type': 'application/ocsp-response', 'content-length': String(body.length) };

http
  .createServer((req, res) => {
    req.resume();
    req.once('end', () => {
      res.writeHead(200, headers);
      res.end(body);
    });
  })
  .listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
