/** A CA's current CRL as the server serves it (GET /api/va/crl/{id}), decoded. */
import { Button, Group, Stack, Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError } from '../api/client';
import { ErrorAlert, when } from '../components/common';
import { readCrl } from '../x509/crl';

async function fetchCrl(caId: string) {
  // The CRL is cached by browsers until its next update; the console wants what the server has now.
  const res = await fetch(`/api/va/crl/${encodeURIComponent(caId)}`, { cache: 'no-store' });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
    throw new ApiError(res.status, body.code ?? `HTTP_${res.status}`, body.message ?? res.statusText);
  }
  return readCrl(new Uint8Array(await res.arrayBuffer()));
}

export function CrlView({ caId }: { caId: string }) {
  const [shown, setShown] = useState(false);
  const crl = useQuery({ queryKey: ['crl', caId], queryFn: () => fetchCrl(caId), enabled: shown });
  if (!shown)
    return (
      <Group>
        <Button size="xs" variant="default" onClick={() => setShown(true)}>
          Show CRL
        </Button>
      </Group>
    );
  return (
    <Stack gap="xs" data-testid="crl">
      <Group justify="space-between">
        <Text fw={600}>CRL</Text>
        <Button size="compact-xs" variant="default" onClick={() => void crl.refetch()}>
          Reload
        </Button>
      </Group>
      <ErrorAlert error={crl.error} title="No CRL" />
      {crl.data && (
        <>
          <Text size="sm">
            This update {when(crl.data.thisUpdate)}, next update {when(crl.data.nextUpdate)}; {crl.data.entries.length} revoked
          </Text>
          {crl.data.entries.length > 0 && (
            <Table striped fz="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Serial</Table.Th>
                  <Table.Th>Revoked</Table.Th>
                  <Table.Th>Reason</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {crl.data.entries.map((e) => (
                  <Table.Tr key={e.serial}>
                    <Table.Td style={{ wordBreak: 'break-all' }}>{e.serial}</Table.Td>
                    <Table.Td>{when(e.revokedAt)}</Table.Td>
                    <Table.Td>{e.reason ?? '—'}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </>
      )}
    </Stack>
  );
}
