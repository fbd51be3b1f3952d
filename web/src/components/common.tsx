/** Small building blocks shared by the screens. */
import { Alert, Badge, Button, Code, CopyButton, Group, Loader, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { ApiError } from '../api/client';

/** Any error in words; a server refusal shows its code and message. */
export function ErrorAlert({ error, title = 'The server refused' }: { error: unknown; title?: string }) {
  if (!error) return null;
  const e = error as Error;
  return (
    <Alert color="red" title={title} role="alert">
      {e instanceof ApiError ? (
        <>
          <Text size="sm">{e.message}</Text>
          <Text size="xs" c="dimmed">
            {e.code} (HTTP {e.status})
          </Text>
        </>
      ) : (
        <Text size="sm">{e.message ?? String(error)}</Text>
      )}
    </Alert>
  );
}

const STATUS_COLORS: Record<string, string> = {
  ACTIVE: 'green',
  FULLY_PROVISIONED: 'green',
  ABOUT_TO_EXPIRE: 'yellow',
  PROVISIONED_WITH_WARNINGS: 'yellow',
  REQUIRES_ACTION: 'orange',
  PENDING_PROVISIONING: 'blue',
  EXPIRED: 'gray',
  DECOMMISSIONED: 'gray',
  REVOKED: 'red',
};

export function StatusBadge({ status, reason }: { status: string; reason?: string | null }) {
  const held = status === 'REVOKED' && reason === 'CertificateHold';
  const color = held ? 'orange' : (STATUS_COLORS[status] ?? 'gray');
  return (
    <Badge
      color={color}
      variant="light"
      data-status={status}
      // The light variant writes yellow in shade 6, too pale on its own background (axe-core colour contrast 4.3).
      styles={color === 'yellow' ? { label: { color: 'var(--mantine-color-yellow-9)' } } : undefined}
    >
      {held ? 'ON HOLD' : status.replaceAll('_', ' ')}
    </Badge>
  );
}

export function Loading() {
  return (
    <Group p="md">
      <Loader size="sm" />
      <Text size="sm">Loading…</Text>
    </Group>
  );
}

/** Text with a copy button (EST URLs, curl examples, PEMs). */
export function CopyBlock({ label, value }: { label: string; value: string }) {
  return (
    <Stack gap={4}>
      <Group justify="space-between">
        <Text size="sm" fw={500}>
          {label}
        </Text>
        <CopyButton value={value}>
          {({ copied, copy }) => (
            <Button size="compact-xs" variant="light" onClick={copy} aria-label={`Copy ${label}`}>
              {copied ? 'Copied' : 'Copy'}
            </Button>
          )}
        </CopyButton>
      </Group>
      <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
        {value}
      </Code>
    </Stack>
  );
}

/** Label / value rows for details panels. */
export function Fields({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <Stack gap={6}>
      {rows.map(([k, v]) => (
        <Group key={k} gap="xs" wrap="nowrap" align="flex-start">
          <Text size="sm" c="dimmed" w={170} style={{ flexShrink: 0 }}>
            {k}
          </Text>
          <Text size="sm" component="div" style={{ wordBreak: 'break-all' }}>
            {v ?? '—'}
          </Text>
        </Group>
      ))}
    </Stack>
  );
}

/** Saves text as a file in the browser. */
export function download(name: string, content: string | Uint8Array<ArrayBuffer>, type = 'application/x-pem-file') {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) + 'Z' : '—');

/** The CN of a subject object, or its first attribute. */
export const cnOf = (subject: { common_name?: string } | undefined) => subject?.common_name ?? '(no CN)';
