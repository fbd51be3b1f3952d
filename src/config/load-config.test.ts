import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from './load-config.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const yamlFile = (name: string, body: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, body);
  return file;
};

/** The problems a config is rejected with. */
const problems = (opts: Parameters<typeof loadConfig>[0]): string[] => {
  try {
    loadConfig(opts);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('config was accepted');
};

describe('loadConfig', () => {
  it('reads the AWS IoT connector settings: SDK names for region and endpoints, ours for the rest', () => {
    assert.deepEqual(loadConfig({ env: {} }).aws, { connectorId: 'aws-iot', retryBaseMs: 1000, retryMaxMs: 60_000, requestTimeoutMs: 10_000, rotationCheckMs: 300_000, rotationGraceMs: 604_800_000 });
    const c = loadConfig({
      env: { LAMASSU_SERVICES: 'cloudproxy,aws-connector', LAMASSU_AWS_CONNECTOR_ID: 'aws-eu', AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_IOT: 'https://iot.example', AWS_ENDPOINT_URL_IOT_DATA_PLANE: 'https://data.example', LAMASSU_AWS_RETRY_BASE: '2s', LAMASSU_AWS_RETRY_MAX: '5m', LAMASSU_AWS_ROTATION_CHECK: '30s', LAMASSU_AWS_ROTATION_GRACE: '90s' },
    });
    assert.deepEqual(c.services, ['cloudproxy', 'aws-connector']);
    assert.deepEqual(c.aws, { connectorId: 'aws-eu', region: 'eu-west-1', iotEndpoint: 'https://iot.example', iotDataEndpoint: 'https://data.example', retryBaseMs: 2000, retryMaxMs: 300_000, requestTimeoutMs: 10_000, rotationCheckMs: 30_000, rotationGraceMs: 90_000 });
    assert.throws(() => loadConfig({ env: { LAMASSU_AWS_RETRY_BASE: '2m', LAMASSU_AWS_RETRY_MAX: '1m' } }), /LAMASSU_AWS_RETRY_MAX: must not be shorter than LAMASSU_AWS_RETRY_BASE/);
  });

  it('has working defaults with an empty environment', () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.dataDir, path.resolve('./lamassu-data'));
    assert.equal(c.httpsPort, 8443);
    assert.equal(c.httpPort, 8080);
    assert.equal(c.listenAddress, '0.0.0.0');
    assert.deepEqual(c.tlsHostnames, ['localhost', '127.0.0.1']);
    assert.deepEqual(c.services, ['ca', 'kms', 'va', 'dms', 'devices', 'alerts', 'cloudproxy']);
    assert.equal(c.logLevel, 'info');
    assert.deepEqual(c.vaBaseUrls, ['http://localhost:8080']);
    assert.equal(c.oidc, undefined);
    assert.deepEqual(c.storage, { kind: 'sqlite', file: path.resolve('./lamassu-data/lamassu.db') });
    assert.deepEqual(c.keyEngines, [
      { id: 'filesystem', type: 'filesystem', directory: path.resolve('./lamassu-data/keys'), passphrase: undefined },
    ]);
    assert.equal(c.defaultEngine, 'filesystem');
    assert.deepEqual(c.eventBus, { kind: 'memory' });
  });

  it('workers: auto is one process on SQLite and one per core on PostgreSQL; more than one needs PostgreSQL', () => {
    const pg = { DATABASE_URL: 'postgres://u@db:5432/lamassu' };
    assert.equal(loadConfig({ env: {} }).workers, 1);
    assert.equal(loadConfig({ env: pg }).workers, availableParallelism());
    assert.equal(loadConfig({ env: { ...pg, LAMASSU_WORKERS: '3' } }).workers, 3);
    assert.equal(loadConfig({ env: { ...pg, LAMASSU_WORKERS: '4' }, flags: { '--workers': '2' } }).workers, 2);
    assert.equal(loadConfig({ env: { LAMASSU_WORKERS: '1' } }).workers, 1);
    assert.equal(loadConfig({ env: {}, file: yamlFile('workers.yaml', 'workers: 2\ndatabase_url: postgres://u@db/l\n') }).workers, 2);
    assert.deepEqual(problems({ env: { LAMASSU_WORKERS: '2' } }), [
      'LAMASSU_WORKERS: 2 worker processes need PostgreSQL (DATABASE_URL or POSTGRES_*): SQLite is written by one process; use 1 (or auto) with SQLite',
    ]);
    assert.match(problems({ env: { ...pg, LAMASSU_WORKERS: '0' } })[0]!, /^LAMASSU_WORKERS: must be a whole number from 1 to 64/);
  });

  it('uses RabbitMQ when LAMASSU_AMQP_URL is set', () => {
    assert.deepEqual(loadConfig({ env: { LAMASSU_AMQP_URL: 'amqp://guest:guest@mq:5672' } }).eventBus, {
      kind: 'amqp',
      url: 'amqp://guest:guest@mq:5672',
      prefix: undefined,
      exchange: undefined,
      queuePrefix: undefined,
    });
    assert.deepEqual(loadConfig({ env: { LAMASSU_AMQP_URL: 'amqp://mq', LAMASSU_AMQP_EXCHANGE: 'x', LAMASSU_AMQP_QUEUE_PREFIX: 'p' } }).eventBus, {
      kind: 'amqp',
      url: 'amqp://mq',
      prefix: undefined,
      exchange: 'x',
      queuePrefix: 'p',
    });
    assert.deepEqual(loadConfig({ env: { LAMASSU_AMQP_URL: 'amqp://mq', LAMASSU_AMQP_PREFIX: 'plant-2.pki' } }).eventBus, {
      kind: 'amqp',
      url: 'amqp://mq',
      prefix: 'plant-2.pki',
      exchange: undefined,
      queuePrefix: undefined,
    });
  });

  const badValues: [string, string, RegExp][] = [
    ['LAMASSU_HTTPS_PORT', 'abc', /^LAMASSU_HTTPS_PORT: must be a port number, got "abc"$/],
    ['LAMASSU_HTTP_PORT', '70000', /^LAMASSU_HTTP_PORT: must be a port number/],
    ['LAMASSU_LISTEN_ADDRESS', 'not an ip', /^LAMASSU_LISTEN_ADDRESS: must be an IP address/],
    ['LAMASSU_TLS_HOSTNAMES', 'ok.example,bad host', /^LAMASSU_TLS_HOSTNAMES: must be a DNS name or IP address, got "bad host"/],
    ['LAMASSU_SERVICES', 'ca,foo', /^LAMASSU_SERVICES: must be one of ca, kms, va, dms, devices, alerts, cloudproxy, aws-connector, got "foo"/],
    ['LAMASSU_SERVICES', ',', /^LAMASSU_SERVICES: must list at least one value/],
    ['AWS_ENDPOINT_URL_IOT', 'iot.local', /^AWS_ENDPOINT_URL_IOT: must be an http\(s\) URL/],
    ['LAMASSU_AWS_CONNECTOR_ID', 'aws/iot', /^LAMASSU_AWS_CONNECTOR_ID: must be letters, digits/],
    ['LAMASSU_LOG_LEVEL', 'loud', /^LAMASSU_LOG_LEVEL: must be one of/],
    ['LAMASSU_VA_BASE_URLS', 'ftp://x', /^LAMASSU_VA_BASE_URLS: must be an http\(s\) URL/],
    ['LAMASSU_OIDC_JWKS_URL', 'nope', /^LAMASSU_OIDC_JWKS_URL: must be an http\(s\) URL/],
    ['DATABASE_URL', 'mysql://x', /^DATABASE_URL: must be a postgres:\/\/ URL/],
    ['POSTGRES_PORT', 'five', /^POSTGRES_PORT: must be a port number/],
    ['ENGINE', 'aws', /^ENGINE: must be one of filesystem, gopem, pkcs11, vault, got "aws"/],
    ['LAMASSU_AMQP_URL', 'http://mq', /^LAMASSU_AMQP_URL: must be an amqp:\/\/ or amqps:\/\/ URL$/],
    ['LAMASSU_AMQP_PREFIX', 'two words', /^LAMASSU_AMQP_PREFIX: must be letters, digits, "\.", "-" or "_" \(at most 100\), got "two words"$/],
    ['VAULT_ADDRESS', 'vault:8200', /^VAULT_ADDRESS: must be an http\(s\) URL/],
  ];
  for (const [name, value, expected] of badValues) {
    it(`names ${name} when it is "${value}"`, () => {
      const found = problems({ env: { [name]: value } });
      assert.ok(found.some((p) => expected.test(p)), found.join('\n'));
    });
  }

  it('reports every bad value at once', () => {
    const found = problems({ env: { LAMASSU_HTTPS_PORT: 'x', LAMASSU_HTTP_PORT: 'y' } });
    assert.equal(found.length, 2);
  });

  it('treats an empty variable as unset', () => {
    assert.equal(loadConfig({ env: { LAMASSU_HTTPS_PORT: '' } }).httpsPort, 8443);
  });

  it('--services overrides LAMASSU_SERVICES and names the flag when bad', () => {
    const c = loadConfig({ env: { LAMASSU_SERVICES: 'ca' }, flags: { '--services': 'ca,va' } });
    assert.deepEqual(c.services, ['ca', 'va']);
    assert.match(problems({ env: {}, flags: { '--services': 'bogus' } })[0], /^--services: must be one of/);
  });

  it('requires the OIDC settings together', () => {
    const found = problems({ env: { LAMASSU_OIDC_JWKS_URL: 'http://kc/certs' } });
    assert.deepEqual(
      found.map((p) => p.split(':')[0]),
      ['LAMASSU_OIDC_ISSUER', 'LAMASSU_OIDC_AUDIENCE'],
    );
    const c = loadConfig({
      env: { LAMASSU_OIDC_JWKS_URL: 'http://kc/certs', LAMASSU_OIDC_ISSUER: 'http://kc', LAMASSU_OIDC_AUDIENCE: 'lamassu' },
    });
    assert.deepEqual(c.oidc, { jwksUrl: 'http://kc/certs', issuer: 'http://kc', audience: 'lamassu', rolesClaim: 'realm_access.roles' });
  });

  it("reads the console's OIDC client (openid is always among its scopes), and refuses it without the rest of OIDC", () => {
    const oidc = { LAMASSU_OIDC_JWKS_URL: 'http://kc/certs', LAMASSU_OIDC_ISSUER: 'http://kc', LAMASSU_OIDC_AUDIENCE: 'lamassu' };
    assert.deepEqual(loadConfig({ env: { ...oidc, LAMASSU_OIDC_CONSOLE_CLIENT_ID: 'console' } }).oidc?.console, { clientId: 'console', scopes: ['openid'] });
    assert.deepEqual(
      loadConfig({ env: { ...oidc, LAMASSU_OIDC_CONSOLE_CLIENT_ID: 'console', LAMASSU_OIDC_CONSOLE_SCOPES: 'profile,roles' } }).oidc?.console?.scopes,
      ['openid', 'profile', 'roles'],
    );
    assert.deepEqual(
      problems({ env: { LAMASSU_OIDC_CONSOLE_CLIENT_ID: 'console' } }).map((p) => p.split(':')[0]),
      ['LAMASSU_OIDC_JWKS_URL', 'LAMASSU_OIDC_ISSUER', 'LAMASSU_OIDC_AUDIENCE'],
    );
    assert.match(
      problems({ env: { ...oidc, LAMASSU_OIDC_ISSUER: 'lamassu-realm', LAMASSU_OIDC_CONSOLE_CLIENT_ID: 'console' } }).join('\n'),
      /^LAMASSU_OIDC_ISSUER: must be an http\(s\) URL when LAMASSU_OIDC_CONSOLE_CLIENT_ID is set/,
    );
    assert.equal(loadConfig({ env: { ...oidc, LAMASSU_OIDC_ISSUER: 'lamassu-realm' } }).oidc?.issuer, 'lamassu-realm', 'without the console any issuer string will do');
  });

  it('reads the TLS certificate lifetime and renewal window, and refuses a window as long as the lifetime', () => {
    const d = loadConfig({ env: {} });
    assert.deepEqual([d.tlsCertLifetimeMs, d.tlsRenewBeforeMs], [365 * 86_400_000, 30 * 86_400_000]);
    const c = loadConfig({ env: { LAMASSU_TLS_CERT_LIFETIME: '7d', LAMASSU_TLS_RENEW_BEFORE: '2d' } });
    assert.deepEqual([c.tlsCertLifetimeMs, c.tlsRenewBeforeMs], [7 * 86_400_000, 2 * 86_400_000]);
    assert.deepEqual(problems({ env: { LAMASSU_TLS_CERT_LIFETIME: '7d' } }), [
      'LAMASSU_TLS_RENEW_BEFORE: must be shorter than LAMASSU_TLS_CERT_LIFETIME, or the certificate is renewed all the time',
    ]);
    assert.match(problems({ env: { LAMASSU_TLS_CERT_LIFETIME: '10s' } }).join('\n'), /^LAMASSU_TLS_CERT_LIFETIME: must be at least 1m/);
  });

  it('reads the OIDC maximum token lifetime, and refuses it without the rest of OIDC', () => {
    const oidc = { LAMASSU_OIDC_JWKS_URL: 'http://kc/certs', LAMASSU_OIDC_ISSUER: 'http://kc', LAMASSU_OIDC_AUDIENCE: 'lamassu' };
    assert.equal(loadConfig({ env: { ...oidc, LAMASSU_OIDC_MAX_TOKEN_LIFETIME: '1h' } }).oidc?.maxTokenLifetimeMs, 3_600_000);
    assert.deepEqual(
      problems({ env: { LAMASSU_OIDC_MAX_TOKEN_LIFETIME: '1h' } }).map((p) => p.split(':')[0]),
      ['LAMASSU_OIDC_JWKS_URL', 'LAMASSU_OIDC_ISSUER', 'LAMASSU_OIDC_AUDIENCE'],
    );
    assert.match(problems({ env: { ...oidc, LAMASSU_OIDC_MAX_TOKEN_LIFETIME: 'soon' } }).join('\n'), /^LAMASSU_OIDC_MAX_TOKEN_LIFETIME: must be a duration/);
  });

  it('chooses PostgreSQL when any seed POSTGRES_* variable is set', () => {
    const c = loadConfig({
      env: { POSTGRES_HOSTNAME: 'db', POSTGRES_USERNAME: 'lam assu', POSTGRES_PASSWORD: 'p@ss', POSTGRES_DATABASE: 'pki' },
    });
    assert.deepEqual(c.storage, { kind: 'postgres', url: 'postgres://lam%20assu:p%40ss@db:5432/pki', schema: undefined });
    assert.deepEqual(loadConfig({ env: { DATABASE_URL: 'postgres://u@h/d' } }).storage, {
      kind: 'postgres',
      url: 'postgres://u@h/d',
      schema: undefined,
    });
  });

  it('builds a PKCS#11 engine from the seed variables and names the missing ones', () => {
    assert.deepEqual(
      problems({ env: { ENGINE: 'pkcs11', PKCS11_DRIVER: '/lib/x.so' } }),
      ['PKCS11_LABEL: required when ENGINE is pkcs11', 'PKCS11_PIN: required when ENGINE is pkcs11'],
    );
    const c = loadConfig({ env: { ENGINE: 'pkcs11', PKCS11_DRIVER: '/lib/x.so', PKCS11_LABEL: 'lamassu', PKCS11_PIN: '1234' } });
    assert.deepEqual(c.keyEngines, [{ id: 'pkcs11', type: 'pkcs11', module: '/lib/x.so', tokenLabel: 'lamassu', pin: '1234' }]);
    assert.equal(c.defaultEngine, 'pkcs11');
  });

  it('treats gopem as the filesystem engine in GOPEM_DATA', () => {
    const c = loadConfig({ env: { ENGINE: 'gopem', GOPEM_DATA: '/var/keys', LAMASSU_KEYS_PASSPHRASE: 'secret' } });
    assert.deepEqual(c.keyEngines, [{ id: 'gopem', type: 'filesystem', directory: '/var/keys', passphrase: 'secret' }]);
  });

  it('reads a YAML file, and the environment overrides it', () => {
    const file = yamlFile(
      'good.yaml',
      `
data_dir: /srv/lamassu
https_port: 9443
tls:
  hostnames: [pki.example.com, 10.0.0.1]
services: [ca, va]
key_engines:
  - { id: soft, type: filesystem, directory: /srv/keys }
  - { id: hsm, type: pkcs11, driver: /usr/lib/softhsm/libsofthsm2.so, label: lamassu, pin: "1234" }
default_engine: hsm
`,
    );
    const c = loadConfig({ env: { LAMASSU_HTTPS_PORT: '10443' }, file });
    assert.equal(c.dataDir, '/srv/lamassu');
    assert.equal(c.httpsPort, 10443);
    assert.deepEqual(c.tlsHostnames, ['pki.example.com', '10.0.0.1']);
    assert.deepEqual(c.services, ['ca', 'va']);
    assert.deepEqual(
      c.keyEngines.map((e) => e.id),
      ['soft', 'hsm'],
    );
    assert.equal(c.defaultEngine, 'hsm');
    assert.deepEqual(loadConfig({ env: { ENGINE: 'filesystem' }, file }).keyEngines.map((e) => e.id), ['filesystem']);
  });

  it('names bad values and unknown keys in the YAML file by file and key', () => {
    const file = yamlFile(
      'bad.yaml',
      `
https_port: abc
htps_port: 1
tls: { hostname: x }
key_engines:
  - { id: a, type: pkcs11, driver: /x.so, label: l }
  - { id: a, type: filesystem, colour: blue }
  - { id: c, type: aws }
default_engine: zz
`,
    );
    assert.deepEqual(problems({ env: {}, file }).sort(), [
      `${file}: default_engine: must be the id of an engine in key_engines, got "zz"`,
      `${file}: https_port: must be a port number, got "abc"`,
      `${file}: key_engines[0].pin: required`,
      `${file}: key_engines[1].id: duplicate engine id "a"`,
      `${file}: key_engines[1]: unknown setting "colour" for a filesystem engine`,
      `${file}: key_engines[2].type: must be one of filesystem, gopem, pkcs11, vault, got "aws"`,
      `${file}: unknown setting "htps_port"`,
      `${file}: unknown setting "tls.hostname"`,
    ]);
  });

  it('rejects an unreadable or malformed file with its name', () => {
    assert.match(problems({ env: {}, file: path.join(dir, 'missing.yaml') })[0], /missing\.yaml: cannot read the config file \(ENOENT\)/);
    assert.match(problems({ env: {}, file: yamlFile('broken.yaml', 'a: [1,\n') })[0], /broken\.yaml: not valid YAML/);
    assert.match(problems({ env: {}, file: yamlFile('list.yaml', '- 1\n') })[0], /list\.yaml: must be a YAML mapping/);
  });

  it('requires a TLS key file together with a certificate file', () => {
    assert.deepEqual(problems({ env: { LAMASSU_TLS_CERT_FILE: '/x.pem' } }), [
      'LAMASSU_TLS_KEY_FILE: required together with LAMASSU_TLS_CERT_FILE',
    ]);
  });
  it('reads the about-to-expire threshold and the status sweep interval as durations', () => {
    const defaults = loadConfig({ env: {} });
    assert.equal(defaults.aboutToExpireMs, 30 * 86_400_000);
    assert.equal(defaults.statusSweepIntervalMs, 3_600_000);
    const fromEnv = loadConfig({ env: { LAMASSU_ABOUT_TO_EXPIRE: '2w', LAMASSU_STATUS_SWEEP_INTERVAL: '15m' } });
    assert.equal(fromEnv.aboutToExpireMs, 14 * 86_400_000);
    assert.equal(fromEnv.statusSweepIntervalMs, 15 * 60_000);
    const file = yamlFile('ca.yaml', 'ca:\n  about_to_expire: 90d\n  status_sweep_interval: 1d\n');
    const fromFile = loadConfig({ env: {}, file });
    assert.deepEqual([fromFile.aboutToExpireMs, fromFile.statusSweepIntervalMs], [90 * 86_400_000, 86_400_000]);
    assert.deepEqual(problems({ env: { LAMASSU_ABOUT_TO_EXPIRE: '30 days', LAMASSU_STATUS_SWEEP_INTERVAL: '0h' } }), [
      'LAMASSU_ABOUT_TO_EXPIRE: must be a duration like "30d" or "1h" (units ms s m h d w y), got "30 days"',
      'LAMASSU_STATUS_SWEEP_INTERVAL: must be a duration like "30d" or "1h" (units ms s m h d w y), got "0h"',
    ]);
    assert.deepEqual(problems({ env: { LAMASSU_STATUS_SWEEP_INTERVAL: '10ms' } }), ['LAMASSU_STATUS_SWEEP_INTERVAL: must be at least 1s, got "10ms"']);
  });
  it('reads the SMTP server and the alert delivery settings, and names what is missing or wrong', () => {
    const d = loadConfig({ env: {} }).alerts;
    assert.deepEqual(d, { templatesDir: undefined, maxAttempts: 8, retryBaseMs: 5000, retryMaxMs: 3_600_000, sendTimeoutMs: 10_000, retentionMs: 30 * 86_400_000 });
    const c = loadConfig({
      env: {
        LAMASSU_SMTP_HOST: 'smtp.example.test',
        LAMASSU_SMTP_USERNAME: 'pki',
        LAMASSU_SMTP_PASSWORD: 'secret',
        LAMASSU_SMTP_FROM: 'Lamassu <pki@example.test>',
        LAMASSU_SMTP_CA_FILE: 'smtp-ca.pem',
        LAMASSU_ALERTS_TEMPLATES_DIR: 'templates',
        LAMASSU_ALERTS_MAX_ATTEMPTS: '3',
        LAMASSU_ALERTS_RETRY_BASE: '500ms',
        LAMASSU_ALERTS_RETENTION: '7d',
      },
    }).alerts!;
    assert.deepEqual(c.smtp, {
      host: 'smtp.example.test',
      port: 587,
      security: 'starttls',
      username: 'pki',
      password: 'secret',
      from: 'Lamassu <pki@example.test>',
      caFile: path.resolve('smtp-ca.pem'),
    });
    assert.deepEqual([c.templatesDir, c.maxAttempts, c.retryBaseMs, c.retentionMs], [path.resolve('templates'), 3, 500, 7 * 86_400_000]);
    const file = yamlFile('smtp.yaml', 'smtp:\n  host: mail.local\n  port: 465\n  security: tls\n  from: pki@mail.local\nalerts:\n  send_timeout: 30s\n');
    const fromFile = loadConfig({ env: {}, file }).alerts!;
    assert.deepEqual([fromFile.smtp?.port, fromFile.smtp?.security, fromFile.sendTimeoutMs], [465, 'tls', 30_000]);
    assert.deepEqual(problems({ env: { LAMASSU_SMTP_HOST: 'smtp.example.test', LAMASSU_SMTP_PASSWORD: 'x', LAMASSU_SMTP_SECURITY: 'ssl', LAMASSU_ALERTS_MAX_ATTEMPTS: '0' } }), [
      'LAMASSU_SMTP_SECURITY: must be one of starttls, tls, none, got "ssl"',
      'LAMASSU_ALERTS_MAX_ATTEMPTS: must be a whole number from 1 to 100, got "0"',
      'LAMASSU_SMTP_FROM: required when LAMASSU_SMTP_HOST is set (the sender of alert emails)',
      'LAMASSU_SMTP_USERNAME: required with LAMASSU_SMTP_PASSWORD',
    ]);
    assert.deepEqual(problems({ env: { LAMASSU_ALERTS_RETRY_BASE: '1m', LAMASSU_ALERTS_RETRY_MAX: '10s' } }), [
      'LAMASSU_ALERTS_RETRY_MAX: must not be shorter than LAMASSU_ALERTS_RETRY_BASE',
    ]);
  });
});
