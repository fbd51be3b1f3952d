/** `lamassu dms list|show|create|cert` over /api/dmsmanager/v1. */
import { Command, Option } from 'commander';
import { pemOf, type DmsJson } from './api-types.ts';
import { examples, run, type Ctx } from './context.ts';
import { usageError } from './errors.ts';
import { parseKeySpec, parsePositiveInt, readInput, writeOutput, type KeySpec } from './options.ts';
import { note, printJson, printRecord, printTable, when } from './output.ts';

const API = '/api/dmsmanager/v1/dms';

const AUTH_MODES: Record<string, string> = {
  'dms-certificate': 'DMS_CERTIFICATE',
  'client-certificate': 'CLIENT_CERTIFICATE',
  'http-basic': 'HTTP_BASIC',
  'no-auth': 'NO_AUTH',
};

function showDms(ctx: Ctx, d: DmsJson & { certificate?: { serial_number: string } | null }): void {
  if (ctx.json) return printJson(d);
  const e = d.settings.enrollment_settings;
  printRecord({
    id: d.id,
    name: d.name,
    'enrollment CA': e.enrollment_ca,
    'authorized CAs': (d.authorized_cas ?? []).join(', '),
    'EST auth': e.est_rfc7030_settings.auth_mode,
    registration: e.registration_mode,
    'DMS certificate': d.certificate?.serial_number,
    created: when(d.creation_ts),
  });
}

interface CreateOptions {
  id: string;
  name?: string;
  ca: string;
  authorizedCa: string[];
  auth: string;
  username?: string;
  password?: string;
  validationCa: string[];
  registration: string;
  profile?: string;
  renewalWindow?: string;
}

