/** Devices: the list with a status filter and id search; a device's slots with their certificates, its timeline; decommission. */
import { Button, Card, Group, Modal, Select, Stack, Table, Text, TextInput, Timeline, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams, useSearch } from 'wouter';
import { api, getJson, unwrap } from '../api/client';
import type { Device, DeviceEvent, Page } from '../api/types';
import { useAuth } from '../auth';
import { ErrorAlert, Fields, Loading, StatusBadge, when } from '../components/common';
import { PagedTable, useBookmarks, type Column } from '../components/PagedTable';

const STATUSES = ['PENDING_PROVISIONING', 'FULLY_PROVISIONED', 'REQUIRES_ACTION', 'PROVISIONED_WITH_WARNINGS', 'DECOMMISSIONED'];
const PAGE_SIZE = 25;

const DEVICE_COLUMNS: Column<Device>[] = [
  { header: 'Device', cell: (d) => <Link href={`/devices/${encodeURIComponent(d.id)}`}>{d.id}</Link> },
  { header: 'Status', cell: (d) => <StatusBadge status={d.status} /> },
  { header: 'DMS', cell: (d) => d.dms_owner ?? '—' },
  { header: 'Slots', cell: (d) => Object.keys(d.slots).join(', ') || '—' },
  { header: 'Updated', cell: (d) => when(d.update_timestamp) },
];

function DeviceList() {
  const search = new URLSearchParams(useSearch());
  const dms = search.get('dms') ?? undefined;
  const [status, setStatus] = useState<string | null>(null);
  const [idFilter, setIdFilter] = useState('');
  const pager = useBookmarks(JSON.stringify([dms, status, idFilter.trim()]));
  const { bookmark } = pager;
  const query = new URLSearchParams({ page_size: String(PAGE_SIZE), sort_by: 'created_at', sort_mode: 'desc' });
  if (status) query.set('status', status);
  if (dms) query.set('dms_id', dms);
  if (idFilter.trim()) query.set('id', idFilter.trim());
  if (bookmark) query.set('bookmark', bookmark);
  const page = useQuery({
    queryKey: ['devices', query.toString()],
    queryFn: () => getJson<Page<Device>>(`/api/devmanager/v1/devices?${query}`),
    placeholderData: (previous) => previous,
  });
  return (
    <Stack>
      <Group align="flex-end" gap="xs">
        <Select label="Status" data={STATUSES} value={status} onChange={setStatus} clearable w={260} />
        <TextInput label="Device id" value={idFilter} onChange={(e) => setIdFilter(e.currentTarget.value)} w={220} />
        {dms && <Text size="sm">DMS {dms}</Text>}
      </Group>
      <ErrorAlert error={page.error} />
      {!page.data && !page.error && <Loading />}
      {page.data && (
        <PagedTable label="Devices" columns={DEVICE_COLUMNS} rows={page.data.list} rowKey={(d) => d.id} next={page.data.next} pager={pager} empty="No device matches." />
      )}
    </Stack>
  );
}

function DeviceDetails({ id }: { id: string }) {
  const { canWrite } = useAuth();
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const url = `/api/devmanager/v1/devices/${encodeURIComponent(id)}`;
  const device = useQuery({ queryKey: ['device', id], queryFn: () => getJson<Device>(url) });
  const events = useQuery({ queryKey: ['device-events', id], queryFn: () => getJson<{ list: DeviceEvent[] }>(`${url}/events`) });
  const decommission = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/devmanager/v1/devices/{id}/decommission', { params: { path: { id } } })),
    onSuccess: () => {
      setConfirming(false);
      void qc.invalidateQueries();
    },
  });
  if (device.error) return <ErrorAlert error={device.error} />;
  if (!device.data) return <Loading />;
  const d = device.data;
  return (
    <Stack>
      <Card withBorder>
        <Stack>
          <Group justify="space-between">
            <Title order={3}>{d.id}</Title>
            <StatusBadge status={d.status} />
          </Group>
          <Fields
            rows={[
              ['Alias', d.alias || '—'],
              ['DMS', d.dms_owner ? <Link href={`/dms/${encodeURIComponent(d.dms_owner)}`}>{d.dms_owner}</Link> : '—'],
              ['Tags', d.tags.join(', ') || '—'],
              ['Created', when(d.creation_timestamp)],
              ['Updated', when(d.update_timestamp)],
            ]}
          />
          {canWrite && d.status !== 'DECOMMISSIONED' && (
            <Group>
              <Button color="red" size="xs" onClick={() => setConfirming(true)}>
                Decommission
              </Button>
            </Group>
          )}
          {!confirming && <ErrorAlert error={decommission.error} />}
        </Stack>
      </Card>
      <Card withBorder>
        <Title order={4} mb="sm">
          Slots
        </Title>
        {Object.keys(d.slots).length === 0 && <Text size="sm">No certificate yet.</Text>}
        <Table.ScrollContainer minWidth={600}>
          <Table aria-label="Slots">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Slot</Table.Th>
                <Table.Th>Version</Table.Th>
                <Table.Th>Certificate</Table.Th>
                <Table.Th>Issuing CA</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Valid to</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {Object.entries(d.slots).flatMap(([name, slot]) =>
                [slot.active, ...slot.archive].map((c, i) => (
                  <Table.Tr key={`${name}-${c.version}`} data-slot={name}>
                    <Table.Td>{i === 0 ? name : ''}</Table.Td>
                    <Table.Td>
                      {c.version}
                      {i === 0 ? ' (active)' : ''}
                    </Table.Td>
                    <Table.Td style={{ fontFamily: 'monospace', fontSize: 12 }}>
                      <Link href={`/certificates/${c.serial_number}`}>{c.serial_number}</Link>
                    </Table.Td>
                    <Table.Td>{c.issuer_ca_id}</Table.Td>
                    <Table.Td>
                      <StatusBadge status={c.status} />
                    </Table.Td>
                    <Table.Td>{when(c.valid_to)}</Table.Td>
                  </Table.Tr>
                )),
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Card>
      <Card withBorder data-testid="timeline">
        <Title order={4} mb="sm">
          Timeline
        </Title>
        <ErrorAlert error={events.error} />
        {events.data && (
          <Timeline bulletSize={14} lineWidth={2} active={events.data.list.length}>
            {events.data.list.map((e, i) => (
              <Timeline.Item key={i} title={e.type}>
                <Text size="sm">{e.description}</Text>
                <Text size="xs" c="dimmed">
                  {when(e.timestamp)} by {e.actor}
                </Text>
              </Timeline.Item>
            ))}
          </Timeline>
        )}
      </Card>
      <Modal opened={confirming} onClose={() => setConfirming(false)} title={`Decommission ${d.id}`}>
        <Stack>
          <Text size="sm">Decommissioning is final: every certificate in the device&apos;s slots is revoked and the device cannot enroll again.</Text>
          <ErrorAlert error={decommission.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
            <Button color="red" loading={decommission.isPending} onClick={() => decommission.mutate()}>
              Decommission
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

export default function Devices() {
  const { id } = useParams<{ id?: string }>();
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Devices</Title>
        {id && (
          <Button variant="subtle" component={Link} href="/devices">
            ← All devices
          </Button>
        )}
      </Group>
      {id ? <DeviceDetails id={decodeURIComponent(id)} /> : <DeviceList />}
    </Stack>
  );
}
