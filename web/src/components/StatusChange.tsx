/**
 * Revoke / hold / release of a CA or a certificate. Revoking asks for an RFC 5280 reason; "hold" is a
 * revocation with reason CertificateHold that "release" takes back (status ACTIVE).
 */
import { Button, Group, Modal, Select, Stack, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ErrorAlert } from './common';

export const REVOCATION_REASONS = [
  'Unspecified',
  'KeyCompromise',
  'CACompromise',
  'AffiliationChanged',
  'Superseded',
  'CessationOfOperation',
  'PrivilegeWithdrawn',
  'AACompromise',
];

export interface StatusBody {
  status: string;
  revocation_reason?: string;
}

export function StatusActions({
  status,
  reason,
  change,
  what,
}: {
  status: string;
  reason: string | null | undefined;
  change: (body: StatusBody) => Promise<unknown>;
  what: string;
}) {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [chosen, setChosen] = useState<string | null>('Unspecified');
  const m = useMutation({
    mutationFn: change,
    onSuccess: () => {
      setOpen(false);
      void qc.invalidateQueries();
    },
  });
  const held = status === 'REVOKED' && reason === 'CertificateHold';
  const live = status === 'ACTIVE' || status === 'ABOUT_TO_EXPIRE';
  return (
    <Stack gap="xs">
      <Group gap="xs">
        {(live || held) && (
          <Button color="red" size="xs" onClick={() => setOpen(true)}>
            Revoke
          </Button>
        )}
        {live && (
          <Button color="orange" size="xs" variant="light" loading={m.isPending} onClick={() => m.mutate({ status: 'REVOKED', revocation_reason: 'CertificateHold' })}>
            Hold
          </Button>
        )}
        {held && (
          <Button size="xs" variant="light" loading={m.isPending} onClick={() => m.mutate({ status: 'ACTIVE' })}>
            Release hold
          </Button>
        )}
      </Group>
      {!open && <ErrorAlert error={m.error} />}
      <Modal opened={open} onClose={() => setOpen(false)} title={`Revoke ${what}`}>
        <Stack>
          <Text size="sm">Revocation is final: the {what} goes into its CRL and OCSP answers REVOKED.</Text>
          <Select label="Reason" data={REVOCATION_REASONS} value={chosen} onChange={setChosen} allowDeselect={false} />
          <ErrorAlert error={m.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button color="red" loading={m.isPending} onClick={() => m.mutate({ status: 'REVOKED', revocation_reason: chosen ?? 'Unspecified' })}>
              Revoke
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
