import type { ColumnType } from 'kysely';

/**
 * The database schema as Kysely sees it: one interface per table, keyed by table name in `Database`.
 *
 * To add a table (each service issue does this):
 *   1. add `interface FooTable` below and a `foo: FooTable` key in `Database`;
 *   2. add a migration file `migrations/NNNN-<name>.ts` creating it and register it in `migrations/index.ts`;
 *   3. add the repository (`foo-repository.ts`) and register it in `repositories.ts`.
 *
 * Column conventions, the same on SQLite and PostgreSQL so one repository code path serves both:
 * - names in snake_case; repositories map rows to domain records explicitly (no camel-case plugin);
 * - instants are epoch milliseconds (`EpochMs`): `bigint` columns, which sort and range-scan correctly on
 *   both dialects and come back as JS numbers (the pg pool parses int8 as a number, so int8 columns must
 *   only hold values within +-2^53);
 * - booleans are `integer` 0/1 (SQLite has no boolean type);
 * - byte strings (DER) are `Uint8Array`/`Buffer` in a column of type `bytesType(db)` from
 *   `migrations/column-types.ts` (`blob` on SQLite, `bytea` on PostgreSQL);
 * - structured values are JSON text; big numbers such as certificate serials are text (hex).
 */

import type { Generated } from 'kysely';

/** Milliseconds since the Unix epoch, UTC. */
export type EpochMs = number;

export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: EpochMs;
}

export interface AdminTokensTable {
  id: string;
  token_hash: string;
  subject: string;
  role: string;
  created_at: EpochMs;
}

