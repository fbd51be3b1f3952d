/**
 * Alerts: a user's subscriptions (event type or pattern, conditions, channel), subscribe, send a test,
 * unsubscribe, and a subscription's delivery log. Subscriptions belong to a user: everyone manages their own
 * (the server allows a pki-viewer that too); a pki-admin may open anyone's by user id.
 */
import { Alert, Badge, Button, Code, Group, Modal, SegmentedControl, Select, Stack, Table, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useLocation, useParams, useSearch } from 'wouter';
import { ApiError, getJson, sendJson } from '../api/client';
import type { AlertCondition, Delivery, LatestEvent, Subscription } from '../api/types';
import { useAuth } from '../auth';
import { CopyBlock, ErrorAlert, Loading, when } from '../components/common';

const CHANNELS = ['EMAIL', 'WEBHOOK', 'MSTEAMS'] as const;
type ChannelType = (typeof CHANNELS)[number];
const CHANNEL_LABELS: Record<ChannelType, string> = { EMAIL: 'Email', WEBHOOK: 'Webhook', MSTEAMS: 'Microsoft Teams' };
/** Event types the server publishes (docs/alerts.md); any other type or pattern can be typed in. */
const KNOWN_TYPES = ['#', 'certificate.#', 'certificate.status.update', 'certificate.expiring', 'ca.#', 'ca.create', 'dms.#', 'device.#', 'device.status.update'];
const DELIVERY_COLORS: Record<Delivery['status'], string> = { pending: 'blue', sending: 'blue', delivered: 'green', failed: 'red' };

const enc = encodeURIComponent;

/** The user's subscriptions; null when the alerts service does not run on this server. */
function useSubscriptions(user: string) {
  return useQuery({
    queryKey: ['subscriptions', user],
    queryFn: async () => {
      try {
        return await getJson<Subscription[]>(`/api/alerts/v1/user/${enc(user)}/subscriptions`);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'ROUTE_NOT_FOUND') return null;
        throw err;
      }
    },
    enabled: user !== '',
  });
}

const target = (s: Subscription) => String(s.channel.config.email ?? s.channel.config.webhook_url ?? '');

