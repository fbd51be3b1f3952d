/**
 * Certificates: a server-side paged table (bookmark pages, filters on CA, status, CN, serial, expiry),
 * a certificate's details and PEM download, revoke / hold / release, and issuing from a pasted or uploaded CSR
 * or with a key the server makes (its PKCS#8 shown once).
 */
import { Button, Card, Code, FileButton, Group, Modal, Select, Stack, Tabs, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState, type FormEvent } from 'react';
import { Link, useLocation, useParams, useSearch } from 'wouter';
import { api, pemOf, unwrap } from '../api/client';
import type { Certificate } from '../api/types';
import { useAuth } from '../auth';
import { cnOf, download, ErrorAlert, Fields, Loading, StatusBadge, when } from '../components/common';
import { StatusActions } from '../components/StatusChange';
import { CertificateText } from '../components/CertificateText';
import { derOf } from '../x509/cert';
import { PagedTable, useBookmarks, type Column } from '../components/PagedTable';
import { useCas } from './Cas';

const PAGE_SIZE = 25;
const STATUSES = ['ACTIVE', 'ABOUT_TO_EXPIRE', 'EXPIRED', 'REVOKED'];

interface Filters {
  ca?: string;
  status?: string;
  cn?: string;
  serial?: string;
  expiresAfter?: string;
  expiresBefore?: string;
}

