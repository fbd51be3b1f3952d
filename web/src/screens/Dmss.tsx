/**
 * DMSs: the list, an editor for every setting (enrollment CA and authorized CAs, issuance profile, EST
 * authentication and its options, registration mode, device id source, what new devices get, re-enrollment
 * and Lamassu's expiry deltas, server keygen and its keys, CA distribution), the EST URLs to give a factory
 * with a copyable curl example, and the DMS certificate.
 */
import { Button, Card, Checkbox, Grid, Group, MultiSelect, NumberInput, PasswordInput, Select, Stack, Table, TagsInput, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useLocation, useParams } from 'wouter';
import { api, ApiError, getJson, pemOf, unwrap } from '../api/client';
import type { Dms, DmsCreate, Page } from '../api/types';
import { useAuth } from '../auth';
import { CopyBlock, download, ErrorAlert, Loading, StatusBadge, when } from '../components/common';
import { useCas } from './Cas';

const AUTH_MODES = ['DMS_CERTIFICATE', 'CLIENT_CERTIFICATE', 'HTTP_BASIC', 'EXTERNAL_WEBHOOK', 'NO_AUTH'];

type KeySpec = { type: 'RSA' | 'ECDSA' | 'ED25519'; bits: number };
const KEY_SPECS: (KeySpec & { label: string })[] = [
  { type: 'ECDSA', bits: 256, label: 'ECDSA P-256' },
  { type: 'ECDSA', bits: 384, label: 'ECDSA P-384' },
  { type: 'ECDSA', bits: 521, label: 'ECDSA P-521' },
  { type: 'RSA', bits: 2048, label: 'RSA 2048' },
  { type: 'RSA', bits: 3072, label: 'RSA 3072' },
  { type: 'RSA', bits: 4096, label: 'RSA 4096' },
  { type: 'ED25519', bits: 256, label: 'Ed25519' },
];
const keyLabel = (k: KeySpec) => KEY_SPECS.find((s) => s.type === k.type && s.bits === k.bits)?.label ?? `${k.type} ${k.bits}`;
const keyOf = (label: string | null): KeySpec => {
  const { type, bits } = KEY_SPECS.find((s) => s.label === label) ?? KEY_SPECS[0]!;
  return { type, bits };
};

/** A heading between groups of settings. */
const Section = ({ title }: { title: string }) => (
  <Title order={4} mt="xs">
    {title}
  </Title>
);

const newDms = (): DmsCreate => ({
  id: '',
  name: '',
  authorized_cas: [],
  settings: {
    enrollment_settings: {
      enrollment_ca: '',
      protocol: 'EST_RFC7030',
      registration_mode: 'JITP',
      est_rfc7030_settings: { auth_mode: 'HTTP_BASIC', client_certificate_settings: { validation_cas: [], allow_expired: false } },
      verify_csr_signature: true,
      enable_replaceable_enrollment: false,
      device_id_source: 'common_name',
      device_provisioning_profile: { tags: [], metadata: {} },
    },
    reenrollment_settings: { reenrollment_delta: '30d', enable_expired_renewal: false, revoke_on_reenrollment: true, additional_validation_cas: [] },
    server_keygen_settings: { enabled: true, key: { type: 'ECDSA', bits: 256 }, allowed_keys: [{ type: 'ECDSA', bits: 256 }, { type: 'ECDSA', bits: 384 }, { type: 'RSA', bits: 2048 }, { type: 'RSA', bits: 3072 }] },
    ca_distribution_settings: { include_enrollment_ca: true, include_chain: true, managed_cas: [] },
    issuance_profile_id: null,
  },
});

