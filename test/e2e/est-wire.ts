/**
 * Test support for EST on the wire: what a strict embedded client sees. A raw HTTP/1.1 exchange over a TLS
 * socket (the header block exactly as sent, names in their case), and a strict RFC 2046 multipart parser
 * that accepts nothing a lenient one would forgive.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { LamassuProcess } from '../support/lamassu-process.ts';

export interface RawResponse {
  /** The status line and header lines exactly as received, without the empty line. */
  head: string;
  status: number;
  /** Header lines in order, names as sent (case kept). */
  headers: { name: string; value: string }[];
  body: Buffer;
}

export interface RawRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** PEM client certificate and key for mutual TLS. */
  cert?: string;
  key?: string;
}

/** One request on a fresh TLS connection (Connection: close), the whole response read off the socket. */
export function rawExchange(server: LamassuProcess, req: RawRequest, timeoutMs = 10_000): Promise<RawResponse> {
  const body = req.body === undefined ? Buffer.alloc(0) : Buffer.from(req.body);
  const lines = [`${req.method} ${req.path} HTTP/1.1`, `Host: localhost:${server.httpsPort}`, 'Connection: close'];
  for (const [k, v] of Object.entries(req.headers ?? {})) lines.push(`${k}: ${v}`);
  if (req.method === 'POST') lines.push(`Content-Length: ${body.length}`);
  const request = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: server.httpsPort,
      servername: 'localhost',
      ca: readFileSync(server.tlsCaFile),
      ...(req.cert ? { cert: req.cert, key: req.key } : {}),
    });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no complete response within ${timeoutMs} ms`)), timeoutMs);
    socket.once('secureConnect', () => socket.write(request));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      try {
        resolve(splitResponse(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
  });
}

function splitResponse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no header block in ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const head = raw.subarray(0, end).toString('latin1');
  const [statusLine, ...headerLines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine!)?.[1]);
  const headers = headerLines.map((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`bad header line ${JSON.stringify(line)}`);
    return { name: line.slice(0, colon), value: line.slice(colon + 1).trim() };
  });
  const body = raw.subarray(end + 4);
  const length = headers.find((h) => h.name.toLowerCase() === 'content-length');
  if (length && Number(length.value) !== body.length) throw new Error(`Content-Length ${length.value} but ${body.length} body bytes`);
  return { head, status, headers, body };
}

/** The value of the header spelled exactly `name` (case-sensitive, as strict clients look it up). */
export const headerExactly = (res: RawResponse, name: string): string | undefined => res.headers.find((h) => h.name === name)?.value;

/** RFC 7230 token with each dash-separated word capitalised; `WWW-Authenticate` keeps its capitals. */
export const isCanonicalName = (name: string): boolean =>
  name === 'WWW-Authenticate' || name.split('-').every((word) => /^[A-Z][a-z0-9]*$/.test(word));

export interface MimePart {
  /** Header lines of the part, names as sent. */
  headers: { name: string; value: string }[];
  content: Buffer;
}

/**
 * RFC 2046 5.1.1, strictly: the first dash-boundary at the start (or after a preamble ending in CRLF),
 * every later boundary preceded by CRLF (the CRLF belongs to the delimiter, not to the part), optional
 * transport padding then CRLF after each boundary, part headers in CRLF lines ended by an empty CRLF line,
 * a close delimiter. A bare LF anywhere in the framing fails. A part ends only at "CRLF--boundary", so a body
 * without that CRLF runs on into the next part's bytes, as it does for a strict client.
 */
export function parseMultipartStrict(body: Buffer, boundary: string): MimePart[] {
  const dashBoundary = Buffer.from(`--${boundary}`, 'latin1');
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  let pos: number;
  if (body.subarray(0, dashBoundary.length).equals(dashBoundary)) pos = dashBoundary.length;
  else {
    const first = body.indexOf(delimiter);
    if (first < 0) throw new Error('no dash-boundary');
    pos = first + delimiter.length;
  }
  const parts: MimePart[] = [];
  for (;;) {
    if (body.subarray(pos, pos + 2).toString('latin1') === '--') return parts; // close delimiter; the epilogue is ignored
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++; // transport-padding
    if (body.subarray(pos, pos + 2).toString('latin1') !== '\r\n') throw new Error(`boundary line not ended by CRLF at byte ${pos}`);
    pos += 2;
    const next = body.indexOf(delimiter, pos);
    if (next < 0) throw new Error(`no delimiter after the body part starting at byte ${pos}`);
    parts.push(parsePart(body.subarray(pos, next)));
    pos = next + delimiter.length;
  }
}

function parsePart(part: Buffer): MimePart {
  const text = part.toString('latin1');
  // body-part := MIME-part-headers [CRLF *OCTET]; headers are CRLF lines, the empty line separates.
  const end = text.startsWith('\r\n') ? 0 : text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error('body part without the empty line after its headers');
  const headerText = text.slice(0, end);
  if (/\n/.test(headerText.replace(/\r\n/g, ''))) throw new Error('bare LF in part headers');
  const headers = headerText === '' ? [] : headerText.split('\r\n').map((line) => {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*)$/.exec(line);
    if (!m) throw new Error(`bad part header line ${JSON.stringify(line)}`);
    return { name: m[1]!, value: m[2]!.trim() };
  });
  return { headers, content: part.subarray(end === 0 ? 2 : end + 4) };
}

/** Base64 content of a part per RFC 2045 6.8: only base64 letters in CRLF lines of at most 76 characters. */
export function strictBase64(content: Buffer): Buffer {
  const text = content.toString('latin1');
  const lines = text.split('\r\n');
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) {
    if (line.length > 76 || !/^[A-Za-z0-9+/]*={0,2}$/.test(line)) throw new Error(`not a base64 line: ${JSON.stringify(line.slice(0, 80))}`);
  }
  return Buffer.from(lines.join(''), 'base64');
}