function SubscribeForm({ user, onDone }: { user: string; onDone: () => void }) {
  const qc = useQueryClient();
  const latest = useQuery({ queryKey: ['latest-event-types'], queryFn: () => getJson<LatestEvent[]>('/api/alerts/v1/events/latest').catch(() => []) });
  const [eventType, setEventType] = useState('certificate.#');
  const [mode, setMode] = useState<'any' | 'all'>('any');
  const [conditions, setConditions] = useState<AlertCondition[]>([]);
  const [channel, setChannel] = useState<ChannelType>('EMAIL');
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [method, setMethod] = useState('POST');
  const subscribe = useMutation({
    mutationFn: () => {
      const config: Record<string, unknown> =
        channel === 'EMAIL' ? { email: address } : channel === 'WEBHOOK' ? { webhook_url: address, webhook_method: method } : { webhook_url: address };
      return sendJson<Subscription & { webhook_secret?: string }>('POST', `/api/alerts/v1/user/${enc(user)}/subscribe`, {
        event_type: eventType,
        conditions,
        condition_mode: mode,
        channel: { type: channel, ...(name ? { name } : {}), config },
      });
    },
    onSuccess: (s) => {
      void qc.invalidateQueries({ queryKey: ['subscriptions', user] });
      if (!s.webhook_secret) onDone();
    },
  });
  const setCondition = (i: number, c: Partial<AlertCondition>) => setConditions((cs) => cs.map((x, j) => (j === i ? { ...x, ...c } : x)));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    subscribe.mutate();
  };
  if (subscribe.data?.webhook_secret) {
    return (
      <Stack>
        <Alert color="yellow" title="The webhook's signing secret is shown this once">
          <Text size="sm">Every request carries X-Lamassu-Signature: an HMAC-SHA256 with this secret (docs/alerts.md). Keep it with the receiver.</Text>
        </Alert>
        <CopyBlock label="Webhook signing secret" value={subscribe.data.webhook_secret} />
        <Group justify="flex-end">
          <Button onClick={onDone}>Done</Button>
        </Group>
      </Stack>
    );
  }
  const types = [...new Set([...KNOWN_TYPES, ...(latest.data ?? []).map((e) => e.event_types)])];
  return (
    <form onSubmit={submit}>
      <Stack>
        <TextInput
          label="Event type"
          description="A type, or a pattern: * is one word, # any number (certificate.# matches certificate.status.update)"
          value={eventType}
          onChange={(e) => setEventType(e.currentTarget.value)}
          list="alert-event-types"
          required
        />
        <datalist id="alert-event-types">
          {types.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
        <Stack gap="xs">
          <Group justify="space-between">
            <Text size="sm" fw={500}>
              Conditions {conditions.length === 0 && '(none: every event of the type)'}
            </Text>
            <Button size="compact-xs" variant="light" onClick={() => setConditions((cs) => [...cs, { type: 'JSON-PATH', condition: '$.data' }])}>
              Add condition
            </Button>
          </Group>
          {conditions.length > 1 && (
            <SegmentedControl
              aria-label="Condition mode"
              value={mode}
              onChange={(v) => setMode(v as 'any' | 'all')}
              data={[
                { value: 'any', label: 'Any condition matches' },
                { value: 'all', label: 'All conditions match' },
              ]}
            />
          )}
          {conditions.map((c, i) => (
            <Group key={i} align="flex-start" wrap="nowrap" gap="xs">
              <Select
                label={`Condition ${i + 1} type`}
                data={['JSON-PATH', 'JSON-SCHEMA']}
                value={c.type}
                onChange={(v) => setCondition(i, { type: (v ?? 'JSON-PATH') as AlertCondition['type'] })}
                allowDeselect={false}
                w={150}
              />
              <Textarea
                label={`Condition ${i + 1}`}
                description={c.type === 'JSON-PATH' ? 'matches when the path selects a node, e.g. $.data.revocation_reason' : 'a JSON Schema the event must validate against'}
                value={c.condition}
                onChange={(e) => setCondition(i, { condition: e.currentTarget.value })}
                autosize
                minRows={1}
                style={{ flex: 1 }}
                styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
              />
              <Button mt={24} size="compact-sm" variant="subtle" color="red" onClick={() => setConditions((cs) => cs.filter((_, j) => j !== i))} aria-label={`Remove condition ${i + 1}`}>
                Remove
              </Button>
            </Group>
          ))}
        </Stack>
        <Select
          label="Channel"
          data={CHANNELS.map((c) => ({ value: c, label: CHANNEL_LABELS[c] }))}
          value={channel}
          onChange={(v) => setChannel((v ?? 'EMAIL') as ChannelType)}
          allowDeselect={false}
        />
        <TextInput label="Channel name" description="free text, shown in emails and cards" value={name} onChange={(e) => setName(e.currentTarget.value)} />
        {channel === 'EMAIL' ? (
          <TextInput label="Email address" type="email" value={address} onChange={(e) => setAddress(e.currentTarget.value)} required />
        ) : (
          <Group align="flex-end" wrap="nowrap" gap="xs">
            <TextInput label={channel === 'WEBHOOK' ? 'Webhook URL' : 'Teams webhook URL'} value={address} onChange={(e) => setAddress(e.currentTarget.value)} required style={{ flex: 1 }} />
            {channel === 'WEBHOOK' && <Select label="Method" data={['POST', 'PUT', 'PATCH']} value={method} onChange={(v) => setMethod(v ?? 'POST')} allowDeselect={false} w={110} />}
          </Group>
        )}
        <ErrorAlert error={subscribe.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={subscribe.isPending}>
            Subscribe
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function DeliveryLog({ subscription, user }: { subscription: Subscription; user: string }) {
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const [confirming, setConfirming] = useState(false);
  const log = useQuery({
    queryKey: ['deliveries', subscription.id],
    queryFn: () => getJson<{ list: Delivery[] }>(`/api/alerts/v1/subscriptions/${enc(subscription.id)}/deliveries?page_size=100`),
    refetchInterval: 5000,
  });
  const test = useMutation({
    mutationFn: () => sendJson<{ delivered: boolean; error?: string }>('POST', `/api/alerts/v1/subscriptions/${enc(subscription.id)}/test`),
  });
  const unsubscribe = useMutation({
    mutationFn: () => sendJson<Subscription[]>('POST', `/api/alerts/v1/user/${enc(user)}/unsubscribe/${enc(subscription.id)}`),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['subscriptions', user] });
      navigate(`/alerts?user=${enc(user)}`);
    },
  });
  return (
    <Stack data-testid="subscription">
      <Group justify="space-between">
        <Title order={3}>Subscription to {subscription.event_type}</Title>
        <Group gap="xs">
          <Button size="xs" variant="light" onClick={() => test.mutate()} loading={test.isPending}>
            Send test
          </Button>
          <Button size="xs" color="red" variant="light" onClick={() => setConfirming(true)}>
            Unsubscribe
          </Button>
        </Group>
      </Group>
      <Text size="sm">
        {CHANNEL_LABELS[subscription.channel.type]} {subscription.channel.name ? `“${subscription.channel.name}” ` : ''}to {target(subscription)}; since{' '}
        {when(subscription.subscription_ts)}
      </Text>
      {subscription.conditions.length > 0 && (
        <Stack gap={4}>
          <Text size="sm">When {subscription.conditions.length > 1 ? `${subscription.condition_mode} of these match` : 'this matches'}:</Text>
          {subscription.conditions.map((c, i) => (
            <Code key={i} block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
              {c.type}: {c.condition}
            </Code>
          ))}
        </Stack>
      )}
      {test.data && (
        <Alert color={test.data.delivered ? 'green' : 'red'} title={test.data.delivered ? 'Test delivered' : 'Test not delivered'} role="status">
          {test.data.delivered ? 'The channel accepted the sample event (alerts.test).' : test.data.error}
        </Alert>
      )}
      <ErrorAlert error={test.error ?? unsubscribe.error ?? log.error} />
      <Text fw={600}>Delivery log</Text>
      {!log.data && !log.error && <Loading />}
      {log.data && log.data.list.length === 0 && <Text size="sm">Nothing delivered yet (tests are not logged).</Text>}
      {log.data && log.data.list.length > 0 && (
        <Table.ScrollContainer minWidth={700}>
          <Table striped aria-label="Delivery log">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Event</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Attempts</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>Last attempt</Table.Th>
                <Table.Th>Next attempt / error</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {log.data.list.map((d) => (
                <Table.Tr key={d.id} data-delivery-status={d.status}>
                  <Table.Td>{d.event_type}</Table.Td>
                  <Table.Td>
                    <Badge color={DELIVERY_COLORS[d.status]} variant="light">
                      {d.status}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{d.attempts}</Table.Td>
                  <Table.Td>{when(d.created_at)}</Table.Td>
                  <Table.Td>{when(d.last_attempt_at)}</Table.Td>
                  <Table.Td style={{ wordBreak: 'break-all' }}>{d.last_error ?? when(d.next_attempt_at)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Modal opened={confirming} onClose={() => setConfirming(false)} title="Unsubscribe">
        <Stack>
          <Text size="sm">The subscription and its delivery log are removed.</Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
            <Button color="red" onClick={() => unsubscribe.mutate()} loading={unsubscribe.isPending}>
              Unsubscribe
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

export default function Alerts() {
  const { identity } = useAuth();
  const { id } = useParams<{ id?: string }>();
  const search = new URLSearchParams(useSearch());
  const [, navigate] = useLocation();
  const user = search.get('user') ?? identity!.subject;
  const [userField, setUserField] = useState(user);
  const [subscribing, setSubscribing] = useState(false);
  const subs = useSubscriptions(user);
  const selected = id ? subs.data?.find((s) => s.id === id) : undefined;
  const q = user === identity!.subject ? '' : `?user=${enc(user)}`;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Alerts</Title>
        {subs.data !== null && <Button onClick={() => setSubscribing(true)}>Subscribe</Button>}
      </Group>
      {identity!.role === 'pki-admin' && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            navigate(userField.trim() === identity!.subject ? '/alerts' : `/alerts?user=${enc(userField.trim())}`);
          }}
        >
          <Group align="flex-end" gap="xs">
            <TextInput label="Subscriptions of user" description="a token subject; yours by default" value={userField} onChange={(e) => setUserField(e.currentTarget.value)} w={280} />
            <Button type="submit" variant="default">
              Show
            </Button>
          </Group>
        </form>
      )}
      <ErrorAlert error={subs.error} />
      {subs.isPending && <Loading />}
      {subs.data === null && <Text size="sm">The alerts service does not run on this server (start it with --services including alerts).</Text>}
      {subs.data && (
        <Table.ScrollContainer minWidth={700}>
          <Table striped highlightOnHover aria-label="Subscriptions">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Event type</Table.Th>
                <Table.Th>Conditions</Table.Th>
                <Table.Th>Channel</Table.Th>
                <Table.Th>To</Table.Th>
                <Table.Th>Since</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {subs.data.map((s) => (
                <Table.Tr key={s.id}>
                  <Table.Td>
                    <Link href={`/alerts/${enc(s.id)}${q}`}>{s.event_type}</Link>
                  </Table.Td>
                  <Table.Td>{s.conditions.length === 0 ? 'none' : `${s.conditions.length} (${s.condition_mode})`}</Table.Td>
                  <Table.Td>
                    {CHANNEL_LABELS[s.channel.type]}
                    {s.channel.name ? ` “${s.channel.name}”` : ''}
                  </Table.Td>
                  <Table.Td style={{ wordBreak: 'break-all' }}>{target(s)}</Table.Td>
                  <Table.Td>{when(s.subscription_ts)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {subs.data?.length === 0 && <Text size="sm">No subscriptions for {user}.</Text>}
      {id && subs.data && !selected && <Text size="sm">No subscription {id} for {user}.</Text>}
      {selected && <DeliveryLog key={selected.id} subscription={selected} user={user} />}
      <Modal opened={subscribing} onClose={() => setSubscribing(false)} title={`Subscribe ${user} to events`} size="lg">
        {subscribing && <SubscribeForm user={user} onDone={() => setSubscribing(false)} />}
      </Modal>
    </Stack>
  );
}
