/** Counts by status: CAs, certificates, devices; number of DMSs, and the devices each DMS enrolled by status. */
import { Card, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, getJson, unwrap } from '../api/client';
import { Link } from 'wouter';
import type { Dms, Page } from '../api/types';
import { ErrorAlert, Loading, StatusBadge } from '../components/common';

function Counts({ title, total, byStatus, testId }: { title: string; total: number; byStatus: Record<string, unknown>; testId: string }) {
  return (
    <Card withBorder data-testid={testId}>
      <Stack gap="xs">
        <Group justify="space-between">
          <Text fw={600}>{title}</Text>
          <Text fw={700} size="xl" data-testid={`${testId}-total`}>
            {total}
          </Text>
        </Group>
        {Object.entries(byStatus)
          .filter(([, n]) => Number(n) > 0)
          .map(([status, n]) => (
            <Group key={status} justify="space-between">
              <StatusBadge status={status} />
              <Text size="sm">{String(n)}</Text>
            </Group>
          ))}
      </Stack>
    </Card>
  );
}

type DeviceStats = { total: number; status_distribution: Record<string, number> };

/** Devices per DMS (one stats call per DMS; the first 50 DMSs). */
function DevicesPerDms() {
  const perDms = useQuery({
    queryKey: ['devices-per-dms'],
    queryFn: async () => {
      const dmss = await getJson<Page<Dms>>('/api/dmsmanager/v1/dms?page_size=50');
      return Promise.all(
        dmss.list.map(async (d) => ({ dms: d, stats: await getJson<DeviceStats>(`/api/devmanager/v1/stats?dms_id=${encodeURIComponent(d.id)}`) })),
      );
    },
  });
  if (perDms.error) return <ErrorAlert error={perDms.error} />;
  if (!perDms.data || perDms.data.length === 0) return null;
  return (
    <Card withBorder>
      <Text fw={600} mb="xs">
        Devices enrolled per DMS
      </Text>
      <Table.ScrollContainer minWidth={500}>
        <Table aria-label="Devices per DMS">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>DMS</Table.Th>
              <Table.Th>Devices</Table.Th>
              <Table.Th>By status</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {perDms.data.map(({ dms, stats }) => (
              <Table.Tr key={dms.id}>
                <Table.Td>
                  <Link href={`/devices?dms=${encodeURIComponent(dms.id)}`}>{dms.name}</Link>
                </Table.Td>
                <Table.Td>{stats.total}</Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    {Object.entries(stats.status_distribution)
                      .filter(([, n]) => n > 0)
                      .map(([status, n]) => (
                        <Group key={status} gap={2}>
                          <StatusBadge status={status} />
                          <Text size="xs">{n}</Text>
                        </Group>
                      ))}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Card>
  );
}

export default function Dashboard() {
  const ca = useQuery({ queryKey: ['ca-stats'], queryFn: () => unwrap(api.GET('/api/ca/v1/stats')) });
  const devices = useQuery({
    queryKey: ['device-stats'],
    queryFn: () => getJson<DeviceStats>('/api/devmanager/v1/stats'),
  });
  const dms = useQuery({ queryKey: ['dms-stats'], queryFn: () => getJson<{ total: number }>('/api/dmsmanager/v1/stats') });
  return (
    <Stack>
      <Title order={2}>Dashboard</Title>
      <ErrorAlert error={ca.error ?? devices.error ?? dms.error} />
      {ca.isPending ? (
        <Loading />
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
          {ca.data && <Counts testId="cas" title="Certification authorities" total={ca.data.cas.total} byStatus={ca.data.cas.status_distribution} />}
          {ca.data && (
            <Counts testId="certificates" title="Certificates" total={ca.data.certificates.total} byStatus={ca.data.certificates.status_distribution} />
          )}
          {devices.data && <Counts testId="devices" title="Devices" total={devices.data.total} byStatus={devices.data.status_distribution} />}
          {dms.data && <Counts testId="dmss" title="DMSs" total={dms.data.total} byStatus={{}} />}
        </SimpleGrid>
      )}
      <DevicesPerDms />
    </Stack>
  );
}
