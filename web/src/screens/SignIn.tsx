/**
 * Sign in: with the identity provider (OIDC, authorization code + PKCE) where the server names one, or by
 * pasting an API token (the admin token is the data directory's file `admin-token`).
 */
import { Button, Center, Divider, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useAuth } from '../auth';
import { ErrorAlert } from '../components/common';
import { consoleOidc, startOidcSignIn } from '../oidc';

export function SignIn() {
  const { signIn, oidcError } = useAuth();
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(oidcError);
  const [busy, setBusy] = useState(false);
  const [leaving, setLeaving] = useState(false);
  const oidc = useQuery({ queryKey: ['console-config'], queryFn: consoleOidc, staleTime: Infinity });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(token);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const sso = async () => {
    setLeaving(true);
    setError(undefined);
    try {
      await startOidcSignIn(oidc.data!);
    } catch (err) {
      setError(err);
      setLeaving(false);
    }
  };
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder p="xl" w={460} maw="100%" component="main">
        <Stack>
          <Title order={2}>Lamassu TS console</Title>
          {oidc.data && (
            <>
              <Text size="sm">Sign in with your organisation&apos;s identity provider ({new URL(oidc.data.issuer).host}).</Text>
              <Button onClick={sso} loading={leaving}>
                Sign in with OIDC
              </Button>
              <Divider label="or with an API token" labelPosition="center" />
            </>
          )}
          <form onSubmit={submit}>
            <Stack>
              <Text size="sm">
                Paste an API token: the admin token is in the file <code>admin-token</code> of the server&apos;s data directory. An OIDC access
                token works too where an identity provider is configured.
              </Text>
              <PasswordInput label="API token" value={token} onChange={(e) => setToken(e.currentTarget.value)} required autoFocus autoComplete="off" />
              <ErrorAlert error={error} title="Sign-in failed" />
              <Button type="submit" loading={busy} disabled={!token.trim()} variant={oidc.data ? 'default' : 'filled'}>
                Sign in
              </Button>
            </Stack>
          </form>
        </Stack>
      </Paper>
    </Center>
  );
}
