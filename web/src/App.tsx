/** The shell: sign-in gate, navigation, and one lazily loaded chunk per screen. */
import { AppShell, Badge, Burger, Button, Group, NavLink, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { lazy, Suspense } from 'react';
import { Link, Route, Switch, useLocation } from 'wouter';
import { useAuth } from './auth';
import { Loading } from './components/common';
import { SignIn } from './screens/SignIn';

const Dashboard = lazy(() => import('./screens/Dashboard'));
const Cas = lazy(() => import('./screens/Cas'));
const Certificates = lazy(() => import('./screens/Certificates'));
const Dmss = lazy(() => import('./screens/Dmss'));
const Devices = lazy(() => import('./screens/Devices'));
const Profiles = lazy(() => import('./screens/Profiles'));
const Alerts = lazy(() => import('./screens/Alerts'));
const DeviceGroups = lazy(() => import('./screens/DeviceGroups'));
const Keys = lazy(() => import('./screens/Keys'));

const NAV = [
  ['/', 'Dashboard'],
  ['/cas', 'Certification authorities'],
  ['/certificates', 'Certificates'],
  ['/dms', 'DMSs'],
  ['/devices', 'Devices'],
  ['/device-groups', 'Device groups'],
  ['/profiles', 'Issuance profiles'],
  ['/keys', 'KMS keys'],
  ['/alerts', 'Alerts'],
] as const;

export function App() {
  const { identity, restoring, signOut } = useAuth();
  const [location] = useLocation();
  const [opened, { toggle, close }] = useDisclosure();
  if (restoring) return <Loading />;
  if (!identity) return <SignIn />;
  const active = (href: string) => (href === '/' ? location === '/' : location.startsWith(href));
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
            <Title order={4}>Lamassu TS</Title>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <Text size="sm" visibleFrom="xs">
              {identity.subject}
            </Text>
            <Badge variant="outline" data-testid="role">
              {identity.role}
            </Badge>
            <Button size="compact-sm" variant="default" onClick={signOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Screens">
        {NAV.map(([href, label]) => (
          <NavLink key={href} component={Link} href={href} label={label} active={active(href)} onClick={close} />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Suspense fallback={<Loading />}>
          <Switch>
            <Route path="/" component={Dashboard} />
            <Route path="/cas/:id?" component={Cas} />
            <Route path="/certificates/:serial?" component={Certificates} />
            <Route path="/dms/:id?" component={Dmss} />
            <Route path="/devices/:id?" component={Devices} />
            <Route path="/device-groups/:id?" component={DeviceGroups} />
            <Route path="/keys/:id?" component={Keys} />
            <Route path="/profiles" component={Profiles} />
            <Route path="/alerts/:id?" component={Alerts} />
            <Route>
              <Text>No such screen.</Text>
            </Route>
          </Switch>
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
