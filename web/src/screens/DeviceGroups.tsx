/**
 * Device groups: the list (each with its parent), creating or editing a group from criteria (ANDed with each other and
 * with the ancestors' criteria), and a group's details: its criteria, its status counts and its members, paged.
 */
import { Badge, Button, Card, Group, Modal, Select, Stack, Table, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useLocation, useParams } from 'wouter';
import { getJson, sendJson } from '../api/client';
import type { Device, Page } from '../api/types';
import { useAuth } from '../auth';
import { ErrorAlert, Fields, Loading, StatusBadge, when } from '../components/common';
import { PagedTable, useBookmarks, type Column } from '../components/PagedTable';

interface Criterion {
  field: string;
  operand: string;
  value: string;
}

interface DeviceGroup {
  id: string;
  name: string;
  description: string;
  parent_id: string | null;
  criteria: Criterion[];
  created_at: string;
  updated_at: string;
}

interface GroupStats {
  total: number;
  status_distribution: Record<string, number>;
}

const BASE = '/api/devmanager/v1/device-groups';
const FIELDS = ['id', 'dms_owner', 'creation_timestamp', 'status', 'tags', 'metadata'];
const STRING_OPS = ['eq', 'eq_ic', 'ne', 'ne_ic', 'ct', 'ct_ic', 'nc', 'nc_ic'];
const OPERANDS: Record<string, string[]> = {
  id: STRING_OPS,
  dms_owner: STRING_OPS,
  creation_timestamp: ['bf', 'eq', 'af'],
  status: ['eq', 'ne'],
  tags: ['ct', 'ct_ic'],
  metadata: ['jsonpath'],
};
const PLACEHOLDERS: Record<string, string> = {
  creation_timestamp: '2026-01-01T00:00:00Z',
  status: 'FULLY_PROVISIONED',
  metadata: '$.site == "madrid"',
  tags: 'factory-7',
};

const useGroups = () => useQuery({ queryKey: ['device-groups'], queryFn: () => getJson<Page<DeviceGroup>>(`${BASE}?page_size=1000`) });

