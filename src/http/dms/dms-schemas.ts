/**
 * The DMS manager's JSON in Lamassu v3's names (extended). Every setting has a default, so the smallest
 * valid DMS is `{"id", "name", "authorized_cas": [ca], "settings": {"enrollment_settings": {"enrollment_ca": ca}}}`.
 */
import { Type, type Static } from 'typebox';
import { DMS_SORT_ALIASES, DMS_SORT_KEYS } from '../../domain/dms/dms-repository.ts';
import { DEVICE_ID_SOURCES, ENROLLMENT_AUTH_MODES, REGISTRATION_MODES } from '../../domain/dms/dms.ts';
import { REVOCATION_REASON_NAMES } from '../../domain/ca/revocation-reason.ts';
import { FilterParam, sortByParam } from '../list-query.ts';

const literals = <T extends string>(values: readonly T[], options: { default?: T } = {}) => Type.Union(values.map((v) => Type.Literal(v)), options);
const opt = Type.Optional;
const Id = Type.String({ minLength: 1, maxLength: 128 });
const Duration = (d: string) => Type.String({ maxLength: 64, default: d, description: 'units ms s m h d w y (y = 365 days)' });

export const KeySpecSchema = Type.Object({ type: literals(['RSA', 'ECDSA', 'ED25519'] as const), bits: Type.Integer() }, { additionalProperties: false });

const EstSettingsSchema = Type.Object(
  {
    auth_mode: literals(ENROLLMENT_AUTH_MODES, { default: 'DMS_CERTIFICATE' }),
    client_certificate_settings: Type.Object(
      {
        validation_cas: Type.Array(Id, { default: [] }),
        allow_expired: Type.Boolean({ default: false }),
        chain_level_validation: opt(Type.Integer({ minimum: -1, maximum: 64, description: "Lamassu's: above 0, only that many certificates of the presented chain (leaf first) may reach a validation CA (1: the leaf is issued by one); 0 or -1: no limit" })),
      },
      { default: {} },
    ),
    http_basic: opt(
      Type.Object(
        { username: Type.String({ minLength: 1, maxLength: 128 }), password: opt(Type.String({ maxLength: 1024, description: 'write-only; omitted on update keeps the stored one' })) },
        { additionalProperties: false },
      ),
    ),
    external_webhook_settings: opt(Type.Object({ url: Type.String({ maxLength: 2048 }), timeout: Duration('10s') })),
    external_webhook: opt(
      Type.Object(
        {
          name: opt(Type.String({ maxLength: 256 })),
          url: opt(Type.String({ maxLength: 2048 })),
          config: opt(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 16 })),
        },
        { description: "Lamassu's webhook: without authentication only (config.auth_mode NoAuth); or use external_webhook_settings" },
      ),
    ),
  },
  { default: {} },
);

export const EnrollmentSettingsSchema = Type.Object({
  enrollment_ca: Id,
  protocol: Type.Literal('EST_RFC7030', { default: 'EST_RFC7030' }),
  registration_mode: literals(REGISTRATION_MODES, { default: 'JITP' }),
  est_rfc7030_settings: EstSettingsSchema,
  verify_csr_signature: Type.Boolean({ default: true }),
  enable_replaceable_enrollment: Type.Boolean({ default: false }),
  device_id_source: literals(DEVICE_ID_SOURCES, { default: 'common_name' }),
  device_provisioning_profile: Type.Object(
    {
      tags: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { default: [] }),
      metadata: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
      icon: opt(Type.String({ maxLength: 128, description: 'console icon of devices created by JITP' })),
      icon_color: opt(Type.String({ maxLength: 64, description: '"#bg-#fg"' })),
    },
    { default: {} },
  ),
});

export const DmsSettingsSchema = Type.Object({
  enrollment_settings: EnrollmentSettingsSchema,
  reenrollment_settings: Type.Object(
    {
      reenrollment_delta: Duration('30d'),
      enable_expired_renewal: Type.Boolean({ default: false }),
      revoke_on_reenrollment: Type.Boolean({ default: true }),
      additional_validation_cas: Type.Array(Id, { default: [] }),
      // Lamassu's expiration deltas: certificate.expiring events for the certificates this DMS enrolled.
      preventive_delta: Type.Optional(
        Type.Union([Type.String({ maxLength: 64 }), Type.Null()], { description: 'duration before expiry, e.g. "30d": first certificate.expiring; over the profile\'s and CA\'s' }),
      ),
      critical_delta: Type.Optional(
        Type.Union([Type.String({ maxLength: 64 }), Type.Null()], { description: 'duration before expiry, shorter than preventive_delta, e.g. "7d": second certificate.expiring' }),
      ),
    },
    { default: {} },
  ),
  server_keygen_settings: Type.Object(
    {
      enabled: Type.Boolean({ default: true }),
      key: Type.Object({ type: literals(['RSA', 'ECDSA', 'ED25519'] as const), bits: Type.Integer() }, { default: { type: 'ECDSA', bits: 256 } }),
      allowed_keys: Type.Array(KeySpecSchema, {
        default: [
          { type: 'ECDSA', bits: 256 },
          { type: 'ECDSA', bits: 384 },
          { type: 'RSA', bits: 2048 },
          { type: 'RSA', bits: 3072 },
        ],
      }),
    },
    { default: {} },
  ),
  ca_distribution_settings: Type.Object(
    {
      include_enrollment_ca: Type.Boolean({ default: true }),
      include_chain: Type.Boolean({ default: true }),
      include_system_ca: opt(Type.Boolean({ description: "Lamassu's: EST cacerts also returns the CA of the server's HTTPS certificate" })),
      managed_cas: Type.Array(Id, { default: [] }),
    },
    { default: {} },
  ),
  issuance_profile_id: Type.Union([Type.String({ maxLength: 128, description: 'empty (as Lamassu sends "none"): null' }), Type.Null()], { default: null }),
});
export type DmsSettingsJson = Static<typeof DmsSettingsSchema>;

const Metadata = Type.Record(Type.String(), Type.Unknown());

export const DmsUpdateSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256 }),
  metadata: opt(Metadata),
  authorized_cas: opt(Type.Array(Id, { maxItems: 256, description: 'absent: on create the enrollment CA alone; on update the CAs so far plus the enrollment CA' })),
  settings: DmsSettingsSchema,
});
export type DmsUpdateJson = Static<typeof DmsUpdateSchema>;

export const DmsCreateSchema = Type.Object({ id: Id, ...DmsUpdateSchema.properties });
export type DmsCreateJson = Static<typeof DmsCreateSchema>;

export const MetadataSchema = Metadata;
export const IdParams = Type.Object({ id: Type.String() });
export const CaParams = Type.Object({ id: Type.String(), caId: Type.String() });
export const AuthorizedCaBody = Type.Object({ ca_id: Id });

/** Either a CSR (PEM, base64 of the PEM as Lamassu sends it, or base64 DER) or a key for the server to generate. */
export const DmsCertificateBody = Type.Object({
  csr: opt(Type.String({ maxLength: 131072 })),
  key: opt(KeySpecSchema),
});
export const RevokeBody = Type.Object({ revocation_reason: opt(literals(REVOCATION_REASON_NAMES)) });

export const DmsListQuery = Type.Object({
  sort_by: sortByParam(DMS_SORT_KEYS, DMS_SORT_ALIASES),
  filter: FilterParam,
  sort_mode: opt(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  page_size: opt(Type.Integer({ minimum: 1, maximum: 1000 })),
  bookmark: opt(Type.String()),
});
