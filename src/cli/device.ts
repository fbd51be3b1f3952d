/** `lamassu device list|show|decommission` over /api/devmanager/v1. */
import { Command } from 'commander';
import type { DeviceJson } from './api-types.ts';
import { examples, run, type Ctx } from './context.ts';
import { parsePositiveInt } from './options.ts';
import { printJson, printRecord, printTable, when } from './output.ts';

const API = '/api/devmanager/v1/devices';

function showDevice(ctx: Ctx, d: DeviceJson): void {
  if (ctx.json) return printJson(d);
  printRecord({
    id: d.id,
    alias: d.alias,
    status: d.status,
    dms: d.dms_owner,
    tags: d.tags.join(', '),
    certificate: d.identity?.active.serial_number,
    'certificate status': d.identity?.active.status,
    'certificate valid to': when(d.identity?.active.valid_to),
    slots: Object.keys(d.slots).join(', '),
    created: when(d.creation_timestamp),
  });
}

export function deviceCommand(): Command {
  const device = new Command('device').description('devices: list, show, decommission');

  device
    .command('list')
    .description('list devices')
    .option('--dms <id>', 'owned by this DMS')
    .option('--status <status>', 'PENDING_PROVISIONING, FULLY_PROVISIONED, REQUIRES_ACTION, PROVISIONED_WITH_WARNINGS or DECOMMISSIONED')
    .option('--limit <n>', 'at most n devices', parsePositiveInt)
    .addHelpText('after', examples('lamassu device list --dms line-7', 'lamassu device list --status REQUIRES_ACTION --json'))
    .action(
      run(async (ctx, o: { dms?: string; status?: string; limit?: number }) => {
        const list = await ctx.api.list<DeviceJson>(API, { dms_id: o.dms, status: o.status }, o.limit);
        if (ctx.json) return printJson(list);
        printTable(list, [
          { header: 'ID', value: (d) => d.id },
          { header: 'STATUS', value: (d) => d.status },
          { header: 'DMS', value: (d) => d.dms_owner },
          { header: 'CERTIFICATE', value: (d) => d.identity?.active.serial_number },
          { header: 'VALID TO', value: (d) => when(d.identity?.active.valid_to) },
        ]);
      }),
    );

  device
    .command('show')
    .description('show one device and its certificate')
    .argument('<id>', 'device id')
    .addHelpText('after', examples('lamassu device show dev-0001', 'lamassu device show dev-0001 --json'))
    .action(run(async (ctx, id: string) => showDevice(ctx, await ctx.api.json<DeviceJson>('GET', `${API}/${encodeURIComponent(id)}`))));

  device
    .command('decommission')
    .description('decommission a device (final): every certificate of its slots is revoked')
    .argument('<id>', 'device id')
    .addHelpText('after', examples('lamassu device decommission dev-0001'))
    .action(run(async (ctx, id: string) => showDevice(ctx, await ctx.api.json<DeviceJson>('DELETE', `${API}/${encodeURIComponent(id)}/decommission`))));

  return device;
}
