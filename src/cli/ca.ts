/** `lamassu ca list|show|create|import|revoke|reissue|delete` over /api/ca/v1/cas. */
import { Command, Option } from 'commander';
import type { CaJson } from './api-types.ts';
import { pemOf } from './api-types.ts';
import { examples, run, type Ctx } from './context.ts';
import { parseKeySpec, parsePositiveInt, parseValidity, readInput, REVOCATION_REASONS, subjectOf, withSubjectOptions, type KeySpec, type SubjectOptions } from './options.ts';
import { usageError } from './errors.ts';
import { printJson, printRecord, printTable, subjectText, when } from './output.ts';

const CAS = '/api/ca/v1/cas';

function showCa(ctx: Ctx, ca: CaJson): void {
  if (ctx.json) return printJson(ca);
  const c = ca.certificate;
  printRecord({
    id: ca.id,
    subject: subjectText(c.subject),
    issuer: subjectText(c.issuer),
    type: ca.type,
    status: c.status,
    parent: ca.parent_id,
    key: `${c.key_metadata.type} ${c.key_metadata.bits}`,
    engine: ca.engine_id,
    serial: c.serial_number,
    'valid from': when(c.valid_from),
    'valid to': when(c.valid_to),
    profile: ca.profile_id,
    internal: ca.internal,
  });
}

