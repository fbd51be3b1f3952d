/**
 * Every setting of `lamassu serve`: its environment variable, its place in the YAML file, how its value
 * is parsed and its default. The `Config` type is derived from this table, so a new setting is one line
 * here (plus its line in docs/configuration.md).
 */
import {
  amqpNamePrefix,
  amqpUrl,
  duration,
  durationAtLeast,
  flag,
  hostname,
  httpUrl,
  identifier,
  integerIn,
  list,
  listenAddress,
  oneOf,
  port,
  postgresUrl,
  text,
  type Parser,
} from './parsers.ts';

export const SERVICE_NAMES = ['ca', 'kms', 'va', 'dms', 'devices', 'alerts', 'cloudproxy', 'aws-connector'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
/** What runs without --services: every service but the cloud connectors, which need a cloud account. */
export const DEFAULT_SERVICES: ServiceName[] = SERVICE_NAMES.filter((s) => s !== 'aws-connector');

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `gopem` is the seed's name for PEM files on disk; it is the filesystem engine. */
export const ENGINE_TYPES = ['filesystem', 'gopem', 'pkcs11', 'vault'] as const;

export const SMTP_SECURITY = ['starttls', 'tls', 'none'] as const;

export interface Setting<T> {
  /** Environment variable; absent for settings that only the YAML file can carry. */
  env?: string;
  /** Dotted path in the YAML file. */
  file: string;
  /** Command-line flag of `lamassu serve` that overrides both. */
  cli?: string;
  parse: Parser<T>;
  default: T;
}

/** `auto` or 1..64. */
const workerCount: Parser<number | 'auto'> = (raw) => (typeof raw === 'string' && raw.trim() === 'auto' ? 'auto' : integerIn(1, 64)(raw));

const required = <T>(s: Setting<T>): Setting<T> => s;
const optional = <T>(s: Omit<Setting<T>, 'default'>): Setting<T | undefined> => ({ ...s, default: undefined });

export const settings = {
  dataDir: required({ env: 'LAMASSU_DATA_DIR', file: 'data_dir', parse: text, default: './lamassu-data' }),
  httpsPort: required({ env: 'LAMASSU_HTTPS_PORT', file: 'https_port', parse: port, default: 8443 }),
  httpPort: required({ env: 'LAMASSU_HTTP_PORT', file: 'http_port', parse: port, default: 8080 }),
  listenAddress: required({ env: 'LAMASSU_LISTEN_ADDRESS', file: 'listen_address', parse: listenAddress, default: '0.0.0.0' }),
  tlsHostnames: required({
    env: 'LAMASSU_TLS_HOSTNAMES',
    file: 'tls.hostnames',
    parse: list(hostname),
    default: ['localhost', '127.0.0.1'],
  }),
  tlsCertFile: optional({ env: 'LAMASSU_TLS_CERT_FILE', file: 'tls.cert_file', parse: text }),
  tlsKeyFile: optional({ env: 'LAMASSU_TLS_KEY_FILE', file: 'tls.key_file', parse: text }),
  tlsCertLifetimeMs: required({
    env: 'LAMASSU_TLS_CERT_LIFETIME',
    file: 'tls.cert_lifetime',
    parse: durationAtLeast(60_000, '1m'),
    default: 365 * 86_400_000,
  }),
  tlsRenewBeforeMs: required({
    env: 'LAMASSU_TLS_RENEW_BEFORE',
    file: 'tls.renew_before',
    parse: durationAtLeast(1000, '1s'),
    default: 30 * 86_400_000,
  }),
  httpRequestTimeoutMs: required({
    env: 'LAMASSU_HTTP_REQUEST_TIMEOUT',
    file: 'http.request_timeout',
    parse: durationAtLeast(1000, '1s'),
    default: 60_000,
  }),
  services: required<ServiceName[]>({
    env: 'LAMASSU_SERVICES',
    file: 'services',
    cli: '--services',
    parse: list(oneOf(SERVICE_NAMES)),
    default: [...DEFAULT_SERVICES],
  }),
  /** Processes serving the listeners (node:cluster); 'auto': one per core with PostgreSQL, 1 with SQLite. */
  workers: required<number | 'auto'>({ env: 'LAMASSU_WORKERS', file: 'workers', cli: '--workers', parse: workerCount, default: 'auto' }),
  logLevel: required<LogLevel>({ env: 'LAMASSU_LOG_LEVEL', file: 'log_level', parse: oneOf(LOG_LEVELS), default: 'info' }),
  vaBaseUrls: required({
    env: 'LAMASSU_VA_BASE_URLS',
    file: 'va_base_urls',
    parse: list(httpUrl),
    default: ['http://localhost:8080'],
  }),
  aboutToExpireMs: required({ env: 'LAMASSU_ABOUT_TO_EXPIRE', file: 'ca.about_to_expire', parse: duration, default: 30 * 86_400_000 }),
  statusSweepIntervalMs: required({
    env: 'LAMASSU_STATUS_SWEEP_INTERVAL',
    file: 'ca.status_sweep_interval',
    parse: durationAtLeast(1000, '1s'),
    default: 3_600_000,
  }),
  kmsAllowKeyExport: required({ env: 'LAMASSU_KMS_ALLOW_KEY_EXPORT', file: 'kms.allow_key_export', parse: flag, default: false }),
  estDefaultDms: optional({ env: 'LAMASSU_EST_DEFAULT_DMS', file: 'est.default_dms', parse: text }),
  oidcJwksUrl: optional({ env: 'LAMASSU_OIDC_JWKS_URL', file: 'oidc.jwks_url', parse: httpUrl }),
  oidcIssuer: optional({ env: 'LAMASSU_OIDC_ISSUER', file: 'oidc.issuer', parse: text }),
  oidcAudience: optional({ env: 'LAMASSU_OIDC_AUDIENCE', file: 'oidc.audience', parse: text }),
  oidcRolesClaim: required({
    env: 'LAMASSU_OIDC_ROLES_CLAIM',
    file: 'oidc.roles_claim',
    parse: text,
    default: 'realm_access.roles',
  }),
  oidcMaxTokenLifetimeMs: optional({ env: 'LAMASSU_OIDC_MAX_TOKEN_LIFETIME', file: 'oidc.max_token_lifetime', parse: durationAtLeast(1000, '1s') }),
  oidcConsoleClientId: optional({ env: 'LAMASSU_OIDC_CONSOLE_CLIENT_ID', file: 'oidc.console_client_id', parse: text }),
  oidcConsoleScopes: required({ env: 'LAMASSU_OIDC_CONSOLE_SCOPES', file: 'oidc.console_scopes', parse: list(text), default: ['openid'] }),
  databaseUrl: optional({ env: 'DATABASE_URL', file: 'database_url', parse: postgresUrl }),
  postgresHostname: optional({ env: 'POSTGRES_HOSTNAME', file: 'postgres.hostname', parse: text }),
  postgresPort: optional({ env: 'POSTGRES_PORT', file: 'postgres.port', parse: port }),
  postgresDatabase: optional({ env: 'POSTGRES_DATABASE', file: 'postgres.database', parse: text }),
  postgresUsername: optional({ env: 'POSTGRES_USERNAME', file: 'postgres.username', parse: text }),
  postgresPassword: optional({ env: 'POSTGRES_PASSWORD', file: 'postgres.password', parse: text }),
  postgresSchema: optional({ env: 'LAMASSU_POSTGRES_SCHEMA', file: 'postgres.schema', parse: identifier }),
  amqpUrl: optional({ env: 'LAMASSU_AMQP_URL', file: 'amqp.url', parse: amqpUrl }),
  amqpPrefix: optional({ env: 'LAMASSU_AMQP_PREFIX', file: 'amqp.prefix', parse: amqpNamePrefix }),
  amqpExchange: optional({ env: 'LAMASSU_AMQP_EXCHANGE', file: 'amqp.exchange', parse: text }),
  amqpQueuePrefix: optional({ env: 'LAMASSU_AMQP_QUEUE_PREFIX', file: 'amqp.queue_prefix', parse: text }),
  engine: optional({ env: 'ENGINE', file: 'engine', parse: oneOf(ENGINE_TYPES) }),
  gopemData: optional({ env: 'GOPEM_DATA', file: 'gopem_data', parse: text }),
  keysPassphrase: optional({ env: 'LAMASSU_KEYS_PASSPHRASE', file: 'keys_passphrase', parse: text }),
  pkcs11Driver: optional({ env: 'PKCS11_DRIVER', file: 'pkcs11.driver', parse: text }),
  pkcs11Label: optional({ env: 'PKCS11_LABEL', file: 'pkcs11.label', parse: text }),
  pkcs11Pin: optional({ env: 'PKCS11_PIN', file: 'pkcs11.pin', parse: text }),
  vaultAddress: optional({ env: 'VAULT_ADDRESS', file: 'vault.address', parse: httpUrl }),
  vaultRoleId: optional({ env: 'VAULT_ROLE_ID', file: 'vault.role_id', parse: text }),
  vaultSecretId: optional({ env: 'VAULT_SECRET_ID', file: 'vault.secret_id', parse: text }),
  vaultCa: optional({ env: 'VAULT_CA', file: 'vault.ca', parse: text }),
  vaultUnsealKeyFile: optional({ env: 'VAULT_UNSEAL_KEY_FILE', file: 'vault.unseal_key_file', parse: text }),
  vaultPkiCaPath: optional({ env: 'VAULT_PKI_CA_PATH', file: 'vault.pki_ca_path', parse: text }),
  defaultEngine: optional({ file: 'default_engine', parse: identifier }),
  smtpHost: optional({ env: 'LAMASSU_SMTP_HOST', file: 'smtp.host', parse: hostname }),
  smtpPort: required({ env: 'LAMASSU_SMTP_PORT', file: 'smtp.port', parse: port, default: 587 }),
  smtpSecurity: required<(typeof SMTP_SECURITY)[number]>({ env: 'LAMASSU_SMTP_SECURITY', file: 'smtp.security', parse: oneOf(SMTP_SECURITY), default: 'starttls' }),
  smtpUsername: optional({ env: 'LAMASSU_SMTP_USERNAME', file: 'smtp.username', parse: text }),
  smtpPassword: optional({ env: 'LAMASSU_SMTP_PASSWORD', file: 'smtp.password', parse: text }),
  smtpFrom: optional({ env: 'LAMASSU_SMTP_FROM', file: 'smtp.from', parse: text }),
  smtpCaFile: optional({ env: 'LAMASSU_SMTP_CA_FILE', file: 'smtp.ca_file', parse: text }),
  alertsTemplatesDir: optional({ env: 'LAMASSU_ALERTS_TEMPLATES_DIR', file: 'alerts.templates_dir', parse: text }),
  alertsMaxAttempts: required({ env: 'LAMASSU_ALERTS_MAX_ATTEMPTS', file: 'alerts.max_attempts', parse: integerIn(1, 100), default: 8 }),
  alertsRetryBaseMs: required({ env: 'LAMASSU_ALERTS_RETRY_BASE', file: 'alerts.retry_base', parse: durationAtLeast(10, '10ms'), default: 5000 }),
  alertsRetryMaxMs: required({ env: 'LAMASSU_ALERTS_RETRY_MAX', file: 'alerts.retry_max', parse: durationAtLeast(10, '10ms'), default: 3_600_000 }),
  alertsRetentionMs: required({ env: 'LAMASSU_ALERTS_RETENTION', file: 'alerts.retention', parse: durationAtLeast(1000, '1s'), default: 30 * 86_400_000 }),
  alertsSendTimeoutMs: required({ env: 'LAMASSU_ALERTS_SEND_TIMEOUT', file: 'alerts.send_timeout', parse: durationAtLeast(100, '100ms'), default: 10_000 }),
  awsConnectorId: required({ env: 'LAMASSU_AWS_CONNECTOR_ID', file: 'aws.connector_id', parse: identifier, default: 'aws-iot' }),
  awsRegion: optional({ env: 'AWS_REGION', file: 'aws.region', parse: text }),
  awsIotEndpoint: optional({ env: 'AWS_ENDPOINT_URL_IOT', file: 'aws.iot_endpoint', parse: httpUrl }),
  awsIotDataEndpoint: optional({ env: 'AWS_ENDPOINT_URL_IOT_DATA_PLANE', file: 'aws.iot_data_endpoint', parse: httpUrl }),
  awsRetryBaseMs: required({ env: 'LAMASSU_AWS_RETRY_BASE', file: 'aws.retry_base', parse: durationAtLeast(10, '10ms'), default: 1000 }),
  awsRetryMaxMs: required({ env: 'LAMASSU_AWS_RETRY_MAX', file: 'aws.retry_max', parse: durationAtLeast(10, '10ms'), default: 60_000 }),
  awsRequestTimeoutMs: required({ env: 'LAMASSU_AWS_REQUEST_TIMEOUT', file: 'aws.request_timeout', parse: durationAtLeast(100, '100ms'), default: 10_000 }),
  awsRotationCheckMs: required({ env: 'LAMASSU_AWS_ROTATION_CHECK', file: 'aws.rotation_check', parse: durationAtLeast(100, '100ms'), default: 5 * 60_000 }),
  awsRotationGraceMs: required({ env: 'LAMASSU_AWS_ROTATION_GRACE', file: 'aws.rotation_grace', parse: durationAtLeast(1000, '1s'), default: 7 * 86_400_000 }),
} satisfies Record<string, Setting<unknown>>;

/** The flat values of the table above, one property per setting. */
export type Settings = { [K in keyof typeof settings]: (typeof settings)[K]['default'] };

export type StorageConfig = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; schema?: string };