function dmsBody(o: CreateOptions): unknown {
  const auth = AUTH_MODES[o.auth]!;
  const password = o.password ?? process.env.LAMASSU_DMS_PASSWORD;
  if (auth === 'HTTP_BASIC' && (!o.username || !password)) throw usageError('--auth http-basic needs --username and --password (or LAMASSU_DMS_PASSWORD)');
  if (auth === 'CLIENT_CERTIFICATE' && o.validationCa.length === 0) throw usageError('--auth client-certificate needs --validation-ca');
  return {
    id: o.id,
    name: o.name ?? o.id,
    authorized_cas: [...new Set([o.ca, ...o.authorizedCa])],
    settings: {
      enrollment_settings: {
        enrollment_ca: o.ca,
        registration_mode: o.registration,
        est_rfc7030_settings: {
          auth_mode: auth,
          client_certificate_settings: { validation_cas: o.validationCa },
          ...(auth === 'HTTP_BASIC' ? { http_basic: { username: o.username, password } } : {}),
        },
      },
      ...(o.renewalWindow ? { reenrollment_settings: { reenrollment_delta: o.renewalWindow } } : {}),
      ...(o.profile ? { issuance_profile_id: o.profile } : {}),
    },
  };
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function dmsCommand(): Command {
  const dms = new Command('dms').description('DMSs (registration authorities that enroll devices over EST): list, show, create, cert');

  dms
    .command('list')
    .description('list DMSs')
    .option('--limit <n>', 'at most n DMSs', parsePositiveInt)
    .addHelpText('after', examples('lamassu dms list', 'lamassu dms list --json'))
    .action(
      run(async (ctx, o: { limit?: number }) => {
        const list = await ctx.api.list<DmsJson>(API, {}, o.limit);
        if (ctx.json) return printJson(list);
        printTable(list, [
          { header: 'ID', value: (d) => d.id },
          { header: 'NAME', value: (d) => d.name },
          { header: 'ENROLLMENT CA', value: (d) => d.settings.enrollment_settings.enrollment_ca },
          { header: 'EST AUTH', value: (d) => d.settings.enrollment_settings.est_rfc7030_settings.auth_mode },
          { header: 'REGISTRATION', value: (d) => d.settings.enrollment_settings.registration_mode },
        ]);
      }),
    );

  dms
    .command('show')
    .description('show one DMS')
    .argument('<id>', 'DMS id')
    .addHelpText('after', examples('lamassu dms show factory-line-7', 'lamassu dms show factory-line-7 --json'))
    .action(run(async (ctx, id: string) => showDms(ctx, await ctx.api.json<DmsJson>('GET', `${API}/${encodeURIComponent(id)}`))));

  dms
    .command('create')
    .description('create a DMS that enrolls devices with one CA (other settings: defaults; change them over the API)')
    .requiredOption('--id <id>', 'DMS id (also its EST label: /.well-known/est/<id>/...)')
    .requiredOption('--ca <id>', 'enrollment CA')
    .option('--name <name>', 'display name (default: the id)')
    .option('--authorized-ca <id>', 'another CA it may enroll with (repeatable)', collect, [])
    .addOption(new Option('--auth <mode>', 'how devices authenticate on EST').choices(Object.keys(AUTH_MODES)).default('dms-certificate'))
    .option('--username <name>', 'HTTP Basic user name (--auth http-basic)')
    .option('--password <password>', 'HTTP Basic password (--auth http-basic; or LAMASSU_DMS_PASSWORD)')
    .option('--validation-ca <id>', 'CA that issued the bootstrap certificates (--auth client-certificate; repeatable)', collect, [])
    .addOption(new Option('--registration <mode>', 'JITP: unknown devices are registered on first enrollment').choices(['JITP', 'PRE_REGISTRATION']).default('JITP'))
    .option('--profile <id>', 'issuance profile for enrolled certificates')
    .option('--renewal-window <duration>', 're-enrollment allowed this long before expiry, e.g. 30d')
    .addHelpText(
      'after',
      examples(
        'lamassu dms create --id line-7 --ca factory-ca --auth http-basic --username line-7 --password s3cret',
        'lamassu dms create --id gateways --ca factory-ca --auth client-certificate --validation-ca idevid-ca',
      ),
    )
    .action(run(async (ctx, o: CreateOptions) => showDms(ctx, await ctx.api.json<DmsJson>('POST', API, dmsBody(o)))));

  dms
    .command('cert')
    .description("issue the DMS's own certificate (it authenticates EST with --auth dms-certificate); the previous one is revoked")
    .argument('<id>', 'DMS id')
    .option('--csr <file>', 'CSR of a key the DMS keeps; without it the server generates the key')
    .option('--key <spec>', 'key type when the server generates it', parseKeySpec, parseKeySpec('ECDSA-256'))
    .option('--key-out <file>', 'write the generated private key here (PKCS#8 PEM, mode 0600)')
    .requiredOption('--out <file>', 'write the certificate and its chain (PEM) here')
    .addHelpText('after', examples('lamassu dms cert line-7 --key-out line-7.key --out line-7.pem', 'lamassu dms cert line-7 --csr line-7.csr --out line-7.pem'))
    .action(
      run(async (ctx, id: string, o: { csr?: string; key: KeySpec; keyOut?: string; out: string }) => {
        if (!o.csr && !o.keyOut) throw usageError('give --csr, or --key-out for a key the server generates');
        const res = await ctx.api.json<{ serial_number: string; certificate: string; chain: string[]; private_key?: string }>(
          'POST',
          `${API}/${encodeURIComponent(id)}/certificate`,
          o.csr ? { csr: readInput(o.csr, 'CSR') } : { key: o.key },
        );
        if (res.private_key && o.keyOut) {
          writeOutput(o.keyOut, pemOf(res.private_key), true);
          note(`private key written to ${o.keyOut}`);
        }
        writeOutput(o.out, [res.certificate, ...res.chain].map(pemOf).join(''));
        note(`certificate and chain written to ${o.out}`);
        if (ctx.json) printJson({ ...res, private_key: undefined });
        else printRecord({ dms: id, serial: res.serial_number });
      }),
    );

  return dms;
}