function EstUrls({ dms }: { dms: DmsCreate }) {
  const base = `${window.location.origin}/.well-known/est/${encodeURIComponent(dms.id)}`;
  const mode = dms.settings.enrollment_settings.est_rfc7030_settings.auth_mode;
  const user = dms.settings.enrollment_settings.est_rfc7030_settings.http_basic?.username ?? 'USER';
  const auth =
    mode === 'HTTP_BASIC' ? ` \\\n  --user '${user}:PASSWORD'` : mode === 'NO_AUTH' || mode === 'EXTERNAL_WEBHOOK' ? '' : ` \\\n  --cert client.pem --key client.key`;
  const curl =
    `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout device.key \\\n  -subj /CN=DEVICE-ID -outform DER -out device.csr.der\n` +
    `openssl base64 -in device.csr.der -out device.csr.b64\n` +
    `curl --cacert server-ca.pem${auth} \\\n  -H 'Content-Type: application/pkcs10' --data-binary @device.csr.b64 \\\n  ${base}/simpleenroll -o device.p7.b64\n` +
    `openssl base64 -d -in device.p7.b64 | openssl pkcs7 -inform DER -print_certs -out device.pem`;
  return (
    <Card withBorder data-testid="est-urls">
      <Stack>
        <Title order={4}>EST for the factory</Title>
        <CopyBlock label="CA certificates (cacerts)" value={`${base}/cacerts`} />
        <CopyBlock label="Enroll (simpleenroll)" value={`${base}/simpleenroll`} />
        <CopyBlock label="Re-enroll (simplereenroll)" value={`${base}/simplereenroll`} />
        <CopyBlock label="Enroll with curl" value={curl} />
      </Stack>
    </Card>
  );
}

interface DmsCertificate {
  serial_number: string;
  issuer_ca_id: string;
  status: string;
  valid_from: string;
  valid_to: string;
  revocation_reason: string | null;
  certificate: string;
  chain?: string[];
  private_key?: string;
}

/**
 * The DMS certificate (issued by LAMASSU-DMS-MANAGER), with which a DMS_CERTIFICATE factory authenticates
 * over EST. A new one revokes the previous one; its private key is made by the server and offered once, or
 * the factory keeps its key and sends a CSR.
 */
