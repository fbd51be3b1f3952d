/** `lamassu kms list|create|show|sign` over /api/kms/v1 (docs/kms.md). */
import { Command, Option } from 'commander';
import { examples, run, type Ctx } from './context.ts';
import { parseKeySpec, parsePositiveInt, readBytes, writeOutput, type KeySpec } from './options.ts';
import { printJson, printRecord, printTable, when } from './output.ts';

const API = '/api/kms/v1/keys';

interface KmsKeyJson {
  key_id: string;
  name: string;
  engine_id: string;
  algorithm: string;
  size: number;
  public_key_pem: string;
  creation_ts: string;
  tags: string[];
  aliases: string[];
  origin: string;
}

const SIGNING_ALGORITHMS = [
  'ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512',
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'ED25519',
];

function showKey(ctx: Ctx, k: KmsKeyJson): void {
  if (ctx.json) return printJson(k);
  printRecord({
    id: k.key_id,
    name: k.name,
    engine: k.engine_id,
    key: `${k.algorithm} ${k.size}`,
    aliases: k.aliases.join(', '),
    tags: k.tags.join(', '),
    origin: k.origin,
    created: when(k.creation_ts),
  });
}

const keyPath = (key: string) => `${API}/${encodeURIComponent(key)}`;

export function kmsCommand(): Command {
  const kms = new Command('kms').description('KMS keys: list, create, show, sign');

  kms
    .command('list')
    .description('list keys')
    .option('--engine <id>', 'only keys of this key engine')
    .option('--limit <n>', 'at most n keys', parsePositiveInt)
    .addHelpText('after', examples('lamassu kms list', 'lamassu kms list --engine pkcs11 --json'))
    .action(
      run(async (ctx, o: { engine?: string; limit?: number }) => {
        const list = await ctx.api.list<KmsKeyJson>(API, { filter: o.engine === undefined ? undefined : `engine_id[eq]${o.engine}` }, o.limit);
        if (ctx.json) return printJson(list);
        printTable(list, [
          { header: 'ID', value: (k) => k.key_id },
          { header: 'NAME', value: (k) => k.name },
          { header: 'ENGINE', value: (k) => k.engine_id },
          { header: 'KEY', value: (k) => `${k.algorithm} ${k.size}` },
          { header: 'CREATED', value: (k) => when(k.creation_ts) },
        ]);
      }),
    );

  kms
    .command('create')
    .description('create a key in a key engine (the private key stays there)')
    .requiredOption('--key <spec>', 'RSA-<bits>, ECDSA-<256|384|521> or ED25519', parseKeySpec)
    .option('--engine <id>', 'key engine (default: the server default)')
    .option('--name <name>', 'a name to address the key by')
    .addHelpText('after', examples('lamassu kms create --key ECDSA-256 --name firmware-signer', 'lamassu kms create --key RSA-3072 --engine pkcs11 --json'))
    .action(
      run(async (ctx, o: { key: KeySpec; engine?: string; name?: string }) => {
        const created = await ctx.api.json<KmsKeyJson>('POST', API, {
          algorithm: o.key.type,
          size: o.key.bits,
          ...(o.engine ? { engine_id: o.engine } : {}),
          ...(o.name ? { name: o.name } : {}),
        });
        showKey(ctx, created);
      }),
    );

  kms
    .command('show')
    .description('show one key (by id, name or alias)')
    .argument('<key>', 'key id, name or alias')
    .option('--pem', 'print the public key (PEM) instead')
    .addHelpText('after', examples('lamassu kms show firmware-signer', 'lamassu kms show firmware-signer --pem > signer.pub.pem'))
    .action(
      run(async (ctx, key: string, o: { pem?: boolean }) => {
        const k = await ctx.api.json<KmsKeyJson>('GET', keyPath(key));
        if (o.pem) return void process.stdout.write(k.public_key_pem);
        showKey(ctx, k);
      }),
    );

  kms
    .command('sign')
    .description('sign a file (or its digest) with a key; the signature is raw bytes (ECDSA: DER)')
    .argument('<key>', 'key id, name or alias')
    .addOption(new Option('--algorithm <name>', 'signing algorithm').choices(SIGNING_ALGORITHMS).makeOptionMandatory())
    .requiredOption('--in <file>', 'what to sign (- for stdin)')
    .option('--digest', "the input is already the digest under the algorithm's hash")
    .option('--out <file>', 'write the signature here (default: base64 on stdout)')
    .addHelpText(
      'after',
      examples(
        'lamassu kms sign firmware-signer --algorithm ECDSA_SHA_256 --in firmware.bin --out firmware.sig',
        'openssl dgst -sha256 -binary firmware.bin | lamassu kms sign firmware-signer --algorithm ECDSA_SHA_256 --digest --in - --out firmware.sig',
      ),
    )
    .action(
      run(async (ctx, key: string, o: { algorithm: string; in: string; digest?: boolean; out?: string }) => {
        const message = readBytes(o.in, 'input');
        const res = await ctx.api.json<{ signature: string }>('POST', `${keyPath(key)}/sign`, {
          algorithm: o.algorithm,
          message: message.toString('base64'),
          message_type: o.digest ? 'hash' : 'raw',
        });
        if (o.out) return writeOutput(o.out, Buffer.from(res.signature, 'base64'));
        if (ctx.json) return printJson(res);
        process.stdout.write(`${res.signature}\n`);
      }),
    );

  return kms;
}
