/** `lamassu profile list|create`: issuance profiles (/api/ca/v1/profiles). */
import { Command } from 'commander';
import type { ProfileJson } from './api-types.ts';
import { examples, run, type Ctx } from './context.ts';
import { parsePositiveInt, parseValidity } from './options.ts';
import { printJson, printRecord, printTable } from './output.ts';

const API = '/api/ca/v1/profiles';
const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);
const validityText = (v: ProfileJson['validity']) => v.duration ?? v.time ?? '';

function showProfile(ctx: Ctx, p: ProfileJson): void {
  if (ctx.json) return printJson(p);
  printRecord({
    id: p.id,
    name: p.name,
    description: p.description,
    validity: validityText(p.validity),
    'sign as CA': p.sign_as_ca,
    'key usage': p.key_usage.join(', '),
    'extended key usage': p.extended_key_usages.join(', '),
  });
}

export function profileCommand(): Command {
  const profile = new Command('profile').description('issuance profiles: list, create');

  profile
    .command('list')
    .description('list issuance profiles')
    .option('--limit <n>', 'at most n profiles', parsePositiveInt)
    .addHelpText('after', examples('lamassu profile list', 'lamassu profile list --json'))
    .action(
      run(async (ctx, o: { limit?: number }) => {
        const all = (await ctx.api.json<{ list: ProfileJson[] }>('GET', API)).list.slice(0, o.limit);
        if (ctx.json) return printJson(all);
        printTable(all, [
          { header: 'ID', value: (p) => p.id },
          { header: 'NAME', value: (p) => p.name },
          { header: 'VALIDITY', value: (p) => validityText(p.validity) },
          { header: 'CA', value: (p) => p.sign_as_ca },
          { header: 'KEY USAGE', value: (p) => p.key_usage.join(',') },
          { header: 'EXT KEY USAGE', value: (p) => p.extended_key_usages.join(',') },
        ]);
      }),
    );

  profile
    .command('create')
    .description('create an issuance profile')
    .requiredOption('--name <name>', 'display name')
    .option('--id <id>', 'profile id (default: generated)')
    .option('--description <text>', 'what it is for')
    .option('--validity <duration|time>', 'validity of the certificates, e.g. 1y, 90d', parseValidity)
    .option('--key-usage <list>', 'comma-separated, e.g. DigitalSignature,KeyEncipherment', list)
    .option('--eku <list>', 'extended key usages, comma-separated, e.g. ClientAuth,ServerAuth', list)
    .option('--sign-as-ca', 'issue CA certificates (subordinate CAs)')
    .option('--no-honor-subject', "ignore the CSR's subject")
    .addHelpText('after', examples('lamassu profile create --id devices-1y --name "Devices, 1 year" --validity 1y --eku ClientAuth', 'lamassu profile create --name "TLS servers" --validity 90d --eku ServerAuth --json'))
    .action(
      run(async (ctx, o: { name: string; id?: string; description?: string; validity?: ReturnType<typeof parseValidity>; keyUsage?: string[]; eku?: string[]; signAsCa?: boolean; honorSubject: boolean }) => {
        const created = await ctx.api.json<ProfileJson>('POST', API, {
          name: o.name,
          ...(o.id ? { id: o.id } : {}),
          ...(o.description ? { description: o.description } : {}),
          ...(o.validity ? { validity: o.validity } : {}),
          ...(o.keyUsage ? { key_usage: o.keyUsage } : {}),
          ...(o.eku ? { extended_key_usages: o.eku } : {}),
          sign_as_ca: o.signAsCa === true,
          honor_subject: o.honorSubject,
        });
        showProfile(ctx, created);
      }),
    );

  return profile;
}
