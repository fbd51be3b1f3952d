/** `lamassu device-group list|show|create|devices|delete` over /api/devmanager/v1/device-groups (docs/device-groups.md). */
import { Command, InvalidArgumentError } from 'commander';
import type { DeviceJson } from './api-types.ts';
import { examples, run, type Ctx } from './context.ts';
import { parsePositiveInt } from './options.ts';
import { printJson, printRecord, printTable, when } from './output.ts';

const API = '/api/devmanager/v1/device-groups';

interface Criterion {
  field: string;
  operand: string;
  value: string;
}

interface DeviceGroupJson {
  id: string;
  name: string;
  description: string;
  parent_id: string | null;
  criteria: Criterion[];
  created_at: string;
}

interface StatsJson {
  total: number;
  status_distribution: Record<string, number>;
}

const criterionText = (c: Criterion) => `${c.field}[${c.operand}]${c.value}`;

/** `--criterion field[operand]value`, the list filter syntax; repeatable. */
function collectCriterion(text: string, previous: Criterion[] = []): Criterion[] {
  const open = text.indexOf('[');
  const close = text.indexOf(']');
  if (open <= 0 || close < open) throw new InvalidArgumentError('expected <field>[<operand>]<value>, e.g. tags[ct]site:madrid');
  return [...previous, { field: text.slice(0, open), operand: text.slice(open + 1, close), value: text.slice(close + 1) }];
}

const path = (id: string) => `${API}/${encodeURIComponent(id)}`;

async function showGroup(ctx: Ctx, g: DeviceGroupJson): Promise<void> {
  const stats = await ctx.api.json<StatsJson>('GET', `${path(g.id)}/stats`);
  if (ctx.json) return printJson({ ...g, stats });
  printRecord({
    id: g.id,
    name: g.name,
    description: g.description,
    parent: g.parent_id,
    criteria: g.criteria.map(criterionText).join(' AND '),
    devices: stats.total,
    ...Object.fromEntries(Object.entries(stats.status_distribution).filter(([, n]) => n > 0).map(([status, n]) => [`  ${status}`, n])),
    created: when(g.created_at),
  });
}

export function deviceGroupCommand(): Command {
  const group = new Command('device-group').description('device groups (criteria over devices, nested): list, show, create, devices, delete');

  group
    .command('list')
    .description('list device groups')
    .option('--parent <id>', 'only the children of this group')
    .option('--limit <n>', 'at most n groups', parsePositiveInt)
    .addHelpText('after', examples('lamassu device-group list', 'lamassu device-group list --parent 0b6f... --json'))
    .action(
      run(async (ctx, o: { parent?: string; limit?: number }) => {
        const list = await ctx.api.list<DeviceGroupJson>(API, { parent_id: o.parent, sort_by: 'name' }, o.limit);
        if (ctx.json) return printJson(list);
        printTable(list, [
          { header: 'ID', value: (g) => g.id },
          { header: 'NAME', value: (g) => g.name },
          { header: 'PARENT', value: (g) => g.parent_id },
          { header: 'CRITERIA', value: (g) => g.criteria.map(criterionText).join(' AND ') },
        ]);
      }),
    );

  group
    .command('show')
    .description("show one group, its criteria and its devices' count by status")
    .argument('<id>', 'group id')
    .addHelpText('after', examples('lamassu device-group show 0b6f...', 'lamassu device-group show 0b6f... --json'))
    .action(run(async (ctx, id: string) => showGroup(ctx, await ctx.api.json<DeviceGroupJson>('GET', path(id)))));

  group
    .command('create')
    .description("create a group; its devices meet all its criteria and all of its ancestors'")
    .requiredOption('--name <name>', 'unique name')
    .option('--description <text>', 'what it is for')
    .option('--parent <id>', 'the parent group (its criteria apply too)')
    .option('--criterion <field[operand]value>', 'a criterion in list filter syntax; repeat for more (ANDed)', collectCriterion)
    .addHelpText(
      'after',
      examples(
        'lamassu device-group create --name madrid --criterion "tags[ct]site:madrid"',
        `lamassu device-group create --name "madrid v2" --parent 0b6f... --criterion 'metadata[jsonpath]$.fw.major >= 2' --criterion "status[ne]DECOMMISSIONED" --json`,
      ),
    )
    .action(
      run(async (ctx, o: { name: string; description?: string; parent?: string; criterion?: Criterion[] }) => {
        const created = await ctx.api.json<DeviceGroupJson>('POST', API, {
          name: o.name,
          ...(o.description ? { description: o.description } : {}),
          ...(o.parent ? { parent_id: o.parent } : {}),
          criteria: o.criterion ?? [],
        });
        await showGroup(ctx, created);
      }),
    );

  group
    .command('devices')
    .description("list a group's devices")
    .argument('<id>', 'group id')
    .option('--limit <n>', 'at most n devices', parsePositiveInt)
    .addHelpText('after', examples('lamassu device-group devices 0b6f...', 'lamassu device-group devices 0b6f... --limit 10 --json'))
    .action(
      run(async (ctx, id: string, o: { limit?: number }) => {
        const list = await ctx.api.list<DeviceJson>(`${path(id)}/devices`, { sort_by: 'id' }, o.limit);
        if (ctx.json) return printJson(list);
        printTable(list, [
          { header: 'ID', value: (d) => d.id },
          { header: 'STATUS', value: (d) => d.status },
          { header: 'DMS', value: (d) => d.dms_owner },
          { header: 'TAGS', value: (d) => d.tags.join(',') },
        ]);
      }),
    );

  group
    .command('delete')
    .description('delete a group without child groups (its devices are not touched)')
    .argument('<id>', 'group id')
    .addHelpText('after', examples('lamassu device-group delete 0b6f...'))
    .action(
      run(async (ctx, id: string) => {
        await ctx.api.json<unknown>('DELETE', path(id));
        if (ctx.json) printJson({ id, deleted: true });
        else printRecord({ id, deleted: 'yes' });
      }),
    );

  return group;
}
