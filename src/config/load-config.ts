/**
 * Builds the Config from the environment, an optional YAML file and command-line flags (flag > env >
 * file > default), and reports every bad value at once, each named by where it came from.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  ENGINE_TYPES,
  type AlertsConfig,
  settings,
  type Config,
  type KeyEngineSettings,
  type OidcConfig,
  type Setting,
  type Settings,
  type StorageConfig,
} from './config-schema.ts';
import { httpUrl, identifier, InvalidValue, oneOf, text, type Parser } from './parsers.ts';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  env: Record<string, string | undefined>;
  /** Path of the YAML file (`lamassu serve --config`). */
  file?: string;
  /** Command-line flags by name, e.g. { '--services': 'ca,va' }. */
  flags?: Record<string, string | undefined>;
}

type Doc = Record<string, unknown>;

const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

function readDoc(file: string): Doc {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([`${file}: cannot read the config file (${(e as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(source);
  } catch (e) {
    throw new ConfigError([`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`]);
  }
  if (doc === null || doc === undefined) return {};
  if (!isObject(doc)) throw new ConfigError([`${file}: must be a YAML mapping of settings`]);
  return doc;
}

const getPath = (doc: Doc, dotted: string): unknown =>
  dotted.split('.').reduce<unknown>((v, k) => (isObject(v) ? v[k] : undefined), doc);

/** Misspelt keys would otherwise be silently ignored. */
function unknownKeys(doc: Doc, label: string): string[] {
  const known = new Set(Object.values(settings).map((s) => s.file));
  known.add('key_engines');
  const groups = new Set([...known].filter((k) => k.includes('.')).map((k) => k.split('.')[0]));
  const problems: string[] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (groups.has(key)) {
      if (!isObject(value)) problems.push(`${label}: ${key}: must be a mapping`);
      else for (const sub of Object.keys(value)) if (!known.has(`${key}.${sub}`)) problems.push(`${label}: unknown setting "${key}.${sub}"`);
    } else if (!known.has(key)) problems.push(`${label}: unknown setting "${key}"`);
  }
  return problems;
}

export function loadConfig(opts: LoadConfigOptions): Config {
  const doc = opts.file ? readDoc(opts.file) : {};
  const fileLabel = opts.file ?? '';
  const problems = unknownKeys(doc, fileLabel);

  const parseNamed = <T>(parse: Parser<T>, raw: unknown, name: string): T | undefined => {
    try {
      return parse(raw);
    } catch (e) {
      if (!(e instanceof InvalidValue)) throw e;
      problems.push(`${name}: ${e.message}`);
      return undefined;
    }
  };
  const resolve = <T>(s: Setting<T>): T => {
    const flag = s.cli ? opts.flags?.[s.cli] : undefined;
    if (flag !== undefined) return parseNamed(s.parse, flag, s.cli!) ?? s.default;
    const env = s.env ? opts.env[s.env] : undefined;
    // An empty variable counts as unset, as container tooling often leaves them empty.
    if (env !== undefined && env !== '') return parseNamed(s.parse, env, s.env!) ?? s.default;
    const fromFile = getPath(doc, s.file);
    if (fromFile !== undefined && fromFile !== null) return parseNamed(s.parse, fromFile, `${fileLabel}: ${s.file}`) ?? s.default;
    return s.default;
  };
  const values = Object.fromEntries(
    Object.entries(settings).map(([k, s]) => [k, resolve(s as Setting<unknown>)]),
  ) as Settings;
  /** How to name a setting in a message: its environment variable, or its file key when it has none. */
  const nameOf = (key: keyof typeof settings): string => {
    const s: Setting<unknown> = settings[key];
    return s.env ?? `${fileLabel}: ${s.file}`;
  };

  const dataDir = path.resolve(values.dataDir);
  const oidc = oidcConfig(values, nameOf, problems);
  const storage = storageConfig(values, dataDir);
  const engines = keyEngines(values, doc, opts.env.ENGINE, dataDir, fileLabel, nameOf, problems);
  const alerts = alertsConfig(values, nameOf, problems);

  if ((values.tlsCertFile === undefined) !== (values.tlsKeyFile === undefined)) {
    problems.push(`${nameOf(values.tlsCertFile ? 'tlsKeyFile' : 'tlsCertFile')}: required together with ${nameOf(values.tlsCertFile ? 'tlsCertFile' : 'tlsKeyFile')}`);
  }
  if (values.tlsCertFile === undefined && values.tlsRenewBeforeMs >= values.tlsCertLifetimeMs) {
    problems.push(`${nameOf('tlsRenewBeforeMs')}: must be shorter than ${nameOf('tlsCertLifetimeMs')}, or the certificate is renewed all the time`);
  }
  // SQLite is written by one process: the writer thread and the group commits of one server (issue 12).
  const workers = values.workers === 'auto' ? (storage.kind === 'postgres' ? availableParallelism() : 1) : values.workers;
  if (workers > 1 && storage.kind === 'sqlite') {
    problems.push(`${nameOf('workers')}: ${workers} worker processes need PostgreSQL (DATABASE_URL or POSTGRES_*): SQLite is written by one process; use 1 (or auto) with SQLite`);
  }
  if (values.awsRetryMaxMs < values.awsRetryBaseMs) problems.push(`${nameOf('awsRetryMaxMs')}: must not be shorter than ${nameOf('awsRetryBaseMs')}`);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    workers,
    dataDir,
    httpsPort: values.httpsPort,
    httpPort: values.httpPort,
    listenAddress: values.listenAddress,
    tlsHostnames: values.tlsHostnames,
    tlsCertFile: values.tlsCertFile && path.resolve(values.tlsCertFile),
    tlsKeyFile: values.tlsKeyFile && path.resolve(values.tlsKeyFile),
    tlsCertLifetimeMs: values.tlsCertLifetimeMs,
    tlsRenewBeforeMs: values.tlsRenewBeforeMs,
    httpRequestTimeoutMs: values.httpRequestTimeoutMs,
    services: [...new Set(values.services)],
    logLevel: values.logLevel,
    vaBaseUrls: values.vaBaseUrls,
    aboutToExpireMs: values.aboutToExpireMs,
    statusSweepIntervalMs: values.statusSweepIntervalMs,
    estDefaultDms: values.estDefaultDms,
    kmsAllowKeyExport: values.kmsAllowKeyExport,
    oidc,
    storage,
    eventBus: values.amqpUrl
      ? { kind: 'amqp', url: values.amqpUrl, prefix: values.amqpPrefix, exchange: values.amqpExchange, queuePrefix: values.amqpQueuePrefix }
      : { kind: 'memory' },
    keyEngines: engines.list,
    defaultEngine: engines.defaultId,
    alerts,
    aws: {
      connectorId: values.awsConnectorId,
      ...(values.awsRegion ? { region: values.awsRegion } : {}),
      ...(values.awsIotEndpoint ? { iotEndpoint: values.awsIotEndpoint } : {}),
      ...(values.awsIotDataEndpoint ? { iotDataEndpoint: values.awsIotDataEndpoint } : {}),
      retryBaseMs: values.awsRetryBaseMs,
      retryMaxMs: values.awsRetryMaxMs,
      requestTimeoutMs: values.awsRequestTimeoutMs,
      rotationCheckMs: values.awsRotationCheckMs,
      rotationGraceMs: values.awsRotationGraceMs,
    },
  };
}

function alertsConfig(v: Settings, nameOf: (k: keyof typeof settings) => string, problems: string[]): AlertsConfig {
  let smtp: AlertsConfig['smtp'];
  if (v.smtpHost !== undefined) {
    if (v.smtpFrom === undefined) problems.push(`${nameOf('smtpFrom')}: required when ${nameOf('smtpHost')} is set (the sender of alert emails)`);
    if (v.smtpPassword !== undefined && v.smtpUsername === undefined) problems.push(`${nameOf('smtpUsername')}: required with ${nameOf('smtpPassword')}`);
    smtp = {
      host: v.smtpHost,
      port: v.smtpPort,
      security: v.smtpSecurity,
      username: v.smtpUsername,
      password: v.smtpPassword,
      from: v.smtpFrom ?? '',
      caFile: v.smtpCaFile && path.resolve(v.smtpCaFile),
    };
  }
  if (v.alertsRetryMaxMs < v.alertsRetryBaseMs) problems.push(`${nameOf('alertsRetryMaxMs')}: must not be shorter than ${nameOf('alertsRetryBaseMs')}`);
  return {
    ...(smtp ? { smtp } : {}),
    templatesDir: v.alertsTemplatesDir && path.resolve(v.alertsTemplatesDir),
    maxAttempts: v.alertsMaxAttempts,
    retryBaseMs: v.alertsRetryBaseMs,
    retryMaxMs: v.alertsRetryMaxMs,
    sendTimeoutMs: v.alertsSendTimeoutMs,
    retentionMs: v.alertsRetentionMs,
  };
}

function isHttpUrl(s: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}

function oidcConfig(
  v: Settings,
  nameOf: (k: keyof typeof settings) => string,
  problems: string[],
): OidcConfig | undefined {
  const any = [v.oidcJwksUrl, v.oidcIssuer, v.oidcAudience, v.oidcMaxTokenLifetimeMs, v.oidcConsoleClientId];
  if (any.every((x) => x === undefined)) return undefined;
  const missing = (['oidcJwksUrl', 'oidcIssuer', 'oidcAudience'] as const).filter((k) => v[k] === undefined);
  for (const k of missing) problems.push(`${nameOf(k)}: required when OIDC is configured (JWKS URL, issuer and audience go together)`);
  if (missing.length > 0) return undefined;
  if (v.oidcConsoleClientId !== undefined && !isHttpUrl(v.oidcIssuer!)) {
    problems.push(
      `${nameOf('oidcIssuer')}: must be an http(s) URL when ${nameOf('oidcConsoleClientId')} is set (the console reads <issuer>/.well-known/openid-configuration), got "${v.oidcIssuer}"`,
    );
    return undefined;
  }
  return {
    jwksUrl: v.oidcJwksUrl!,
    issuer: v.oidcIssuer!,
    audience: v.oidcAudience!,
    rolesClaim: v.oidcRolesClaim,
    ...(v.oidcMaxTokenLifetimeMs !== undefined ? { maxTokenLifetimeMs: v.oidcMaxTokenLifetimeMs } : {}),
    ...(v.oidcConsoleClientId !== undefined ? { console: { clientId: v.oidcConsoleClientId, scopes: [...new Set(['openid', ...v.oidcConsoleScopes])] } } : {}),
  };
}

function storageConfig(v: Settings, dataDir: string): StorageConfig {
  if (v.databaseUrl) return { kind: 'postgres', url: v.databaseUrl, schema: v.postgresSchema };
  const pg = [v.postgresHostname, v.postgresPort, v.postgresDatabase, v.postgresUsername, v.postgresPassword];
  if (pg.every((x) => x === undefined)) return { kind: 'sqlite', file: path.join(dataDir, 'lamassu.db') };
  const auth = v.postgresUsername
    ? `${encodeURIComponent(v.postgresUsername)}${v.postgresPassword ? `:${encodeURIComponent(v.postgresPassword)}` : ''}@`
    : '';
  const host = v.postgresHostname ?? 'localhost';
  const url = `postgres://${auth}${host.includes(':') ? `[${host}]` : host}:${v.postgresPort ?? 5432}/${encodeURIComponent(v.postgresDatabase ?? 'lamassu')}`;
  return { kind: 'postgres', url, schema: v.postgresSchema };
}

function keyEngines(
  v: Settings,
  doc: Doc,
  envEngine: string | undefined,
  dataDir: string,
  fileLabel: string,
  nameOf: (k: keyof typeof settings) => string,
  problems: string[],
): { list: KeyEngineSettings[]; defaultId: string } {
  const listed = doc.key_engines;
  // ENGINE in the environment overrides the file's list, like every other variable.
  if (listed === undefined || (envEngine !== undefined && envEngine !== '')) {
    const type = v.engine ?? 'filesystem';
    const need = (k: keyof typeof settings): string => {
      const value = v[k];
      if (typeof value === 'string') return value;
      problems.push(`${nameOf(k)}: required when ENGINE is ${type}`);
      return '';
    };
    let engine: KeyEngineSettings;
    if (type === 'pkcs11') {
      engine = { id: 'pkcs11', type, module: need('pkcs11Driver'), tokenLabel: need('pkcs11Label'), pin: need('pkcs11Pin') };
    } else if (type === 'vault') {
      engine = {
        id: 'vault',
        type,
        address: need('vaultAddress'),
        roleId: need('vaultRoleId'),
        secretId: need('vaultSecretId'),
        caFile: v.vaultCa,
        unsealKeyFile: v.vaultUnsealKeyFile,
        pkiCaPath: v.vaultPkiCaPath,
      };
    } else {
      engine = {
        id: type,
        type: 'filesystem',
        directory: path.resolve(v.gopemData ?? path.join(dataDir, 'keys')),
        passphrase: v.keysPassphrase,
      };
    }
    if (listed === undefined && v.defaultEngine !== undefined && v.defaultEngine !== engine.id) {
      problems.push(`${fileLabel}: default_engine: must name a configured engine ("${engine.id}"), got "${v.defaultEngine}"`);
    }
    return { list: [engine], defaultId: engine.id };
  }

  if (!Array.isArray(listed) || listed.length === 0) {
    problems.push(`${fileLabel}: key_engines: must be a non-empty list of engines`);
    return { list: [], defaultId: '' };
  }
  const list: KeyEngineSettings[] = [];
  listed.forEach((entry, i) => {
    const at = `${fileLabel}: key_engines[${i}]`;
    if (!isObject(entry)) {
      problems.push(`${at}: must be a mapping with id and type`);
      return;
    }
    const field = <T>(key: string, parse: Parser<T>): T | undefined => {
      const raw = entry[key];
      if (raw === undefined || raw === null) return undefined;
      try {
        return parse(raw);
      } catch (e) {
        if (!(e instanceof InvalidValue)) throw e;
        problems.push(`${at}.${key}: ${e.message}`);
        return undefined;
      }
    };
    const must = (key: string, parse: Parser<string> = text): string => {
      if (entry[key] === undefined || entry[key] === null) {
        problems.push(`${at}.${key}: required`);
        return '';
      }
      return field(key, parse) ?? '';
    };
    const id = must('id', identifier);
    if (entry.type === undefined || entry.type === null) {
      problems.push(`${at}.type: required`);
      return;
    }
    const type = field('type', oneOf(ENGINE_TYPES));
    if (type === undefined) return;
    const allowed: Record<string, string[]> = {
      filesystem: ['directory', 'passphrase'],
      gopem: ['directory', 'passphrase'],
      pkcs11: ['driver', 'label', 'pin'],
      vault: ['address', 'role_id', 'secret_id', 'ca', 'unseal_key_file', 'pki_ca_path'],
    };
    for (const key of Object.keys(entry)) {
      if (key !== 'id' && key !== 'type' && !allowed[type].includes(key)) problems.push(`${at}: unknown setting "${key}" for a ${type} engine`);
    }
    if (list.some((e) => e.id === id)) problems.push(`${at}.id: duplicate engine id "${id}"`);
    if (type === 'pkcs11') {
      list.push({ id, type, module: must('driver'), tokenLabel: must('label'), pin: must('pin') });
    } else if (type === 'vault') {
      list.push({
        id,
        type,
        address: must('address', httpUrl),
        roleId: must('role_id'),
        secretId: must('secret_id'),
        caFile: field('ca', text),
        unsealKeyFile: field('unseal_key_file', text),
        pkiCaPath: field('pki_ca_path', text),
      });
    } else {
      const directory = field('directory', text) ?? path.join(dataDir, 'keys', id);
      list.push({ id, type: 'filesystem', directory: path.resolve(directory), passphrase: field('passphrase', text) ?? v.keysPassphrase });
    }
  });

  let defaultId = v.defaultEngine;
  if (defaultId === undefined) {
    if (list.length === 1) defaultId = list[0].id;
    else problems.push(`${fileLabel}: default_engine: required when key_engines lists more than one engine`);
  } else if (!list.some((e) => e.id === defaultId)) {
    problems.push(`${fileLabel}: default_engine: must be the id of an engine in key_engines, got "${defaultId}"`);
  }
  return { list, defaultId: defaultId ?? '' };
}
