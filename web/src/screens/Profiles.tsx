/** Issuance profiles: the list, and an editor to create one or change one (what a certificate gets, what is taken from the CSR). */
import { Badge, Button, Checkbox, Group, Modal, MultiSelect, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../api/client';
import type { Profile } from '../api/types';
import { useAuth } from '../auth';
import { ErrorAlert, Loading } from '../components/common';

const KEY_USAGES = ['DigitalSignature', 'ContentCommitment', 'KeyEncipherment', 'DataEncipherment', 'KeyAgreement', 'CertSign', 'CRLSign', 'EncipherOnly', 'DecipherOnly'] as const;
const EXTENDED_KEY_USAGES = ['Any', 'ServerAuth', 'ClientAuth', 'CodeSigning', 'EmailProtection', 'TimeStamping', 'OCSPSigning'] as const;
type KeyUsage = (typeof KEY_USAGES)[number];
type ExtendedKeyUsage = (typeof EXTENDED_KEY_USAGES)[number];

interface Draft {
  name: string;
  description: string;
  duration: string;
  key_usage: KeyUsage[];
  extended_key_usages: ExtendedKeyUsage[];
  honor_subject: boolean;
  honor_extensions: boolean;
  honor_key_usage: boolean;
  honor_extended_key_usages: boolean;
  sign_as_ca: boolean;
  verify_csr_signature: boolean;
}

const draftOf = (p?: Profile): Draft => ({
  name: p?.name ?? '',
  description: p?.description ?? '',
  duration: p?.validity.type === 'Duration' ? (p.validity.duration ?? '1y') : '1y',
  key_usage: (p?.key_usage as KeyUsage[] | undefined) ?? ['DigitalSignature', 'KeyEncipherment'],
  extended_key_usages: (p?.extended_key_usages as ExtendedKeyUsage[] | undefined) ?? ['ClientAuth'],
  honor_subject: p?.honor_subject ?? true,
  honor_extensions: p?.honor_extensions ?? true,
  honor_key_usage: p?.honor_key_usage ?? false,
  honor_extended_key_usages: p?.honor_extended_key_usages ?? false,
  sign_as_ca: p?.sign_as_ca ?? false,
  verify_csr_signature: p?.verify_csr_signature ?? true,
});

function ProfileEditor({ profile, onClose }: { profile?: Profile; onClose: () => void }) {
  const qc = useQueryClient();
  const [d, setD] = useState<Draft>(() => draftOf(profile));
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((old) => ({ ...old, [k]: v }));
  const save = useMutation({
    mutationFn: () => {
      const { duration, ...rest } = d;
      // PUT replaces the profile: settings the editor does not show (fixed subject, path length, crypto
      // enforcement) are sent back as they were.
      const { id: _id, created_at: _c, updated_at: _u, ...kept } = profile ?? ({} as Partial<Profile>);
      const body = { ...kept, ...rest, validity: { type: 'Duration' as const, duration } };
      return profile
        ? unwrap(api.PUT('/api/ca/v1/profiles/{id}', { params: { path: { id: profile.id } }, body }))
        : unwrap(api.POST('/api/ca/v1/profiles', { body }));
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['profiles'] });
      onClose();
    },
  });
  const check = (k: keyof Draft, label: string) => (
    <Checkbox label={label} checked={d[k] as boolean} onChange={(e) => set(k, e.currentTarget.checked as never)} />
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={submit}>
      <Stack>
        <TextInput label="Name" value={d.name} onChange={(e) => set('name', e.currentTarget.value)} required />
        <TextInput label="Description" value={d.description} onChange={(e) => set('description', e.currentTarget.value)} />
        <TextInput label="Validity" description="e.g. 1y, 90d" value={d.duration} onChange={(e) => set('duration', e.currentTarget.value)} required />
        <MultiSelect label="Key usage" data={[...KEY_USAGES]} value={d.key_usage} onChange={(v) => set('key_usage', v as KeyUsage[])} />
        <MultiSelect label="Extended key usage" data={[...EXTENDED_KEY_USAGES]} value={d.extended_key_usages} onChange={(v) => set('extended_key_usages', v as ExtendedKeyUsage[])} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          {check('honor_subject', 'Subject from the CSR')}
          {check('honor_extensions', 'Extensions from the CSR')}
          {check('honor_key_usage', 'Key usage from the CSR')}
          {check('honor_extended_key_usages', 'Extended key usage from the CSR')}
          {check('verify_csr_signature', 'Verify the CSR signature')}
          {check('sign_as_ca', 'Issue CA certificates')}
        </SimpleGrid>
        <ErrorAlert error={save.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            {profile ? 'Save' : 'Create profile'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export default function Profiles() {
  const { canWrite } = useAuth();
  const profiles = useQuery({ queryKey: ['profiles'], queryFn: () => unwrap(api.GET('/api/ca/v1/profiles')) });
  const [editing, setEditing] = useState<Profile | 'new'>();
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Issuance profiles</Title>
        {canWrite && <Button onClick={() => setEditing('new')}>Create profile</Button>}
      </Group>
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
                <Table.Th>Taken from the CSR</Table.Th>
                {canWrite && <Table.Th />}
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
                      {p.sign_as_ca && (
                        <Badge size="xs" color="orange">
                          CA
                        </Badge>
                      )}
                    </Group>
                  </Table.Td>
                  {canWrite && (
                    <Table.Td>
                      <Button size="compact-xs" variant="light" onClick={() => setEditing(p)} aria-label={`Edit ${p.name}`}>
                        Edit
                      </Button>
                    </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {profiles.data?.list.length === 0 && <Text size="sm">No profiles.</Text>}
      <Modal opened={editing !== undefined} onClose={() => setEditing(undefined)} title={editing === 'new' ? 'Create an issuance profile' : `Edit ${editing?.name ?? ''}`} size="lg">
        {editing !== undefined && <ProfileEditor profile={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} />}
      </Modal>
    </Stack>
  );
}