/** One key engine, from the `key_engines` list of the YAML file or from the seed's ENGINE variables. */
export type KeyEngineSettings =
  | { id: string; type: 'filesystem'; directory: string; passphrase?: string }
  | { id: string; type: 'pkcs11'; module: string; tokenLabel: string; pin: string }
  | {
      id: string;
      type: 'vault';
      address: string;
      roleId: string;
      secretId: string;
      caFile?: string;
      unsealKeyFile?: string;
      pkiCaPath?: string;
    };

/** In-process by default; RabbitMQ when several replicas must see each other's events. */
/**
 * `prefix` names the deployment's topology (exchange `<prefix>-events`, queues `<prefix>.<group>`); the older
 * `exchange` and `queuePrefix` settings override its parts.
 */
export type EventBusConfig = { kind: 'memory' } | { kind: 'amqp'; url: string; prefix?: string; exchange?: string; queuePrefix?: string };

export interface OidcConfig {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** Dotted path of the roles array in the token, e.g. "realm_access.roles". */
  rolesClaim: string;
  /** Longest accepted token lifetime (exp - iat); unlimited when absent. */
  maxTokenLifetimeMs?: number;
  /** The web console's sign-in (authorization code + PKCE, a public client); absent: the console takes pasted tokens only. */
  console?: { clientId: string; scopes: string[] };
}