export function caCommand(): Command {
  const ca = new Command('ca').description('certificate authorities: list, show, create, import, revoke, reissue, delete');

  ca.command('list')
    .description('list CAs')
    .option('--status <list>', 'only these statuses, comma-separated (ACTIVE, ABOUT_TO_EXPIRE, EXPIRED, REVOKED)')
    .option('--limit <n>', 'at most n CAs', parsePositiveInt)
    .addHelpText('after', examples('lamassu ca list', 'lamassu ca list --status ACTIVE --json'))
    .action(
      run(async (ctx, o: { status?: string; limit?: number }) => {
        const list = await ctx.api.list<CaJson>(CAS, { status: o.status }, o.limit);
        if (ctx.json) return printJson(list);
        printTable(list, [
          { header: 'ID', value: (c) => c.id },
          { header: 'SUBJECT', value: (c) => subjectText(c.certificate.subject) },
          { header: 'TYPE', value: (c) => c.type },
          { header: 'STATUS', value: (c) => c.certificate.status },
          { header: 'KEY', value: (c) => `${c.certificate.key_metadata.type} ${c.certificate.key_metadata.bits}` },
          { header: 'VALID TO', value: (c) => when(c.certificate.valid_to) },
          { header: 'PARENT', value: (c) => c.parent_id },
        ]);
      }),
    );

  ca.command('show')
    .description('show one CA')
    .argument('<id>', 'CA id')
    .option('--pem', "print the CA's certificate (PEM) instead")
    .option('--chain', "print the CA's certificate and its issuers up to the root (PEM)")
    .addHelpText('after', examples('lamassu ca show factory-ca', 'lamassu ca show factory-ca --pem > factory-ca.pem', 'lamassu ca show issuing-ca --chain > chain.pem'))
    .action(
      run(async (ctx, id: string, o: { pem?: boolean; chain?: boolean }) => {
        if (o.chain) return void process.stdout.write(await ctx.api.text(`${CAS}/${encodeURIComponent(id)}/chain`, 'application/pem-certificate-chain'));
        const found = await ctx.api.json<CaJson>('GET', `${CAS}/${encodeURIComponent(id)}`);
        if (o.pem) return void process.stdout.write(pemOf(found.certificate.certificate));
        showCa(ctx, found);
      }),
    );

  withSubjectOptions(
    ca
      .command('create')
      .description('create a root CA, or with --parent a subordinate CA, its key generated in a key engine')
      .option('--id <id>', 'CA id (default: generated)')
      .option('--parent <id>', 'issuing CA: creates a subordinate CA')
      .option('--key <spec>', 'key type: ECDSA-256, ECDSA-384, RSA-2048, RSA-4096, ED25519', parseKeySpec, parseKeySpec('ECDSA-256'))
      .option('--validity <duration|time>', 'CA certificate validity: 10y, 5y, 365d or an RFC 3339 end time', parseValidity, parseValidity('10y'))
      .option('--profile <id>', 'default issuance profile of the CA')
      .option('--engine <id>', 'key engine (default: the configured default engine)'),
  )
    .addHelpText(
      'after',
      examples('lamassu ca create --id factory-ca --cn "Factory CA" --o "ACME"', 'lamassu ca create --id line-7 --parent factory-ca --cn "Line 7 CA" --key RSA-3072 --validity 5y'),
    )
    .action(
      run(async (ctx, o: SubjectOptions & { id?: string; parent?: string; key: KeySpec; validity: ReturnType<typeof parseValidity>; profile?: string; engine?: string }) => {
        const subject = subjectOf(o);
        if (!subject.common_name) throw usageError('--cn is required');
        const created = await ctx.api.json<CaJson>('POST', CAS, {
          ...(o.id ? { id: o.id } : {}),
          ...(o.parent ? { parent_id: o.parent } : {}),
          subject,
          key_metadata: o.key,
          ca_expiration: o.validity,
          ...(o.profile ? { profile_id: o.profile } : {}),
          ...(o.engine ? { engine_id: o.engine } : {}),
        });
        showCa(ctx, created);
      }),
    );

  ca.command('import')
    .description('import a CA certificate, with its private key (it then issues) or without (tracked only)')
    .requiredOption('--cert <file>', 'CA certificate, PEM')
    .option('--key <file>', 'its private key, unencrypted PKCS#8 PEM')
    .option('--id <id>', 'CA id (default: generated)')
    .option('--parent <id>', 'the CA that issued it, if it is here too')
    .option('--engine <id>', 'key engine to import the key into')
    .addHelpText('after', examples('lamassu ca import --cert legacy-ca.pem --key legacy-ca.key --id legacy', 'lamassu ca import --cert vendor-root.pem --id vendor-root'))
    .action(
      run(async (ctx, o: { cert: string; key?: string; id?: string; parent?: string; engine?: string }) => {
        const imported = await ctx.api.json<CaJson>('POST', `${CAS}/import`, {
          ca: readInput(o.cert, 'certificate'),
          ...(o.key ? { private_key: readInput(o.key, 'private key') } : {}),
          ...(o.id ? { id: o.id } : {}),
          ...(o.parent ? { parent_id: o.parent } : {}),
          ...(o.engine ? { engine_id: o.engine } : {}),
        });
        showCa(ctx, imported);
      }),
    );

  ca.command('revoke')
    .description('revoke a CA; everything it issued is revoked with it')
    .argument('<id>', 'CA id')
    .addOption(new Option('--reason <reason>', 'RFC 5280 reason').choices(REVOCATION_REASONS).default('Unspecified'))
    .addHelpText('after', examples('lamassu ca revoke line-7 --reason CACompromise'))
    .action(
      run(async (ctx, id: string, o: { reason: string }) => {
        showCa(ctx, await ctx.api.json<CaJson>('POST', `${CAS}/${encodeURIComponent(id)}/status`, { status: 'REVOKED', revocation_reason: o.reason }));
      }),
    );

  ca.command('reissue')
    .description('give a CA a new certificate for the same key and subject (what it issued keeps verifying); the old one stays, linked')
    .argument('<id>', 'CA id')
    .option('--validity <duration|time>', 'new validity: 10y, 5y, 365d or an RFC 3339 end time (default: as long as the current one)', parseValidity)
    .option('--profile <id>', 'new default issuance profile of the CA')
    .option('--reason <text>', "why, kept in the new certificate's metadata")
    .addHelpText('after', examples('lamassu ca reissue factory-ca --validity 10y', 'lamassu ca reissue line-7 --reason "parent rotated" --json'))
    .action(
      run(async (ctx, id: string, o: { validity?: ReturnType<typeof parseValidity>; profile?: string; reason?: string }) => {
        const reissued = await ctx.api.json<CaJson>('POST', `${CAS}/${encodeURIComponent(id)}/reissue`, {
          ...(o.validity ? { ca_expiration: o.validity } : {}),
          ...(o.profile ? { profile_id: o.profile } : {}),
          ...(o.reason ? { reason: o.reason } : {}),
        });
        showCa(ctx, reissued);
      }),
    );

  ca.command('delete')
    .description('retire a CA: it must be expired or revoked, without subordinate CAs or valid certificates (unless --revoke-certificates)')
    .argument('<id>', 'CA id')
    .option('--revoke-certificates', 'revoke the CA and the certificates it issued that are still valid first (CessationOfOperation)')
    .option('--destroy-key', "delete the CA's key from its key engine too")
    .addHelpText('after', examples('lamassu ca delete old-line-7', 'lamassu ca delete line-7 --revoke-certificates --destroy-key'))
    .action(
      run(async (ctx, id: string, o: { revokeCertificates?: boolean; destroyKey?: boolean }) => {
        const query = new URLSearchParams();
        if (o.revokeCertificates) query.set('revoke_certificates', 'true');
        if (o.destroyKey) query.set('destroy_key', 'true');
        const q = query.size > 0 ? `?${query}` : '';
        await ctx.api.json<undefined>('DELETE', `${CAS}/${encodeURIComponent(id)}${q}`);
        if (ctx.json) return printJson({ id, deleted: true });
        process.stdout.write(`CA ${id} deleted\n`);
      }),
    );

  return ca;
}
