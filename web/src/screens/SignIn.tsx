/** Paste the admin token (data directory file `admin-token`) or another API token. OIDC sign-in is not built yet. */
import { Button, Center, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useAuth } from '../auth';
import { ErrorAlert } from '../components/common';

export function SignIn() {
  const { signIn } = useAuth();
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
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
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder p="xl" w={460} maw="100%" component="main">
        <form onSubmit={submit}>
          <Stack>
            <Title order={2}>Lamassu TS console</Title>
            <Text size="sm">
              Paste an API token: the admin token is in the file <code>admin-token</code> of the server&apos;s data directory. An OIDC
              access token also works where an identity provider is configured (a sign-in button for OIDC comes later).
            </Text>
            <PasswordInput label="API token" value={token} onChange={(e) => setToken(e.currentTarget.value)} required autoFocus autoComplete="off" />
            <ErrorAlert error={error} title="Sign-in failed" />
            <Button type="submit" loading={busy} disabled={!token.trim()}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
