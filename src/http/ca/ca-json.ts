/** Domain objects to Lamassu's JSON and back. Certificates travel as base64 of their PEM, as in Lamassu. */
import { formatDelta, hasDeltas, parseExpiryDeltas, type ExpiryDeltas } from '../../domain/ca/expiry-deltas.ts';
import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { formatDuration, parseDuration, type Validity } from '../../domain/ca/duration.ts';
import { DEFAULT_ISSUANCE_SETTINGS, type IssuanceProfile, type IssuanceSettings } from '../../domain/ca/issuance-profile.ts';
import { keyStrength } from '../../domain/ca/key-strength.ts';
import { invalid } from '../../domain/errors.ts';
import { toPem } from '../../x509/pem.ts';
import type { ExpirationDeltasJson, ProfileSettingsJson, ValidityJson } from './ca-schemas.ts';

export const base64Pem = (der: Uint8Array, label = 'CERTIFICATE') => Buffer.from(toPem(der, label)).toString('base64');

/**
 * Lamassu sends PEM base64-encoded; people also paste plain PEM or base64 DER. Returns PEM text when the
 * field is (base64 of) PEM, and the field unchanged otherwise, for the x509 readers to judge.
 */
export function unwrapBase64Pem(field: string): string {
  const s = field.trim();
  if (s.startsWith('-----BEGIN ')) return s;
  if (/^[A-Za-z0-9+/=\s]+$/.test(s)) {
    const text = Buffer.from(s, 'base64').toString('latin1');
    if (text.trimStart().startsWith('-----BEGIN ')) return text;
  }
  return s;
}

export function certificateJson(c: Certificate) {
  return {
    id: c.id,
    serial_number: c.serialNumber,
    certificate: base64Pem(c.der),
    status: c.status,
    valid_from: c.notBefore.toISOString(),
    valid_to: c.notAfter.toISOString(),
    about_to_expire_from: c.aboutToExpireAt.toISOString(),
    subject: c.details.subject,
    issuer: c.details.issuer,
    subject_key_id: c.subjectKeyId,
    authority_key_id: c.authorityKeyId,
    key_metadata: { type: c.keyType, bits: c.keyBits, strength: keyStrength(c.keyType, c.keyBits) },
    extensions: { key_usage: c.details.keyUsage, extended_key_usage: c.details.extendedKeyUsage },
    issuer_metadata: { id: c.issuerCaId },
    is_ca: c.isCa,
    type: c.type,
    engine_id: c.engineId,
    revocation_timestamp: c.revokedAt?.toISOString() ?? null,
    revocation_reason: c.revocationReason,
    invalidity_date: c.invalidityDate?.toISOString() ?? null,
    metadata: c.details.metadata,
    creation_ts: c.createdAt.toISOString(),
    ...(c.expiry?.deltas ? { expiration: { source: c.expiry.source, ...expirationDeltasJson(c.expiry.deltas)!, stage: c.expiry.stage } } : {}),
  };
}

/** `{preventive_delta, critical_delta}` as durations, or null without deltas. */
export function expirationDeltasJson(d: ExpiryDeltas | null | undefined) {
  if (!hasDeltas(d)) return null;
  const text = (ms: number | null) => (ms === null ? null : formatDelta(ms));
  return { preventive_delta: text(d.preventiveMs), critical_delta: text(d.criticalMs) };
}

/** The API's deltas; null, absent or both-null: none. Throws EXPIRY_DELTAS_INVALID. */
export function expirationDeltasFromJson(j: ExpirationDeltasJson | null | undefined): ExpiryDeltas | null {
  if (!j) return null;
  const d = parseExpiryDeltas(j.preventive_delta, j.critical_delta);
  return hasDeltas(d) ? d : null;
}

export function caJson(ca: CertificateAuthority) {
  return {
    id: ca.id,
    serial_number: ca.certificate.serialNumber,
    parent_id: ca.parentId,
    level: ca.level,
    type: ca.type,
    engine_id: ca.engineId,
    key_id: ca.keyId,
    internal: ca.internal,
    profile_id: ca.profileId,
    about_to_expire: ca.aboutToExpireMs === null ? null : formatDuration(ca.aboutToExpireMs),
    expiration_deltas: expirationDeltasJson(ca.expiryDeltas),
    metadata: ca.metadata,
    creation_ts: ca.createdAt.toISOString(),
    certificate: certificateJson(ca.certificate),
  };
}

export function validityFromJson(v: ValidityJson, field: string): Validity {
  if (v.type === 'Duration') {
    if (!v.duration) throw invalid('VALIDITY_INVALID', `${field}.duration is required when type is "Duration"`);
    return { type: 'Duration', duration: v.duration };
  }
  if (!v.time) throw invalid('VALIDITY_INVALID', `${field}.time is required when type is "Time"`);
  return { type: 'Time', time: v.time };
}

export const durationMs = (text: string | undefined) => (text === undefined ? undefined : parseDuration(text));

/** Issuance settings from JSON whose defaults the validator already filled in. */
export function settingsFromJson(p: ProfileSettingsJson): IssuanceSettings {
  const e = p.crypto_enforcement;
  return {
    validity: p.validity ? validityFromJson(p.validity, 'validity') : DEFAULT_ISSUANCE_SETTINGS.validity,
    signAsCa: p.sign_as_ca,
    ...(p.path_length === undefined ? {} : { pathLength: p.path_length }),
    honorKeyUsage: p.honor_key_usage,
    keyUsage: p.key_usage,
    honorExtendedKeyUsages: p.honor_extended_key_usages,
    extendedKeyUsages: p.extended_key_usages,
    honorSubject: p.honor_subject,
    ...(p.subject ? { subject: p.subject } : {}),
    honorExtensions: p.honor_extensions,
    verifyCsrSignature: p.verify_csr_signature,
    cryptoEnforcement: e
      ? {
          enabled: e.enabled,
          allowRsaKeys: e.allow_rsa_keys,
          allowedRsaKeySizes: e.allowed_rsa_key_sizes,
          allowEcdsaKeys: e.allow_ecdsa_keys,
          allowedEcdsaKeySizes: e.allowed_ecdsa_key_sizes,
          allowEd25519Keys: e.allow_ed25519_keys,
        }
      : DEFAULT_ISSUANCE_SETTINGS.cryptoEnforcement,
  };
}

export function profileJson(p: IssuanceProfile) {
  const e = p.cryptoEnforcement;
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    validity: p.validity,
    sign_as_ca: p.signAsCa,
    ...(p.pathLength === undefined ? {} : { path_length: p.pathLength }),
    honor_key_usage: p.honorKeyUsage,
    key_usage: p.keyUsage,
    honor_extended_key_usages: p.honorExtendedKeyUsages,
    extended_key_usages: p.extendedKeyUsages,
    honor_subject: p.honorSubject,
    ...(p.subject ? { subject: p.subject } : {}),
    honor_extensions: p.honorExtensions,
    verify_csr_signature: p.verifyCsrSignature,
    crypto_enforcement: {
      enabled: e.enabled,
      allow_rsa_keys: e.allowRsaKeys,
      allowed_rsa_key_sizes: e.allowedRsaKeySizes,
      allow_ecdsa_keys: e.allowEcdsaKeys,
      allowed_ecdsa_key_sizes: e.allowedEcdsaKeySizes,
      allow_ed25519_keys: e.allowEd25519Keys,
    },
    expiration_deltas: expirationDeltasJson(p.expirationDeltas),
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}
