/** `lamassu crl get` and `lamassu ocsp check`: the VA's plain-HTTP endpoints, no token needed. */
import { Command, Option } from 'commander';
import { parseCertificate, type ParsedCertificate } from '../x509/certificate.ts';
import type { OcspHashAlgorithm } from '../x509/ocsp-cert-id.ts';
import { fromPem } from '../x509/pem.ts';
import { pemOf, type CaJson, type CertificateJson } from './api-types.ts';
import { examples, run, type Ctx } from './context.ts';
import { CliError, EXIT, usageError } from './errors.ts';
import { buildOcspRequest, readOcspResponse } from './ocsp-client.ts';
import { readBytes, writeOutput } from './options.ts';
import { note, printJson, printRecord, when } from './output.ts';

/** A certificate from PEM (the first CERTIFICATE block) or DER bytes. */
export function certificateFrom(bytes: Uint8Array, what: string): ParsedCertificate {
  const text = Buffer.from(bytes).toString('latin1');
  const der = text.includes('-----BEGIN') ? fromPem(text, 'CERTIFICATE') : bytes;
  if (!der) throw usageError(`${what} holds no CERTIFICATE`);
  try {
    return parseCertificate(der);
  } catch (e) {
    throw usageError(`${what}: ${(e as Error).message}`);
  }
}

/** The issuer from --issuer, else the certificate's caIssuers URL, else the admin API. */
async function issuerOf(ctx: Ctx, cert: ParsedCertificate, file: string | undefined): Promise<ParsedCertificate> {
  if (file) return certificateFrom(readBytes(file, 'issuer certificate'), file);
  const aia = cert.caIssuersUrls.find((u) => u.startsWith('http://') || u.startsWith('https://'));
  if (aia) {
    const res = await ctx.api.send(aia);
    return certificateFrom(new Uint8Array(await res.arrayBuffer()), aia);
  }
  const c = await ctx.api.json<CertificateJson>('GET', `/api/ca/v1/certificates/${cert.serialNumber}`);
  if (!c.issuer_metadata.id) throw usageError('the issuer is not known here: give --issuer');
  const ca = await ctx.api.json<CaJson>('GET', `/api/ca/v1/cas/${encodeURIComponent(c.issuer_metadata.id)}`);
  return certificateFrom(Buffer.from(pemOf(ca.certificate.certificate)), `CA ${ca.id}`);
}

export function crlCommand(): Command {
  const crl = new Command('crl').description('certificate revocation lists');
  crl
    .command('get')
    .description("download a CA's current CRL (or delta CRL) from the VA")
    .argument('<ca-id>', 'CA id')
    .option('--delta', 'the delta CRL instead of the full one')
    .option('--der', 'DER instead of PEM')
    .option('--out <file>', 'write here instead of stdout')
    .addHelpText(
      'after',
      examples('lamassu crl get factory-ca --out factory.crl.pem', 'openssl crl -in factory.crl.pem -CAfile factory-ca.pem -noout -text', 'lamassu crl get factory-ca --delta --der --out delta.crl'),
    )
    .action(
      run(async (ctx, id: string, o: { delta?: boolean; der?: boolean; out?: string }) => {
        const url = `${ctx.connection.httpUrl}/api/va/crl/${encodeURIComponent(id)}${o.delta ? '/delta' : ''}`;
        const res = await ctx.api.send(url, { headers: { accept: o.der ? 'application/pkix-crl' : 'application/x-pem-file' } });
        const body = new Uint8Array(await res.arrayBuffer());
        if (o.out) {
          writeOutput(o.out, body);
          note(`CRL written to ${o.out}`);
        } else process.stdout.write(body);
      }),
    );
  return crl;
}

export function ocspCommand(): Command {
  const ocsp = new Command('ocsp').description('certificate status over OCSP');
  ocsp
    .command('check')
    .description("ask the OCSP responder for a certificate's status; the answer's signature and nonce are checked (exit 1 if they fail)")
    .argument('<cert>', 'certificate file, PEM or DER')
    .option('--issuer <file>', "issuer's certificate (default: from the certificate's caIssuers URL, else the admin API)")
    .option('--ocsp-url <url>', "responder URL (default: the certificate's OCSP URL, else <http-url>/api/va/ocsp)")
    .addOption(new Option('--hash <alg>', 'CertID hash').choices(['SHA-1', 'SHA-256']).default('SHA-1'))
    .addHelpText('after', examples('lamassu ocsp check dev.pem', 'lamassu ocsp check dev.pem --issuer factory-ca.pem --json'))
    .action(
      run(async (ctx, file: string, o: { issuer?: string; ocspUrl?: string; hash: OcspHashAlgorithm }) => {
        const cert = certificateFrom(readBytes(file, 'certificate'), file);
        const issuer = await issuerOf(ctx, cert, o.issuer);
        const url = o.ocspUrl ?? cert.ocspUrls[0] ?? `${ctx.connection.httpUrl}/api/va/ocsp`;
        const request = buildOcspRequest(cert, issuer, o.hash);
        const res = await ctx.api.send(url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' }, body: request.der });
        let result;
        try {
          result = readOcspResponse(new Uint8Array(await res.arrayBuffer()), request, issuer);
        } catch (e) {
          throw new CliError(`${url} sent no OCSP response we can read: ${(e as Error).message}`, EXIT.refused);
        }
        const out = { serial_number: cert.serialNumber, responder: url, ...result };
        if (ctx.json) printJson(out);
        else
          printRecord({
            serial: cert.serialNumber,
            responder: url,
            'response status': result.responseStatus,
            status: result.certStatus,
            'revocation time': result.revocationTime && when(result.revocationTime.toISOString()),
            'revocation reason': result.revocationReason,
            'this update': result.thisUpdate && when(result.thisUpdate.toISOString()),
            'next update': result.nextUpdate && when(result.nextUpdate.toISOString()),
            'signed by': result.signedBy ?? (result.signatureValid === false ? 'NOT VERIFIED' : undefined),
            nonce: result.nonceMatches === undefined ? 'not echoed' : result.nonceMatches ? 'matches' : 'MISMATCH',
          });
        if (result.responseStatus !== 'successful') throw new CliError(`OCSP responder answered ${result.responseStatus}`, EXIT.refused);
        if (!result.signatureValid) throw new CliError('the OCSP response is not signed by the issuer or a responder it delegated to', EXIT.refused);
        if (result.nonceMatches === false) throw new CliError('the OCSP response carries another nonce than the request', EXIT.refused);
      }),
    );
  return ocsp;
}
