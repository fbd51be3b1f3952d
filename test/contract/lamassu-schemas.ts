/**
 * JSON Schemas of Lamassu v3's response models, written from its OpenAPI documents
 * (docs/{ca,dms-manager,device-manager}-openapi.yaml) and Go models (core/pkg/models), for the routes we
 * serve. Where we differ on purpose, the schema says so next to the field (see docs/lamassu-compatibility.md):
 * - `certificate` is base64 of the PEM, as Lamassu's Go encoder writes it (the OpenAPI calls it an object);
 * - optional times and ids are null when absent (Lamassu writes zero values, e.g. "0001-01-01T00:00:00Z");
 * - statuses and types include ours (ABOUT_TO_EXPIRE, EXTERNAL; the seed's five device statuses).
 * Lamassu's models list no required fields; we require those its clients read.
 */
const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const obj = { type: 'object' } as const;
const nullable = (s: object) => ({ anyOf: [s, { type: 'null' }] });
const dateTime = { type: 'string', format: 'date-time' } as const;
const counts = { type: 'object', additionalProperties: int } as const;

export const Subject = {
  type: 'object',
  properties: { common_name: str, organization: str, organization_unit: str, country: str, state: str, locality: str },
} as const;

export const CertificateStatus = { enum: ['ACTIVE', 'EXPIRED', 'REVOKED', 'INACTIVE', /* ours: */ 'ABOUT_TO_EXPIRE'] } as const;
export const CertificateType = { enum: ['MANAGED', 'IMPORTED_WITH_KEY', 'IMPORTED_WITHOUT_KEY', /* ours: */ 'EXTERNAL'] } as const;

export const Certificate = {
  type: 'object',
  required: ['serial_number', 'certificate', 'status', 'subject', 'issuer', 'valid_from', 'valid_to', 'key_metadata', 'issuer_metadata', 'metadata', 'type'],
  properties: {
    serial_number: { type: 'string', pattern: '^[0-9a-f]+$' },
    subject_key_id: str,
    authority_key_id: nullable(str),
    metadata: obj,
    status: CertificateStatus,
    certificate: { type: 'string', contentEncoding: 'base64' },
    key_metadata: { type: 'object', required: ['type', 'bits', 'strength'], properties: { type: str, bits: int, strength: { enum: ['HIGH', 'MEDIUM', 'LOW'] } } },
    subject: Subject,
    issuer: Subject,
    valid_from: dateTime,
    valid_to: dateTime,
    issuer_metadata: { type: 'object', required: ['id'], properties: { serial_number: str, id: nullable(str), level: int } },
    revocation_timestamp: nullable(dateTime),
    revocation_reason: nullable(str),
    type: CertificateType,
    engine_id: nullable(str),
    is_ca: bool,
  },
} as const;

export const CACertificate = {
  type: 'object',
  required: ['id', 'certificate', 'serial_number', 'metadata', 'creation_ts', 'level'],
  properties: { id: str, certificate: Certificate, serial_number: str, metadata: obj, creation_ts: dateTime, level: int, profile_id: nullable(str) },
} as const;

export const iterableList = (item: object) => ({ type: 'object', required: ['next', 'list'], properties: { next: str, list: { type: 'array', items: item } } });

export const CAStats = {
  type: 'object',
  required: ['cas', 'certificates'],
  properties: {
    cas: { type: 'object', required: ['total', 'engine_distribution', 'status_distribution'], properties: { total: int, engine_distribution: counts, status_distribution: counts } },
    certificates: { type: 'object', required: ['total', 'ca_distribution', 'status_distribution'], properties: { total: int, ca_distribution: counts, status_distribution: counts } },
  },
} as const;

/** core/pkg/models CryptoEngineProvider. */
export const CryptoEngineProvider = {
  type: 'object',
  required: ['id', 'type', 'provider', 'name', 'default', 'security_level', 'metadata', 'supported_key_types'],
  properties: {
    id: str,
    type: str,
    provider: str,
    name: str,
    default: bool,
    security_level: { enum: [0, 1, 2] },
    metadata: obj,
    supported_key_types: { type: 'array', items: { type: 'object', required: ['type', 'sizes'], properties: { type: str, sizes: { type: 'array', items: int } } } },
  },
} as const;

/** backend controllers' health check. */
export const ServiceHealth = { type: 'object', required: ['health', 'version', 'build', 'build_time'], properties: { health: bool, version: str, build: str, build_time: str } } as const;

const Duration = { type: 'string', pattern: '^(\\d+(ms|[smhdwy]))+$' } as const;

