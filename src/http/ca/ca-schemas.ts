/**
 * The CA API's JSON, in Lamassu v3's snake_case names. One schema drives validation, serialization and
 * the OpenAPI document.
 */
import { Type, type Static } from 'typebox';
import { CERTIFICATE_SORT_ALIASES, CERTIFICATE_SORT_KEYS } from '../../domain/ca/certificate-repository.ts';
import { CA_SORT_ALIASES, CA_SORT_KEYS } from '../../domain/ca/ca-repository.ts';
import { CERTIFICATE_STATUSES } from '../../domain/ca/certificate-status.ts';
import { EXTENDED_KEY_USAGES, KEY_USAGES } from '../../domain/ca/issuance-profile.ts';
import { REVOCATION_REASON_NAMES } from '../../domain/ca/revocation-reason.ts';
import type { EngineDescription } from '../../services/ca/list-engines.ts';
import { FilterParam, sortByParam } from '../list-query.ts';


const opt = Type.Optional;

export const SubjectSchema = Type.Object(
  {
    common_name: opt(Type.String({ maxLength: 256 })),
    organization: opt(Type.String({ maxLength: 256 })),
    organization_unit: opt(Type.String({ maxLength: 256 })),
    country: opt(Type.String({ maxLength: 2 })),
    state: opt(Type.String({ maxLength: 256 })),
    locality: opt(Type.String({ maxLength: 256 })),
    serial_number: opt(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const KeyTypeSchema = Type.Enum(['RSA', 'ECDSA', 'ED25519']);
export const StatusSchema = Type.Enum(CERTIFICATE_STATUSES);
export const RevocationReasonSchema = Type.Enum(REVOCATION_REASON_NAMES);

/** Lamassu's validity: a duration ("10y", "1y2w3d4h"; y = 365 days) or an end time (RFC 3339). */
export const ValiditySchema = Type.Object({
  type: Type.Enum(['Duration', 'Time']),
  duration: opt(Type.String({ maxLength: 64, description: 'units ms s m h d w y (y = 365 days)' })),
  time: opt(Type.String({ format: 'date-time' })),
});
export type ValidityJson = Static<typeof ValiditySchema>;

const CryptoEnforcementSchema = Type.Object({
  enabled: Type.Boolean({ default: false }),
  allow_rsa_keys: Type.Boolean({ default: true }),
  allowed_rsa_key_sizes: Type.Array(Type.Integer(), { default: [] }),
  allow_ecdsa_keys: Type.Boolean({ default: true }),
  allowed_ecdsa_key_sizes: Type.Array(Type.Integer(), { default: [] }),
  allow_ed25519_keys: Type.Boolean({ default: true }),
});

/** Issuance settings; every field has a default, so `{}` is a valid inline profile. */
export const ProfileSettingsSchema = Type.Object({
  validity: Type.Optional(ValiditySchema),
  sign_as_ca: Type.Boolean({ default: false }),
  path_length: opt(Type.Integer({ minimum: 0 })),
  honor_key_usage: Type.Boolean({ default: false }),
  key_usage: Type.Array(Type.Enum(KEY_USAGES), { default: ['DigitalSignature', 'KeyEncipherment'] }),
  honor_extended_key_usages: Type.Boolean({ default: false }),
  extended_key_usages: Type.Array(Type.Enum(Object.keys(EXTENDED_KEY_USAGES) as (keyof typeof EXTENDED_KEY_USAGES)[]), {
    default: ['ClientAuth'],
  }),
  honor_subject: Type.Boolean({ default: true }),
  subject: opt(SubjectSchema),
  honor_extensions: Type.Boolean({ default: true }),
  verify_csr_signature: Type.Boolean({ default: true }),
  crypto_enforcement: opt(CryptoEnforcementSchema),
});
export type ProfileSettingsJson = Static<typeof ProfileSettingsSchema>;

const DeltaSchema = Type.Union([Type.String({ maxLength: 64, description: 'a duration before notAfter, e.g. "30d"' }), Type.Null()]);

/** Expiration deltas of a CA or profile: a certificate.expiring event when a certificate crosses each. */
export const ExpirationDeltasSchema = Type.Object(
  {
    preventive_delta: opt(DeltaSchema),
    critical_delta: opt({ ...DeltaSchema, description: 'shorter than preventive_delta' }),
  },
  { additionalProperties: false },
);
export type ExpirationDeltasJson = Static<typeof ExpirationDeltasSchema>;
const ExpirationDeltasOrNull = Type.Union([ExpirationDeltasSchema, Type.Null()], {
  description: 'preventive and critical deltas before expiry (certificate.expiring events); null: none of its own',
});

export const ProfileInputSchema = Type.Intersect([
  Type.Object({
    id: opt(Type.String({ minLength: 1, maxLength: 128 })),
    name: Type.String({ minLength: 1, maxLength: 256 }),
    description: opt(Type.String({ maxLength: 4096 })),
    expiration_deltas: opt({ ...ExpirationDeltasOrNull, description: 'over the CA\'s; absent on update keeps the current ones' }),
  }),
  ProfileSettingsSchema,
]);
export type ProfileInputJson = Static<typeof ProfileInputSchema>;

export const ProfileSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  validity: ValiditySchema,
  sign_as_ca: Type.Boolean(),
  path_length: opt(Type.Integer()),
  honor_key_usage: Type.Boolean(),
  key_usage: Type.Array(Type.String()),
  honor_extended_key_usages: Type.Boolean(),
  extended_key_usages: Type.Array(Type.String()),
  honor_subject: Type.Boolean(),
  subject: opt(SubjectSchema),
  honor_extensions: Type.Boolean(),
  verify_csr_signature: Type.Boolean(),
  crypto_enforcement: CryptoEnforcementSchema,
  expiration_deltas: ExpirationDeltasOrNull,
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const CertificateSchema = Type.Object({
  id: Type.String(),
  serial_number: Type.String({ description: 'lowercase hex, no colons' }),
  certificate: Type.String({ description: 'base64 of the PEM' }),
  status: StatusSchema,
  valid_from: Type.String(),
  valid_to: Type.String(),
  about_to_expire_from: Type.String(),
  subject: SubjectSchema,
  issuer: SubjectSchema,
  subject_key_id: Type.String(),
  authority_key_id: Type.Union([Type.String(), Type.Null()]),
  key_metadata: Type.Object({ type: KeyTypeSchema, bits: Type.Integer(), strength: Type.Enum(['HIGH', 'MEDIUM', 'LOW']) }),
  extensions: Type.Object({ key_usage: Type.Array(Type.String()), extended_key_usage: Type.Array(Type.String()) }),
  issuer_metadata: Type.Object({ id: Type.Union([Type.String(), Type.Null()]) }),
  is_ca: Type.Boolean(),
  type: Type.String(),
  engine_id: Type.Union([Type.String(), Type.Null()]),
  revocation_timestamp: Type.Union([Type.String(), Type.Null()]),
  revocation_reason: Type.Union([RevocationReasonSchema, Type.Null()]),
  invalidity_date: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  creation_ts: Type.String(),
  expiration: opt(
    Type.Object(
      {
        source: Type.Enum(['ca', 'profile', 'dms']),
        preventive_delta: DeltaSchema,
        critical_delta: DeltaSchema,
        stage: Type.Enum(['none', 'preventive', 'critical'], { description: 'the last delta announced (certificate.expiring)' }),
      },
      { description: 'the expiration deltas it follows; absent when none apply' },
    ),
  ),
});

export const CaSchema = Type.Object({
  id: Type.String(),
  serial_number: Type.String(),
  parent_id: Type.Union([Type.String(), Type.Null()]),
  level: Type.Integer(),
  type: Type.Enum(['MANAGED', 'IMPORTED_WITH_KEY', 'IMPORTED_WITHOUT_KEY']),
  engine_id: Type.Union([Type.String(), Type.Null()]),
  key_id: Type.Union([Type.String(), Type.Null()]),
  internal: Type.Boolean(),
  profile_id: Type.Union([Type.String(), Type.Null()]),
  about_to_expire: Type.Union([Type.String(), Type.Null()], { description: 'per-CA threshold as a duration; null = global' }),
  expiration_deltas: ExpirationDeltasOrNull,
  metadata: Type.Record(Type.String(), Type.Unknown()),
  creation_ts: Type.String(),
  certificate: CertificateSchema,
  issuance_expiration: opt(ValiditySchema),
});

export const listOf = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({ list: Type.Array(item), next: Type.String({ description: 'bookmark of the next page; empty on the last page' }) });

const pageQuery = {
  sort_mode: opt(Type.Enum(['asc', 'desc'])),
  page_size: opt(Type.Integer({ minimum: 1, maximum: 1000 })),
  bookmark: opt(Type.String({ maxLength: 1024 })),
};
const statusList = opt(Type.String({ description: 'one status or a comma-separated list', pattern: '^[A-Z_]+(,[A-Z_]+)*$' }));

export const CaListQuery = Type.Object({
  ...pageQuery,
  sort_by: sortByParam(CA_SORT_KEYS, CA_SORT_ALIASES),
  filter: FilterParam,
  status: statusList,
  common_name: opt(Type.String({ description: 'exact, or a prefix ending in *' })),
  subject_key_id: opt(Type.String()),
  engine_id: opt(Type.String()),
  parent_id: opt(Type.String()),
  internal: opt(Type.Boolean()),
  valid_to_after: opt(Type.String({ format: 'date-time' })),
  valid_to_before: opt(Type.String({ format: 'date-time' })),
  valid_from_after: opt(Type.String({ format: 'date-time' })),
  valid_from_before: opt(Type.String({ format: 'date-time' })),
});
export type CaListQueryJson = Static<typeof CaListQuery>;

export const CertificateListQuery = Type.Object({
  ...pageQuery,
  sort_by: sortByParam(CERTIFICATE_SORT_KEYS, CERTIFICATE_SORT_ALIASES),
  filter: FilterParam,
  ca_id: opt(Type.String()),
  status: statusList,
  serial_number: opt(Type.String()),
  subject_key_id: opt(Type.String()),
  common_name: opt(Type.String({ description: 'exact, or a prefix ending in *' })),
  expires_after: opt(Type.String({ format: 'date-time' })),
  expires_before: opt(Type.String({ format: 'date-time' })),
  is_ca: opt(Type.Boolean()),
});
export type CertificateListQueryJson = Static<typeof CertificateListQuery>;

export const CreateCaBody = Type.Object({
  id: opt(Type.String({ minLength: 1, maxLength: 128 })),
  parent_id: opt(Type.String()),
  subject: SubjectSchema,
  key_metadata: Type.Object({
    type: opt(KeyTypeSchema),
    bits: opt(Type.Integer()),
    key_id: opt(Type.String({ maxLength: 64, description: 'an existing key (KMS key id) instead of a new one; type and bits then follow the key' })),
  }),
  ca_expiration: opt(ValiditySchema),
  engine_id: opt(Type.String()),
  profile_id: opt(Type.String()),
  ca_issuance_profile_id: opt(Type.String({ description: "Lamassu's: the profile for the CA's own certificate (must exist): its crypto enforcement must accept the CA's key; without ca_expiration, its validity is the certificate's" })),
  ca_issuance_profile: opt(ProfileSettingsSchema),
  about_to_expire: opt(Type.String({ description: 'per-CA about-to-expire threshold, e.g. "30d"' })),
  expiration_deltas: opt(ExpirationDeltasOrNull),
  metadata: opt(Type.Record(Type.String(), Type.Unknown())),
  issuance_expiration: opt(ValiditySchema),
  validity: opt(ValiditySchema),
});

export const ReissueCaBody = Type.Object({
  ca_expiration: opt(ValiditySchema),
  profile_id: opt(Type.String({ description: "the CA's new default issuance profile (must exist)" })),
  reason: opt(Type.String({ maxLength: 1024, description: 'kept in the new certificate\'s metadata (lamassu.io/ca/reissued-reason)' })),
});

export const ImportCaBody = Type.Object({
  id: opt(Type.String({ minLength: 1, maxLength: 128 })),
  ca: Type.String({ description: 'base64 of the PEM (or PEM)' }),
  private_key: opt(Type.String({ description: 'base64 of an unencrypted PKCS#8 PEM (or PEM)' })),
  engine_id: opt(Type.String()),
  parent_id: opt(Type.String()),
  profile_id: opt(Type.String()),
  about_to_expire: opt(Type.String()),
  metadata: opt(Type.Record(Type.String(), Type.Unknown())),
  ca_chain: opt(
    Type.Array(Type.String(), {
      maxItems: 16,
      description: "Lamassu's: the CA certificate's issuers, direct issuer first or root first (each base64 of the PEM, or PEM); each must have signed the one before; issuers not held yet are imported first, without key",
    }),
  ),
  ca_type: opt(Type.String({ description: "Lamassu's: IMPORTED or MANAGED (with private_key), EXTERNAL (without); our IMPORTED_WITH_KEY / IMPORTED_WITHOUT_KEY too; any case" })),
});

export const StatusBody = Type.Object({
  status: Type.String(),
  revocation_reason: opt(Type.String({ description: 'REVOKED only: an RFC 5280 reason by Lamassu name; RemoveFromCRL is refused (release a hold with ACTIVE)' })),
  invalidity_date: opt(Type.String({ description: 'RFC 3339; when the key was or may have been compromised (RFC 5280 5.3.2); REVOKED only, not after now' })),
});

export const SignBody = Type.Object({
  csr: Type.String({ description: 'base64 of the PEM (or PEM, or base64 DER)', maxLength: 200_000 }),
  profile_id: opt(Type.String()),
  profile: opt(ProfileSettingsSchema),
  metadata: opt(Type.Record(Type.String(), Type.Unknown())),
});

export const CreateCertificateBody = Type.Object({
  ca_id: Type.String(),
  key_spec: Type.Object({
    type: KeyTypeSchema,
    bits: Type.Integer(),
    engine_id: opt(Type.String({ description: 'keep the key in this engine; absent: return it once as PKCS#8' })),
  }),
  subject: SubjectSchema,
  issuance_profile_id: opt(Type.String()),
  issuance_profile: opt(ProfileSettingsSchema),
  metadata: opt(Type.Record(Type.String(), Type.Unknown())),
});

export const GeneratedCertificateSchema = Type.Intersect([
  CertificateSchema,
  Type.Object({
    private_key: opt(Type.String({ description: 'base64 of the PKCS#8 PEM; returned once, never stored' })),
    key_id: opt(Type.String()),
  }),
]);

export const ImportCertificateBody = Type.Object({
  certificate: Type.String({ description: 'base64 of the PEM (or PEM)' }),
  metadata: opt(Type.Record(Type.String(), Type.Unknown())),
});

const countMap = Type.Record(Type.String(), Type.Integer());
export const ExpiringPerWeekQuery = Type.Object({
  weeks: opt(Type.Integer({ minimum: 1, maximum: 104, description: 'weeks to count, the current one first (default 12)' })),
  ca_id: opt(Type.String({ description: 'only certificates this CA issued' })),
});

export const ExpiringPerWeekSchema = Type.Object({
  weeks: Type.Array(
    Type.Object({
      start: Type.String({ format: 'date-time', description: 'Monday 00:00 UTC' }),
      end: Type.String({ format: 'date-time', description: 'the next Monday 00:00 UTC, exclusive' }),
      count: Type.Integer(),
    }),
  ),
});

export const StatsSchema = Type.Object({
  cas: Type.Object({ total: Type.Integer(), engine_distribution: countMap, status_distribution: countMap }),
  certificates: Type.Object({ total: Type.Integer(), ca_distribution: countMap, status_distribution: countMap }),
});

export const AboutToExpireBody = Type.Object({
  about_to_expire: Type.Union([Type.String({ description: 'the CA\'s own threshold, e.g. "60d"' }), Type.Null({ description: 'follow the global threshold' })]),
});

export const ExpirationDeltasBody = Type.Object({ expiration_deltas: ExpirationDeltasOrNull });

export const SweepResultSchema = Type.Object({
  expired: Type.Integer({ description: 'certificates that turned EXPIRED' }),
  about_to_expire: Type.Integer({ description: 'certificates that turned ABOUT_TO_EXPIRE' }),
  expiring: Type.Integer({ description: 'certificate.expiring events: certificates that crossed a preventive or critical delta' }),
});

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
export const SerialParams = Type.Object({ serial: Type.String({ minLength: 1, maxLength: 64 }) });

/** Lamassu's CryptoEngineProvider: what GET /engines lists; `id` is the engine_id of CAs and certificates. */
export const EngineSchema = Type.Object({
  id: Type.String(),
  type: Type.String({ description: 'GOLANG (files), HASHICORP_VAULT_KV_V2, PKCS11, MEMORY (tests)' }),
  provider: Type.String(),
  name: Type.String(),
  default: Type.Boolean(),
  security_level: Type.Integer({ description: '0 software, 1 secrets store, 2 hardware' }),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  supported_key_types: Type.Array(Type.Object({ type: KeyTypeSchema, sizes: Type.Array(Type.Integer()) })),
});

/** An engine as EngineSchema gives it (GET /api/ca/v1/engines and GET /api/kms/v1/engines). */
export const engineJson = (e: EngineDescription) => ({
  id: e.id,
  type: e.type,
  provider: e.provider,
  name: e.name,
  default: e.isDefault,
  security_level: e.securityLevel,
  metadata: e.metadata,
  supported_key_types: e.supportedKeyTypes,
});
