/** `lamassu cert list|show|sign|issue|revoke|hold|release|export` over /api/ca/v1. */
import { Command, Option } from 'commander';
import { fromPem } from '../x509/pem.ts';
import { pemOf, type CertificateJson } from './api-types.ts';
import { examples, run, type Ctx } from './context.ts';
import { usageError } from './errors.ts';
import { parseJsonObject, parseKeySpec, parsePositiveInt, readInput, REVOCATION_REASONS, subjectOf, withSubjectOptions, writeOutput, type KeySpec, type SubjectOptions } from './options.ts';
import { note, printJson, printRecord, printTable, subjectText, when } from './output.ts';

const API = '/api/ca/v1';
const caQuery = (ca: string | undefined) => (ca ? `?ca_id=${encodeURIComponent(ca)}` : '');
const certPath = (serial: string, ca?: string) => `${API}/certificates/${encodeURIComponent(normalSerial(serial))}${caQuery(ca)}`;

/** Serials as people paste them ("01:AB:..", "0x01ab") in the API's spelling (lowercase hex, no colons, no leading zeros). */
export function normalSerial(text: string): string {
  const hex = text.trim().toLowerCase().replace(/^0x/, '').replace(/[:\s]/g, '');
  if (!/^[0-9a-f]+$/.test(hex)) throw usageError(`"${text}" is not a hexadecimal serial number`);
  return hex.replace(/^0+(?=.)/, '');
}

export function showCertificate(ctx: Ctx, c: CertificateJson): void {
  if (ctx.json) return printJson(c);
  printRecord({
    serial: c.serial_number,
    subject: subjectText(c.subject),
    issuer: subjectText(c.issuer),
    'issuer CA': c.issuer_metadata.id,
    status: c.status,
    'revocation reason': c.revocation_reason,
    revoked: when(c.revocation_timestamp),
    key: `${c.key_metadata.type} ${c.key_metadata.bits}`,
    'valid from': when(c.valid_from),
    'valid to': when(c.valid_to),
    'is CA': c.is_ca,
  });
}

export const certificateColumns = [
  { header: 'SERIAL', value: (c: CertificateJson) => c.serial_number },
  { header: 'SUBJECT', value: (c: CertificateJson) => subjectText(c.subject) },
  { header: 'ISSUER CA', value: (c: CertificateJson) => c.issuer_metadata.id },
  { header: 'STATUS', value: (c: CertificateJson) => c.status },
  { header: 'VALID TO', value: (c: CertificateJson) => when(c.valid_to) },
];

/** Revoke, hold or release one certificate. */
export function setStatus(ctx: Ctx, serial: string, ca: string | undefined, body: { status: string; revocation_reason?: string }): Promise<CertificateJson> {
  return ctx.api.json<CertificateJson>('PUT', `${API}/certificates/${encodeURIComponent(normalSerial(serial))}/status${caQuery(ca)}`, body);
}

/** Prints an issued certificate: PEM to --out (and the summary), or PEM on stdout; --json prints the API's JSON. */
function deliver(ctx: Ctx, cert: CertificateJson, out: string | undefined): void {
  const pem = pemOf(cert.certificate);
  if (out) writeOutput(out, pem);
  if (ctx.json) return printJson({ ...cert, private_key: undefined });
  if (out) {
    showCertificate(ctx, cert);
    note(`certificate written to ${out}`);
  } else process.stdout.write(pem);
}

