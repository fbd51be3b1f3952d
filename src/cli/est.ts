/** `lamassu est enroll|cacerts`: an EST client (RFC 7030) for tests, factories and scripts. */
import { Command } from 'commander';
import { parseCertificate } from '../x509/certificate.ts';
import { toPem } from '../x509/pem.ts';
import { examples, run, type Ctx } from './context.ts';
import { usageError } from './errors.ts';
import { buildCsr, certsFromEstBody, generateKey, readServerKeygen } from './est-client.ts';
import { parseKeySpec, readBytes, readInput, subjectOf, withSubjectOptions, writeOutput, type KeySpec, type SubjectOptions } from './options.ts';
import { note, printJson, printRecord, subjectText, when } from './output.ts';
import { certificateFrom } from './va.ts';

interface EstOptions {
  dms?: string;
  estUrl?: string;
  username?: string;
  password?: string;
  clientCert?: string;
  clientKey?: string;
}

function withEstOptions(cmd: Command): Command {
  return cmd
    .option('--dms <label>', 'EST label: a DMS id (or a CA id); without it the server\'s default DMS')
    .option('--est-url <url>', 'EST base URL (default: <url>/.well-known/est)')
    .option('--username <name>', 'HTTP Basic user name (DMS with HTTP Basic authentication)')
    .option('--password <password>', 'HTTP Basic password (or LAMASSU_EST_PASSWORD)')
    .option('--client-cert <file>', 'TLS client certificate (PEM, may hold its chain): a DMS or bootstrap certificate, or the current one to re-enroll')
    .option('--client-key <file>', 'its private key (PEM)');
}

/** The EST URL of an operation, and the client (with its TLS identity) and headers that authenticate it. */
function estEndpoint(ctx: Ctx, o: EstOptions, operation: string) {
  if ((o.clientCert === undefined) !== (o.clientKey === undefined)) throw usageError('--client-cert and --client-key go together');
  const base = (o.estUrl ?? `${ctx.connection.apiUrl}/.well-known/est`).replace(/\/+$/, '');
  const url = `${base}${o.dms ? `/${encodeURIComponent(o.dms)}` : ''}/${operation}`;
  const client = ctx.client(o.clientCert ? { cert: readInput(o.clientCert, 'client certificate'), key: readInput(o.clientKey!, 'client key') } : {});
  const headers: Record<string, string> = {};
  const password = o.password ?? process.env.LAMASSU_EST_PASSWORD;
  if (o.username !== undefined) {
    if (password === undefined) throw usageError('--username needs --password (or LAMASSU_EST_PASSWORD)');
    headers.authorization = `Basic ${Buffer.from(`${o.username}:${password}`).toString('base64')}`;
  }
  return { url, client, headers };
}

interface EnrollOptions extends EstOptions, SubjectOptions {
  reenroll?: boolean;
  serverKeygen?: boolean;
  csr?: string;
  key: KeySpec;
  keyOut?: string;
  certOut: string;
}