function DmsCertificatePanel({ id }: { id: string }) {
  const qc = useQueryClient();
  const { canWrite } = useAuth();
  const url = `/api/dmsmanager/v1/dms/${encodeURIComponent(id)}/certificate`;
  const current = useQuery({
    queryKey: ['dms-certificate', id],
    queryFn: () => getJson<DmsCertificate>(url).catch((err: unknown) => (err instanceof ApiError && err.code === 'DMS_CERTIFICATE_MISSING' ? null : Promise.reject(err))),
  });
  const refresh = () => void qc.invalidateQueries({ queryKey: ['dms-certificate', id] });
  const [csr, setCsr] = useState('');
  const [withCsr, setWithCsr] = useState(false);
  const issue = useMutation({
    mutationFn: (fromCsr?: string) =>
      unwrap(api.POST('/api/dmsmanager/v1/dms/{id}/certificate', { params: { path: { id } }, body: fromCsr ? { csr: fromCsr } : { key: { type: 'ECDSA', bits: 256 } } })) as unknown as Promise<DmsCertificate>,
    onSuccess: () => {
      setWithCsr(false);
      setCsr('');
      refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: () => unwrap(api.POST('/api/dmsmanager/v1/dms/{id}/certificate/revoke', { params: { path: { id } }, body: {} })),
    onSuccess: refresh,
  });
  const c = current.data;
  const fresh = issue.data;
  return (
    <Card withBorder data-testid="dms-certificate">
      <Stack gap="xs">
        <Title order={4}>DMS certificate</Title>
        <ErrorAlert error={current.error ?? issue.error ?? revoke.error} />
        {c === null && <Text size="sm">None: a DMS_CERTIFICATE factory needs one.</Text>}
        {c && (
          <Group gap="xs">
            <Text size="sm" style={{ fontFamily: 'monospace' }}>
              <Link href={`/certificates/${c.serial_number}`}>{c.serial_number}</Link>
            </Text>
            <StatusBadge status={c.status} reason={c.revocation_reason} />
            <Text size="xs">valid to {when(c.valid_to)}</Text>
          </Group>
        )}
        {fresh && (
          <Stack gap={4}>
            {fresh.private_key && (
              <Text size="sm" c="red" fw={500}>
                The private key is shown this once: the server does not keep it. Download it now.
              </Text>
            )}
            <Group gap="xs">
              {fresh.private_key && (
                <Button size="xs" onClick={() => download(`${id}.key`, pemOf(fresh.private_key!))}>
                  Download private key
                </Button>
              )}
              <Button size="xs" variant="light" onClick={() => download(`${id}.pem`, [fresh.certificate, ...(fresh.chain ?? [])].map(pemOf).join(''))}>
                Download certificate and chain
              </Button>
            </Group>
          </Stack>
        )}
        {canWrite && (
          <Group gap="xs">
            <Button size="xs" variant="light" loading={issue.isPending && !withCsr} onClick={() => issue.mutate(undefined)}>
              {c ? 'Issue a new one (revokes this)' : 'Issue with a server key'}
            </Button>
            <Button size="xs" variant="default" onClick={() => setWithCsr((v) => !v)} aria-expanded={withCsr}>
              Issue from a CSR
            </Button>
            {c && c.status !== 'REVOKED' && (
              <Button size="xs" color="red" variant="light" loading={revoke.isPending} onClick={() => revoke.mutate()}>
                Revoke DMS certificate
              </Button>
            )}
          </Group>
        )}
        {canWrite && withCsr && (
          <Stack gap={4}>
            <Textarea label="DMS CSR (PEM)" description="the factory keeps its key; a new certificate revokes the current one" value={csr} onChange={(ev) => setCsr(ev.currentTarget.value)} autosize minRows={3} styles={{ input: { fontFamily: 'monospace', fontSize: 11 } }} />
            <Group gap="xs">
              <Button size="xs" loading={issue.isPending} disabled={!csr.trim()} onClick={() => issue.mutate(csr)}>
                Issue from CSR
              </Button>
            </Group>
          </Stack>
        )}
      </Stack>
    </Card>
  );
}

const NOT_AN_OBJECT = 'must be a JSON object, e.g. {"site": "line 7"}';

/** The text as a JSON object, or undefined when it is not one. */
function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text || '{}');
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function DmsEditor({ initial, isNew }: { initial: DmsCreate; isNew: boolean }) {
  const qc = useQueryClient();
  const { canWrite } = useAuth();
  const [, navigate] = useLocation();
  const cas = useCas();
  const [d, setD] = useState<DmsCreate>(initial);
  const patch = (change: (draft: DmsCreate) => void) =>
    setD((old) => {
      const next = structuredClone(old);
      change(next);
      return next;
    });
  const profiles = useQuery({ queryKey: ['profiles'], queryFn: () => unwrap(api.GET('/api/ca/v1/profiles')) });
  const [metadataText, setMetadataText] = useState(() => JSON.stringify(initial.settings.enrollment_settings.device_provisioning_profile.metadata ?? {}, null, 2));
  const [metadataError, setMetadataError] = useState<string>();
  const [ownMetadataText, setOwnMetadataText] = useState(() => JSON.stringify(initial.metadata ?? {}, null, 2));
  const [ownMetadataError, setOwnMetadataError] = useState<string>();
  const e = d.settings.enrollment_settings;
  const est = e.est_rfc7030_settings;
  const save = useMutation({
    mutationFn: async ({ metadata, own }: { metadata: Record<string, unknown>; own: Record<string, unknown> }) => {
      const body = structuredClone(d);
      body.settings.enrollment_settings.device_provisioning_profile.metadata = metadata;
      body.metadata = own;
      const { id, ...update } = body;
      if (isNew) return unwrap(api.POST('/api/dmsmanager/v1/dms', { body }));
      return unwrap(api.PUT('/api/dmsmanager/v1/dms/{id}', { params: { path: { id } }, body: update }));
    },
    onSuccess: () => {
      void qc.invalidateQueries();
      if (isNew) navigate(`/dms/${encodeURIComponent(d.id)}`);
    },
  });
  const caIds = (cas.data ?? []).map((c) => ({ value: c.id, label: c.id }));
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const metadata = jsonObject(metadataText);
    const own = jsonObject(ownMetadataText);
    setMetadataError(metadata ? undefined : NOT_AN_OBJECT);
    setOwnMetadataError(own ? undefined : NOT_AN_OBJECT);
    if (metadata && own) save.mutate({ metadata, own });
  };
  return (
    <Grid>
      <Grid.Col span={{ base: 12, lg: 7 }}>
        <Card withBorder>
          <form onSubmit={submit}>
            <fieldset disabled={!canWrite} style={{ border: 0, padding: 0, margin: 0 }}>
              <Stack>
                <Group grow>
                  <TextInput label="DMS id" description="Also the EST label" value={d.id} onChange={(ev) => { const v = ev.currentTarget.value; patch((x) => void (x.id = v)); }} required disabled={!isNew} />
                  <TextInput label="Name" value={d.name} onChange={(ev) => { const v = ev.currentTarget.value; patch((x) => void (x.name = v)); }} required />
                </Group>
                <Textarea label="DMS metadata" description="the DMS's own labels, a JSON object (devices do not get these)" value={ownMetadataText} onChange={(ev) => setOwnMetadataText(ev.currentTarget.value)} autosize minRows={2} styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} error={ownMetadataError} />

                <Section title="Enrollment" />
                <Group grow>
                  <Select label="Enrollment CA" data={caIds} value={e.enrollment_ca || null} onChange={(v) => patch((x) => void (x.settings.enrollment_settings.enrollment_ca = v ?? ''))} required searchable />
                  <MultiSelect label="Authorized CAs" description="CAs whose certificates this DMS may re-enroll and manage" data={caIds} value={d.authorized_cas ?? []} onChange={(v) => patch((x) => void (x.authorized_cas = v))} searchable />
                </Group>
                <Group grow>
                  <Select label="Registration mode" description="JITP: devices are created at first enrollment" data={['JITP', 'PRE_REGISTRATION']} value={e.registration_mode} onChange={(v) => patch((x) => void (x.settings.enrollment_settings.registration_mode = (v ?? 'JITP') as typeof e.registration_mode))} allowDeselect={false} />
                  <Select label="Issuance profile" description="Empty: the enrollment CA's default" data={(profiles.data?.list ?? []).map((p) => ({ value: p.id, label: p.name }))} value={d.settings.issuance_profile_id ?? null} onChange={(v) => patch((x) => void (x.settings.issuance_profile_id = v))} clearable />
                </Group>
                <Group grow>
                  <Select label="Device id from" data={['common_name', 'serial_number']} value={e.device_id_source} onChange={(v) => patch((x) => void (x.settings.enrollment_settings.device_id_source = (v ?? 'common_name') as typeof e.device_id_source))} allowDeselect={false} />
                </Group>
                <Checkbox label="Verify CSR signatures" checked={e.verify_csr_signature} onChange={(ev) => { const v = ev.currentTarget.checked; patch((x) => void (x.settings.enrollment_settings.verify_csr_signature = v)); }} />
                <Checkbox label="Allow enrolling again a device that has a certificate (replaceable enrollment)" checked={e.enable_replaceable_enrollment} onChange={(ev) => { const v = ev.currentTarget.checked; patch((x) => void (x.settings.enrollment_settings.enable_replaceable_enrollment = v)); }} />

                <Section title="EST authentication" />
                <Select label="EST authentication" data={AUTH_MODES} value={est.auth_mode} onChange={(v) => patch((x) => void (x.settings.enrollment_settings.est_rfc7030_settings.auth_mode = (v ?? 'DMS_CERTIFICATE') as typeof est.auth_mode))} allowDeselect={false} />
                {est.auth_mode === 'HTTP_BASIC' && (
                  <Group grow>
                    <TextInput label="HTTP Basic user" value={est.http_basic?.username ?? ''} onChange={(ev) => { const v = ev.currentTarget.value; patch((x) => void (x.settings.enrollment_settings.est_rfc7030_settings.http_basic = { ...x.settings.enrollment_settings.est_rfc7030_settings.http_basic, username: v })); }} required />
                    <PasswordInput label="HTTP Basic password" description={isNew ? undefined : 'Empty keeps the stored one'} value={est.http_basic?.password ?? ''} onChange={(ev) => { const v = ev.currentTarget.value; patch((x) => { const hb = x.settings.enrollment_settings.est_rfc7030_settings.http_basic ?? { username: '' }; x.settings.enrollment_settings.est_rfc7030_settings.http_basic = v ? { ...hb, password: v } : { username: hb.username }; }); }} required={isNew} />
                  </Group>
                )}
                {est.auth_mode === 'CLIENT_CERTIFICATE' && (
                  <>
                    <MultiSelect label="Client certificates validated by" data={caIds} value={est.client_certificate_settings.validation_cas} onChange={(v) => patch((x) => void (x.settings.enrollment_settings.est_rfc7030_settings.client_certificate_settings.validation_cas = v))} />
                    <Group grow align="flex-end">
                      <Checkbox label="Accept expired client certificates" checked={est.client_certificate_settings.allow_expired} onChange={(ev) => { const v = ev.currentTarget.checked; patch((x) => void (x.settings.enrollment_settings.est_rfc7030_settings.client_certificate_settings.allow_expired = v)); }} />
                      <NumberInput label="Chain level validation" description="Lamassu's; kept, not enforced (-1: any)" min={-1} max={64} value={est.client_certificate_settings.chain_level_validation ?? ''} onChange={(v) => patch((x) => { const c = x.settings.enrollment_settings.est_rfc7030_settings.client_certificate_settings; if (typeof v === 'number') c.chain_level_validation = v; else delete c.chain_level_validation; })} />
                    </Group>
                  </>
                )}
                {est.auth_mode === 'EXTERNAL_WEBHOOK' && (
                  <Group grow>
                    <TextInput label="Webhook URL" description="asked to approve each enrollment" value={est.external_webhook_settings?.url ?? ''} onChange={(ev) => { const v = ev.currentTarget.value; patch((x) => void (x.settings.enrollment_settings.est_rfc7030_settings.external_webhook_settings = { url: v, timeout: x.settings.enrollment_settings.est_rfc7030_settings.external_webhook_settings?.timeout ?? '10s' })); }} required />
                    <TextInput label="Webhook timeout" description="e.g. 10s" value={est.external_webhook_settings?.timeout ?? '10s'} onChange={(ev) => { const v = ev.currentTarget.value; patch((x) => void (x.settings.enrollment_settings.est_rfc7030_settings.external_webhook_settings = { url: x.settings.enrollment_settings.est_rfc7030_settings.external_webhook_settings?.url ?? '', timeout: v })); }} />
                  </Group>
                )}

                <Section title="Devices it creates" />
                <Group grow align="flex-start">
                  <TagsInput label="Device tags" description="Enter after each" value={e.device_provisioning_profile.tags} onChange={(v) => patch((x) => void (x.settings.enrollment_settings.device_provisioning_profile.tags = v))} />
                  <TextInput label="Device icon" description="console icon name" value={e.device_provisioning_profile.icon ?? ''} onChange={(ev) => { const v = ev.currentTarget.value; patch((x) => { const p = x.settings.enrollment_settings.device_provisioning_profile; if (v) p.icon = v; else delete p.icon; }); }} />
                  <TextInput label="Icon colours" description='"#bg-#fg"' value={e.device_provisioning_profile.icon_color ?? ''} onChange={(ev) => { const v = ev.currentTarget.value; patch((x) => { const p = x.settings.enrollment_settings.device_provisioning_profile; if (v) p.icon_color = v; else delete p.icon_color; }); }} />
                </Group>
                <Textarea label="Device metadata" description="a JSON object given to each new device" value={metadataText} onChange={(ev) => setMetadataText(ev.currentTarget.value)} autosize minRows={2} styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} error={metadataError} />

                <Section title="Re-enrollment" />
                <Group grow align="flex-start">
                  <TextInput label="Re-enrollment window" description="before expiry, e.g. 30d" value={d.settings.reenrollment_settings.reenrollment_delta} onChange={(ev) => { const v = ev.currentTarget.value; patch((x) => void (x.settings.reenrollment_settings.reenrollment_delta = v)); }} />
                  <MultiSelect label="Additional validation CAs" description="also accepted for re-enrollment" data={caIds} value={d.settings.reenrollment_settings.additional_validation_cas} onChange={(v) => patch((x) => void (x.settings.reenrollment_settings.additional_validation_cas = v))} />
                </Group>
                <Checkbox label="Revoke the old certificate on re-enrollment" checked={d.settings.reenrollment_settings.revoke_on_reenrollment} onChange={(ev) => { const v = ev.currentTarget.checked; patch((x) => void (x.settings.reenrollment_settings.revoke_on_reenrollment = v)); }} />
                <Checkbox label="Re-enroll with an expired certificate" checked={d.settings.reenrollment_settings.enable_expired_renewal} onChange={(ev) => { const v = ev.currentTarget.checked; patch((x) => void (x.settings.reenrollment_settings.enable_expired_renewal = v)); }} />
                <Group grow align="flex-start">
                  <TextInput label="Preventive delta" description="first certificate.expiring event, e.g. 30d; empty: the profile's or CA's" value={d.settings.reenrollment_settings.preventive_delta ?? ''} onChange={(ev) => { const v = ev.currentTarget.value; patch((x) => void (x.settings.reenrollment_settings.preventive_delta = v || null)); }} />
                  <TextInput label="Critical delta" description="second event, shorter, e.g. 7d" value={d.settings.reenrollment_settings.critical_delta ?? ''} onChange={(ev) => { const v = ev.currentTarget.value; patch((x) => void (x.settings.reenrollment_settings.critical_delta = v || null)); }} />
                </Group>

                <Section title="Server-side key generation" />
                <Checkbox label="Server-side key generation (serverkeygen)" checked={d.settings.server_keygen_settings.enabled} onChange={(ev) => { const v = ev.currentTarget.checked; patch((x) => void (x.settings.server_keygen_settings.enabled = v)); }} />
                <Group grow align="flex-start">
                  <Select label="Default key" data={KEY_SPECS.map((k) => k.label)} value={keyLabel(d.settings.server_keygen_settings.key)} onChange={(v) => patch((x) => void (x.settings.server_keygen_settings.key = keyOf(v)))} allowDeselect={false} disabled={!d.settings.server_keygen_settings.enabled} />
                  <MultiSelect label="Keys a device may ask for" data={KEY_SPECS.map((k) => k.label)} value={d.settings.server_keygen_settings.allowed_keys.map(keyLabel)} onChange={(v) => patch((x) => void (x.settings.server_keygen_settings.allowed_keys = v.map(keyOf)))} disabled={!d.settings.server_keygen_settings.enabled} />
                </Group>

                <Section title="CA distribution (cacerts)" />
                <Checkbox label="cacerts includes the enrollment CA" checked={d.settings.ca_distribution_settings.include_enrollment_ca} onChange={(ev) => { const v = ev.currentTarget.checked; patch((x) => void (x.settings.ca_distribution_settings.include_enrollment_ca = v)); }} />
                <Checkbox label="cacerts includes the enrollment CA's chain" checked={d.settings.ca_distribution_settings.include_chain} onChange={(ev) => { const v = ev.currentTarget.checked; patch((x) => void (x.settings.ca_distribution_settings.include_chain = v)); }} />
                <Checkbox label="Include the system CAs (Lamassu's; kept, not applied yet)" checked={d.settings.ca_distribution_settings.include_system_ca ?? false} onChange={(ev) => { const v = ev.currentTarget.checked; patch((x) => void (x.settings.ca_distribution_settings.include_system_ca = v)); }} />
                <MultiSelect label="Managed CAs" description="more CAs cacerts gives devices" data={caIds} value={d.settings.ca_distribution_settings.managed_cas} onChange={(v) => patch((x) => void (x.settings.ca_distribution_settings.managed_cas = v))} />
                <ErrorAlert error={save.error} />
                {save.isSuccess && !isNew && <Text size="sm" c="green">Saved.</Text>}
                {canWrite && (
                  <Group justify="flex-end">
                    <Button type="submit" loading={save.isPending}>
                      {isNew ? 'Create DMS' : 'Save'}
                    </Button>
                  </Group>
                )}
              </Stack>
            </fieldset>
          </form>
        </Card>
      </Grid.Col>
      <Grid.Col span={{ base: 12, lg: 5 }}>
        {!isNew && (
          <Stack>
            <EstUrls dms={d} />
            <DmsCertificatePanel id={d.id} />
          </Stack>
        )}
      </Grid.Col>
    </Grid>
  );
}