export function certCommand(): Command {
  const cert = new Command('cert').description('certificates: list, show, sign a CSR, issue with a server-made key, revoke, hold, release, export');

  cert
    .command('list')
    .description('list certificates (the inventory), newest first')
    .option('--ca <id>', 'issued by this CA')
    .option('--status <list>', 'only these statuses, comma-separated (ACTIVE, ABOUT_TO_EXPIRE, EXPIRED, REVOKED)')
    .option('--cn <name>', 'subject common name, exact or a prefix ending in *')
    .option('--limit <n>', 'at most n certificates', parsePositiveInt)
    .addHelpText('after', examples('lamassu cert list --ca factory-ca', "lamassu cert list --status REVOKED --cn 'dev-*' --json"))
    .action(
      run(async (ctx, o: { ca?: string; status?: string; cn?: string; limit?: number }) => {
        const list = await ctx.api.list<CertificateJson>(`${API}/certificates`, { ca_id: o.ca, status: o.status, common_name: o.cn, sort_by: 'valid_from', sort_mode: 'desc' }, o.limit);
        if (ctx.json) return printJson(list);
        printTable(list, certificateColumns);
      }),
    );

  cert
    .command('show')
    .description('show one certificate')
    .argument('<serial>', 'serial number (hex; colons allowed)')
    .option('--ca <id>', 'issuer CA, when several CAs used the serial')
    .addHelpText('after', examples('lamassu cert show 3f2a9c...', 'lamassu cert show 3f2a9c... --json'))
    .action(run(async (ctx, serial: string, o: { ca?: string }) => showCertificate(ctx, await ctx.api.json<CertificateJson>('GET', certPath(serial, o.ca)))));

  cert
    .command('sign')
    .description('sign a CSR with a CA')
    .requiredOption('--ca <id>', 'issuing CA')
    .requiredOption('--csr <file>', 'PKCS#10 CSR, PEM or DER ("-": stdin)')
    .option('--profile <id>', 'issuance profile (default: the CA default)')
    .option('--metadata <json>', 'metadata to attach, JSON or @file', parseJsonObject)
    .option('--out <file>', 'write the certificate (PEM) here; otherwise it goes to stdout')
    .addHelpText(
      'after',
      examples(
        'openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev.key -subj /CN=dev-1 -out dev.csr',
        'lamassu cert sign --ca factory-ca --csr dev.csr --out dev.pem',
      ),
    )
    .action(
      run(async (ctx, o: { ca: string; csr: string; profile?: string; metadata?: Record<string, unknown>; out?: string }) => {
        const raw = readInput(o.csr, 'CSR');
        const csr = raw.includes('-----BEGIN') ? raw : Buffer.from(raw, 'latin1').toString('base64');
        const signed = await ctx.api.json<CertificateJson>('POST', `${API}/cas/${encodeURIComponent(o.ca)}/certificates/sign`, {
          csr,
          ...(o.profile ? { profile_id: o.profile } : {}),
          ...(o.metadata ? { metadata: o.metadata } : {}),
        });
        deliver(ctx, signed, o.out);
      }),
    );

  withSubjectOptions(
    cert
      .command('issue')
      .description('issue a certificate for a key the server generates (the key is returned once, never stored)')
      .requiredOption('--ca <id>', 'issuing CA')
      .requiredOption('--key-out <file>', 'write the private key (PKCS#8 PEM, mode 0600) here')
      .option('--out <file>', 'write the certificate (PEM) here; otherwise it goes to stdout')
      .option('--key <spec>', 'key type: ECDSA-256, ECDSA-384, RSA-2048, RSA-3072, ED25519', parseKeySpec, parseKeySpec('ECDSA-256'))
      .option('--profile <id>', 'issuance profile (default: the CA default)'),
  )
    .addHelpText('after', examples('lamassu cert issue --ca factory-ca --cn gateway-1 --key-out gw.key --out gw.pem'))
    .action(
      run(async (ctx, o: SubjectOptions & { ca: string; keyOut: string; out?: string; key: KeySpec; profile?: string }) => {
        const subject = subjectOf(o);
        if (!subject.common_name) throw usageError('--cn is required');
        const issued = await ctx.api.json<CertificateJson>('POST', `${API}/certificates`, {
          ca_id: o.ca,
          key_spec: o.key,
          subject,
          ...(o.profile ? { issuance_profile_id: o.profile } : {}),
        });
        if (!issued.private_key) throw usageError('the server kept the key in an engine and returned none');
        writeOutput(o.keyOut, pemOf(issued.private_key), true);
        note(`private key written to ${o.keyOut}`);
        deliver(ctx, issued, o.out);
      }),
    );

  const statusCommand = (name: string, description: string, body: (o: { reason?: string }) => { status: string; revocation_reason?: string }, example: string) => {
    const c = cert.command(name).description(description).argument('<serial>', 'serial number (hex)').option('--ca <id>', 'issuer CA, when several CAs used the serial');
    if (name === 'revoke') c.addOption(new Option('--reason <reason>', 'RFC 5280 reason').choices(REVOCATION_REASONS).default('Unspecified'));
    c.addHelpText('after', examples(example)).action(run(async (ctx, serial: string, o: { ca?: string; reason?: string }) => showCertificate(ctx, await setStatus(ctx, serial, o.ca, body(o)))));
  };
  statusCommand('revoke', 'revoke a certificate (final)', (o) => ({ status: 'REVOKED', revocation_reason: o.reason! }), 'lamassu cert revoke 3f2a9c... --reason KeyCompromise');
  statusCommand('hold', 'put a certificate on hold (revoked with reason CertificateHold until released)', () => ({ status: 'REVOKED', revocation_reason: 'CertificateHold' }), 'lamassu cert hold 3f2a9c...');
  statusCommand('release', 'release a certificate from hold (ACTIVE again)', () => ({ status: 'ACTIVE' }), 'lamassu cert release 3f2a9c...');

  cert
    .command('export')
    .description('write a certificate as PEM (optionally with its issuing chain) or DER')
    .argument('<serial>', 'serial number (hex)')
    .option('--ca <id>', 'issuer CA, when several CAs used the serial')
    .option('--chain', "append the issuing CA's chain (PEM only)")
    .option('--der', 'DER instead of PEM')
    .option('--out <file>', 'write here instead of stdout')
    .addHelpText('after', examples('lamassu cert export 3f2a9c... --chain --out dev-fullchain.pem', 'lamassu cert export 3f2a9c... --der --out dev.der'))
    .action(
      run(async (ctx, serial: string, o: { ca?: string; chain?: boolean; der?: boolean; out?: string }) => {
        if (o.chain && o.der) throw usageError('--chain and --der do not go together');
        const c = await ctx.api.json<CertificateJson>('GET', certPath(serial, o.ca));
        let pem = pemOf(c.certificate);
        if (o.chain && c.issuer_metadata.id) pem += await ctx.api.text(`${API}/cas/${encodeURIComponent(c.issuer_metadata.id)}/chain`, 'application/pem-certificate-chain');
        const data = o.der ? fromPem(pem, 'CERTIFICATE')! : pem;
        if (o.out) writeOutput(o.out, data);
        else process.stdout.write(data);
      }),
    );

  return cert;
}
