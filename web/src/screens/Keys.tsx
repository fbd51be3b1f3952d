/**
 * KMS keys: the keys the KMS keeps (paged), creating one in a key engine (the engine's key types offered),
 * and a key's details with its public key to copy or download. Private keys never leave their engine.
 */
import { Badge, Button, Card, Code, Group, Modal, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useLocation, useParams } from 'wouter';
import { api, unwrap } from '../api/client';
import type { paths } from '../api/schema';
import { useAuth } from '../auth';
import { CopyBlock, download, ErrorAlert, Fields, Loading, when } from '../components/common';
import { PagedTable, useBookmarks, type Column } from '../components/PagedTable';

type Json<T> = T extends { content: { 'application/json': infer J } } ? J : never;
type Key = Json<paths['/api/kms/v1/keys/{id}']['get']['responses'][200]>;
type Engine = Json<paths['/api/kms/v1/engines']['get']['responses'][200]>[number];

const short = (id: string) => `${id.slice(0, 16)}…`;

function CreateKey({ onClose }: { onClose: () => void }) {
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const engines = useQuery({ queryKey: ['kms-engines'], queryFn: () => unwrap(api.GET('/api/kms/v1/engines')) });
  const [engine, setEngine] = useState<string | null>(null);
  const [kind, setKind] = useState<string | null>('ECDSA 256');
  const [name, setName] = useState('');
  const chosen: Engine | undefined = (engines.data ?? []).find((e) => e.id === engine) ?? (engines.data ?? []).find((e) => e.default);
  const kinds = (chosen?.supported_key_types ?? []).flatMap((t) => t.sizes.map((s) => `${t.type} ${s}`));
  const create = useMutation({
    mutationFn: () => {
      const [algorithm, size] = (kind ?? 'ECDSA 256').split(' ');
      return unwrap(api.POST('/api/kms/v1/keys', { body: { algorithm: algorithm!, size: Number(size), ...(chosen ? { engine_id: chosen.id } : {}), ...(name ? { name } : {}) } }));
    },
    onSuccess: (k) => {
      void qc.invalidateQueries({ queryKey: ['kms-keys'] });
      onClose();
      navigate(`/keys/${encodeURIComponent(k.key_id)}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form onSubmit={submit}>
      <Stack>
        <ErrorAlert error={engines.error} />
        <Select
          label="Key engine"
          description="Empty: the default engine"
          data={(engines.data ?? []).map((e) => ({ value: e.id, label: `${e.name || e.id} (${e.type}${e.default ? ', default' : ''})` }))}
          value={engine}
          onChange={setEngine}
          clearable
        />
        <Select label="Key type" data={kinds.length ? kinds : ['ECDSA 256']} value={kind} onChange={setKind} allowDeselect={false} />
        <TextInput label="Name" description="optional" value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <ErrorAlert error={create.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Create key
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

const COLUMNS: Column<Key>[] = [
  { header: 'Name', cell: (k) => <Link href={`/keys/${encodeURIComponent(k.key_id)}`}>{k.name || short(k.key_id)}</Link> },
  { header: 'Key id', cell: (k) => short(k.key_id), mono: true },
  { header: 'Type', cell: (k) => `${k.algorithm} ${k.size}` },
  { header: 'Engine', cell: (k) => k.engine_id },
  { header: 'Origin', cell: (k) => k.origin },
  { header: 'Created', cell: (k) => when(k.creation_ts) },
];

function KeyTable() {
  const pager = useBookmarks('keys');
  const page = useQuery({
    queryKey: ['kms-keys', pager.bookmark],
    queryFn: () => unwrap(api.GET('/api/kms/v1/keys', { params: { query: { page_size: 25, sort_by: 'creation_ts', sort_mode: 'desc', ...(pager.bookmark ? { bookmark: pager.bookmark } : {}) } } })),
    placeholderData: (previous) => previous,
  });
  if (page.error) return <ErrorAlert error={page.error} />;
  if (!page.data) return <Loading />;
  return <PagedTable label="Keys" columns={COLUMNS} rows={page.data.list} rowKey={(k) => k.key_id} next={page.data.next} pager={pager} empty="No keys yet." />;
}

function KeyDetails({ id }: { id: string }) {
  const key = useQuery({ queryKey: ['kms-key', id], queryFn: () => unwrap(api.GET('/api/kms/v1/keys/{id}', { params: { path: { id } } })) });
  if (key.error) return <ErrorAlert error={key.error} />;
  if (!key.data) return <Loading />;
  const k = key.data;
  return (
    <Card withBorder>
      <Stack>
        <Group justify="space-between">
          <Title order={3}>{k.name || short(k.key_id)}</Title>
          <Badge variant="light">{k.has_private_key ? 'private key in engine' : 'public key only'}</Badge>
        </Group>
        <Fields
          rows={[
            ['Key id', <span data-testid="key-id" style={{ wordBreak: 'break-all' }}>{k.key_id}</span>],
            ['Type', `${k.algorithm} ${k.size}`],
            ['Engine', k.engine_id],
            ['Origin', k.origin],
            ['PKCS#11 URI', <span style={{ wordBreak: 'break-all' }}>{k.pkcs11_uri}</span>],
            ['Aliases', k.aliases.join(', ') || '—'],
            ['Tags', k.tags.join(', ') || '—'],
            ['Created', when(k.creation_ts)],
          ]}
        />
        <CopyBlock label="Public key (PEM)" value={k.public_key_pem} />
        <Group>
          <Button size="xs" variant="light" onClick={() => download(`${k.key_id.slice(0, 16)}.pub.pem`, k.public_key_pem)}>
            Download public key
          </Button>
        </Group>
        {Object.keys(k.metadata).length > 0 && (
          <>
            <Text size="sm" fw={500}>
              Metadata
            </Text>
            <Code block>{JSON.stringify(k.metadata, null, 2)}</Code>
          </>
        )}
      </Stack>
    </Card>
  );
}

export default function Keys() {
  const { id } = useParams<{ id?: string }>();
  const { canWrite } = useAuth();
  const [creating, setCreating] = useState(false);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{id ? 'Key' : 'KMS keys'}</Title>
        {id ? (
          <Button variant="subtle" component={Link} href="/keys">
            ← All keys
          </Button>
        ) : (
          canWrite && <Button onClick={() => setCreating(true)}>Create key</Button>
        )}
      </Group>
      <Modal opened={creating} onClose={() => setCreating(false)} title="Create key">
        <CreateKey onClose={() => setCreating(false)} />
      </Modal>
      {id ? <KeyDetails id={decodeURIComponent(id)} /> : <KeyTable />}
    </Stack>
  );
}