function DmsPage({ id }: { id: string }) {
  const dms = useQuery({ queryKey: ['dms', id], queryFn: () => getJson<Dms>(`/api/dmsmanager/v1/dms/${encodeURIComponent(id)}`) });
  if (dms.error) return <ErrorAlert error={dms.error} />;
  if (!dms.data) return <Loading />;
  const { creation_ts: _c, update_ts: _u, certificate: _cert, ...editable } = dms.data;
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        Created {when(dms.data.creation_ts)}; DMS certificate {dms.data.certificate ? dms.data.certificate.serial_number : 'none'};{' '}
        <Link href={`/devices?dms=${encodeURIComponent(id)}`}>its devices</Link>
      </Text>
      <DmsEditor key={dms.dataUpdatedAt} initial={editable} isNew={false} />
    </Stack>
  );
}

export default function Dmss() {
  const { id } = useParams<{ id?: string }>();
  const { canWrite } = useAuth();
  const list = useQuery({ queryKey: ['dmss'], queryFn: () => getJson<Page<Dms>>('/api/dmsmanager/v1/dms?page_size=1000'), enabled: !id });
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{id === 'new' ? 'New DMS' : id ? `DMS ${decodeURIComponent(id)}` : 'DMSs'}</Title>
        {canWrite && !id && (
          <Button component={Link} href="/dms/new">
            Create DMS
          </Button>
        )}
        {id && (
          <Button variant="subtle" component={Link} href="/dms">
            ← All DMSs
          </Button>
        )}
      </Group>
      {id === 'new' ? (
        canWrite ? <DmsEditor initial={newDms()} isNew /> : <Text>Your role may not create DMSs.</Text>
      ) : id ? (
        <DmsPage id={decodeURIComponent(id)} />
      ) : (
        <>
          <ErrorAlert error={list.error} />
          {list.isPending && <Loading />}
          {list.data && (
            <Table striped highlightOnHover aria-label="DMSs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Id</Table.Th>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Enrollment CA</Table.Th>
                  <Table.Th>Authentication</Table.Th>
                  <Table.Th>Created</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.data.list.map((x) => (
                  <Table.Tr key={x.id}>
                    <Table.Td>
                      <Link href={`/dms/${encodeURIComponent(x.id)}`}>{x.id}</Link>
                    </Table.Td>
                    <Table.Td>{x.name}</Table.Td>
                    <Table.Td>{x.settings.enrollment_settings.enrollment_ca}</Table.Td>
                    <Table.Td>{x.settings.enrollment_settings.est_rfc7030_settings.auth_mode}</Table.Td>
                    <Table.Td>{when(x.creation_ts)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
          {list.data?.list.length === 0 && <Text size="sm">No DMSs yet.</Text>}
        </>
      )}
    </Stack>
  );
}
