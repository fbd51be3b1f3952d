/**
 * Counts by status: CAs, certificates, devices; number of DMSs; certificates expiring per week (a chart from
 * one aggregate call); the devices each DMS enrolled by status; the latest events (when the alerts service runs).
 */
import { Card, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, ApiError, getJson, unwrap } from '../api/client';
import { Link } from 'wouter';
import type { Dms, LatestEvent, Page } from '../api/types';
import { ErrorAlert, Loading, StatusBadge, when } from '../components/common';

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

const WEEKS = 12;
const day = (iso: string) => iso.slice(5, 10);

/** Bars of certificates expiring per week (Monday to Monday, UTC), the current week first. */
function ExpiringPerWeek() {
  const weeks = useQuery({
    queryKey: ['expiring-per-week'],
    queryFn: () => unwrap(api.GET('/api/ca/v1/certificates/expiring-per-week', { params: { query: { weeks: WEEKS } } })),
  });
  if (weeks.error) return <ErrorAlert error={weeks.error} />;
  if (!weeks.data) return <Loading />;
  const list = weeks.data.weeks;
  const max = Math.max(1, ...list.map((w) => w.count));
  const total = list.reduce((n, w) => n + w.count, 0);
  const [W, H, top, bottom, bar] = [600, 180, 18, 24, 600 / list.length];
  const summary = list.map((w) => `week of ${day(w.start)}: ${w.count}`).join(', ');
  return (
    <Card withBorder data-testid="expiring-per-week">
      <Group justify="space-between" mb="xs">
        <Text fw={600}>Certificates expiring per week</Text>
        <Text size="sm" data-testid="expiring-total">
          {total} in the next {list.length} weeks
        </Text>
      </Group>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={`Certificates expiring per week (UTC, Monday to Monday): ${summary}`}>
        {list.map((w, i) => {
          const h = ((H - top - bottom) * w.count) / max;
          const x = i * bar;
          return (
            <g key={w.start} data-week={w.start.slice(0, 10)} data-count={w.count}>
              <title>{`${w.count} expiring in the week of ${w.start.slice(0, 10)}`}</title>
              <rect x={x + 4} y={H - bottom - h} width={bar - 8} height={h} rx={2} fill="var(--mantine-color-blue-7)" />
              {w.count > 0 && (
                <text x={x + bar / 2} y={H - bottom - h - 4} textAnchor="middle" fontSize={11} fill="var(--mantine-color-text)">
                  {w.count}
                </text>
              )}
              <text x={x + bar / 2} y={H - 8} textAnchor="middle" fontSize={10} fill="var(--mantine-color-text)">
                {day(w.start)}
              </text>
            </g>
          );
        })}
        <line x1={0} x2={W} y1={H - bottom} y2={H - bottom} stroke="var(--mantine-color-gray-5)" />
      </svg>
    </Card>
  );
}

/** The latest event of each type, newest first; a note when the alerts service does not run here. */
function RecentEvents() {
  const events = useQuery({
    queryKey: ['latest-events'],
    queryFn: async () => {
      try {
        return await getJson<LatestEvent[]>('/api/alerts/v1/events/latest');
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
  });
  if (events.error) return <ErrorAlert error={events.error} />;
  if (events.data === undefined) return <Loading />;
  const list = [...(events.data ?? [])].sort((a, b) => b.seen_at.localeCompare(a.seen_at)).slice(0, 10);
  return (
    <Card withBorder data-testid="recent-events">
      <Text fw={600} mb="xs">
        Recent events
      </Text>
      {events.data === null ? (
        <Text size="sm">The alerts service does not run on this server, so no events are recorded.</Text>
      ) : list.length === 0 ? (
        <Text size="sm">No event yet.</Text>
      ) : (
        // Fixed layout and wrapping instead of a scroll box: a scroll box without a link in it is not keyboard reachable.
        <Table aria-label="Recent events" layout="fixed" style={{ wordBreak: 'break-word' }}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Event type</Table.Th>
                <Table.Th>Last seen</Table.Th>
                <Table.Th>Subject</Table.Th>
                <Table.Th>Times seen</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.map((e) => (
                <Table.Tr key={e.event_types}>
                  <Table.Td>{e.event_types}</Table.Td>
                  <Table.Td>{when(e.seen_at)}</Table.Td>
                  <Table.Td style={{ wordBreak: 'break-all' }}>{e.event.subject ?? '—'}</Table.Td>
                  <Table.Td>{e.counter}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
        </Table>
      )}
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
      <ExpiringPerWeek />
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <DevicesPerDms />
        <RecentEvents />
      </SimpleGrid>
    </Stack>
  );
}