export const DMS = {
  type: 'object',
  required: ['id', 'name', 'metadata', 'creation_ts', 'settings'],
  properties: {
    id: str,
    name: str,
    metadata: obj,
    creation_ts: dateTime,
    settings: {
      type: 'object',
      required: ['server_keygen_settings', 'enrollment_settings', 'reenrollment_settings', 'ca_distribution_settings'],
      properties: {
        server_keygen_settings: { type: 'object', required: ['enabled', 'key'], properties: { enabled: bool, key: { type: 'object', required: ['type', 'bits'], properties: { type: str, bits: int } } } },
        enrollment_settings: {
          type: 'object',
          required: ['protocol', 'est_rfc7030_settings', 'device_provisioning_profile', 'enrollment_ca', 'enable_replaceable_enrollment', 'registration_mode'],
          properties: {
            protocol: { enum: ['EST_RFC7030'] },
            est_rfc7030_settings: {
              type: 'object',
              required: ['auth_mode', 'client_certificate_settings'],
              properties: {
                auth_mode: str,
                client_certificate_settings: { type: 'object', required: ['validation_cas', 'chain_level_validation', 'allow_expired'], properties: { validation_cas: { type: 'array', items: str }, chain_level_validation: int, allow_expired: bool } },
              },
            },
            device_provisioning_profile: { type: 'object', required: ['icon', 'icon_color', 'metadata', 'tags'], properties: { icon: str, icon_color: str, metadata: obj, tags: { type: 'array', items: str } } },
            enrollment_ca: str,
            enable_replaceable_enrollment: bool,
            registration_mode: { enum: ['JITP', 'PRE_REGISTRATION'] },
            verify_csr_signature: bool,
          },
        },
        reenrollment_settings: {
          type: 'object',
          required: ['additional_validation_cas', 'revoke_on_reenrollment', 'reenrollment_delta', 'enable_expired_renewal'],
          properties: { additional_validation_cas: { type: 'array', items: str }, revoke_on_reenrollment: bool, reenrollment_delta: Duration, enable_expired_renewal: bool, preventive_delta: Duration, critical_delta: Duration },
        },
        ca_distribution_settings: { type: 'object', required: ['include_system_ca', 'include_enrollment_ca', 'managed_cas'], properties: { include_system_ca: bool, include_enrollment_ca: bool, managed_cas: { type: 'array', items: str } } },
        issuance_profile_id: nullable(str),
      },
    },
  },
} as const;

export const DMSStats = { type: 'object', required: ['total'], properties: { total: int } } as const;

/** Lamassu's `events` maps: RFC 3339 time -> DeviceEvent{type, description}. */
const eventsMap = {
  type: 'object',
  propertyNames: { format: 'date-time' },
  additionalProperties: { type: 'object', required: ['type', 'description'], properties: { type: str, description: str } },
} as const;

/** models.Slot[string]: versions maps a version number to a certificate serial. */
export const Slot = {
  type: 'object',
  required: ['status', 'active_version', 'type', 'versions'],
  properties: {
    status: { enum: ['ACTIVE', 'RENEWAL_PENDING', 'EXPIRING_SOON', 'EXPIRED', 'REVOKED'] },
    active_version: int,
    type: { const: 'x509' },
    versions: { type: 'object', propertyNames: { pattern: '^[0-9]+$' }, additionalProperties: { type: 'string', pattern: '^[0-9a-f]+$' } },
    expiration_date: dateTime,
    events: eventsMap,
  },
} as const;

export const Device = {
  type: 'object',
  required: ['id', 'tags', 'status', 'icon', 'icon_color', 'creation_timestamp', 'metadata', 'dms_owner', 'identity'],
  properties: {
    id: str,
    tags: { type: 'array', items: str },
    status: str,
    icon: str,
    icon_color: str,
    creation_timestamp: dateTime,
    metadata: obj,
    dms_owner: nullable(str),
    identity: nullable(Slot),
    events: eventsMap,
  },
} as const;

/** One device (GET /devices/{id} and what changes one): with its `events` map. */
export const DeviceWithEvents = { ...Device, required: [...Device.required, 'events'] } as const;

/** dms-manager BindIdentityToDeviceOutput. */
export const BindIdentityToDeviceOutput = {
  type: 'object',
  required: ['certificate', 'dms', 'device'],
  properties: { certificate: Certificate, dms: DMS, device: Device },
} as const;

/** va-openapi VARole (Lamassu keys it by `ca_ski`). */
export const VARole = {
  type: 'object',
  required: ['ca_ski', 'crl_options'],
  properties: {
    ca_ski: { type: 'string', pattern: '^[0-9a-f]+$' },
    crl_options: { type: 'object', required: ['validity', 'refresh_interval', 'regenerate_on_revoke'], properties: { validity: str, refresh_interval: str, regenerate_on_revoke: bool } },
    latest_crl: nullable({ type: 'object', required: ['version', 'valid_from', 'valid_until'], properties: { version: int, valid_from: dateTime, valid_until: dateTime } }),
  },
} as const;

/** alerts-openapi Subscription. */
export const Subscription = {
  type: 'object',
  required: ['id', 'user_id', 'event_type', 'subscription_ts', 'conditions', 'channel'],
  properties: {
    id: str,
    user_id: str,
    event_type: str,
    subscription_ts: dateTime,
    conditions: { type: 'array', items: { type: 'object', required: ['type', 'condition'], properties: { type: { enum: ['JSON-SCHEMA', 'JSON-PATH', 'JAVASCRIPT'] }, condition: str } } },
    channel: { type: 'object', required: ['type', 'config'], properties: { type: { enum: ['EMAIL', 'MSTEAMS', 'WEBHOOK'] }, name: str, config: obj } },
  },
} as const;

/** alerts AlertLatestEvent (the Go model's `event_types`; the OpenAPI writes `event_type`). */
export const AlertLatestEvent = {
  type: 'object',
  required: ['event', 'seen_at', 'counter'],
  anyOf: [{ required: ['event_types'] }, { required: ['event_type'] }],
  properties: { event_types: str, event_type: str, event: obj, seen_at: dateTime, counter: int },
} as const;

/** ca-openapi SignResponse / VerifyResponse. */
export const SignResponse = { type: 'object', required: ['signed_data'], properties: { signed_data: { type: 'string', minLength: 1 } } } as const;
export const VerifyResponse = { type: 'object', required: ['valid'], properties: { valid: bool } } as const;

export const DeviceStats = { type: 'object', required: ['total', 'status_distribution'], properties: { total: int, status_distribution: counts } } as const;
