/** Counts by status: CAs, certificates, devices; number of DMSs. */
import { Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, getJson, unwrap } from '../api/client';
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

export default function Dashboard() {
  const ca = useQuery({ queryKey: ['ca-stats'], queryFn: () => unwrap(api.GET('/api/ca/v1/stats')) });
  const devices = useQuery({
    queryKey: ['device-stats'],
    queryFn: () => getJson<{ total: number; status_distribution: Record<string, number> }>('/api/devmanager/v1/stats'),
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
    </Stack>
  );
}