export function estCommand(): Command {
  const est = new Command('est').description('EST client (RFC 7030): enroll, re-enroll, server-side key generation, CA certificates');

  withSubjectOptions(
    withEstOptions(
      est
        .command('enroll')
        .description('get a certificate over EST: simpleenroll (default), simplereenroll (--reenroll) or serverkeygen (--server-keygen)')
        .option('--reenroll', 'simplereenroll: authenticate with the current certificate (--client-cert/--client-key); subject taken from it unless given')
        .option('--server-keygen', 'serverkeygen: the server generates the key and returns it with the certificate')
        .option('--csr <file>', 'send this CSR (PEM or DER) instead of making a key and CSR here')
        .option('--key <spec>', 'key type to generate: ECDSA-256, ECDSA-384, RSA-2048, ED25519', parseKeySpec, parseKeySpec('ECDSA-256'))
        .option('--key-out <file>', 'write the private key here (PKCS#8 PEM, mode 0600); required unless --csr')
        .requiredOption('--cert-out <file>', 'write the certificate here (PEM)'),
    ),
  )
    .addHelpText(
      'after',
      examples(
        '# a device of a DMS with HTTP Basic authentication',
        'lamassu est enroll --dms line-7 --username line-7 --password s3cret --cn dev-0001 --key-out dev.key --cert-out dev.pem',
        '# a DMS certificate authenticates (DMS_CERTIFICATE mode)',
        'lamassu est enroll --dms line-7 --client-cert line-7.pem --client-key line-7.key --cn dev-0002 --key-out dev2.key --cert-out dev2.pem',
        '# renew before expiry with the current certificate',
        'lamassu est enroll --reenroll --dms line-7 --client-cert dev.pem --client-key dev.key --key-out dev.new.key --cert-out dev.new.pem',
        '# the server makes the key',
        'lamassu est enroll --server-keygen --dms line-7 --username line-7 --password s3cret --cn dev-0003 --key-out dev3.key --cert-out dev3.pem',
      ),
    )
    .action(
      run(async (ctx, o: EnrollOptions) => {
        if (o.reenroll && o.serverKeygen) throw usageError('--reenroll and --server-keygen do not go together');
        if (o.reenroll && !o.clientCert) throw usageError('--reenroll needs the current certificate: --client-cert and --client-key');
        if (!o.csr && !o.keyOut) throw usageError('--key-out is required (where the private key goes)');
        let subject = subjectOf(o);
        if (Object.keys(subject).length === 0 && o.reenroll) subject = certificateFrom(readBytes(o.clientCert!, 'client certificate'), o.clientCert!).subject as Record<string, string>;
        if (!o.csr && Object.keys(subject).length === 0) throw usageError('give the subject (--cn ...) or --csr');
        const operation = o.reenroll ? 'simplereenroll' : o.serverKeygen ? 'serverkeygen' : 'simpleenroll';
        const { url, client, headers } = estEndpoint(ctx, o, operation);

        let csrDer: Uint8Array;
        let keyPem: string | undefined;
        if (o.csr) {
          const raw = readBytes(o.csr, 'CSR');
          const text = raw.toString('latin1');
          csrDer = text.includes('-----BEGIN') ? new Uint8Array(Buffer.from(text.replace(/-----[^-]+-----|\s/g, ''), 'base64')) : new Uint8Array(raw);
        } else {
          const key = generateKey(o.key);
          csrDer = await buildCsr(key, subject);
          keyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
        }
        const res = await client.send(url, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/pkcs10', 'content-transfer-encoding': 'base64' },
          body: Buffer.from(csrDer).toString('base64'),
        });
        const body = await res.text();
        let certificate: Uint8Array;
        if (operation === 'serverkeygen') {
          const answer = readServerKeygen(res.headers.get('content-type') ?? '', body);
          keyPem = toPem(answer.pkcs8, 'PRIVATE KEY');
          certificate = answer.certificates[0]!;
        } else certificate = certsFromEstBody(body)[0]!;
        if (!certificate) throw usageError('the EST answer holds no certificate');
        if (keyPem && o.keyOut) {
          writeOutput(o.keyOut, keyPem, true);
          note(`private key written to ${o.keyOut}`);
        }
        writeOutput(o.certOut, toPem(certificate, 'CERTIFICATE'));
        note(`certificate written to ${o.certOut}`);
        const parsed = parseCertificate(certificate);
        const summary = { operation, serial_number: parsed.serialNumber, subject: subjectText(parsed.subject as Record<string, string>), valid_to: parsed.notAfter.toISOString() };
        if (ctx.json) printJson(summary);
        else printRecord({ operation, serial: summary.serial_number, subject: summary.subject, issuer: subjectText(parsed.issuer as Record<string, string>), 'valid to': when(summary.valid_to) });
      }),
    );

  withEstOptions(
    est
      .command('cacerts')
      .description('the CA certificates a device should trust (EST /cacerts), as PEM')
      .option('--out <file>', 'write here instead of stdout'),
  )
    .addHelpText('after', examples('lamassu est cacerts --dms line-7 --out trust.pem'))
    .action(
      run(async (ctx, o: EstOptions & { out?: string }) => {
        const { url, client, headers } = estEndpoint(ctx, o, 'cacerts');
        const certs = certsFromEstBody(await (await client.send(url, { headers })).text());
        const pem = certs.map((c) => toPem(c, 'CERTIFICATE')).join('');
        if (o.out) writeOutput(o.out, pem);
        else process.stdout.write(pem);
      }),
    );

  return est;
}
