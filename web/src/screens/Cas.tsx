/**
 * CAs: the hierarchy as a tree, a CA's details and downloads, create root / sub-CA, import a CA (certificate
 * and optionally its key), revoke / hold / release, and its CRL and OCSP settings (shown and edited).
 */
import { Box, Button, Card, Checkbox, FileButton, Grid, Group, Modal, NumberInput, SimpleGrid, Select, Stack, Text, Textarea, TextInput, Title, UnstyledButton } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState, type FormEvent } from 'react';
import { Link, useLocation, useParams } from 'wouter';
import { api, pemOf, unwrap } from '../api/client';
import type { Ca, CaCreate } from '../api/types';
import { useAuth } from '../auth';
import { cnOf, download, ErrorAlert, Fields, Loading, StatusBadge, when } from '../components/common';
import { StatusActions } from '../components/StatusChange';
import { CrlView } from './CrlView';
import { CertificateText } from '../components/CertificateText';

export const useCas = () =>
  useQuery({ queryKey: ['cas'], queryFn: async () => (await unwrap(api.GET('/api/ca/v1/cas', { params: { query: { page_size: 1000 } } }))).list });

function Tree({ cas, parent, selected, depth }: { cas: Ca[]; parent: string | null; selected?: string; depth: number }) {
  const children = cas.filter((c) => (c.parent_id ?? null) === parent || (parent === null && c.parent_id !== null && !cas.some((p) => p.id === c.parent_id)));
  if (children.length === 0) return null;
  return (
    <Stack gap={2} role={depth === 0 ? 'tree' : 'group'} aria-label={depth === 0 ? 'CA hierarchy' : undefined}>
      {children.map((ca) => (
        <Box key={ca.id} role="treeitem" aria-selected={ca.id === selected}>
          <UnstyledButton
            component={Link}
            href={`/cas/${encodeURIComponent(ca.id)}`}
            p={6}
            pl={8 + depth * 18}
            w="100%"
            bg={ca.id === selected ? 'var(--mantine-color-blue-light)' : undefined}
            style={{ borderRadius: 4, display: 'block' }}
          >
            <Group gap="xs" wrap="nowrap" justify="space-between">
              <Text size="sm" truncate>
                {depth > 0 ? '└ ' : ''}
                {cnOf(ca.certificate.subject)} <Text span c="dimmed" size="xs">({ca.id})</Text>
              </Text>
              <Box style={{ flexShrink: 0 }}>
                <StatusBadge status={ca.certificate.status} reason={ca.certificate.revocation_reason} />
              </Box>
            </Group>
          </UnstyledButton>
          <Tree cas={cas} parent={ca.id} selected={selected} depth={depth + 1} />
        </Box>
      ))}
    </Stack>
  );
}

const KEY_TYPES: Record<string, { type: 'ECDSA' | 'RSA' | 'ED25519'; bits: number }> = {
  'ECDSA P-256': { type: 'ECDSA', bits: 256 },
  'ECDSA P-384': { type: 'ECDSA', bits: 384 },
  'RSA 2048': { type: 'RSA', bits: 2048 },
  'RSA 3072': { type: 'RSA', bits: 3072 },
  'RSA 4096': { type: 'RSA', bits: 4096 },
  Ed25519: { type: 'ED25519', bits: 256 },
};

/** After a CA is created or imported: refetch, close the form and open the new CA. */
function useOpenCreatedCa(onClose: () => void): (ca: Ca) => void {
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  return (ca) => {
    void qc.invalidateQueries();
    onClose();
    navigate(`/cas/${encodeURIComponent(ca.id)}`);
  };
}