/** Creates a group, or edits `initial` (PUT replaces name, description, parent and criteria). */
function GroupForm({ onClose, groups, initial }: { onClose: () => void; groups: DeviceGroup[]; initial?: DeviceGroup }) {
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const [name, setName] = useState(initial?.name ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  const [parent, setParent] = useState<string | null>(initial?.parent_id ?? null);
  const [criteria, setCriteria] = useState<Criterion[]>(initial ? initial.criteria : [{ field: 'status', operand: 'eq', value: '' }]);
  const create = useMutation({
    mutationFn: () => {
      const body = { name, ...(description ? { description } : {}), parent_id: parent, criteria: criteria.filter((c) => c.value.trim() !== '') };
      return initial ? sendJson<DeviceGroup>('PUT', `${BASE}/${encodeURIComponent(initial.id)}`, body) : sendJson<DeviceGroup>('POST', BASE, body);
    },
    onSuccess: (g) => {
      void qc.invalidateQueries({ predicate: (q) => String(q.queryKey[0]).startsWith('device-group') });
      onClose();
      navigate(`/device-groups/${encodeURIComponent(g.id)}`);
    },
  });
  const set = (i: number, change: Partial<Criterion>) => setCriteria((cs) => cs.map((c, j) => (j === i ? { ...c, ...change } : c)));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form onSubmit={submit}>
      <Stack>
        <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} required />
        <Textarea label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} autosize />
        <Select label="Parent group" description="Empty: a root group; a child adds its criteria to its parent's" data={groups.filter((g) => g.id !== initial?.id).map((g) => ({ value: g.id, label: g.name }))} value={parent} onChange={setParent} clearable searchable />
        <Text size="sm" fw={500}>
          Criteria (all must hold)
        </Text>
        {criteria.map((c, i) => (
          <Group key={i} align="flex-end" gap="xs" wrap="wrap">
            <Select label={`Field ${i + 1}`} data={FIELDS} value={c.field} onChange={(v) => set(i, { field: v ?? 'id', operand: OPERANDS[v ?? 'id']![0]! })} allowDeselect={false} w={170} />
            <Select label={`Operator ${i + 1}`} data={OPERANDS[c.field] ?? ['eq']} value={c.operand} onChange={(v) => set(i, { operand: v ?? 'eq' })} allowDeselect={false} w={130} />
            <TextInput label={`Value ${i + 1}`} placeholder={PLACEHOLDERS[c.field] ?? ''} value={c.value} onChange={(e) => set(i, { value: e.currentTarget.value })} style={{ flex: 1, minWidth: 160 }} />
            <Button variant="subtle" color="red" onClick={() => setCriteria((cs) => cs.filter((_, j) => j !== i))} aria-label={`Remove criterion ${i + 1}`}>
              Remove
            </Button>
          </Group>
        ))}
        <Group>
          <Button variant="light" size="xs" onClick={() => setCriteria((cs) => [...cs, { field: 'id', operand: 'ct', value: '' }])} disabled={criteria.length >= 16}>
            Add criterion
          </Button>
        </Group>
        <ErrorAlert error={create.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            {initial ? 'Save group' : 'Create group'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

const MEMBER_COLUMNS: Column<Device>[] = [
  { header: 'Device', cell: (d) => <Link href={`/devices/${encodeURIComponent(d.id)}`}>{d.id}</Link> },
  { header: 'Status', cell: (d) => <StatusBadge status={d.status} /> },
  { header: 'DMS', cell: (d) => d.dms_owner },
  { header: 'Tags', cell: (d) => d.tags.join(', ') },
  { header: 'Created', cell: (d) => when(d.creation_timestamp) },
];

function Members({ id }: { id: string }) {
  const pager = useBookmarks(id);
  const query = new URLSearchParams({ page_size: '25' });
  if (pager.bookmark) query.set('bookmark', pager.bookmark);
  const page = useQuery({
    queryKey: ['device-group-devices', id, query.toString()],
    queryFn: () => getJson<Page<Device>>(`${BASE}/${encodeURIComponent(id)}/devices?${query}`),
    placeholderData: (previous) => previous,
  });
  if (page.error) return <ErrorAlert error={page.error} />;
  if (!page.data) return <Loading />;
  return <PagedTable label="Group members" columns={MEMBER_COLUMNS} rows={page.data.list} rowKey={(d) => d.id} next={page.data.next} pager={pager} empty="No device is in this group." />;
}

function GroupDetails({ id, groups }: { id: string; groups: DeviceGroup[] }) {
  const { canWrite } = useAuth();
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const [editing, setEditing] = useState(false);
  const url = `${BASE}/${encodeURIComponent(id)}`;
  const group = useQuery({ queryKey: ['device-group', id], queryFn: () => getJson<DeviceGroup>(url) });
  const stats = useQuery({ queryKey: ['device-group-stats', id], queryFn: () => getJson<GroupStats>(`${url}/stats`) });
  const remove = useMutation({
    mutationFn: () => sendJson('DELETE', url),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['device-groups'] });
      navigate('/device-groups');
    },
  });
  if (group.error) return <ErrorAlert error={group.error} />;
  if (!group.data) return <Loading />;
  const g = group.data;
  const parent = groups.find((x) => x.id === g.parent_id);
  const children = groups.filter((x) => x.parent_id === g.id);
  return (
    <Stack>
      <Card withBorder>
        <Stack>
          <Title order={3}>{g.name}</Title>
          <Fields
            rows={[
              ['Id', g.id],
              ['Description', g.description || '—'],
              ['Parent group', parent ? <Link href={`/device-groups/${encodeURIComponent(parent.id)}`}>{parent.name}</Link> : g.parent_id ?? '— (a root group)'],
              ['Child groups', children.length ? children.map((c) => c.name).join(', ') : '—'],
              ['Created', when(g.created_at)],
              ['Updated', when(g.updated_at)],
            ]}
          />
          <Title order={4}>Criteria</Title>
          {g.criteria.length === 0 ? (
            <Text size="sm">None: every device (within the parent's criteria).</Text>
          ) : (
            <Table.ScrollContainer minWidth={360}>
              <Table aria-label="Criteria">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Field</Table.Th>
                    <Table.Th>Operator</Table.Th>
                    <Table.Th>Value</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {g.criteria.map((c, i) => (
                    <Table.Tr key={i}>
                      <Table.Td>{c.field}</Table.Td>
                      <Table.Td>{c.operand}</Table.Td>
                      <Table.Td style={{ fontFamily: 'monospace' }}>{c.value}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
          <Title order={4}>Devices by status</Title>
          <ErrorAlert error={stats.error} />
          {stats.data && (
            <Group gap="xs" data-testid="group-stats">
              <Badge variant="outline">{stats.data.total} in total</Badge>
              {Object.entries(stats.data.status_distribution)
                .filter(([, n]) => n > 0)
                .map(([status, n]) => (
                  <Group key={status} gap={4}>
                    <StatusBadge status={status} />
                    <Text size="sm">{n}</Text>
                  </Group>
                ))}
            </Group>
          )}
          <ErrorAlert error={remove.error} />
          {canWrite && (
            <Group>
              <Button variant="light" size="xs" onClick={() => setEditing(true)}>
                Edit group
              </Button>
              <Button color="red" variant="light" size="xs" onClick={() => remove.mutate()} loading={remove.isPending}>
                Delete group
              </Button>
            </Group>
          )}
          <Modal opened={editing} onClose={() => setEditing(false)} title="Edit device group" size="lg">
            <GroupForm key={g.updated_at} onClose={() => setEditing(false)} groups={groups} initial={g} />
          </Modal>
        </Stack>
      </Card>
      <Title order={4}>Members</Title>
      <Members id={id} />
    </Stack>
  );
}

export default function DeviceGroups() {
  const { id } = useParams<{ id?: string }>();
  const { canWrite } = useAuth();
  const [creating, setCreating] = useState(false);
  const groups = useGroups();
  const list = groups.data?.list ?? [];
  const nameOf = (gid: string | null) => (gid ? (list.find((g) => g.id === gid)?.name ?? gid) : '—');
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{id ? `Device group ${nameOf(decodeURIComponent(id))}` : 'Device groups'}</Title>
        {id ? (
          <Button variant="subtle" component={Link} href="/device-groups">
            ← All groups
          </Button>
        ) : (
          canWrite && <Button onClick={() => setCreating(true)}>Create group</Button>
        )}
      </Group>
      <Modal opened={creating} onClose={() => setCreating(false)} title="Create device group" size="lg">
        <GroupForm onClose={() => setCreating(false)} groups={list} />
      </Modal>
      <ErrorAlert error={groups.error} />
      {id ? (
        <GroupDetails id={decodeURIComponent(id)} groups={list} />
      ) : groups.isPending ? (
        <Loading />
      ) : (
        <PagedTable
          label="Device groups"
          columns={[
            { header: 'Name', cell: (g: DeviceGroup) => <Link href={`/device-groups/${encodeURIComponent(g.id)}`}>{g.name}</Link> },
            { header: 'Parent', cell: (g: DeviceGroup) => nameOf(g.parent_id) },
            { header: 'Criteria', cell: (g: DeviceGroup) => g.criteria.map((c) => `${c.field} ${c.operand} ${c.value}`).join(' AND ') || '—' },
            { header: 'Created', cell: (g: DeviceGroup) => when(g.created_at) },
          ]}
          rows={list}
          rowKey={(g) => g.id}
          next={groups.data?.next}
          pager={{ page: 1, next: () => undefined, previous: () => undefined }}
          empty="No device groups yet."
        />
      )}
    </Stack>
  );
}