function IssueFromCsr({ onClose, defaultCa }: { onClose: () => void; defaultCa?: string }) {
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const cas = useCas();
  const profiles = useQuery({ queryKey: ['profiles'], queryFn: () => unwrap(api.GET('/api/ca/v1/profiles')) });
  const [ca, setCa] = useState<string | null>(defaultCa ?? null);
  const [profile, setProfile] = useState<string | null>(null);
  const [csr, setCsr] = useState('');
  const issue = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/api/ca/v1/cas/{id}/certificates/sign', { params: { path: { id: ca! } }, body: { csr, ...(profile ? { profile_id: profile } : {}) } })),
    onSuccess: (cert) => {
      void qc.invalidateQueries();
      onClose();
      navigate(`/certificates/${cert.serial_number}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    issue.mutate();
  };
  const caChoices = (cas.data ?? []).filter((c) => c.type !== 'IMPORTED_WITHOUT_KEY').map((c) => ({ value: c.id, label: `${cnOf(c.certificate.subject)} (${c.id})` }));
  return (
    <form onSubmit={submit}>
      <Stack>
        <Select label="Issuing CA" data={caChoices} value={ca} onChange={setCa} required searchable />
        <Select
          label="Issuance profile"
          description="Empty: the CA's default profile"
          data={(profiles.data?.list ?? []).map((p) => ({ value: p.id, label: p.name }))}
          value={profile}
          onChange={setProfile}
          clearable
        />
        <Textarea
          label="CSR (PEM)"
          placeholder="-----BEGIN CERTIFICATE REQUEST-----"
          autosize
          minRows={6}
          maxRows={14}
          value={csr}
          onChange={(e) => setCsr(e.currentTarget.value)}
          required
          styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
        />
        <Group>
          <FileButton onChange={(f) => void f?.text().then(setCsr)} accept=".csr,.pem,.req,text/plain">
            {(props) => (
              <Button variant="default" size="xs" {...props}>
                Upload a CSR file
              </Button>
            )}
          </FileButton>
        </Group>
        <ErrorAlert error={issue.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={issue.isPending} disabled={!ca || !csr.trim()}>
            Issue certificate
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

const KEYS: Record<string, { type: 'ECDSA' | 'RSA' | 'ED25519'; bits: number }> = {
  'ECDSA P-256': { type: 'ECDSA', bits: 256 },
  'ECDSA P-384': { type: 'ECDSA', bits: 384 },
  'RSA 2048': { type: 'RSA', bits: 2048 },
  'RSA 3072': { type: 'RSA', bits: 3072 },
  Ed25519: { type: 'ED25519', bits: 256 },
};

/** The server makes the key and issues its certificate; the PKCS#8 key is shown once and never stored. */
function IssueWithServerKey({ onClose, defaultCa }: { onClose: () => void; defaultCa?: string }) {
  const qc = useQueryClient();
  const cas = useCas();
  const profiles = useQuery({ queryKey: ['profiles'], queryFn: () => unwrap(api.GET('/api/ca/v1/profiles')) });
  const [ca, setCa] = useState<string | null>(defaultCa ?? null);
  const [profile, setProfile] = useState<string | null>(null);
  const [cn, setCn] = useState('');
  const [key, setKey] = useState<string | null>('ECDSA P-256');
  const issue = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/ca/v1/certificates', {
          body: { ca_id: ca!, key_spec: KEYS[key ?? 'ECDSA P-256']!, subject: { common_name: cn }, ...(profile ? { issuance_profile_id: profile } : {}) },
        }),
      ),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['certificates'] }),
  });
  if (issue.data) {
    const c = issue.data;
    const keyPem = c.private_key ? pemOf(c.private_key) : undefined;
    return (
      <Stack>
        <Text size="sm">
          Issued <Link href={`/certificates/${c.serial_number}`} onClick={onClose}>{c.serial_number}</Link>.
        </Text>
        {keyPem && (
          <>
            <Text size="sm" c="red" fw={500}>
              The private key is shown this once: the server does not keep it. Download it now.
            </Text>
            <Group gap="xs">
              <Button size="xs" onClick={() => download(`${c.serial_number}.key`, keyPem)}>
                Download private key (PKCS#8)
              </Button>
              <Button size="xs" variant="light" onClick={() => download(`${c.serial_number}.pem`, pemOf(c.certificate))}>
                Download certificate
              </Button>
            </Group>
          </>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Close
          </Button>
        </Group>
      </Stack>
    );
  }
  const caChoices = (cas.data ?? []).filter((c) => c.type !== 'IMPORTED_WITHOUT_KEY').map((c) => ({ value: c.id, label: `${cnOf(c.certificate.subject)} (${c.id})` }));
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        issue.mutate();
      }}
    >
      <Stack>
        <Select label="Issuing CA" data={caChoices} value={ca} onChange={setCa} required searchable />
        <Select
          label="Issuance profile"
          description="Empty: the CA's default profile"
          data={(profiles.data?.list ?? []).map((p) => ({ value: p.id, label: p.name }))}
          value={profile}
          onChange={setProfile}
          clearable
        />
        <TextInput label="Common name" value={cn} onChange={(e) => setCn(e.currentTarget.value)} required />
        <Select label="Key" data={Object.keys(KEYS)} value={key} onChange={setKey} allowDeselect={false} />
        <ErrorAlert error={issue.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={issue.isPending} disabled={!ca || !cn.trim()}>
            Issue with a server key
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function CertificateDetails({ serial }: { serial: string }) {
  const { canWrite } = useAuth();
  const cert = useQuery({
    queryKey: ['certificate', serial],
    queryFn: () => unwrap(api.GET('/api/ca/v1/certificates/{serial}', { params: { path: { serial } } })),
  });
  const der = useMemo(() => (cert.data ? derOf(pemOf(cert.data.certificate)) : undefined), [cert.data]);
  if (cert.isPending) return <Loading />;
  if (cert.error) return <ErrorAlert error={cert.error} />;
  const c = cert.data;
  const pem = pemOf(c.certificate);
  const caId = c.issuer_metadata.id;
  return (
    <Card withBorder>
      <Stack>
        <Group justify="space-between">
          <Title order={3}>{cnOf(c.subject)}</Title>
          <StatusBadge status={c.status} reason={c.revocation_reason} />
        </Group>
        <Fields
          rows={[
            ['Serial number', <span data-testid="serial">{c.serial_number}</span>],
            ['Subject', Object.entries(c.subject).map(([k, v]) => `${k}=${v}`).join(', ')],
            ['Issuer', Object.entries(c.issuer).map(([k, v]) => `${k}=${v}`).join(', ')],
            ['Issuing CA', caId ? <Link href={`/cas/${encodeURIComponent(caId)}`}>{caId}</Link> : '—'],
            ['Valid from', when(c.valid_from)],
            ['Valid to', when(c.valid_to)],
            ['About to expire from', when(c.about_to_expire_from)],
            ['Key', `${c.key_metadata.type} ${c.key_metadata.bits} (${c.key_metadata.strength})`],
            ['Key usage', c.extensions.key_usage.join(', ') || '—'],
            ['Extended key usage', c.extensions.extended_key_usage.join(', ') || '—'],
            ['CA certificate', c.is_ca ? 'yes' : 'no'],
            ['Subject key id', c.subject_key_id],
            ['Authority key id', c.authority_key_id],
            ['Type', c.type],
            ...(c.status === 'REVOKED'
              ? ([
                  ['Revoked at', when(c.revocation_timestamp)],
                  ['Revocation reason', c.revocation_reason],
                ] as [string, string | null][])
              : []),
          ]}
        />
        <Group gap="xs">
          <Button size="xs" variant="light" onClick={() => download(`${c.serial_number}.pem`, pem)}>
            Download PEM
          </Button>
          {der && (
            <Button size="xs" variant="light" onClick={() => download(`${c.serial_number}.cer`, der as Uint8Array<ArrayBuffer>, 'application/pkix-cert')}>
              Download DER
            </Button>
          )}
        </Group>
        {canWrite && caId && (
          <StatusActions
            what="certificate"
            status={c.status}
            reason={c.revocation_reason}
            change={(body) => unwrap(api.PUT('/api/ca/v1/certificates/{serial}/status', { params: { path: { serial: c.serial_number }, query: { ca_id: caId } }, body }))}
          />
        )}
        {der && <CertificateText der={der} />}
        <Title order={5}>PEM</Title>
        <Code block style={{ fontSize: 11 }}>
          {pem}
        </Code>
      </Stack>
    </Card>
  );
}

const CERTIFICATE_COLUMNS: Column<Certificate>[] = [
  { header: 'Common name', cell: (c) => <Link href={`/certificates/${c.serial_number}`}>{cnOf(c.subject)}</Link> },
  { header: 'Serial', cell: (c) => c.serial_number, mono: true },
  { header: 'Issuing CA', cell: (c) => c.issuer_metadata.id },
  { header: 'Status', cell: (c) => <StatusBadge status={c.status} reason={c.revocation_reason} /> },
  { header: 'Valid to', cell: (c) => when(c.valid_to) },
];

function CertificateTable({ filters }: { filters: Filters }) {
  const pager = useBookmarks(JSON.stringify(filters));
  const { bookmark } = pager;
  const page = useQuery({
    queryKey: ['certificates', filters, bookmark],
    queryFn: () =>
      unwrap(
        api.GET('/api/ca/v1/certificates', {
          params: {
            query: {
              page_size: PAGE_SIZE,
              sort_by: 'created_at',
              sort_mode: 'desc',
              ...(bookmark ? { bookmark } : {}),
              ...(filters.ca ? { ca_id: filters.ca } : {}),
              ...(filters.status ? { status: filters.status } : {}),
              ...(filters.cn ? { common_name: filters.cn.endsWith('*') ? filters.cn : `${filters.cn}*` } : {}),
              ...(filters.serial ? { serial_number: filters.serial.toLowerCase().replaceAll(':', '') } : {}),
              ...(filters.expiresAfter ? { expires_after: new Date(filters.expiresAfter).toISOString() } : {}),
              ...(filters.expiresBefore ? { expires_before: new Date(filters.expiresBefore).toISOString() } : {}),
            },
          },
        }),
      ),
    placeholderData: (previous) => previous,
  });
  if (page.error) return <ErrorAlert error={page.error} />;
  if (!page.data) return <Loading />;
  return (
    <PagedTable
      label="Certificates"
      columns={CERTIFICATE_COLUMNS}
      rows={page.data.list}
      rowKey={(c) => c.id}
      next={page.data.next}
      pager={pager}
      empty="No certificate matches."
      minWidth={700}
    />
  );
}

export default function Certificates() {
  const { serial } = useParams<{ serial?: string }>();
  const search = new URLSearchParams(useSearch());
  const { canWrite } = useAuth();
  const cas = useCas();
  const [filters, setFilters] = useState<Filters>({ ca: search.get('ca') ?? undefined });
  const [draft, setDraft] = useState<Filters>(filters);
  const [issuing, setIssuing] = useState(false);
  const set = (k: keyof Filters) => (v: string | null) => setDraft((d) => ({ ...d, [k]: v || undefined }));
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Certificates</Title>
        {canWrite && <Button onClick={() => setIssuing(true)}>Issue certificate</Button>}
      </Group>
      {serial ? (
        <>
          <Group>
            <Button size="xs" variant="subtle" component={Link} href="/certificates">
              ← All certificates
            </Button>
          </Group>
          <CertificateDetails serial={serial} />
        </>
      ) : (
        <>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              setFilters(draft);
            }}
          >
            <Group align="flex-end" gap="xs">
              <Select
                label="CA"
                data={(cas.data ?? []).map((c) => ({ value: c.id, label: c.id }))}
                value={draft.ca ?? null}
                onChange={set('ca')}
                clearable
                searchable
                w={180}
              />
              <Select label="Status" data={STATUSES} value={draft.status ?? null} onChange={set('status')} clearable w={170} />
              <TextInput label="Common name" description="prefix" value={draft.cn ?? ''} onChange={(e) => set('cn')(e.currentTarget.value)} w={170} />
              <TextInput label="Serial" value={draft.serial ?? ''} onChange={(e) => set('serial')(e.currentTarget.value)} w={170} />
              <TextInput label="Expires after" type="date" value={draft.expiresAfter ?? ''} onChange={(e) => set('expiresAfter')(e.currentTarget.value)} w={150} />
              <TextInput label="Expires before" type="date" value={draft.expiresBefore ?? ''} onChange={(e) => set('expiresBefore')(e.currentTarget.value)} w={150} />
              <Button type="submit" variant="light">
                Filter
              </Button>
            </Group>
          </form>
          <CertificateTable filters={filters} />
        </>
      )}
      <Modal opened={issuing} onClose={() => setIssuing(false)} title="Issue a certificate" size="lg">
        <Tabs defaultValue="csr">
          <Tabs.List mb="md">
            <Tabs.Tab value="csr">From a CSR</Tabs.Tab>
            <Tabs.Tab value="server-key">With a key made by the server</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="csr">
            <IssueFromCsr onClose={() => setIssuing(false)} defaultCa={filters.ca} />
          </Tabs.Panel>
          <Tabs.Panel value="server-key">
            <IssueWithServerKey onClose={() => setIssuing(false)} defaultCa={filters.ca} />
          </Tabs.Panel>
        </Tabs>
      </Modal>
    </Stack>
  );
}