/** CA service: see migrations/0002-ca.ts for why certificates are split in two tables. */
export interface IssuanceProfilesTable {
  id: string;
  name: string;
  description: string;
  /** JSON of IssuanceSettings. */
  settings: string;
  created_at: EpochMs;
  updated_at: EpochMs;
  /** Expiration deltas (0009), null when off. */
  expiry_preventive_ms: ColumnType<number | null, number | null | undefined, number | null>;
  expiry_critical_ms: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface CertificatesTable {
  id: string;
  serial_number: string;
  issuer_ca_id: string | null;
  ca_id: string | null;
  status: string;
  not_before: EpochMs;
  not_after: EpochMs;
  about_to_expire_at: EpochMs;
  revoked_at: EpochMs | null;
  revocation_reason: string | null;
  /** Migration 0006. */
  invalidity_date: EpochMs | null;
  subject_cn: string;
  subject_key_id: string;
  authority_key_id: string | null;
  key_type: string;
  key_bits: number;
  is_ca: number;
  type: string;
  engine_id: string | null;
  created_at: EpochMs;
  /** Expiration deltas (0009): provenance, deltas, stage (0 none, 1 preventive, 2 critical), next due instant. */
  profile_id: ColumnType<string | null, string | null | undefined, string | null>;
  dms_id: ColumnType<string | null, string | null | undefined, string | null>;
  expiry_source: ColumnType<string, string | undefined, string>;
  expiry_preventive_ms: ColumnType<number | null, number | null | undefined, number | null>;
  expiry_critical_ms: ColumnType<number | null, number | null | undefined, number | null>;
  expiry_stage: ColumnType<number, number | undefined, number>;
  expiry_next_at: ColumnType<EpochMs | null, EpochMs | null | undefined, EpochMs | null>;
}

export interface CertificateBlobsTable {
  id: string;
  der: Uint8Array;
  /** JSON of CertificateDetails. */
  details: string;
}

export interface CasTable {
  id: string;
  certificate_id: string;
  parent_id: string | null;
  level: number;
  type: string;
  engine_id: string | null;
  key_id: string | null;
  internal: number;
  profile_id: string | null;
  about_to_expire_ms: number | null;
  /** Expiration deltas (0009), null when off. */
  expiry_preventive_ms: ColumnType<number | null, number | null | undefined, number | null>;
  expiry_critical_ms: ColumnType<number | null, number | null | undefined, number | null>;
  /** JSON object. */
  metadata: string;
  created_at: EpochMs;
}

/** DMS manager: see migrations/0003-dms.ts. */
export interface DmsTable {
  id: string;
  name: string;
  /** JSON object. */
  metadata: string;
  /** JSON array of CA ids. */
  authorized_cas: string;
  /** JSON of DmsSettings (the HTTP Basic password only as a hash). */
  settings: string;
  certificate_serial: string | null;
  certificate_issuer_ca_id: string | null;
  created_at: EpochMs;
  updated_at: EpochMs;
}

/** Device manager: see migrations/0004-devices.ts. */
export interface DevicesTable {
  id: string;
  alias: string;
  /** JSON array of strings. */
  tags: string;
  /** JSON object. */
  metadata: string;
  dms_id: string | null;
  status: string;
  created_at: EpochMs;
  updated_at: EpochMs;
  /** Lamassu's console icon name and colours "#bg-#fg"; '' when none (0008). */
  icon: string;
  icon_color: string;
}

/** Device groups: see migrations/0012-device-groups.ts. */
export interface DeviceGroupsTable {
  id: string;
  name: string;
  description: string;
  parent_id: string | null;
  /** JSON array of {field, operand, value}. */
  criteria: string;
  created_at: EpochMs;
  updated_at: EpochMs;
}

export interface DeviceCertificatesTable {
  device_id: string;
  slot: string;
  version: number;
  serial_number: string;
  issuer_ca_id: string;
  status: string;
  not_before: EpochMs;
  not_after: EpochMs;
  bound_at: EpochMs;
  superseded_at: EpochMs | null;
  /** 0 none, 1 preventive, 2 critical: the expiration delta the certificate crossed (0009). */
  expiry_stage: ColumnType<number, number | undefined, number>;
}

export interface DeviceEventsTable {
  id: string;
  device_id: string;
  at: EpochMs;
  type: string;
  description: string;
  actor: string;
}

/** VA: see migrations/0005-va.ts. */
export interface VaRolesTable {
  ca_id: string;
  /** JSON of VaRoleSettings. */
  settings: string;
  created_at: EpochMs;
  updated_at: EpochMs;
}

export interface VaCrlNumbersTable {
  ca_id: string;
  last_number: number;
}

export interface VaCrlsTable {
  ca_id: string;
  kind: string;
  crl_number: number;
  base_number: number | null;
  this_update: EpochMs;
  next_update: EpochMs;
  generated_at: EpochMs;
  der: Uint8Array;
}

export interface VaCrlRemovalsTable {
  ca_id: string;
  serial_number: string;
  removed_at: EpochMs;
}

export interface VaOcspRespondersTable {
  ca_id: string;
  der: Uint8Array;
  serial_number: string;
  engine_id: string;
  key_id: string;
  not_after: EpochMs;
  created_at: EpochMs;
}

/** Events written with the change they announce, waiting for the relay (see migrations/0008-outbox.ts). */
export interface OutboxTable {
  seq: Generated<number>;
  /** The CloudEvent as JSON (id, type and subject inside: nothing reads the rows but the relay). */
  event: string;
  created_at: EpochMs;
}

/** Alerts service: migrations/0010-alerts.ts. */
export interface AlertSubscriptionsTable {
  id: string;
  user_id: string;
  event_type: string;
  /** JSON of Condition[]. */
  conditions: string;
  condition_mode: string;
  /** JSON of Channel. */
  channel: string;
  secret: string | null;
  created_at: EpochMs;
}

export interface AlertEventsTable {
  id: string;
  type: string;
  /** The CloudEvent JSON. */
  event: string;
  received_at: EpochMs;
}

export interface AlertLatestEventsTable {
  event_type: string;
  event: string;
  seen_at: EpochMs;
  counter: number;
}

export interface AlertDeliveriesTable {
  id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  channel_type: string;
  status: string;
  attempts: number;
  created_at: EpochMs;
  next_attempt_at: EpochMs;
  last_attempt_at: EpochMs | null;
  last_error: string | null;
  claimed_by: string | null;
}

/** Cloud proxy and connectors: migrations/0014-cloud-connectors.ts. */
export interface CloudConnectorsTable {
  id: string;
  type: string;
  status: string;
  status_detail: string | null;
  /** JSON object. */
  config: string;
  /** JSON object. */
  settings: string;
  registered_at: EpochMs;
  last_seen_at: EpochMs;
  last_sync_at: EpochMs | null;
  status_at: EpochMs;
}

export interface CloudConnectorJobsTable {
  seq: Generated<number>;
  id: string;
  connector_id: string;
  event_id: string;
  kind: string;
  key: string;
  device_id: string | null;
  /** JSON object. */
  payload: string;
  status: string;
  attempts: number;
  /** JSON array of step names. */
  progress: string;
  created_at: EpochMs;
  next_attempt_at: EpochMs;
  finished_at: EpochMs | null;
  last_error: string | null;
  /** JSON object (migrations/0015-cloud-rechecks.ts): what the job found and did; null when it reports nothing. */
  result: string | null;
}

export interface CloudConnectorResourcesTable {
  connector_id: string;
  kind: string;
  key: string;
  device_id: string | null;
  cloud_id: string;
  arn: string | null;
  thing_name: string | null;
  status: string;
  /** JSON object. */
  details: string;
  updated_at: EpochMs;
  /** When the connector looks at it again (0015); null when nothing is pending. */
  recheck_at: EpochMs | null;
}

export interface Database {
  leases: LeasesTable;
  admin_tokens: AdminTokensTable;
  issuance_profiles: IssuanceProfilesTable;
  certificates: CertificatesTable;
  certificate_blobs: CertificateBlobsTable;
  cas: CasTable;
  dms: DmsTable;
  devices: DevicesTable;
  device_certificates: DeviceCertificatesTable;
  device_events: DeviceEventsTable;
  device_groups: DeviceGroupsTable;
  va_roles: VaRolesTable;
  va_crl_numbers: VaCrlNumbersTable;
  va_crls: VaCrlsTable;
  va_crl_removals: VaCrlRemovalsTable;
  va_ocsp_responders: VaOcspRespondersTable;
  outbox: OutboxTable;
  alert_subscriptions: AlertSubscriptionsTable;
  alert_events: AlertEventsTable;
  alert_latest_events: AlertLatestEventsTable;
  alert_deliveries: AlertDeliveriesTable;
  kms_keys: KmsKeysTable;
  cloud_connectors: CloudConnectorsTable;
  cloud_connector_jobs: CloudConnectorJobsTable;
  cloud_connector_resources: CloudConnectorResourcesTable;
}

/** The KMS service's key records (public facts only). */
export interface KmsKeysTable {
  id: string;
  engine_id: string;
  key_type: string;
  key_bits: number;
  /** SPKI DER. */
  public_key: Uint8Array;
  name: string;
  /** JSON arrays / object. */
  aliases: string;
  tags: string;
  metadata: string;
  origin: string;
  /** 0/1. */
  has_private_key: number;
  created_at: EpochMs;
}
