/**
 * A certificate decoded in the browser and shown like `openssl x509 -text`, in readable sections:
 * the fields, the public key, every extension (critical ones marked) and the fingerprints.
 */
import { Badge, Code, Stack, Table, Text, Title } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import { decodeCertificate, fingerprints } from '../x509/cert';
import { ErrorAlert } from './common';

function Row({ label, children, testId }: { label: string; children: React.ReactNode; testId?: string }) {
  return (
    <Table.Tr>
      <Table.Th scope="row" style={{ width: '14rem', verticalAlign: 'top', fontWeight: 500 }}>
        {label}
      </Table.Th>
      <Table.Td data-testid={testId} style={{ wordBreak: 'break-all' }}>
        {children}
      </Table.Td>
    </Table.Tr>
  );
}

const Lines = ({ lines }: { lines: string[] }) => (
  <Text component="div" size="sm" ff="monospace" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
    {lines.join('\n')}
  </Text>
);

export function CertificateText({ der }: { der: Uint8Array }) {
  const decoded = useMemo(() => {
    try {
      return { cert: decodeCertificate(der) };
    } catch (error) {
      return { error };
    }
  }, [der]);
  const [prints, setPrints] = useState<{ sha1: string; sha256: string }>();
  useEffect(() => {
    void fingerprints(der).then(setPrints, () => setPrints(undefined));
  }, [der]);
  if (!decoded.cert) return <ErrorAlert error={decoded.error} title="The certificate could not be decoded" />;
  const c = decoded.cert;
  return (
    <Stack gap="xs" data-testid="decoded-certificate">
      <Title order={4}>Decoded certificate</Title>
      <Table withRowBorders={false} verticalSpacing={4} aria-label="Decoded certificate">
        <Table.Tbody>
          <Row label="Version">{`${c.version} (0x${(c.version - 1).toString(16)})`}</Row>
          <Row label="Serial Number" testId="x509-serial">
            <Lines lines={[c.serial]} />
          </Row>
          <Row label="Signature Algorithm" testId="x509-signature-algorithm">{c.signatureAlgorithm}</Row>
          <Row label="Issuer" testId="x509-issuer">{c.issuer}</Row>
          <Row label="Not Before">{c.notBefore}</Row>
          <Row label="Not After" testId="x509-not-after">{c.notAfter}</Row>
          <Row label="Subject" testId="x509-subject">{c.subject}</Row>
          <Row label="Public Key Algorithm" testId="x509-key-algorithm">{c.publicKey.algorithm}</Row>
          <Row label="Public Key">
            <Lines lines={c.publicKey.lines} />
          </Row>
        </Table.Tbody>
      </Table>
      <Title order={5}>X509v3 extensions ({c.extensions.length})</Title>
      <Table withRowBorders={false} verticalSpacing={4} aria-label="Certificate extensions">
        <Table.Tbody>
          {c.extensions.map((e) => (
            <Row
              key={e.oid}
              label={e.name}
              testId={`x509-ext-${e.oid}`}
            >
              {e.critical && (
                <Badge size="xs" color="orange" mr="xs" variant="light">
                  critical
                </Badge>
              )}
              {e.name === e.oid && (
                <Text span size="xs" c="dimmed">
                  unknown extension, DER in hex:{' '}
                </Text>
              )}
              <Lines lines={e.lines} />
            </Row>
          ))}
        </Table.Tbody>
      </Table>
      <Title order={5}>Signature and fingerprints</Title>
      <Table withRowBorders={false} verticalSpacing={4} aria-label="Signature and fingerprints">
        <Table.Tbody>
          <Row label="Signature Value">
            <Code block style={{ fontSize: 11 }}>
              {c.signature.join('\n')}
            </Code>
          </Row>
          <Row label="SHA-256 Fingerprint" testId="x509-sha256">
            <Lines lines={[prints?.sha256 ?? '…']} />
          </Row>
          <Row label="SHA-1 Fingerprint" testId="x509-sha1">
            <Lines lines={[prints?.sha1 ?? '…']} />
          </Row>
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
