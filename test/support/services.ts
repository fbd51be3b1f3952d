/**
 * Where the real services used by tests live, and what to do when one is missing: with
 * LAMASSU_TEST_REQUIRE_SERVICES=1 (CI) a missing service fails the test; otherwise the test is
 * skipped with a loud message naming the service, never passed silently.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import type { TestContext } from 'node:test';

export const postgresUrl = () =>
  process.env.LAMASSU_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const amqpUrl = () => process.env.LAMASSU_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const pkcs11Module = () =>
  process.env.LAMASSU_TEST_PKCS11_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';

const required = () => process.env.LAMASSU_TEST_REQUIRE_SERVICES === '1';

function tcpReachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port || defaultPort) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    // Generous: on a loaded machine a local connect can take over a second.
    socket.setTimeout(5000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function requireService(t: TestContext | undefined, name: string, available: boolean): Promise<boolean> {
  if (available) return true;
  const msg = `SERVICE MISSING: ${name} is not reachable on this machine; test not run`;
  if (required()) throw new Error(msg);
  console.warn(`\n*** ${msg} ***\n`);
  t?.skip(msg);
  return false;
}

/** Resolves true when PostgreSQL is reachable; otherwise fails (CI) or skips loudly. */
export const needPostgres = async (t?: TestContext) =>
  requireService(t, `PostgreSQL at ${postgresUrl()}`, await tcpReachable(postgresUrl(), 5432));

export const needRabbitMq = async (t?: TestContext) =>
  requireService(t, `RabbitMQ at ${amqpUrl()}`, await tcpReachable(amqpUrl(), 5672));

export const needSoftHsm = async (t?: TestContext) =>
  requireService(t, `SoftHSM2 module ${pkcs11Module()} (apt-get install softhsm2)`, existsSync(pkcs11Module()));

/** Resolves true when native/<name> (an addon built by `npm install`) loads; otherwise fails (CI) or skips loudly. */
export const needNativeAddon = async (t: TestContext | undefined, name: string) => {
  const { loadNativeAddon } = await import('../../src/x509/native-addon.ts');
  const { reason } = loadNativeAddon(name);
  return requireService(t, `the native addon native/${name} (${reason}; needs a C compiler and Node's headers at npm install)`, reason === undefined);
};

/** The native ECDSA verifier (native/ec-verify). */
export const needNativeEcVerify = (t?: TestContext) => needNativeAddon(t, 'ec-verify');