/** The alerts service: its SMTP server (EMAIL channel; absent when none is configured) and delivery settings. */
export interface AlertsConfig {
  smtp?: {
    host: string;
    port: number;
    security: (typeof SMTP_SECURITY)[number];
    username?: string;
    password?: string;
    from: string;
    caFile?: string;
  };
  templatesDir?: string;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  sendTimeoutMs: number;
  /** Finished deliveries and recorded events older than this are forgotten. */
  retentionMs: number;
}

/**
 * The AWS IoT Core connector. Credentials come from the AWS SDK's standard chain (AWS_ACCESS_KEY_ID, profiles,
 * web identity, instance roles); absent region or endpoints: the SDK's own defaults.
 */
export interface AwsConnectorConfig {
  connectorId: string;
  region?: string;
  iotEndpoint?: string;
  iotDataEndpoint?: string;
  retryBaseMs: number;
  retryMaxMs: number;
  requestTimeoutMs: number;
  /** Re-enrollment: how often the device of a superseded certificate is looked at (its shadow read). */
  rotationCheckMs: number;
  /** Re-enrollment: how long a superseded certificate stays active in AWS at most when its device is not seen using the new one. */
  rotationGraceMs: number;
}

/** The validated configuration `lamassu serve` runs with. */
export type Config = Pick<
  Settings,
  | 'dataDir'
  | 'httpsPort'
  | 'httpPort'
  | 'listenAddress'
  | 'tlsHostnames'
  | 'tlsCertFile'
  | 'tlsKeyFile'
  | 'tlsCertLifetimeMs'
  | 'tlsRenewBeforeMs'
  | 'httpRequestTimeoutMs'
  | 'services'
  | 'logLevel'
  | 'vaBaseUrls'
  | 'aboutToExpireMs'
  | 'statusSweepIntervalMs'
  | 'estDefaultDms'
  | 'kmsAllowKeyExport'
> & {
  /** Server processes (resolved: 'auto' became a number); 1 is a single process without node:cluster. */
  workers: number;
  oidc?: OidcConfig;
  storage: StorageConfig;
  eventBus: EventBusConfig;
  keyEngines: KeyEngineSettings[];
  /** Id of the engine used when a request names none; one of `keyEngines`. */
  defaultEngine: string;
  /** Absent: the alerts service's defaults, without email. */
  alerts?: AlertsConfig;
  /** Absent: the connector's defaults (id aws-iot, SDK region and endpoints). */
  aws?: AwsConnectorConfig;
};
