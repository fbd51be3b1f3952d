/** Issuance profiles: the list with what each one does (creating and editing them is not in the console yet). */
import { Badge, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import { ErrorAlert, Loading } from '../components/common';

export default function Profiles() {
  const profiles = useQuery({ queryKey: ['profiles'], queryFn: () => unwrap(api.GET('/api/ca/v1/profiles')) });
  return (
    <Stack>
      <Title order={2}>Issuance profiles</Title>
      <Text size="sm" c="dimmed">
        Read-only here for now; create and edit profiles through the API (/api/docs).
      </Text>
      <ErrorAlert error={profiles.error} />
      {profiles.isPending && <Loading />}
      {profiles.data && (
        <Table.ScrollContainer minWidth={700}>
          <Table striped aria-label="Issuance profiles">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Validity</Table.Th>
                <Table.Th>Key usage</Table.Th>
                <Table.Th>Extended key usage</Table.Th>
                <Table.Th>Honors from the CSR</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {profiles.data.list.map((p) => (
                <Table.Tr key={p.id}>
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {p.name}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {p.description || p.id}
                    </Text>
                  </Table.Td>
                  <Table.Td>{p.validity.type === 'Duration' ? p.validity.duration : p.validity.time}</Table.Td>
                  <Table.Td>{p.key_usage.join(', ') || '—'}</Table.Td>
                  <Table.Td>{p.extended_key_usages.join(', ') || '—'}</Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {p.honor_subject && <Badge size="xs">subject</Badge>}
                      {p.honor_extensions && <Badge size="xs">extensions</Badge>}
                      {p.honor_key_usage && <Badge size="xs">key usage</Badge>}
                      {p.sign_as_ca && <Badge size="xs" color="orange">CA</Badge>}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {profiles.data?.list.length === 0 && <Text size="sm">No profiles.</Text>}
    </Stack>
  );
}