function CreateCa({ cas, onClose }: { cas: Ca[]; onClose: () => void }) {
  const openCreated = useOpenCreatedCa(onClose);
  const [id, setId] = useState('');
  const [cn, setCn] = useState('');
  const [org, setOrg] = useState('');
  const [parent, setParent] = useState<string | null>(null);
  const [key, setKey] = useState<string | null>('ECDSA P-256');
  const [years, setYears] = useState<number | string>(10);
  const create = useMutation({
    mutationFn: (body: CaCreate) => unwrap(api.POST('/api/ca/v1/cas', { body })),
    onSuccess: openCreated,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({
      ...(id.trim() ? { id: id.trim() } : {}),
      ...(parent ? { parent_id: parent } : {}),
      subject: { common_name: cn, ...(org ? { organization: org } : {}) },
      key_metadata: KEY_TYPES[key ?? 'ECDSA P-256']!,
      ca_expiration: { type: 'Duration', duration: `${years}y` },
    });
  };
  const parents = cas.filter((c) => c.type !== 'IMPORTED_WITHOUT_KEY' && c.certificate.status === 'ACTIVE').map((c) => ({ value: c.id, label: `${cnOf(c.certificate.subject)} (${c.id})` }));
  return (
    <form onSubmit={submit}>
      <Stack>
        <Select label="Parent CA" description="Empty: a new root CA" data={parents} value={parent} onChange={setParent} clearable placeholder="(root CA)" />
        <TextInput label="Common name" value={cn} onChange={(e) => setCn(e.currentTarget.value)} required />
        <TextInput label="Organization" value={org} onChange={(e) => setOrg(e.currentTarget.value)} />
        <TextInput label="CA id" description="Empty: the server picks one" value={id} onChange={(e) => setId(e.currentTarget.value)} />
        <Select label="Key" data={Object.keys(KEY_TYPES)} value={key} onChange={setKey} allowDeselect={false} />
        <NumberInput label="Validity (years)" min={1} max={50} value={years} onChange={setYears} />
        <ErrorAlert error={create.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Create CA
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** A PEM pasted or read from a file. */
function PemField({ label, description, value, onChange, required }: { label: string; description: string; value: string; onChange: (v: string) => void; required?: boolean }) {
  return (
    <Stack gap={4}>
      <Textarea
        label={label}
        description={description}
        value={value}
        onChange={(e) => onChange(e.currentTarget.value)}
        required={required}
        autosize
        minRows={3}
        maxRows={8}
        styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
      />
      <Group>
        <FileButton onChange={(f) => void f?.text().then(onChange)} accept=".pem,.crt,.cer,.key,text/plain">
          {(props) => (
            <Button variant="default" size="xs" {...props}>
              Upload {label.toLowerCase()}
            </Button>
          )}
        </FileButton>
      </Group>
    </Stack>
  );
}

/** Import a CA made elsewhere: its certificate, and its private key (into a key engine) or none (tracked only). */
function ImportCa({ cas, onClose }: { cas: Ca[]; onClose: () => void }) {
  const openCreated = useOpenCreatedCa(onClose);
  const engines = useQuery({ queryKey: ['engines'], queryFn: () => unwrap(api.GET('/api/ca/v1/engines')) });
  const [id, setId] = useState('');
  const [certificate, setCertificate] = useState('');
  const [key, setKey] = useState('');
  const [parent, setParent] = useState<string | null>(null);
  const [engine, setEngine] = useState<string | null>(null);
  const imported = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/ca/v1/cas/import', {
          body: {
            ca: certificate.trim() + '\n',
            ...(key.trim() ? { private_key: key.trim() + '\n' } : {}),
            ...(id.trim() ? { id: id.trim() } : {}),
            ...(parent ? { parent_id: parent } : {}),
            ...(engine && key.trim() ? { engine_id: engine } : {}),
          },
        }),
      ),
    onSuccess: openCreated,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    imported.mutate();
  };
  return (
    <form onSubmit={submit}>
      <Stack>
        <PemField label="CA certificate" description="PEM (-----BEGIN CERTIFICATE-----)" value={certificate} onChange={setCertificate} required />
        <PemField
          label="Private key"
          description="Unencrypted PKCS#8 PEM (-----BEGIN PRIVATE KEY-----), stored in the key engine, never in the database. Empty: the CA is tracked only and cannot issue."
          value={key}
          onChange={setKey}
        />
        <Select
          label="Key engine"
          description="Empty: the default engine"
          data={(engines.data ?? []).map((e) => ({ value: e.id, label: `${e.name} (${e.id})${e.default ? ', default' : ''}` }))}
          value={engine}
          onChange={setEngine}
          clearable
          disabled={!key.trim()}
        />
        <Select
          label="Parent CA"
          description="Empty: the issuer is found among the CAs, or the CA is a root"
          data={cas.map((c) => ({ value: c.id, label: `${cnOf(c.certificate.subject)} (${c.id})` }))}
          value={parent}
          onChange={setParent}
          clearable
        />
        <TextInput label="CA id" description="Empty: the server picks one" value={id} onChange={(e) => setId(e.currentTarget.value)} />
        <ErrorAlert error={imported.error ?? engines.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={imported.isPending} disabled={!certificate.trim()}>
            Import CA
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

type VaRole = NonNullable<Awaited<ReturnType<typeof fetchRole>>>;
const fetchRole = (caId: string) => unwrap(api.GET('/api/va/v1/roles/{caId}', { params: { path: { caId } } }));

/** Changes the VA's settings for the CA (PUT /api/va/v1/roles/{caId}); durations as Lamassu writes them. */
function VaSettingsEditor({ role, onClose }: { role: VaRole; onClose: () => void }) {
  const qc = useQueryClient();
  const [crl, setCrl] = useState(role.crl_options);
  const [delta, setDelta] = useState(role.delta_crl_options);
  const [ocsp, setOcsp] = useState(role.ocsp_options);
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT('/api/va/v1/roles/{caId}', { params: { path: { caId: role.ca_id } }, body: { crl_options: crl, delta_crl_options: delta, ocsp_options: ocsp } })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['va-role', role.ca_id] });
      onClose();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const duration = 'a duration such as 7d, 6h, 30m';
  return (
    <form onSubmit={submit}>
      <Stack>
        <Text fw={600}>CRL</Text>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="CRL validity" description={duration} value={crl.validity} onChange={(e) => setCrl({ ...crl, validity: e.currentTarget.value })} required />
          <TextInput label="CRL refresh interval" description={duration} value={crl.refresh_interval} onChange={(e) => setCrl({ ...crl, refresh_interval: e.currentTarget.value })} required />
        </SimpleGrid>
        <Checkbox label="Make a new CRL on each revocation" checked={crl.regenerate_on_revoke} onChange={(e) => setCrl({ ...crl, regenerate_on_revoke: e.currentTarget.checked })} />
        <Text fw={600}>Delta CRLs</Text>
        <Checkbox label="Publish delta CRLs" checked={delta.enabled} onChange={(e) => setDelta({ ...delta, enabled: e.currentTarget.checked })} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="Delta CRL validity" description={duration} value={delta.validity} onChange={(e) => setDelta({ ...delta, validity: e.currentTarget.value })} disabled={!delta.enabled} />
          <TextInput
            label="Delta CRL refresh interval"
            description={duration}
            value={delta.refresh_interval}
            onChange={(e) => setDelta({ ...delta, refresh_interval: e.currentTarget.value })}
            disabled={!delta.enabled}
          />
        </SimpleGrid>
        <Text fw={600}>OCSP</Text>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="OCSP answers valid for" description={duration} value={ocsp.validity} onChange={(e) => setOcsp({ ...ocsp, validity: e.currentTarget.value })} required />
          <Select
            label="OCSP signer"
            description="the CA's key, or a delegated OCSP signing certificate"
            data={['CA', 'DELEGATED']}
            value={ocsp.signer}
            onChange={(v) => setOcsp({ ...ocsp, signer: (v ?? 'CA') as 'CA' | 'DELEGATED' })}
            allowDeselect={false}
          />
        </SimpleGrid>
        <ErrorAlert error={save.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            Save CRL and OCSP settings
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** The CA's CRL and OCSP settings as the VA keeps them (GET /api/va/v1/roles/{caId}); a pki-admin edits them. */
function VaSettings({ caId }: { caId: string }) {
  const { canWrite } = useAuth();
  const [editing, setEditing] = useState(false);
  const role = useQuery({ queryKey: ['va-role', caId], queryFn: () => fetchRole(caId) });
  if (role.error) return <ErrorAlert error={role.error} title="No CRL/OCSP settings" />;
  if (!role.data) return null;
  const r = role.data;
  return (
    <Stack gap={6} data-testid="va-settings">
      <Group justify="space-between">
        <Text fw={600}>CRL and OCSP</Text>
        {canWrite && (
          <Button size="compact-xs" variant="light" onClick={() => setEditing(true)}>
            Edit CRL and OCSP settings
          </Button>
        )}
      </Group>
      <Modal opened={editing} onClose={() => setEditing(false)} title="CRL and OCSP settings" size="lg">
        {editing && <VaSettingsEditor role={r} onClose={() => setEditing(false)} />}
      </Modal>
      <Fields
        rows={[
          ['CRL validity', r.crl_options.validity],
          ['CRL refreshed every', `${r.crl_options.refresh_interval}${r.crl_options.regenerate_on_revoke ? ', and on each revocation' : ''}`],
          ['Delta CRLs', r.delta_crl_options.enabled ? `every ${r.delta_crl_options.refresh_interval}, valid ${r.delta_crl_options.validity}` : 'off'],
          ['Latest CRL', r.latest_crl ? `number ${r.latest_crl.version}, until ${when(r.latest_crl.valid_until)}` : 'none yet'],
          ['OCSP answers valid', r.ocsp_options.validity],
          ['OCSP signer', String(r.ocsp_options.signer)],
        ]}
      />
    </Stack>
  );
}

/** PEM text to DER bytes. */
const derOf = (pem: string) => Uint8Array.from(atob(pem.replace(/-----[^-]+-----|\s/g, '')), (c) => c.charCodeAt(0));

function CaDetails({ ca }: { ca: Ca }) {
  const { canWrite } = useAuth();
  const c = ca.certificate;
  const pem = pemOf(c.certificate);
  const [chainError, setChainError] = useState<unknown>();
  const [decoded, setDecoded] = useState(false);
  const der = useMemo(() => derOf(pem), [pem]);
  const chain = async () => {
    setChainError(undefined);
    try {
      const text = await unwrap(api.GET('/api/ca/v1/cas/{id}/chain', { params: { path: { id: ca.id } }, parseAs: 'text' }));
      download(`${ca.id}-chain.pem`, text as string);
    } catch (err) {
      setChainError(err);
    }
  };
  return (
    <Card withBorder>
      <Stack>
        <Group justify="space-between">
          <Title order={3}>{cnOf(c.subject)}</Title>
          <StatusBadge status={c.status} reason={c.revocation_reason} />
        </Group>
        <Fields
          rows={[
            ['CA id', ca.id],
            ['Subject', Object.entries(c.subject).map(([k, v]) => `${k}=${v}`).join(', ')],
            ['Issuer', Object.entries(c.issuer).map(([k, v]) => `${k}=${v}`).join(', ')],
            ['Parent', ca.parent_id ? <Link href={`/cas/${encodeURIComponent(ca.parent_id)}`}>{ca.parent_id}</Link> : 'none (root)'],
            ['Level', ca.level],
            ['Type', ca.type],
            ['Key', `${c.key_metadata.type} ${c.key_metadata.bits} (${c.key_metadata.strength})`],
            ['Key engine', ca.engine_id],
            ['Serial number', c.serial_number],
            ['Valid from', when(c.valid_from)],
            ['Valid to', when(c.valid_to)],
            ['Key usage', c.extensions.key_usage.join(', ')],
            ['Subject key id', c.subject_key_id],
            ...(c.status === 'REVOKED' ? ([['Revoked', `${when(c.revocation_timestamp)} (${c.revocation_reason})`]] as [string, string][]) : []),
          ]}
        />
        <Group gap="xs">
          <Button size="xs" variant="light" onClick={() => download(`${ca.id}.pem`, pem)}>
            Download certificate (PEM)
          </Button>
          <Button size="xs" variant="light" onClick={() => download(`${ca.id}.cer`, der as Uint8Array<ArrayBuffer>, 'application/pkix-cert')}>
            Download certificate (DER)
          </Button>
          <Button size="xs" variant="light" onClick={() => void chain()}>
            Download chain
          </Button>
          <Button size="xs" variant="light" component="a" href={`/api/va/crl/${encodeURIComponent(ca.id)}`} download={`${ca.id}.crl`}>
            Download CRL (DER)
          </Button>
          <Button size="xs" variant="light" component={Link} href={`/certificates?ca=${encodeURIComponent(ca.id)}`}>
            Certificates it issued
          </Button>
          <Button size="xs" variant="default" onClick={() => setDecoded((v) => !v)} aria-expanded={decoded}>
            {decoded ? 'Hide decoded certificate' : 'Show decoded certificate'}
          </Button>
        </Group>
        {decoded && <CertificateText der={der} />}
        <ErrorAlert error={chainError} />
        {canWrite && !ca.internal && (
          <StatusActions
            what="CA"
            status={c.status}
            reason={c.revocation_reason}
            change={(body) => unwrap(api.POST('/api/ca/v1/cas/{id}/status', { params: { path: { id: ca.id } }, body }))}
          />
        )}
        <VaSettings caId={ca.id} />
        <CrlView caId={ca.id} />
      </Stack>
    </Card>
  );
}

export default function Cas() {
  const { id } = useParams<{ id?: string }>();
  const { canWrite } = useAuth();
  const cas = useCas();
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState(false);
  const selected = id ? decodeURIComponent(id) : undefined;
  const ca = cas.data?.find((c) => c.id === selected);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Certification authorities</Title>
        {canWrite && (
          <Group gap="xs">
            <Button variant="default" onClick={() => setImporting(true)}>
              Import CA
            </Button>
            <Button onClick={() => setCreating(true)}>Create CA</Button>
          </Group>
        )}
      </Group>
      <ErrorAlert error={cas.error} />
      {cas.isPending && <Loading />}
      {cas.data && (
        <Grid>
          <Grid.Col span={{ base: 12, md: 5 }}>
            <Card withBorder>
              {cas.data.length === 0 ? <Text size="sm">No CAs yet.</Text> : <Tree cas={cas.data} parent={null} selected={selected} depth={0} />}
            </Card>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 7 }}>
            {ca ? <CaDetails ca={ca} /> : <Text size="sm">{selected ? `No CA ${selected}.` : 'Choose a CA in the tree.'}</Text>}
          </Grid.Col>
        </Grid>
      )}
      <Modal opened={creating} onClose={() => setCreating(false)} title="Create a CA" size="lg">
        {cas.data && <CreateCa cas={cas.data} onClose={() => setCreating(false)} />}
      </Modal>
      <Modal opened={importing} onClose={() => setImporting(false)} title="Import a CA" size="lg">
        {cas.data && importing && <ImportCa cas={cas.data} onClose={() => setImporting(false)} />}
      </Modal>
    </Stack>
  );
}
